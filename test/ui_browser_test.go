package test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/bcrypt"

	"github.com/strata-iac/strata/internal/fakegitlab"
)

// needChromium returns the path of a headless-capable Chromium; without
// one the test skips, and fails under CI=true.
func needChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium not on PATH (CI=true): apt-get install -y chromium")
	}
	t.Skip("chromium not on PATH")
	return ""
}

// writeUsers writes a --ui-users-file with an admin and a viewer.
func writeUsers(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, u := range [][3]string{{"ada", "ada-password", "admin"}, {"vic", "vic-password", "viewer"}} {
		h, err := bcrypt.GenerateFromPassword([]byte(u[1]), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString(u[0] + ":" + string(h) + ":" + u[2] + "\n")
	}
	p := filepath.Join(t.TempDir(), "users")
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// slowState is a Terraform http state backend that answers only when
// released: a stack reading it with terraform_remote_state plans until
// the test says so.
func slowState(t *testing.T) (url string, release func()) {
	t.Helper()
	gate := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-gate:
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"version":4,"terraform_version":"1.11.4","serial":1,"lineage":"slow","outputs":{},"resources":[]}`))
	}))
	t.Cleanup(srv.Close)
	var once bool
	return srv.URL, func() {
		if !once {
			once = true
			close(gate)
		}
	}
}

// TestWebPageInChromium drives strata server's web page in a headless
// Chromium: an anonymous visit goes to sign-in; a viewer sees the lock of
// an open merge request but cannot unlock it; an admin force-unlocks it
// after the confirmation and `strata locks list` no longer shows it; the
// log of a running plan grows on its page as terraform prints. The
// screenshots are kept, for CI's artifacts, in a new directory under the
// temp dir (strata-ui-screenshots-*, named in the test's log), or in
// STRATA_UI_SCREENSHOTS.
func TestWebPageInChromium(t *testing.T) {
	needTerraform(t)
	chrome := needChromium(t)
	shots := os.Getenv("STRATA_UI_SCREENSHOTS")
	if shots == "" {
		// Not t.TempDir(): the screenshots outlive the test, for CI to keep.
		var err error
		if shots, err = os.MkdirTemp("", "strata-ui-screenshots-"); err != nil {
			t.Fatal(err)
		}
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	gl := fakegitlab.New()
	t.Cleanup(gl.Close)
	stateURL, release := slowState(t)
	t.Cleanup(release)
	rem := newRemote(t, nil)
	const repo = "acme/infra"
	gl.AddProject(fakegitlab.Project{Path: repo, CloneURL: rem.url()})
	data := t.TempDir()
	srv := startServer(t, gl, data, "--ui-users-file", writeUsers(t))
	locksURL := "bolt://" + data + "/locks.db"

	sha := rem.branch("flow-logs", map[string]string{"live/staging/network/flow_logs.tf": flowLogs})
	gl.AddMergeRequest(repo, fakegitlab.MergeRequest{IID: 1, SourceBranch: "flow-logs", SHA: sha})
	srv.deliver(gl.MergeRequestHook(repo, 1, "open", "alice"))
	srv.eventually("the plan of !1", func() bool { return statusIs(gl, repo, sha, "strata/plan", "success") })
	if len(locksOf(t, locksURL, "gitlab/acme/infra!1")) != 1 {
		t.Fatal("!1 holds no lock after its plan")
	}

	alloc, cancel := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(1100, 700))...)
	defer cancel()
	browser, cancel := chromedp.NewContext(alloc)
	defer cancel()
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	ctx, cancel := context.WithTimeout(browser, 4*time.Minute)
	defer cancel()
	type css = chromedp.CSS
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v\nserver log:\n%s", what, err, srv.log())
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(css(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err == nil {
			err = os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644)
		}
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
	}
	poll := func(what, js string) {
		t.Helper()
		do(what, chromedp.Poll[chromedp.Void](js, chromedp.WithPollingInterval(200*time.Millisecond), chromedp.WithPollingTimeout(90*time.Second)))
	}
	signIn := func(name, password string) {
		t.Helper()
		do("sign in as "+name,
			chromedp.Navigate(srv.url("/ui/login")),
			chromedp.WaitVisible(css("#signin")),
			chromedp.SendKeys(css("input[name=user]"), name),
			chromedp.SendKeys(css("input[name=password]"), password),
			chromedp.Click(css("#signin")),
			chromedp.WaitVisible(css("header .who")))
	}
	const lockKey = "gitlab/acme/infra/live/staging/network/default"

	// Anonymous: sent to sign in.
	do("anonymous visit", chromedp.Navigate(srv.url("/ui/runs")), chromedp.WaitVisible(css("#signin")))
	shot("anonymous")
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.Contains(loc, "/ui/login?next=") {
		t.Errorf("anonymous visit landed on %s, want the sign-in page", loc)
	}

	// A viewer sees the lock, and cannot unlock it.
	signIn("vic", "vic-password")
	do("the viewer's locks page", chromedp.Navigate(srv.url("/ui/")), chromedp.WaitVisible(css("#locks")))
	shot("viewer-locks")
	if locks := text("#locks"); !strings.Contains(locks, lockKey) || !strings.Contains(locks, "acme/infra!1") || strings.Contains(locks, "force-unlock") {
		t.Errorf("the viewer's locks table:\n%s", locks)
	}
	do("the viewer's unlock", chromedp.Navigate(srv.url("/ui/unlock?key="+lockKey)))
	if denied := text("body"); !strings.Contains(denied, "needs the admin role") {
		t.Errorf("a viewer reached the unlock confirmation: %q", denied)
	}
	do("sign out", chromedp.Navigate(srv.url("/ui/")), chromedp.Click(css("header form button")), chromedp.WaitVisible(css("#signin")))

	// An admin force-unlocks it, after the confirmation.
	signIn("ada", "ada-password")
	do("the admin's locks page", chromedp.Navigate(srv.url("/ui/")), chromedp.WaitVisible(css("a.unlock")))
	shot("locks")
	do("force-unlock", chromedp.Click(css("a.unlock")), chromedp.WaitVisible(css("#confirm")))
	shot("confirm-unlock")
	confirm := text("main")
	do("confirm", chromedp.Click(css("#confirm")), chromedp.WaitVisible(css("#unlocked")))
	shot("unlocked")
	if done := text("main"); !strings.Contains(confirm, "held by gitlab/acme/infra!1") || !strings.Contains(done, "Force-unlocked "+lockKey) || !strings.Contains(done, "No stack is locked") {
		t.Errorf("confirmation %q, then %q", confirm, done)
	}
	if keys := locksOf(t, locksURL, "gitlab/acme/infra!1"); len(keys) != 0 {
		t.Errorf("strata locks list still shows %v after the force-unlock", keys)
	}

	// A running plan's log streams onto its page.
	slow := `data "terraform_remote_state" "shared" {
  backend = "http"
  config  = { address = "` + stateURL + `/shared" }
}
resource "terraform_data" "uses" { input = "x" }
`
	sha2 := rem.branch("slow", map[string]string{"live/slow/main.tf": slow})
	gl.AddMergeRequest(repo, fakegitlab.MergeRequest{IID: 2, SourceBranch: "slow", SHA: sha2})
	srv.deliver(gl.MergeRequestHook(repo, 2, "open", "alice"))
	srv.eventually("the plan of !2 running", func() bool {
		keys, _ := filepath.Glob(filepath.Join(data, "store", "runs", "active", "*.log"))
		return len(keys) > 0
	})
	do("the running plan's page", chromedp.Navigate(srv.url("/ui/runs?state=running")), chromedp.Click(css("#runs a")), chromedp.WaitVisible(css("#log")))
	poll("the plan's command in the log", `document.querySelector("#log").textContent.includes("$ terraform plan")`)
	shot("running-log")
	before := text("#log")
	release()
	poll("the end of the plan in the log, without a reload", `document.querySelector("#log").textContent.includes("Plan: 1 to add")`)
	poll("the page saying the run ended", `document.querySelector("#live").textContent.includes("ended")`)
	shot("ended-log")
	if after := text("#log"); strings.Contains(before, "Plan: 1 to add") || !strings.HasPrefix(after, before) {
		t.Errorf("the log did not grow in place:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	t.Logf("screenshots in %s", shots)
}

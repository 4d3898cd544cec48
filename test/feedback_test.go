package test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/strata-iac/strata/internal/fakegitlab"
)

// TestServerVerifiesApplies: after each apply, strata server plans the
// applied stacks again and says so on the merge request — "verified" for
// a stack that converged, "not converged" with the address for one whose
// plan never settles (timestamp()) — counts both in
// strata_apply_verified_total, links each stack to its run page, and
// keeps each run's terraform output, timestamped and without the token,
// next to the run's record.
func TestServerVerifiesApplies(t *testing.T) {
	needTerraform(t)
	gl := fakegitlab.New()
	t.Cleanup(gl.Close)
	rem := newRemote(t, nil)
	const repo = "acme/infra"
	gl.AddProject(fakegitlab.Project{Path: repo, CloneURL: rem.url()})
	data := t.TempDir()
	srv := startServer(t, gl, data, "--public-url", "https://strata.example.com/", "--ui-users-file", writeUsers(t))

	apply := func(iid int64, branch string, files map[string]string) {
		t.Helper()
		sha := rem.branch(branch, files)
		gl.AddMergeRequest(repo, fakegitlab.MergeRequest{IID: iid, SourceBranch: branch, SHA: sha, ApprovedBy: []string{"bob"}})
		srv.deliver(gl.MergeRequestHook(repo, iid, "open", "alice"))
		srv.eventually("the plan", func() bool { return statusIs(gl, repo, sha, "strata/plan", "success") })
		merge := rem.merge(branch)
		gl.UpdateMergeRequest(repo, iid, func(mr *fakegitlab.MergeRequest) { mr.State, mr.MergeCommitSHA = "merged", merge })
		srv.deliver(gl.MergeRequestHook(repo, iid, "merge", "bob"))
		srv.eventually("the apply and its verification on the note", func() bool {
			return statusIs(gl, repo, sha, "strata/apply", "success") && noteContains(gl, repo, iid, "applied", "planned again")
		})
	}

	apply(1, "flow-logs", map[string]string{"live/staging/network/flow_logs.tf": flowLogs})
	note, _ := mainNote(gl, repo, 1)
	if !strings.Contains(note.Body, "✅ verified: no changes") || strings.Contains(note.Body, "not converged") {
		t.Errorf("a converged apply is not reported verified:\n%s", note.Body)
	}
	link := regexp.MustCompile(`\(https://strata\.example\.com/ui/runs/gitlab/acme/infra/([0-9TZ]+-[0-9a-f]+)#stack-live/staging/network\)`)
	m := link.FindStringSubmatch(note.Body)
	if m == nil {
		t.Fatalf("the note does not link the stack to its run page:\n%s", note.Body)
	}
	runs := filepath.Join(data, "store", "runs", "gitlab", "acme", "infra")
	logText, err := os.ReadFile(filepath.Join(runs, m[1]+".log"))
	if err != nil {
		t.Fatalf("the linked run has no log: %v", err)
	}
	stamped := regexp.MustCompile(`(?m)^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z live/staging/network \| \$ terraform apply `)
	for _, want := range []string{"$ terraform init", "network | Apply complete!", "network | Plan: 0 to add, 0 to change, 0 to destroy."} {
		if !strings.Contains(string(logText), want) {
			t.Errorf("the apply's log lacks %q:\n%s", want, logText)
		}
	}
	if strings.Contains(string(logText), `"@message"`) {
		t.Errorf("the apply's log holds terraform's machine-readable lines, not their text:\n%s", logText)
	}
	if !stamped.Match(logText) {
		t.Errorf("the apply's log lines lack their time and stack:\n%s", logText)
	}
	if strings.Contains(string(logText), gl.Token) {
		t.Error("the run log holds the GitLab token")
	}
	page := signedIn(t, srv, "vic", "vic-password", "/ui/runs/gitlab/acme/infra/"+m[1])
	for _, want := range []string{`<section id="stack-live/staging/network">`, "Apply complete!", "✅ verified: no changes"} {
		if !strings.Contains(page, want) {
			t.Errorf("the run page lacks %q:\n%s", want, page)
		}
	}
	plans, _ := filepath.Glob(filepath.Join(runs, "*.log"))
	if len(plans) < 2 {
		t.Errorf("%d run logs, want the plan's and the apply's", len(plans))
	}

	apply(2, "stamp", map[string]string{"live/prod/network/stamp.tf": `resource "terraform_data" "stamp" { input = timestamp() }`})
	note, _ = mainNote(gl, repo, 2)
	for _, want := range []string{"⚠ not converged: 1 change remains", "`terraform_data.stamp (update)`", "perpetual diff"} {
		if !strings.Contains(note.Body, want) {
			t.Errorf("the note of a stack that never converges lacks %q:\n%s", want, note.Body)
		}
	}
	if got := srv.metric(`strata_apply_verified_total{result="verified"}`); got != "1" {
		t.Errorf("verified applies counted %q, want 1", got)
	}
	if got := srv.metric(`strata_apply_verified_total{result="not_converged"}`); got != "1" {
		t.Errorf("applies not converged counted %q, want 1", got)
	}
}

// TestApplyVerify: strata apply --verify plans the applied stacks again:
// exit 0 and "verified" when they converged, exit 2 and "not converged"
// with the address and the usual cause when one never does.
func TestApplyVerify(t *testing.T) {
	g, env := monorepo(t)
	g.Git("checkout", "-q", "-b", "change")
	g.Write(map[string]string{
		"live/prod/network/extra.tf":  flowLogs,
		"live/staging/network/now.tf": `resource "terraform_data" "now" { input = timestamp() }`,
	})
	g.Commit("flow logs and a timestamp")
	out := t.TempDir()
	if r := runStrata(t, env, "plan", "--repo", g.Dir, "--stack", "live/prod/network", "--out", out); r.code != 2 {
		t.Fatalf("plan exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r := runStrata(t, env, "apply", "--repo", g.Dir, "--out", out, "--verify")
	if r.code != 0 || !strings.Contains(r.stdout, "✅ verified: no changes (1 applied stack planned again)") {
		t.Fatalf("apply --verify of a stack that converged: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	out = t.TempDir()
	if r := runStrata(t, env, "plan", "--repo", g.Dir, "--stack", "live/staging/network", "--out", out); r.code != 2 {
		t.Fatalf("plan exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runStrata(t, env, "apply", "--repo", g.Dir, "--out", out, "--verify")
	for _, want := range []string{"⚠ not converged: 1 change remains", "live/staging/network: terraform_data.now (update)", "perpetual diff"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("apply --verify output lacks %q", want)
		}
	}
	if r.code != 2 {
		t.Errorf("apply --verify with changes left: exit %d, want 2\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// signedIn signs in to the web page of srv and returns the page at p.
func signedIn(t *testing.T, srv *e2eServer, user, password, p string) string {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	form, err := c.Get(srv.url("/ui/login"))
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(form.Body)
	form.Body.Close()
	token := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(string(page))
	if token == nil {
		t.Fatalf("the sign-in form has no CSRF token:\n%s", page)
	}
	resp, err := c.PostForm(srv.url("/ui/login"), url.Values{"user": {user}, "password": {password}, "next": {p}, "csrf": {token[1]}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != p {
		t.Fatalf("sign in and GET %s: HTTP %d at %s\n%s", p, resp.StatusCode, resp.Request.URL, body)
	}
	return string(body)
}

// TestServerRefusesBadWebPageFlags: a proxy header without the
// proxy's addresses, a users file that does not exist and a public URL
// that is not one are each refused at start with what to give.
func TestServerRefusesBadWebPageFlags(t *testing.T) {
	env := []string{"STRATA_GITLAB_TOKEN=t0ken-for-tests", "STRATA_GITLAB_WEBHOOK_SECRET=s3cret-for-tests", "XDG_DATA_HOME=" + t.TempDir()}
	for flag, want := range map[string][]string{
		"--ui-auth-header": {"X-Forwarded-User", "--ui-auth-header needs --ui-auth-proxy CIDR"},
		"--ui-users-file":  {filepath.Join(t.TempDir(), "missing"), "--ui-users-file: open"},
		"--public-url":     {"strata.example.com", `--public-url "strata.example.com": give the server's address`},
	} {
		r := runStrata(t, env, "server", "--listen", "127.0.0.1:0", flag, want[0])
		if r.code != 1 || !strings.Contains(r.stderr, want[1]) {
			t.Errorf("server %s %s: exit %d, stderr %q; want 1 and %q", flag, want[0], r.code, r.stderr, want[1])
		}
	}
}

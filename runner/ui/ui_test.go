package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/strata-iac/strata/planner"
	"github.com/strata-iac/strata/runner/forge"
	"github.com/strata-iac/strata/runner/lock"
	"github.com/strata-iac/strata/runner/queue"
	"github.com/strata-iac/strata/runner/records"
	"github.com/strata-iac/strata/runner/store"
)

// fixture is a web page over a real store, bolt locks and a bolt queue.
type fixture struct {
	t     testing.TB
	srv   *httptest.Server
	ui    *UI
	mux   *http.ServeMux
	st    store.Store
	locks lock.Locker
	rec   *records.Recorder
}

func usersFile(t testing.TB) Users {
	t.Helper()
	var lines []string
	for _, u := range [][3]string{{"ada", "ada-pw", "admin"}, {"vic", "vic-pw", "viewer"}} {
		h, err := bcrypt.GenerateFromPassword([]byte(u[1]), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, u[0]+":"+string(h)+":"+u[2])
	}
	users, err := ParseUsers("users", []byte("# accounts\n"+strings.Join(lines, "\n")+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	return users
}

func newFixture(t testing.TB, mod func(*Config)) *fixture {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.OpenDir(filepath.Join(dir, "store"))
	if err != nil {
		t.Fatal(err)
	}
	locks, err := lock.Open(ctx, "bolt://"+filepath.Join(dir, "locks.db"), lock.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { locks.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	q, err := queue.Open(ctx, "bolt://"+filepath.Join(dir, "queue.db"), queue.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	cfg := Config{Store: st, Locks: locks, Queue: q, Users: usersFile(t), Log: log,
		ForgeWeb: map[string]string{"gitlab": "https://gitlab.example.com"}}
	if mod != nil {
		mod(&cfg)
	}
	page, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	page.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &fixture{t: t, srv: srv, ui: page, mux: mux, st: st, locks: locks, rec: &records.Recorder{Store: st, Replica: "t", Log: log}}
}

// client is a browser without JavaScript: cookies, no redirects followed.
func (f *fixture) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (f *fixture) signIn(name, password string) *http.Client {
	f.t.Helper()
	c := f.client()
	_, form, _ := get(f.t, c, f.srv.URL+"/ui/login")
	resp, err := c.PostForm(f.srv.URL+"/ui/login", url.Values{"user": {name}, "password": {password}, "next": {"/ui/runs"}, "csrf": {csrfField.FindStringSubmatch(form)[1]}})
	if err != nil {
		f.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ui/runs" {
		f.t.Fatalf("sign-in of %s: HTTP %d to %q", name, resp.StatusCode, resp.Header.Get("Location"))
	}
	return c
}

func get(t testing.TB, c *http.Client, u string) (int, string, http.Header) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), resp.Header
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// TestAnonymousIsSentToSignIn: no page, no run log, no lock shows
// without signing in; a wrong password is refused.
func TestAnonymousIsSentToSignIn(t *testing.T) {
	f := newFixture(t, nil)
	c := f.client()
	for _, p := range []string{"/ui/", "/ui/runs?repo=gitlab/acme/infra", "/ui/drift", "/ui/runs/gitlab/acme/infra/x/log", "/ui/unlock?key=k"} {
		code, _, h := get(t, c, f.srv.URL+p)
		if code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/ui/login?next=") {
			t.Errorf("GET %s anonymously: HTTP %d to %q, want a redirect to sign-in", p, code, h.Get("Location"))
		}
	}
	resp, err := c.PostForm(f.srv.URL+"/ui/unlock", url.Values{"key": {"k"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("anonymous unlock: HTTP %d, want 401", resp.StatusCode)
	}
	_, form, _ := get(t, c, f.srv.URL+"/ui/login")
	token := csrfField.FindStringSubmatch(form)[1]
	resp, err = c.PostForm(f.srv.URL+"/ui/login", url.Values{"user": {"ada"}, "password": {"wrong"}, "csrf": {token}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	ui, _ := url.Parse(f.srv.URL + "/ui/")
	if resp.StatusCode != http.StatusUnauthorized || len(c.Jar.Cookies(ui)) != 0 {
		t.Errorf("wrong password: HTTP %d, cookies %v", resp.StatusCode, c.Jar.Cookies(ui))
	}
	// A sign-in form from elsewhere (no nonce cookie of this server's)
	// signs nobody in, even with the right password.
	resp, err = f.client().PostForm(f.srv.URL+"/ui/login", url.Values{"user": {"ada"}, "password": {"ada-pw"}, "csrf": {token}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || slices.ContainsFunc(resp.Cookies(), func(c *http.Cookie) bool { return c.Name == sessionCookie }) {
		t.Errorf("a sign-in without this server's form: HTTP %d, cookies %v", resp.StatusCode, resp.Cookies())
	}
	// A forged cookie does not sign anyone in.
	u, _ := url.Parse(f.srv.URL + "/ui")
	c.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: "YWRh.admin.99999999999.forged", Path: "/ui"}})
	if code, _, _ := get(t, c, f.srv.URL+"/ui/"); code != http.StatusSeeOther {
		t.Errorf("forged session: HTTP %d, want a redirect to sign-in", code)
	}
}

// TestForceUnlock: an admin confirms and the lock is gone, with an audit
// record naming them; a viewer is refused and sees no unlock link; a post
// without the page's CSRF token is refused.
func TestForceUnlock(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	key := "gitlab/acme/infra/live/prod/network/default"
	if _, err := f.locks.Acquire(ctx, key, lock.Owner{ID: "gitlab/acme/infra!12", Head: "abcdef1234567", User: "alice"}); err != nil {
		t.Fatal(err)
	}

	viewer := f.signIn("vic", "vic-pw")
	code, body, _ := get(t, viewer, f.srv.URL+"/ui/")
	if code != 200 || !strings.Contains(body, key) || !strings.Contains(body, `href="https://gitlab.example.com/acme/infra/-/merge_requests/12"`) {
		t.Fatalf("viewer's locks page: HTTP %d\n%s", code, body)
	}
	if strings.Contains(body, "force-unlock") {
		t.Error("a viewer is offered force-unlock")
	}
	token := csrfField.FindStringSubmatch(body)[1]
	resp, _ := viewer.PostForm(f.srv.URL+"/ui/unlock", url.Values{"csrf": {token}, "key": {key}, "owner": {"gitlab/acme/infra!12"}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("viewer's unlock: HTTP %d, want 403", resp.StatusCode)
	}
	if code, _, _ := get(t, viewer, f.srv.URL+"/ui/unlock?key="+url.QueryEscape(key)); code != http.StatusForbidden {
		t.Errorf("viewer's confirmation page: HTTP %d, want 403", code)
	}

	admin := f.signIn("ada", "ada-pw")
	code, body, _ = get(t, admin, f.srv.URL+"/ui/unlock?key="+url.QueryEscape(key))
	if code != 200 || !strings.Contains(body, "held by <strong>gitlab/acme/infra!12</strong>") {
		t.Fatalf("confirmation page: HTTP %d\n%s", code, body)
	}
	resp, _ = admin.PostForm(f.srv.URL+"/ui/unlock", url.Values{"csrf": {token}, "key": {key}, "owner": {"gitlab/acme/infra!12"}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("unlock with another user's CSRF token: HTTP %d, want 403", resp.StatusCode)
	}
	resp, _ = admin.PostForm(f.srv.URL+"/ui/unlock", url.Values{"key": {key}, "owner": {"gitlab/acme/infra!12"}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("unlock without a CSRF token: HTTP %d, want 403", resp.StatusCode)
	}
	if _, held, _ := f.locks.Get(ctx, key); !held {
		t.Fatal("a refused unlock released the lock")
	}
	adminToken := csrfField.FindStringSubmatch(body)[1]
	resp, _ = admin.PostForm(f.srv.URL+"/ui/unlock", url.Values{"csrf": {adminToken}, "key": {key}, "owner": {"gitlab/acme/infra!12"}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("admin's unlock: HTTP %d", resp.StatusCode)
	}
	if _, held, _ := f.locks.Get(ctx, key); held {
		t.Fatal("the lock is still held after the admin's unlock")
	}
	keys, _ := f.st.List(ctx, "audit/")
	if len(keys) != 1 {
		t.Fatalf("audit records: %v", keys)
	}
	data, _ := f.st.Get(ctx, keys[0])
	var a audit
	if err := json.Unmarshal(data, &a); err != nil || a.User != "ada" || a.Key != key || a.Owner != "gitlab/acme/infra!12" || a.Action != "force-unlock" {
		t.Errorf("audit record %s (%v)", data, err)
	}
}

// TestPagesEscapeWhatUsersWrote: a lock owner, a user name, an error and
// terraform output holding markup are shown as text.
func TestPagesEscapeWhatUsersWrote(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	evil := `<script>alert(1)</script>`
	if _, err := f.locks.Acquire(ctx, "k", lock.Owner{ID: evil, User: evil}); err != nil {
		t.Fatal(err)
	}
	repo := forge.RepoRef{Forge: "gitlab", Path: "acme/infra"}
	run := f.rec.Start(ctx, records.Run{Operation: planner.OpPlan, Repo: repo, MR: 3, Commit: "abc", User: evil})
	fmt.Fprintln(f.rec.RunLog(ctx, run).Stack("live/app", ""), "terraform says "+evil)
	f.rec.Finish(ctx, run, records.StateFailed, &planner.Summary{Stacks: []planner.Result{{Dir: "live/app", Status: planner.StatusError, Error: evil}}}, nil)

	c := f.signIn("ada", "ada-pw")
	for _, p := range []string{"/ui/", "/ui/runs", records.RunPage(repo, run.ID)} {
		code, body, h := get(t, c, f.srv.URL+p)
		if code != 200 || strings.Contains(body, evil) || !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
			t.Errorf("GET %s: HTTP %d, markup not escaped:\n%s", p, code, body)
		}
		if !strings.Contains(h.Get("Content-Security-Policy"), "script-src 'self'") {
			t.Errorf("GET %s: CSP %q", p, h.Get("Content-Security-Policy"))
		}
	}
}

// TestProxyHeader: the proxy's header signs a user in only from the
// proxy's range; its admins may unlock.
func TestProxyHeader(t *testing.T) {
	f := newFixture(t, func(c *Config) {
		c.Users = nil
		c.Proxy = &ProxyAuth{Header: "X-Forwarded-User", From: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, Admins: []string{"root"}}
	})
	req, _ := http.NewRequest("GET", f.srv.URL+"/ui/", nil)
	req.Header.Set("X-Forwarded-User", "root")
	resp, err := f.client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "root (admin)") {
		t.Errorf("through the proxy: HTTP %d\n%s", resp.StatusCode, body)
	}
	if code, _, _ := get(t, f.client(), f.srv.URL+"/ui/"); code != http.StatusSeeOther {
		t.Errorf("without the header: HTTP %d, want a redirect", code)
	}

	outside := newFixture(t, func(c *Config) {
		c.Users = nil
		c.Proxy = &ProxyAuth{Header: "X-Forwarded-User", From: []netip.Prefix{netip.MustParsePrefix("10.9.0.0/16")}}
	})
	req, _ = http.NewRequest("GET", outside.srv.URL+"/ui/", nil)
	req.Header.Set("X-Forwarded-User", "root")
	resp, err = outside.client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the header from outside the proxy's range: HTTP %d, want a redirect to sign-in", resp.StatusCode)
	}
	if _, err := New(Config{Store: f.st, Locks: f.locks, Queue: nil}); err == nil {
		t.Error("New without a queue or a way to sign in succeeded")
	}
}

// TestRunsListAndRunPage: the list filters by repository, merge request,
// stack and state, pages newest first, and a run's page shows its log by
// stack; the log of a run in progress is served from an offset.
func TestRunsListAndRunPage(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.PageSize = 2 })
	ctx := context.Background()
	infra := forge.RepoRef{Forge: "gitlab", Path: "acme/infra"}
	web := forge.RepoRef{Forge: "gitlab", Path: "acme/web"}
	var ids []string
	for i, r := range []struct {
		repo  forge.RepoRef
		mr    int64
		dir   string
		state records.State
	}{{infra, 1, "live/app", records.StateCompleted}, {infra, 2, "live/db", records.StateFailed}, {web, 3, "site", records.StateCompleted}, {infra, 1, "live/app", records.StateCompleted}} {
		run := f.rec.Start(ctx, records.Run{ID: fmt.Sprintf("20260101T00000%dZ-0000", i), Operation: planner.OpPlan, Repo: r.repo, MR: r.mr, Commit: "c"})
		fmt.Fprintf(f.rec.RunLog(ctx, run).Stack(r.dir, ""), "$ terraform plan\nPlan: %d to add\n", i)
		f.rec.Finish(ctx, run, r.state, &planner.Summary{Stacks: []planner.Result{{Dir: r.dir, Status: planner.StatusChanges}}}, nil)
		ids = append(ids, run.ID)
	}
	c := f.signIn("vic", "vic-pw")
	listed := func(q string) []string {
		_, body, _ := get(t, c, f.srv.URL+"/ui/runs?"+q)
		var out []string
		for _, m := range regexp.MustCompile(`/ui/runs/gitlab/acme/[a-z]+/([0-9TZ-]+)"`).FindAllStringSubmatch(body, -1) {
			out = append(out, m[1])
		}
		return out
	}
	for q, want := range map[string][]string{
		"":                            {ids[3], ids[2]},
		"page=2":                      {ids[1], ids[0]},
		"repo=gitlab/acme/infra&mr=1": {ids[3], ids[0]},
		"stack=live/db":               {ids[1]},
		"state=failed":                {ids[1]},
		"repo=gitlab/acme/web":        {ids[2]},
	} {
		if got := listed(q); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("runs?%s = %v, want %v", q, got, want)
		}
	}
	code, body, _ := get(t, c, f.srv.URL+records.RunPage(infra, ids[1]))
	if code != 200 || !strings.Contains(body, `<section id="stack-live/db">`) || !strings.Contains(body, "Plan: 1 to add") {
		t.Errorf("run page: HTTP %d\n%s", code, body)
	}

	run := f.rec.Start(ctx, records.Run{Operation: planner.OpApply, Repo: infra, MR: 1, Commit: "c"})
	log := f.rec.RunLog(ctx, run)
	fmt.Fprint(log.Stack("live/app", ""), "line one\nline t")
	deadline := time.Now().Add(5 * time.Second)
	for {
		code, body, h := get(t, c, f.srv.URL+records.RunPage(infra, run.ID)+"/log?from=0")
		if code == 200 && strings.Contains(body, "line one") {
			if strings.Contains(body, "line t") || h.Get("X-Strata-Run") != "running" {
				t.Errorf("live log: %q, %s", body, h.Get("X-Strata-Run"))
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the live log never showed the first line: HTTP %d %q", code, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	_, page, _ := get(t, c, f.srv.URL+records.RunPage(infra, run.ID))
	if !strings.Contains(page, `id="log"`) || !strings.Contains(page, "/ui/live.js") {
		t.Errorf("the page of a running run does not follow its log:\n%s", page)
	}
	fmt.Fprint(log.Stack("live/app", ""), "wo\n")
	f.rec.Finish(ctx, run, records.StateCompleted, nil, nil)
	_, rest, h := get(t, c, f.srv.URL+records.RunPage(infra, run.ID)+"/log?from=0")
	if !strings.Contains(rest, "line two") || h.Get("X-Strata-Run") != "ended" {
		t.Errorf("ended log: %q, %s", rest, h.Get("X-Strata-Run"))
	}
}

// TestUsersFileErrors: a broken users file is refused with its line and
// what to write instead.
func TestUsersFileErrors(t *testing.T) {
	hash, _ := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	for content, want := range map[string]string{
		"ada:" + string(hash):             "users:1: want NAME:BCRYPT_HASH:ROLE",
		"ada:plaintext:admin":             `users:1: the hash of "ada" is not a bcrypt hash`,
		"\nada:" + string(hash) + ":root": `users:2: role "root" of "ada": want viewer or admin`,
		"ada:" + string(hash) + ":admin\nada:" + string(hash) + ":viewer": `users:2: "ada" is listed twice`,
	} {
		if _, err := ParseUsers("users", []byte(content)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseUsers(%q) = %v, want %q", content, err, want)
		}
	}
}

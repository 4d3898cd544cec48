package github_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/strata-iac/strata/internal/fakegithub"
	"github.com/strata-iac/strata/runner/forge"
	"github.com/strata-iac/strata/runner/forge/github"
)

// setupApp starts a fake GitHub whose repository is covered by
// installation 42 of an App, and a client acting as that App.
func setupApp(t *testing.T) (*fakegithub.Server, fakegithub.App, *github.Client) {
	t.Helper()
	s := fakegithub.New()
	t.Cleanup(s.Close)
	s.AddRepo(fakegithub.Repo{FullName: repo, Installation: 42})
	app := s.EnableApp(12345, "strata-app")
	return s, app, newClient(t, github.Options{BaseURL: s.URL, AppID: app.ID, AppKey: app.PrivateKeyPEM})
}

// TestAppActsThroughInstallationTokens: the App finds the installation of
// a repository with its JWT (which the fake verifies with the App's public
// key), then every call carries that installation's token, fetched once.
func TestAppActsThroughInstallationTokens(t *testing.T) {
	s, app, c := setupApp(t)
	ctx := context.Background()
	pr := s.AddPullRequest(repo, fakegithub.PullRequest{})
	if bot, err := c.BotUsername(ctx); err != nil || bot != app.BotLogin() {
		t.Fatalf("BotUsername = %q, %v", bot, err)
	}
	n, err := c.CreateNote(ctx, repo, pr.Number, marker+"\nplan")
	if err != nil || n.Author != app.BotLogin() {
		t.Fatalf("CreateNote = %+v, %v", n, err)
	}
	if _, ok, err := c.FindNote(ctx, repo, pr.Number, marker); !ok || err != nil {
		t.Fatalf("the App does not find its own comment: %v, %v", ok, err)
	}
	if _, err := c.MergeRequest(ctx, repo, pr.Number); err != nil {
		t.Fatal(err)
	}
	for _, call := range s.Calls() {
		want := "installation:42"
		if strings.HasPrefix(call.Route, "GET /app") || strings.HasSuffix(call.Route, "/installation") ||
			strings.HasSuffix(call.Route, "access_tokens") {
			want = "jwt"
		}
		if call.Auth != want || call.Status >= 400 {
			t.Errorf("%s %s: as %q (HTTP %d), want %q", call.Method, call.Path, call.Auth, call.Status, want)
		}
	}
	if n := len(s.CallsTo("POST /app/installations/:id/access_tokens")); n != 1 {
		t.Errorf("%d installation tokens fetched for four calls, want 1 (cached)", n)
	}
	if n := len(s.CallsTo("GET /repos/:owner/:repo/installation")); n != 1 {
		t.Errorf("the installation was looked up %d times, want 1", n)
	}
}

// TestAppTokenRefreshedBeforeExpiry: a token is kept until a minute before
// it expires, then replaced.
func TestAppTokenRefreshedBeforeExpiry(t *testing.T) {
	s, _, c := setupApp(t)
	ctx := context.Background()
	pr := s.AddPullRequest(repo, fakegithub.PullRequest{})
	s.SetTokenTTL(30 * time.Second) // already within the last minute
	for range 2 {
		if _, err := c.MergeRequest(ctx, repo, pr.Number); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(s.CallsTo("POST /app/installations/:id/access_tokens")); n != 2 {
		t.Errorf("%d tokens for two calls with tokens about to expire, want 2", n)
	}
}

// TestAppInstallationFromWebhook: a webhook names the installation, so no
// lookup is needed.
func TestAppInstallationFromWebhook(t *testing.T) {
	s, _, c := setupApp(t)
	s.AddPullRequest(repo, fakegithub.PullRequest{Number: 5})
	r := hookRequest(t, s.PullRequestHook(repo, 5, "opened", "alice"))
	if _, err := c.ParseWebhook(r); err != nil {
		t.Fatal(err)
	}
	if _, err := c.MergeRequest(context.Background(), repo, 5); err != nil {
		t.Fatal(err)
	}
	if n := len(s.CallsTo("GET /repos/:owner/:repo/installation")); n != 0 {
		t.Errorf("the installation was looked up %d times after a webhook named it", n)
	}
}

// TestCheckRuns: an App reports strata/plan and strata/apply as check
// runs, updated in place, with the summary table as output and a link to
// the comment.
func TestCheckRuns(t *testing.T) {
	s, app, c := setupApp(t)
	ctx := context.Background()
	sha := fakegithub.SHA("head")
	link := s.URL + "/acme/infra/pull/1#issuecomment-7"
	table := "### 📝 strata plan\n\n| Stack | Result |\n| :--- | :--- |\n| `live/prod/network` | 📝 changes |\n"
	steps := []struct {
		st         forge.Status
		status     string
		conclusion string
	}{
		{forge.Status{Name: forge.StatusPlan, State: forge.StatusPending, Description: "planning"}, "queued", ""},
		{forge.Status{Name: forge.StatusPlan, State: forge.StatusRunning, Description: "planning"}, "in_progress", ""},
		{forge.Status{Name: forge.StatusPlan, State: forge.StatusSuccess, Description: "1 stack: +1 ~0 -0 ±0", TargetURL: link, Summary: table}, "completed", "success"},
	}
	for _, step := range steps {
		if err := c.SetStatus(ctx, repo, sha, step.st); err != nil {
			t.Fatal(err)
		}
		runs := s.CheckRuns(repo, sha)
		if len(runs) != 1 {
			t.Fatalf("%d check runs after %s, want 1 updated in place", len(runs), step.st.State)
		}
		if runs[0].Status != step.status || runs[0].Conclusion != step.conclusion || runs[0].AppID != app.ID {
			t.Errorf("after %s: %+v", step.st.State, runs[0])
		}
	}
	run := s.CheckRuns(repo, sha)[0]
	if run.Name != "strata/plan" || run.Summary != table || run.DetailsURL != link || run.Title != "1 stack: +1 ~0 -0 ±0" {
		t.Errorf("finished run: %+v", run)
	}
	if err := c.SetStatus(ctx, repo, sha, forge.Status{Name: forge.StatusApply, State: forge.StatusFailed, Description: "not applied"}); err != nil {
		t.Fatal(err)
	}
	if runs := s.CheckRuns(repo, sha); len(runs) != 2 || runs[1].Name != "strata/apply" || runs[1].Conclusion != "failure" {
		t.Errorf("apply run: %+v", runs)
	}
	if len(s.Statuses(repo, sha)) != 0 {
		t.Error("an App set commit statuses")
	}
}

// TestAppCloneAuth: clones of an App's repository carry a current
// installation token as the password of x-access-token, never in the URL.
func TestAppCloneAuth(t *testing.T) {
	s, _, c := setupApp(t)
	r, _ := s.Repo(repo)
	url, auth, err := c.CloneAuth(r.CloneURL)
	if err != nil || url != r.CloneURL {
		t.Fatalf("CloneAuth = %q, %v", url, err)
	}
	req, _ := http.NewRequest(http.MethodGet, url+"/info/refs", nil)
	auth.(interface{ SetAuth(*http.Request) }).SetAuth(req)
	user, pass, ok := req.BasicAuth()
	if !ok || user != "x-access-token" || !strings.HasPrefix(pass, "ghs_") {
		t.Fatalf("basic auth %q:%q", user, pass)
	}
	if strings.Contains(auth.String(), pass) {
		t.Errorf("String() shows the token: %s", auth)
	}
	api, _ := http.NewRequest(http.MethodGet, s.URL+"/repos/acme/infra/issues", nil)
	api.Header.Set("Authorization", "token "+pass)
	resp, err := http.DefaultClient.Do(api)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("the clone password is not an installation token GitHub accepts: HTTP %d", resp.StatusCode)
	}
}

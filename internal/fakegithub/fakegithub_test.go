package fakegithub_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"testing"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v88/github"

	"github.com/strata-iac/strata/internal/fakegithub"
)

const repo = "acme/infra"

func start(t *testing.T) *fakegithub.Server {
	t.Helper()
	s := fakegithub.New()
	t.Cleanup(s.Close)
	s.AddRepo(fakegithub.Repo{FullName: repo, Installation: 42})
	return s
}

func client(t *testing.T, s *fakegithub.Server, rt http.RoundTripper) *github.Client {
	t.Helper()
	base := s.URL + "/"
	opts := []github.ClientOptionsFunc{github.WithURLs(&base, &base)}
	if rt != nil {
		opts = append(opts, github.WithTransport(rt))
	} else {
		opts = append(opts, github.WithAuthToken(s.Token))
	}
	c, err := github.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestHooksAreGitHubsShape: every hook built here parses with go-github
// into the event GitHub would send, with the fields put in.
func TestHooksAreGitHubsShape(t *testing.T) {
	s := start(t)
	pr := s.AddPullRequest(repo, fakegithub.PullRequest{Number: 3, HeadRepo: "mallory/infra"})
	r, _ := s.Repo(repo)

	ev := parse(t, s.PullRequestHook(repo, 3, "synchronize", "bob")).(*github.PullRequestEvent)
	if ev.GetAction() != "synchronize" || ev.GetNumber() != 3 || ev.GetRepo().GetFullName() != repo ||
		ev.GetRepo().GetCloneURL() != r.CloneURL || ev.GetInstallation().GetID() != 42 ||
		ev.GetPullRequest().GetHead().GetSHA() != pr.HeadSHA || ev.GetAfter() != pr.HeadSHA ||
		ev.GetPullRequest().GetHead().GetRepo().GetFullName() != "mallory/infra" || ev.GetSender().GetLogin() != "bob" {
		t.Errorf("pull_request: %+v", ev)
	}
	c := parse(t, s.Comment(repo, 3, "carol", "strata plan")).(*github.IssueCommentEvent)
	if c.GetIssue().GetNumber() != 3 || !c.GetIssue().IsPullRequest() || c.GetComment().GetBody() != "strata plan" ||
		c.GetComment().GetUser().GetLogin() != "carol" || c.GetAction() != "created" {
		t.Errorf("issue_comment: %+v", c)
	}
	if len(s.Comments(repo, 3)) != 1 {
		t.Error("Comment did not add the comment")
	}
	rv := parse(t, s.Review(repo, 3, "dave", "APPROVED")).(*github.PullRequestReviewEvent)
	if rv.GetReview().GetState() != "approved" || rv.GetReview().GetUser().GetLogin() != "dave" || rv.GetPullRequest().GetNumber() != 3 {
		t.Errorf("pull_request_review: %+v", rv)
	}
	p := parse(t, fakegithub.PushHook{Repo: r, Ref: "refs/heads/main", After: pr.HeadSHA}).(*github.PushEvent)
	if p.GetRef() != "refs/heads/main" || p.GetRepo().GetFullName() != repo || p.GetRepo().GetDefaultBranch() != "main" {
		t.Errorf("push: %+v", p)
	}

	// Without an installation (a repository webhook), there is none.
	plain := fakegithub.Repo{ID: 9, FullName: "acme/plain"}
	if ev := parse(t, fakegithub.PullRequestHook{Repo: plain, Number: 1, Action: "opened"}).(*github.PullRequestEvent); ev.Installation != nil {
		t.Errorf("installation in a repository webhook: %+v", ev.Installation)
	}
}

func parse(t *testing.T, h fakegithub.Hook) any {
	t.Helper()
	req, err := fakegithub.NewRequest(context.Background(), "http://strata.invalid/events/github", "s3cret", h, "")
	if err != nil {
		t.Fatal(err)
	}
	body, err := github.ValidatePayload(req, []byte("s3cret"))
	if err != nil {
		t.Fatalf("%s: the signature does not verify: %v", h.Event(), err)
	}
	ev, err := github.ParseWebHook(github.WebHookType(req), body)
	if err != nil {
		t.Fatalf("%s: %v", h.Event(), err)
	}
	return ev
}

// TestAppAuthentication: the App's JWT is verified with its public key;
// installation tokens act as the App's bot and reach only its
// repositories; a token past its expiry is refused.
func TestAppAuthentication(t *testing.T) {
	s := start(t)
	s.AddRepo(fakegithub.Repo{FullName: "other/repo", Installation: 7})
	app := s.EnableApp(1234, "strata-app")
	ctx := context.Background()

	atr, err := ghinstallation.NewAppsTransport(http.DefaultTransport, app.ID, app.PrivateKeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	atr.BaseURL = s.URL
	if got, _, err := client(t, s, atr).Apps.Get(ctx, ""); err != nil || got.GetSlug() != "strata-app" {
		t.Fatalf("GET /app with the App's JWT: %+v, %v", got, err)
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	forged, _ := ghinstallation.NewAppsTransport(http.DefaultTransport, app.ID,
		pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(other)}))
	forged.BaseURL = s.URL
	if _, resp, err := client(t, s, forged).Apps.Get(ctx, ""); err == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a JWT signed with another key: %v", err)
	}
	wrongApp, _ := ghinstallation.NewAppsTransport(http.DefaultTransport, 999, app.PrivateKeyPEM)
	wrongApp.BaseURL = s.URL
	if _, _, err := client(t, s, wrongApp).Apps.Get(ctx, ""); err == nil {
		t.Fatal("a JWT of another App ID was accepted")
	}

	itr := ghinstallation.NewFromAppsTransport(atr, 42)
	gh := client(t, s, itr)
	if _, _, err := gh.Issues.CreateComment(ctx, "acme", "infra", 1, &github.IssueComment{Body: github.Ptr("x")}); err == nil {
		t.Fatal("a comment on a missing issue was accepted")
	}
	s.AddPullRequest(repo, fakegithub.PullRequest{Number: 1})
	c, _, err := gh.Issues.CreateComment(ctx, "acme", "infra", 1, &github.IssueComment{Body: github.Ptr("hello")})
	if err != nil || c.GetUser().GetLogin() != app.BotLogin() {
		t.Fatalf("comment with the installation token: %+v, %v", c, err)
	}
	if _, _, err := gh.PullRequests.Get(ctx, "other", "repo", 1); err == nil {
		t.Error("installation 42's token reached installation 7's repository")
	}
	calls := s.CallsTo("POST /repos/:owner/:repo/issues/:number/comments")
	if calls[len(calls)-1].Auth != "installation:42" {
		t.Errorf("call made as %q", calls[len(calls)-1].Auth)
	}

	s.SetTokenTTL(time.Second)
	short := ghinstallation.NewFromAppsTransport(atr, 42)
	tok, err := short.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/repos/acme/infra/pulls/1", nil)
	req.Header.Set("Authorization", "token "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("an expired installation token: HTTP %d", resp.StatusCode)
	}
}

// TestIssuesListPullRequests: as on GitHub, the issues API lists pull
// requests too, marked by pull_request.
func TestIssuesListPullRequests(t *testing.T) {
	s := start(t)
	s.AddPullRequest(repo, fakegithub.PullRequest{})
	s.AddIssue(repo, fakegithub.Issue{Title: "drift", Labels: []string{"strata-drift"}})
	got, _, err := client(t, s, nil).Issues.ListByRepo(context.Background(), "acme", "infra", &github.IssueListByRepoOptions{Direction: "asc"})
	if err != nil || len(got) != 2 {
		t.Fatalf("issues = %d, %v", len(got), err)
	}
	if !got[0].IsPullRequest() || got[1].IsPullRequest() || got[1].GetNumber() != 2 {
		t.Errorf("issues: #%d pr=%v, #%d pr=%v", got[0].GetNumber(), got[0].IsPullRequest(), got[1].GetNumber(), got[1].IsPullRequest())
	}
}

// TestMergeableIsComputedLazily: GitHub answers mergeable null while it
// computes it.
func TestMergeableIsComputedLazily(t *testing.T) {
	s := start(t)
	s.AddPullRequest(repo, fakegithub.PullRequest{Number: 1, UnknownFor: 1, MergeableState: "dirty"})
	gh := client(t, s, nil)
	pr, _, err := gh.PullRequests.Get(context.Background(), "acme", "infra", 1)
	if err != nil || pr.Mergeable != nil || pr.GetMergeableState() != "unknown" {
		t.Fatalf("first read: mergeable %v %q, %v", pr.Mergeable, pr.GetMergeableState(), err)
	}
	pr, _, _ = gh.PullRequests.Get(context.Background(), "acme", "infra", 1)
	if pr.Mergeable == nil || *pr.Mergeable || pr.GetMergeableState() != "dirty" {
		t.Fatalf("second read: mergeable %v %q", pr.Mergeable, pr.GetMergeableState())
	}
}

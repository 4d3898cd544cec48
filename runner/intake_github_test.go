package runner

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/strata-iac/strata/internal/fakegithub"
	"github.com/strata-iac/strata/internal/fakegitlab"
	"github.com/strata-iac/strata/runner/forge"
	"github.com/strata-iac/strata/runner/forge/github"
	"github.com/strata-iac/strata/runner/forge/gitlab"
	"github.com/strata-iac/strata/runner/lock"
	"github.com/strata-iac/strata/runner/queue"
	"github.com/strata-iac/strata/runner/records"
	"github.com/strata-iac/strata/runner/store"
)

// newBothServer is a Server for GitLab and GitHub at once, each with the
// webhook secret "s3cret", for the repositories under acme/.
func newBothServer(t testing.TB, gl *fakegitlab.Server, ghs *fakegithub.Server) (*Server, *queue.Bolt, store.Store) {
	t.Helper()
	lab, err := gitlab.New(gitlab.Options{BaseURL: gl.URL, Token: gl.Token, WebhookSecret: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	hub, err := github.New(github.Options{BaseURL: ghs.URL, Token: ghs.Token, WebhookSecret: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	q, err := queue.OpenBolt(filepath.Join(dir, "queue.db"), queue.Options{MaxAttempts: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	locks, err := lock.Open(context.Background(), filepath.Join(dir, "locks.db"), lock.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { locks.Close() })
	st, err := store.OpenDir(filepath.Join(dir, "store"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Forges: []forge.Forge{lab, hub}, Queue: q, Locks: locks, Store: st, DataDir: dir,
		RepoAllowlist: []string{"gitlab/acme/**", "github/acme/**"}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return s, q, st
}

// poster sends the webhook requests it is given and returns the status.
func poster(t *testing.T) func(*http.Request, error) int {
	return func(req *http.Request, err error) int {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
}

// TestServesGitLabAndGitHub: one server takes both forges' webhooks; a
// GitHub push to the default branch records the repository for drift
// scans without queueing anything, a bad signature is refused, and a
// redelivery is queued once.
func TestServesGitLabAndGitHub(t *testing.T) {
	gl, ghs := fakegitlab.New(), fakegithub.New()
	t.Cleanup(gl.Close)
	t.Cleanup(ghs.Close)
	p := gl.AddProject(fakegitlab.Project{Path: "acme/infra"})
	gl.AddMergeRequest(p.Path, fakegitlab.MergeRequest{IID: 1})
	r := ghs.AddRepo(fakegithub.Repo{FullName: "acme/infra"})
	ghs.AddPullRequest(r.FullName, fakegithub.PullRequest{Number: 1})
	s, q, st := newBothServer(t, gl, ghs)
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	ctx := context.Background()
	post := poster(t)

	push := fakegithub.PushHook{Repo: r, Ref: "refs/heads/main", After: fakegithub.SHA("main"), User: "alice"}
	if code := post(fakegithub.NewRequest(ctx, hs.URL+"/events/github", "s3cret", push, "")); code != http.StatusOK {
		t.Fatalf("push to the default branch: HTTP %d, want 200", code)
	}
	if _, err := st.Get(ctx, records.RepoKey(forge.RepoRef{Forge: "github", Path: "acme/infra"})); err != nil {
		t.Errorf("the pushed repository is not recorded for drift: %v", err)
	}
	if n, _ := q.Len(ctx); n != 0 {
		t.Errorf("a push queued %d items", n)
	}

	hook := ghs.PullRequestHook(r.FullName, 1, "opened", "alice")
	if code := post(fakegithub.NewRequest(ctx, hs.URL+"/events/github", "wrong", hook, "")); code != http.StatusUnauthorized {
		t.Errorf("bad signature: HTTP %d, want 401", code)
	}
	for range 2 {
		if code := post(fakegithub.NewRequest(ctx, hs.URL+"/events/github", "s3cret", hook, "6f1c2a3e-0000-4000-8000-000000000001")); code/100 != 2 {
			t.Errorf("delivery: HTTP %d", code)
		}
	}
	if code := post(fakegitlab.NewRequest(ctx, hs.URL+"/events/gitlab", "s3cret", gl.MergeRequestHook(p.Path, 1, "open", "alice"), "")); code != http.StatusAccepted {
		t.Errorf("GitLab beside GitHub: HTTP %d", code)
	}
	if n, _ := q.Len(ctx); n != 2 {
		t.Errorf("%d items queued, want 2: the GitHub event once, the GitLab one", n)
	}
}

package test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/strata-iac/strata/internal/fakegithub"
)

// TestGitHubDriftIssues: a push to the default branch introduces the
// repository; a scheduled scan finds the stack whose resource was taken
// out of its S3 state and opens one GitHub issue for it (updated, not
// duplicated, by the next scans); once the stack is applied again, the
// next scan closes it.
func TestGitHubDriftIssues(t *testing.T) {
	bucket := "gh-drift"
	g, env := appliedInS3(t, bucket)
	stateRm(t, g, bucket, "live/prod/app", "module.app.terraform_data.service")
	gh := fakegithub.New()
	t.Cleanup(gh.Close)
	r := gh.AddRepo(fakegithub.Repo{FullName: "acme/infra", CloneURL: "file://" + g.Dir})
	gh.AddPullRequest(r.FullName, fakegithub.PullRequest{Title: "an open pull request, listed by the issues API too"})
	srv := startGitHubServer(t, gh, t.TempDir(), "--drift-schedule", "@every 2s")

	push := fakegithub.PushHook{Repo: r, Ref: "refs/heads/main", After: g.Git("rev-parse", "HEAD"), User: "alice"}
	if code := srv.deliver(push); code != http.StatusOK {
		t.Fatalf("push to the default branch: HTTP %d, want 200", code)
	}
	open := func() []fakegithub.Issue {
		var out []fakegithub.Issue
		for _, is := range gh.Issues(r.FullName) {
			if is.State == "open" {
				out = append(out, is)
			}
		}
		return out
	}
	eventually(t, 3*time.Minute, "a drift issue", func() bool { return len(open()) > 0 })
	is := open()[0]
	if is.Title != "strata: drift in live/prod/app" || is.User != gh.Bot || !strings.Contains(is.Body, "module.app.terraform_data.service") ||
		!strings.Contains(is.Body, "<!-- strata:drift github/acme/infra live/prod/app -->") || len(is.Labels) != 1 || is.Labels[0] != "strata-drift" {
		t.Errorf("issue #%d %q by %s, labels %v:\n%s", is.Number, is.Title, is.User, is.Labels, is.Body)
	}
	eventually(t, 2*time.Minute, "the issue updated by another scan", func() bool {
		return len(gh.CallsTo("PATCH /repos/:owner/:repo/issues/:number")) > 0
	})
	if n := len(gh.Issues(r.FullName)); n != 1 {
		t.Errorf("%d issues after two scans, want the one updated", n)
	}

	out := t.TempDir()
	if res := runStrata(t, env, "plan", "--repo", g.Dir, "--stack", "live/prod/app", "--out", out); res.code != 2 {
		t.Fatalf("plan the fix: exit %d\n%s", res.code, res.stderr)
	}
	if res := runStrata(t, env, "apply", "--repo", g.Dir, "--out", out); res.code != 0 {
		t.Fatalf("apply the fix: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	eventually(t, 3*time.Minute, "the issue closed", func() bool { return len(open()) == 0 })
	if closed := gh.Issues(r.FullName)[0]; !strings.Contains(closed.Body, "back in line with `main`") {
		t.Errorf("closed issue:\n%s", closed.Body)
	}
}

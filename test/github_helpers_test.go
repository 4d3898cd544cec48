package test

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strata-iac/strata/internal/fakegithub"
)

// ghServer is a `strata server` process serving a fake GitHub.
type ghServer struct {
	*e2eServer
	gh *fakegithub.Server
}

// startGitHubServer runs strata server for gh with a token, args added to
// the defaults.
func startGitHubServer(t *testing.T, gh *fakegithub.Server, dataDir string, args ...string) *ghServer {
	return startGitHubServerWith(t, gh, dataDir, []string{"STRATA_GITHUB_TOKEN=" + gh.Token}, args...)
}

// startGitHubServerWith runs strata server for gh with env (the
// credentials) and args added to the defaults.
func startGitHubServerWith(t *testing.T, gh *fakegithub.Server, dataDir string, env []string, args ...string) *ghServer {
	t.Helper()
	s := &e2eServer{t: t,
		args: append([]string{"server", "--listen", "127.0.0.1:0", "--data-dir", dataDir,
			"--github-url", gh.URL, "--repo-allowlist", "github/acme/**", "--allow-file-remotes",
			"--log-format", "json", "--replica", "e2e"}, args...),
		env: append([]string{"STRATA_GITHUB_WEBHOOK_SECRET=" + webhookSecret,
			"XDG_CACHE_HOME=" + filepath.Join(dataDir, "cache")}, env...),
	}
	s.start()
	t.Cleanup(s.stop)
	return &ghServer{e2eServer: s, gh: gh}
}

// deliver sends a webhook signed with the right secret, as a new event,
// and returns the status.
func (s *ghServer) deliver(h fakegithub.Hook) int { return s.deliverAs(webhookSecret, h, "") }

// deliverAs sends a webhook signed with secret, with the delivery ID given
// (a fresh one when empty).
func (s *ghServer) deliverAs(secret string, h fakegithub.Hook, delivery string) int {
	s.t.Helper()
	req, err := fakegithub.NewRequest(context.Background(), s.url("/events/github"), secret, h, delivery)
	if err != nil {
		s.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("deliver %s: %v", h.Event(), err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// botComments returns the comments strata (login bot) wrote on a pull
// request.
func botComments(gh *fakegithub.Server, repo string, number int64, bot string) []fakegithub.Comment {
	var out []fakegithub.Comment
	for _, c := range gh.Comments(repo, number) {
		if c.User == bot {
			out = append(out, c)
		}
	}
	return out
}

// mainComment is strata's one plan comment on a pull request.
func mainComment(gh *fakegithub.Server, repo string, number int64, bot string) (fakegithub.Comment, bool) {
	for _, c := range botComments(gh, repo, number, bot) {
		if strings.Contains(c.Body, "<!-- strata:mr -->") {
			return c, true
		}
	}
	return fakegithub.Comment{}, false
}

func commentContains(gh *fakegithub.Server, repo string, number int64, bot string, parts ...string) bool {
	c, ok := mainComment(gh, repo, number, bot)
	if !ok {
		return false
	}
	for _, p := range parts {
		if !strings.Contains(c.Body, p) {
			return false
		}
	}
	return true
}

func ghStatusIs(gh *fakegithub.Server, repo, sha, name, state string) bool {
	st, ok := gh.LatestStatus(repo, sha, name)
	return ok && st.State == state
}

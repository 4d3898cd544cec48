package test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/strata-iac/strata/internal/fakegitlab"
	"github.com/strata-iac/strata/internal/gittest"
)

const webhookSecret = "e2e-webhook-secret"

// e2eServer is a `strata server` process talking to a fake GitLab.
type e2eServer struct {
	t    *testing.T
	gl   *fakegitlab.Server
	args []string
	env  []string

	mu   sync.Mutex
	cmd  *exec.Cmd
	addr string
	logs strings.Builder
	done chan struct{}
}

// startServer runs strata server with args added to the defaults.
func startServer(t *testing.T, gl *fakegitlab.Server, dataDir string, args ...string) *e2eServer {
	t.Helper()
	s := &e2eServer{t: t, gl: gl,
		args: append([]string{"server", "--listen", "127.0.0.1:0", "--data-dir", dataDir,
			"--gitlab-url", gl.URL, "--repo-allowlist", "gitlab/acme/**", "--allow-file-remotes",
			"--log-format", "json", "--replica", "e2e"}, args...),
		env: []string{"STRATA_GITLAB_TOKEN=" + gl.Token, "STRATA_GITLAB_WEBHOOK_SECRET=" + webhookSecret,
			"XDG_CACHE_HOME=" + filepath.Join(dataDir, "cache")},
	}
	s.start()
	t.Cleanup(s.stop)
	return s
}

func (s *e2eServer) start() {
	s.t.Helper()
	cmd := exec.Command(strataBin(), s.args...)
	cmd.Env = append(os.Environ(), s.env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		s.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	addr := make(chan string, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			s.logs.WriteString(line + "\n")
			s.mu.Unlock()
			var entry struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &entry) == nil && entry.Msg == "strata server listening" {
				addr <- entry.Addr
			}
		}
	}()
	select {
	case a := <-addr:
		s.mu.Lock()
		s.cmd, s.addr, s.done = cmd, a, done
		s.mu.Unlock()
	case <-done:
		s.t.Fatalf("strata server exited at start:\n%s", s.log())
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		s.t.Fatalf("strata server did not start:\n%s", s.log())
	}
}

// stop sends SIGTERM and waits for a clean exit.
func (s *e2eServer) stop() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		<-done
	}
	cmd.Wait()
}

// kill stops the server with SIGKILL: no chance to clean up.
func (s *e2eServer) kill() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd = nil
	s.mu.Unlock()
	cmd.Process.Kill()
	<-done
	cmd.Wait()
}

func (s *e2eServer) log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logs.String()
}

func (s *e2eServer) url(path string) string { return "http://" + s.addr + path }

// deliver sends a webhook with the right secret and returns the status.
func (s *e2eServer) deliver(h fakegitlab.Hook) int {
	return s.deliverWith(webhookSecret, h)
}

func (s *e2eServer) deliverWith(secret string, h fakegitlab.Hook) int {
	s.t.Helper()
	resp, err := fakegitlab.Deliver(context.Background(), s.url("/events/gitlab"), secret, h)
	if err != nil {
		s.t.Fatalf("deliver %s: %v", h.Event(), err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// metric returns the value of a series in GET /metrics, or "".
func (s *e2eServer) metric(series string) string {
	s.t.Helper()
	resp, err := http.Get(s.url("/metrics"))
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			return v
		}
	}
	return ""
}

// eventually polls cond until it holds or a minute passes.
func (s *e2eServer) eventually(what string, cond func() bool) {
	s.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			s.t.Fatalf("timed out waiting for %s\nserver log:\n%s", what, s.log())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// botNotes returns the notes strata wrote on a merge request.
func botNotes(gl *fakegitlab.Server, project string, iid int64) []fakegitlab.Note {
	var out []fakegitlab.Note
	for _, n := range gl.Notes(project, iid) {
		if n.Author == gl.Bot {
			out = append(out, n)
		}
	}
	return out
}

// mainNote is strata's one plan note on a merge request.
func mainNote(gl *fakegitlab.Server, project string, iid int64) (fakegitlab.Note, bool) {
	for _, n := range botNotes(gl, project, iid) {
		if strings.Contains(n.Body, "<!-- strata:mr -->") {
			return n, true
		}
	}
	return fakegitlab.Note{}, false
}

func noteContains(gl *fakegitlab.Server, project string, iid int64, parts ...string) bool {
	n, ok := mainNote(gl, project, iid)
	if !ok {
		return false
	}
	for _, p := range parts {
		if !strings.Contains(n.Body, p) {
			return false
		}
	}
	return true
}

func statusIs(gl *fakegitlab.Server, project, sha, name, state string) bool {
	st, ok := gl.LatestStatus(project, sha, name)
	return ok && st.State == state
}

// remote is a bare repository the server clones over file://, and a
// working clone to make commits and branches in.
type remote struct {
	t    testing.TB
	work *gittest.Repo
	bare string
}

func newRemote(t testing.TB, files map[string]string) *remote {
	t.Helper()
	work := gittest.New(t)
	work.CopyDir("../examples/monorepo", ".")
	work.Write(files)
	work.Commit("infrastructure")
	bare := filepath.Join(t.TempDir(), "infra.git")
	work.Git("init", "-q", "--bare", "-b", "main", bare)
	work.Git("remote", "add", "origin", bare)
	work.Git("push", "-q", "origin", "main")
	return &remote{t: t, work: work, bare: bare}
}

func (r *remote) url() string { return "file://" + r.bare }

// branch commits files on branch (created from main when new) and pushes
// it, returning the new head.
func (r *remote) branch(name string, files map[string]string) string {
	r.t.Helper()
	if r.work.Git("branch", "--list", name) == "" {
		r.work.Git("checkout", "-q", "-b", name, "main")
	} else {
		r.work.Git("checkout", "-q", name)
	}
	r.work.Write(files)
	sha := r.work.Commit("change " + name)
	r.work.Git("push", "-q", "-f", "origin", name)
	r.work.Git("checkout", "-q", "main")
	return sha
}

// merge merges branch into main with a merge commit and pushes main.
func (r *remote) merge(branch string) string {
	r.t.Helper()
	r.work.Git("checkout", "-q", "main")
	r.work.Git("merge", "-q", "--no-ff", "-m", fmt.Sprintf("Merge branch '%s'", branch), branch)
	r.work.Git("push", "-q", "origin", "main")
	return r.work.Git("rev-parse", "HEAD")
}

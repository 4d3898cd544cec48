package mirror

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"

	"github.com/strata-iac/strata/internal/flock"
	"github.com/strata-iac/strata/internal/gittest"
	"github.com/strata-iac/strata/stacks"
)

// remote is a bare repository served over file://, fed by a working clone.
type remote struct {
	t    *testing.T
	work *gittest.Repo
	bare string
	url  string
}

func newRemote(t *testing.T) *remote {
	t.Helper()
	r := &remote{t: t, work: gittest.New(t), bare: t.TempDir()}
	r.url = "file://" + r.bare
	r.git("init", "-q", "--bare", "-b", "main")
	return r
}

// git runs git in the bare repository.
func (r *remote) git(args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = r.bare
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+r.bare)
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// commit commits a file change on the working clone's current branch and
// pushes the branch.
func (r *remote) commit(file, content string) string {
	r.t.Helper()
	r.work.Write(map[string]string{file: content})
	sha := r.work.Commit("change " + file)
	r.work.Git("push", "-q", "--force", r.bare, "HEAD")
	return sha
}

type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newMirrors(t *testing.T) (*Mirrors, *logBuf) {
	logs := &logBuf{}
	return &Mirrors{
		Dir:              t.TempDir(),
		AllowFileRemotes: true,
		Logger:           slog.New(slog.NewTextHandler(logs, nil)),
		CommitBackoff:    10 * time.Millisecond,
	}, logs
}

func fetchOK(t *testing.T, m *Mirrors, key, url string) *Mirror {
	t.Helper()
	mr, err := m.Fetch(context.Background(), key, url, nil)
	if err != nil {
		t.Fatalf("Fetch(%s): %v", key, err)
	}
	return mr
}

// refs lists the mirror's refs as name → SHA.
func refs(t *testing.T, mr *Mirror) map[string]string {
	t.Helper()
	repo, err := git.PlainOpen(mr.Path())
	if err != nil {
		t.Fatal(err)
	}
	it, err := repo.References()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	it.ForEach(func(r *plumbing.Reference) error {
		if r.Type() == plumbing.HashReference {
			out[r.Name().String()] = r.Hash().String()
		}
		return nil
	})
	return out
}

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}

func TestFirstFetchClonesLaterFetchesUpdate(t *testing.T) {
	r := newRemote(t)
	c1 := r.commit("main.tf", "# one")
	r.work.Git("tag", "v1")
	r.work.Git("push", "-q", r.bare, "v1")
	m, _ := newMirrors(t)

	mr := fetchOK(t, m, "gitlab/acme/infra", r.url)
	if want := filepath.Join(m.Dir, "gitlab", "acme", "infra.git"); mr.Path() != want {
		t.Fatalf("Path = %s, want %s", mr.Path(), want)
	}
	got := refs(t, mr)
	if got["refs/heads/main"] != c1 || got["refs/tags/v1"] != c1 {
		t.Fatalf("refs after clone = %v", got)
	}
	ino := inode(t, mr.Path())
	marker := filepath.Join(mr.Path(), "strata-marker")
	if err := os.WriteFile(marker, nil, 0o600); err != nil {
		t.Fatal(err)
	}

	c2 := r.commit("main.tf", "# two")
	mr = fetchOK(t, m, "gitlab/acme/infra", r.url)
	if got := refs(t, mr); got["refs/heads/main"] != c2 {
		t.Fatalf("main after fetch = %s, want %s", got["refs/heads/main"], c2)
	}
	if inode(t, mr.Path()) != ino {
		t.Fatal("the mirror was re-created instead of fetched into")
	}
	if _, err := os.Stat(marker); err != nil {
		t.Fatal("the mirror was re-created instead of fetched into")
	}
	if ok, err := mr.HasCommit(c2); !ok || err != nil {
		t.Fatalf("HasCommit(c2) = %v, %v", ok, err)
	}
	if cfg, _ := os.ReadFile(filepath.Join(mr.Path(), "config")); bytes.Contains(cfg, []byte(r.bare)) {
		t.Fatalf("the remote URL was saved in the mirror's config:\n%s", cfg)
	}

	// The mirror is what the analysis reads.
	repo, err := stacks.OpenRepo(mr.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	head, err := repo.Resolve("main")
	if err != nil || head.Hash.String() != c2 {
		t.Fatalf("stacks resolves main to %v, %v; want %s", head, err, c2)
	}
	export := t.TempDir()
	if err := repo.Export(context.Background(), head, export); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(export, "main.tf")); string(b) != "# two" {
		t.Fatalf("exported main.tf = %q", b)
	}
}

func TestDeletedRefsArePruned(t *testing.T) {
	r := newRemote(t)
	r.commit("main.tf", "# one")
	r.work.Git("checkout", "-q", "-b", "feature")
	r.commit("feature.tf", "# f")
	r.work.Git("tag", "gone")
	r.work.Git("push", "-q", r.bare, "gone")
	m, _ := newMirrors(t)
	mr := fetchOK(t, m, "gitlab/acme/infra", r.url)
	if got := refs(t, mr); got["refs/heads/feature"] == "" || got["refs/tags/gone"] == "" {
		t.Fatalf("refs = %v, want feature and tag gone", got)
	}

	r.git("branch", "-D", "feature")
	r.git("tag", "-d", "gone")
	mr = fetchOK(t, m, "gitlab/acme/infra", r.url)
	got := refs(t, mr)
	if _, ok := got["refs/heads/feature"]; ok {
		t.Errorf("deleted branch still in the mirror: %v", got)
	}
	if _, ok := got["refs/tags/gone"]; ok {
		t.Errorf("deleted tag still in the mirror: %v", got)
	}
	if got["refs/heads/main"] == "" {
		t.Errorf("main was pruned: %v", got)
	}
}

func TestMergeRequestHeadsAreFetched(t *testing.T) {
	r := newRemote(t)
	r.commit("main.tf", "# one")
	m, _ := newMirrors(t)
	fetchOK(t, m, "gitlab/acme/infra", r.url) // no merge-requests refs yet: not an error

	// A fork's head lives only under refs/merge-requests on the target.
	r.work.Git("checkout", "-q", "-b", "fork")
	fork := r.commit("fork.tf", "# from a fork")
	r.git("update-ref", "refs/merge-requests/1/head", fork)
	r.git("branch", "-D", "fork")

	mr := fetchOK(t, m, "gitlab/acme/infra", r.url)
	if got := refs(t, mr); got["refs/merge-requests/1/head"] != fork {
		t.Fatalf("refs = %v, want refs/merge-requests/1/head = %s", got, fork)
	}
	if ok, err := mr.HasCommit(fork); !ok || err != nil {
		t.Fatalf("HasCommit(fork head) = %v, %v", ok, err)
	}
}

func TestLocalRemotesNeedTheOption(t *testing.T) {
	r := newRemote(t)
	r.commit("main.tf", "# one")
	m, _ := newMirrors(t)
	m.AllowFileRemotes = false
	for _, url := range []string{r.url, r.bare} {
		_, err := m.Fetch(context.Background(), "gitlab/acme/infra", url, nil)
		if err == nil || !strings.Contains(err.Error(), "allow-file-remotes") {
			t.Fatalf("Fetch(%s) = %v, want a refusal naming --allow-file-remotes", url, err)
		}
	}
	if entries, _ := os.ReadDir(m.Dir); len(entries) != 0 {
		t.Fatalf("a refused fetch left %v in the mirror directory", entries)
	}
}

func TestCredentialsNeverInURLOrErrors(t *testing.T) {
	m, _ := newMirrors(t)
	for _, url := range []string{
		"https://oauth2:s3cret@gitlab.example.com/acme/infra.git",
		"https://s3cret@gitlab.example.com/acme/infra.git",
		"ssh://git:s3cret@gitlab.example.com/acme/infra.git",
		"https://oauth2:s3cret@gitlab.example.com:bad/acme/infra.git",
		"ftp://u:s3cret@example.com/x",
	} {
		_, err := m.Fetch(context.Background(), "gitlab/acme/infra", url, nil)
		if err == nil {
			t.Fatalf("Fetch(%s) accepted credentials in the URL", url)
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Fatalf("error shows the secret: %v", err)
		}
	}
}

func TestKeyPaths(t *testing.T) {
	for key, want := range map[string]string{
		"gitlab/acme/infra":     "gitlab/acme/infra.git",
		"github/Acme/infra-v2":  "github/Acme/infra-v2.git",
		"gitlab/a.b/c_d":        "gitlab/a.b/c_d.git",
		"gitlab/../../etc":      "gitlab/%2E./%2E./etc.git",
		"gitlab/.hidden":        "gitlab/%2Ehidden.git",
		"gitlab/acme.git/infra": "gitlab/acme%2Egit/infra.git",
		"gitlab/x.GIT.lock":     "gitlab/x%2EGIT.lock.git",
		"gitlab/a b%":           "gitlab/a%20b%25.git",
	} {
		got, err := keyPath(key)
		if err != nil || got != filepath.FromSlash(want) {
			t.Errorf("keyPath(%q) = %q, %v; want %q", key, got, err, want)
		}
	}
	for _, key := range []string{"", "/abs", "a//b", "a/", strings.Repeat("x", 300)} {
		if _, err := keyPath(key); err == nil {
			t.Errorf("keyPath(%q) accepted", key)
		}
	}
}

func TestConcurrentFetchesAreSafe(t *testing.T) {
	r := newRemote(t)
	r.commit("main.tf", "# one")
	other := newRemote(t)
	other.commit("other.tf", "# other")
	m, _ := newMirrors(t)

	var wg sync.WaitGroup
	for i := range 12 {
		wg.Go(func() {
			key, url := "gitlab/acme/infra", r.url
			if i%4 == 0 {
				key, url = "gitlab/acme/other", other.url
			}
			if _, err := m.Fetch(context.Background(), key, url, nil); err != nil {
				t.Error(err)
			}
		})
		if i == 6 {
			r.commit("main.tf", "# two")
		}
	}
	wg.Wait()
	for _, key := range []string{"gitlab/acme/infra", "gitlab/acme/other"} {
		path := filepath.Join(m.Dir, filepath.FromSlash(key)+".git")
		if out, err := exec.Command("git", "-C", path, "fsck", "--strict").CombinedOutput(); err != nil {
			t.Fatalf("git fsck %s: %v\n%s", key, err, out)
		}
	}
	entries, _ := os.ReadDir(filepath.Join(m.Dir, "gitlab", "acme"))
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "infra.git infra.git.lock other.git other.git.lock" {
		t.Fatalf("mirror directory holds %v", names)
	}
}

func TestCorruptMirrorIsMovedAsideAndCloned(t *testing.T) {
	for name, corrupt := range map[string]func(path string){
		"objects lost": func(path string) {
			os.RemoveAll(filepath.Join(path, "objects"))
			os.Mkdir(filepath.Join(path, "objects"), 0o755)
		},
		"ref garbled": func(path string) {
			os.WriteFile(filepath.Join(path, "refs", "heads", "main"), []byte("not a sha\n"), 0o644)
		},
		"config garbled": func(path string) {
			os.WriteFile(filepath.Join(path, "config"), []byte("[core\x00 nonsense"), 0o644)
		},
	} {
		t.Run(name, func(t *testing.T) {
			r := newRemote(t)
			c1 := r.commit("main.tf", "# one")
			m, logs := newMirrors(t)
			mr := fetchOK(t, m, "gitlab/acme/infra", r.url)
			corrupt(mr.Path())

			mr = fetchOK(t, m, "gitlab/acme/infra", r.url)
			if ok, err := mr.HasCommit(c1); !ok || err != nil {
				t.Fatalf("HasCommit after recovery = %v, %v", ok, err)
			}
			if !strings.Contains(logs.String(), "corrupt mirror moved aside") {
				t.Fatalf("no log line says why the mirror was re-cloned:\n%s", logs)
			}
			aside, _ := filepath.Glob(mr.Path() + ".corrupt-*")
			if len(aside) != 1 {
				t.Fatalf("corrupt copies kept: %v, want 1", aside)
			}
		})
	}
}

func TestFetchCommitRetriesThenFails(t *testing.T) {
	r := newRemote(t)
	r.commit("main.tf", "# one")
	m, logs := newMirrors(t)
	m.CommitFetches = 3
	missing := strings.Repeat("ab", 20)
	_, err := m.FetchCommit(context.Background(), "gitlab/acme/infra", r.url, nil, missing)
	if !errors.Is(err, ErrCommitNotFound) || !strings.Contains(err.Error(), missing) || !strings.Contains(err.Error(), "3 fetches") {
		t.Fatalf("FetchCommit(missing) = %v, want ErrCommitNotFound naming the SHA and 3 fetches", err)
	}
	if n := strings.Count(logs.String(), "fetching again"); n != 2 {
		t.Fatalf("logged %d retries, want 2:\n%s", n, logs)
	}
	if _, err := m.FetchCommit(context.Background(), "gitlab/acme/infra", r.url, nil, "abc123"); err == nil {
		t.Fatal("FetchCommit accepted a short SHA")
	}
}

func TestFetchCommitWaitsForALatePush(t *testing.T) {
	r := newRemote(t)
	r.commit("main.tf", "# one")
	r.work.Write(map[string]string{"main.tf": "# late"})
	late := r.work.Commit("late") // committed, not pushed yet
	m, _ := newMirrors(t)
	m.CommitFetches, m.CommitBackoff = 6, 50*time.Millisecond
	var pushed sync.WaitGroup
	pushed.Go(func() {
		time.Sleep(60 * time.Millisecond)
		r.work.Git("push", "-q", r.bare, "HEAD")
	})
	defer pushed.Wait()
	mr, err := m.FetchCommit(context.Background(), "gitlab/acme/infra", r.url, nil, late)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := mr.HasCommit(late); !ok {
		t.Fatal("FetchCommit returned without the commit")
	}
}

func TestFetchHonoursContext(t *testing.T) {
	r := newRemote(t)
	r.commit("main.tf", "# one")
	m, _ := newMirrors(t)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := m.Fetch(ctx, "gitlab/acme/infra", r.url, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("Fetch with a cancelled context = %v", err)
	}
	if _, err := os.Stat(filepath.Join(m.Dir, "gitlab", "acme", "infra.git")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a cancelled clone left a mirror behind: %v", err)
	}

	// Another process holds the mirror's lock: the fetch waits until its
	// deadline.
	fetchOK(t, m, "gitlab/acme/infra", r.url)
	held, err := flock.Exclusive(context.Background(), filepath.Join(m.Dir, "gitlab", "acme", "infra.git.lock"))
	if err != nil {
		t.Fatal(err)
	}
	unlock := held.Unlock
	ctx, cancel = context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	_, err = m.Fetch(ctx, "gitlab/acme/infra", r.url, nil)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "another fetch") {
		t.Fatalf("Fetch while locked = %v, want a deadline error waiting for another fetch", err)
	}
	unlock()
	fetchOK(t, m, "gitlab/acme/infra", r.url)

	// Fetch of missing commits gives up on cancel during the backoff.
	m.CommitFetches, m.CommitBackoff = 10, time.Hour
	ctx, cancel = context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err = m.FetchCommit(ctx, "gitlab/acme/infra", r.url, nil, strings.Repeat("cd", 20))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("FetchCommit = %v, want a deadline error", err)
	}
}

func TestFetchErrorsNameTheRepository(t *testing.T) {
	m, _ := newMirrors(t)
	missing := filepath.Join(t.TempDir(), "nope")
	_, err := m.Fetch(context.Background(), "gitlab/acme/infra", "file://"+missing, nil)
	if err == nil || !strings.Contains(err.Error(), "gitlab/acme/infra") {
		t.Fatalf("Fetch of a missing remote = %v", err)
	}
	if _, err := (&Mirrors{}).Fetch(context.Background(), "k", "https://x/y", nil); err == nil {
		t.Fatal("Fetch without Dir accepted")
	}
	if entries, _ := os.ReadDir(filepath.Join(m.Dir, "gitlab", "acme")); len(entries) != 1 {
		t.Fatalf("a failed clone left %v behind, want only the lock file", entries)
	}
}

func TestCancelMidCloneLeavesNothing(t *testing.T) {
	r := newRemote(t)
	big := make([]byte, 16<<20)
	rand.Read(big)
	if err := os.WriteFile(filepath.Join(r.work.Dir, "big.bin"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	r.commit("main.tf", "# one")
	m, _ := newMirrors(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	_, err := m.Fetch(ctx, "gitlab/acme/infra", r.url, nil)
	if err == nil {
		t.Skip("the clone finished before the deadline")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Fetch = %v, want a deadline error", err)
	}
	entries, _ := os.ReadDir(filepath.Join(m.Dir, "gitlab", "acme"))
	if len(entries) != 1 || entries[0].Name() != "infra.git.lock" {
		t.Fatalf("a cancelled clone left %v, want only the lock file", entries)
	}
	fetchOK(t, m, "gitlab/acme/infra", r.url)
}

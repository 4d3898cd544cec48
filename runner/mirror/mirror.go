package mirror

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"

	"github.com/strata-iac/strata/internal/flock"
)

// refSpecs are what a mirror fetches: branches, tags, GitLab's merge
// request heads and GitHub's pull request heads (both also hold the heads
// of forks). A refspec that matches nothing on the remote (GitHub has no
// merge-requests refs, GitLab no pull refs) is not an error. GitHub's
// refs/pull/N/merge (a test merge it recomputes) is not fetched.
var refSpecs = []config.RefSpec{
	"+refs/heads/*:refs/heads/*",
	"+refs/tags/*:refs/tags/*",
	"+refs/merge-requests/*/head:refs/merge-requests/*/head",
	"+refs/pull/*/head:refs/pull/*/head",
}

// ErrCommitNotFound is returned by FetchCommit when the commit is still
// missing after every fetch.
var ErrCommitNotFound = errors.New("commit not found on the remote")

// Mirrors keeps one bare mirror per repository under Dir. Set the fields
// before first use and do not copy a Mirrors after it; its methods are
// safe for concurrent use.
type Mirrors struct {
	// Dir holds the mirrors, as Dir/<key>.git. Required.
	Dir string
	// AllowFileRemotes allows file:// URLs and local paths as remotes
	// (tests). Without it they are refused: a webhook payload must not
	// make the server read its own disk.
	AllowFileRemotes bool
	// Logger receives notes on recovered mirrors and fetch retries.
	// Default slog.Default().
	Logger *slog.Logger
	// CommitFetches is how many times FetchCommit fetches before it gives
	// up on a missing commit. Default 4.
	CommitFetches int
	// CommitBackoff is FetchCommit's first wait between fetches, doubled
	// after each. Default 1s.
	CommitBackoff time.Duration
}

// Mirror is a bare mirror on disk, current as of its last fetch.
type Mirror struct {
	key  string
	path string
}

// Path is the mirror's directory, to open with stacks.OpenRepo. Fetches
// never delete objects, so a commit read from it stays readable while
// later fetches run.
func (m *Mirror) Path() string { return m.path }

// HasCommit reports whether the mirror holds commit sha (40 hex digits).
func (m *Mirror) HasCommit(sha string) (bool, error) {
	if !plumbing.IsHash(sha) {
		return false, fmt.Errorf("mirror %s: %q is not a full commit SHA", m.key, sha)
	}
	repo, err := git.PlainOpen(m.path)
	if err != nil {
		return false, fmt.Errorf("mirror %s: %w", m.key, err)
	}
	_, err = repo.CommitObject(plumbing.NewHash(sha))
	if errors.Is(err, plumbing.ErrObjectNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("mirror %s: read commit %s: %w", m.key, sha, err)
	}
	return true, nil
}

// Fetch brings the mirror of key up to date with url and returns it. The
// first fetch of a key clones; later ones fetch into the same mirror,
// pruning refs deleted on the remote. A mirror found corrupt is moved
// aside (logged, kept for inspection) and cloned again. Fetches of one key
// wait for each other, in this process and across processes sharing Dir;
// fetches of different keys run in parallel.
//
// key names the repository, e.g. "gitlab/acme/infra"; it is escaped into
// a safe relative path. url must not carry credentials: pass them as auth.
func (m *Mirrors) Fetch(ctx context.Context, key, url string, auth transport.AuthMethod) (*Mirror, error) {
	if m.Dir == "" {
		return nil, errors.New("mirror: no mirror directory configured")
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("mirror %s: %w", key, err)
	}
	rel, err := keyPath(key)
	if err != nil {
		return nil, err
	}
	shown, err := m.checkURL(url)
	if err != nil {
		return nil, fmt.Errorf("mirror %s: %w", key, err)
	}
	path := filepath.Join(m.Dir, rel)
	unlock, err := m.lock(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("mirror %s: wait for another fetch: %w", key, err)
	}
	defer unlock()
	if err := m.update(ctx, key, path, url, auth); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("mirror %s: fetch from %s: %w", key, shown, ctx.Err())
		}
		return nil, fmt.Errorf("mirror %s: fetch from %s: %w", key, shown, err)
	}
	return &Mirror{key: key, path: path}, nil
}

// FetchCommit fetches like Fetch until the mirror holds commit sha. A
// webhook can arrive before its push is visible to fetches, so a missing
// commit is fetched again CommitFetches times in all, with a doubling
// backoff, before FetchCommit fails with ErrCommitNotFound.
func (m *Mirrors) FetchCommit(ctx context.Context, key, url string, auth transport.AuthMethod, sha string) (*Mirror, error) {
	if !plumbing.IsHash(sha) {
		return nil, fmt.Errorf("mirror %s: %q is not a full commit SHA", key, sha)
	}
	tries, wait := m.CommitFetches, m.CommitBackoff
	if tries <= 0 {
		tries = 4
	}
	if wait <= 0 {
		wait = time.Second
	}
	for try := 1; ; try++ {
		mr, err := m.Fetch(ctx, key, url, auth)
		if err != nil {
			return nil, err
		}
		ok, err := mr.HasCommit(sha)
		if err != nil || ok {
			return mr, err
		}
		if try == tries {
			return nil, fmt.Errorf("mirror %s: %w: %s is missing after %d fetches", key, ErrCommitNotFound, sha, tries)
		}
		m.logger().Info("mirror: commit not fetched yet, fetching again",
			"key", key, "commit", sha, "fetch", try, "wait", wait)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("mirror %s: waiting for commit %s: %w", key, sha, ctx.Err())
		case <-time.After(wait):
		}
		wait *= 2
	}
}

// update clones or fetches the mirror at path; the caller holds its lock.
func (m *Mirrors) update(ctx context.Context, key, path, url string, auth transport.AuthMethod) error {
	parent, base := filepath.Split(path)
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return err
	}
	// Clones of a process that died are never finished: drop them.
	leftovers, _ := filepath.Glob(filepath.Join(parent, "."+base+".clone-*"))
	for _, d := range leftovers {
		os.RemoveAll(d)
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return clone(ctx, path, url, auth)
	} else if err != nil {
		return err
	}
	repo, err := openHealthy(path)
	if err != nil {
		aside := path + ".corrupt-" + time.Now().UTC().Format("20060102T150405.000000000Z")
		m.logger().Warn("mirror: corrupt mirror moved aside, cloning again",
			"key", key, "path", path, "moved_to", aside, "reason", err.Error())
		if rerr := os.Rename(path, aside); rerr != nil {
			return fmt.Errorf("mirror is corrupt (%v) and cannot be moved aside: %w", err, rerr)
		}
		return clone(ctx, path, url, auth)
	}
	return fetch(ctx, repo, url, auth)
}

// clone makes a new mirror next to path and renames it into place when
// complete, so path never holds half a clone.
func clone(ctx context.Context, path, url string, auth transport.AuthMethod) error {
	parent, base := filepath.Split(path)
	tmp, err := os.MkdirTemp(parent, "."+base+".clone-")
	if err != nil {
		return err
	}
	err = func() error {
		repo, err := git.PlainInit(tmp, true)
		if err != nil {
			return err
		}
		if err := fetch(ctx, repo, url, auth); err != nil {
			return err
		}
		return os.Rename(tmp, path)
	}()
	if err != nil {
		os.RemoveAll(tmp)
	}
	return err
}

// fetch updates repo's refs from url. The remote is not saved in the
// mirror's config: the URL comes with each fetch.
func fetch(ctx context.Context, repo *git.Repository, url string, auth transport.AuthMethod) error {
	remote := git.NewRemote(repo.Storer, &config.RemoteConfig{Name: "origin", URLs: []string{url}})
	err := remote.FetchContext(ctx, &git.FetchOptions{
		RefSpecs: refSpecs,
		Auth:     auth,
		Tags:     git.NoTags, // tags come through refSpecs, all of them
		Prune:    true,
		Force:    true,
	})
	if errors.Is(err, git.NoErrAlreadyUpToDate) {
		return nil
	}
	return err
}

// openHealthy opens the mirror at path and checks that every ref can be
// read and points at an object the mirror holds.
func openHealthy(path string) (*git.Repository, error) {
	repo, err := git.PlainOpen(path)
	if err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	refs, err := repo.Storer.IterReferences()
	if err != nil {
		return nil, fmt.Errorf("read refs: %w", err)
	}
	err = refs.ForEach(func(r *plumbing.Reference) error {
		if r.Type() != plumbing.HashReference {
			return nil
		}
		if err := repo.Storer.HasEncodedObject(r.Hash()); err != nil {
			return fmt.Errorf("ref %s points at %s: %w", r.Name(), r.Hash(), err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return repo, nil
}

// lock serialises fetches of the mirror at path, among the goroutines of
// this process and among processes, by a file lock on path.lock.
func (m *Mirrors) lock(ctx context.Context, path string) (func(), error) {
	l, err := flock.Exclusive(ctx, path+".lock")
	if err != nil {
		return nil, err
	}
	return l.Unlock, nil
}

func (m *Mirrors) logger() *slog.Logger {
	if m.Logger != nil {
		return m.Logger
	}
	return slog.Default()
}

// checkURL accepts a remote URL and returns it in a form safe to show. It
// refuses credentials in the URL and, unless allowed, local remotes.
func (m *Mirrors) checkURL(raw string) (string, error) {
	ep, err := transport.NewEndpoint(raw)
	if err != nil {
		// The parser's message repeats the URL, credentials and all.
		return "", errors.New("the remote URL is not a valid git URL")
	}
	shown := ep.Protocol + "://" + ep.Host
	if ep.Port != 0 {
		shown += ":" + strconv.Itoa(ep.Port)
	}
	if !strings.HasPrefix(ep.Path, "/") {
		shown += "/"
	}
	shown += ep.Path
	switch ep.Protocol {
	case "https", "http", "git":
		if ep.User != "" || ep.Password != "" {
			return "", fmt.Errorf("the remote URL %s carries credentials; pass them as auth instead", shown)
		}
	case "ssh":
		if ep.Password != "" {
			return "", fmt.Errorf("the remote URL %s carries a password; pass it as auth instead", shown)
		}
	case "file":
		if !m.AllowFileRemotes {
			return "", fmt.Errorf("local remote %s refused: file remotes are allowed only with --allow-file-remotes", ep.Path)
		}
	default:
		return "", fmt.Errorf("remote URL %s: unsupported protocol %q", shown, ep.Protocol)
	}
	return shown, nil
}

// keyPath turns a key such as "gitlab/acme/infra" into the mirror's path
// relative to Dir, "gitlab/acme/infra.git". Each segment keeps letters,
// digits, '-', '_' and '.'; any other byte, a leading '.', and the '.' of
// any ".git" are written %XX. The mapping is one-to-one, a segment can
// never climb out of Dir or hide, and no directory on the way can be
// mistaken for a mirror, its lock or a copy moved aside.
func keyPath(key string) (string, error) {
	if key == "" {
		return "", errors.New("mirror: empty repository key")
	}
	segs := strings.Split(key, "/")
	for i, s := range segs {
		if s == "" {
			return "", fmt.Errorf("mirror: repository key %q has an empty segment", key)
		}
		segs[i] = escapeSegment(s)
		if len(segs[i]) > 200 {
			return "", fmt.Errorf("mirror: repository key %q has a segment too long for a file name", key)
		}
	}
	return filepath.Join(segs...) + ".git", nil
}

func escapeSegment(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_':
			b.WriteByte(c)
		case c == '.' && i > 0 && !strings.HasPrefix(strings.ToLower(s[i:]), ".git"):
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

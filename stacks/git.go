package stacks

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// Repo is a git repository read through its object database. It works the
// same on a clone with a working tree, a linked worktree and a bare mirror.
// A Repo is for use by one goroutine at a time; the analyses it returns are
// read-only and may be shared.
type Repo struct {
	git  *git.Repository
	path string

	cache   *analysisCache
	blobs   map[blobKey]fileCalls         // files read through symlinks
	commits map[plumbing.Hash]*commitNode // read for merge bases
	shallow map[plumbing.Hash]bool        // nil until read
}

// OpenRepo opens the git repository at dir, or the one dir lies in.
func OpenRepo(dir string) (*Repo, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	// A bare mirror is opened as it is; a clone or a linked worktree from
	// any of its directories. Without the common directory, a linked
	// worktree's root would open as a repository with no objects.
	opts := &git.PlainOpenOptions{EnableDotGitCommonDir: true}
	g, err := git.PlainOpenWithOptions(abs, opts)
	if errors.Is(err, git.ErrRepositoryNotExists) {
		opts.DetectDotGit = true
		g, err = git.PlainOpenWithOptions(abs, opts)
	}
	if err != nil {
		if errors.Is(err, git.ErrRepositoryNotExists) {
			return nil, fmt.Errorf("%s is not a git repository (or inside one); pass --repo with the path of a clone", dir)
		}
		return nil, fmt.Errorf("open git repository %s: %w", dir, err)
	}
	// Reopen the same object database keeping pack files open: go-git
	// otherwise reopens a pack for every object, which dominates the time of
	// walking thousands of trees.
	if st, ok := g.Storer.(*filesystem.Storage); ok {
		fast := filesystem.NewStorageWithOptions(st.Filesystem(), cache.NewObjectLRUDefault(), filesystem.Options{KeepDescriptors: true})
		if fg, err := git.Open(fast, nil); err == nil {
			g = fg
		}
	}
	return &Repo{git: g, path: abs, cache: openAnalysisCache(), blobs: map[blobKey]fileCalls{}, commits: map[plumbing.Hash]*commitNode{}}, nil
}

// Git exposes the underlying go-git repository.
func (r *Repo) Git() *git.Repository { return r.git }

// Close writes the analysis cache back to disk and closes the pack files
// the Repo holds open.
func (r *Repo) Close() error {
	err := r.cache.save()
	if st, ok := r.git.Storer.(*filesystem.Storage); ok {
		if cerr := st.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// unshallowHint is what to do when a shallow clone lacks history.
const unshallowHint = "fetch the full history (git fetch --unshallow; in CI, GIT_DEPTH: 0 in GitLab, fetch-depth: 0 for actions/checkout)"

// isShallow reports whether the repository is a shallow clone.
func (r *Repo) isShallow() bool {
	if r.shallow == nil {
		r.shallow = map[plumbing.Hash]bool{}
		if hs, err := r.git.Storer.Shallow(); err == nil {
			for _, h := range hs {
				r.shallow[h] = true
			}
		}
	}
	return len(r.shallow) > 0
}

// explain adds the hint to fetch the full history to an error caused by an
// object a shallow clone lacks.
func (r *Repo) explain(err error) error {
	if err != nil && errors.Is(err, plumbing.ErrObjectNotFound) && r.isShallow() && !strings.Contains(err.Error(), unshallowHint) {
		return fmt.Errorf("%w; this is a shallow clone: %s", err, unshallowHint)
	}
	return err
}

// readTree reads a tree object.
func (r *Repo) readTree(h plumbing.Hash) (*object.Tree, error) {
	return object.GetTree(r.git.Storer, h)
}

func short(h plumbing.Hash) string { return h.String()[:12] }

package planner

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/strata-iac/strata/internal/flock"
	"github.com/strata-iac/strata/planner/tf"
	"github.com/strata-iac/strata/stacks"
)

// workspace is a throwaway directory (dir) holding one commit's tree
// (root), the scratch directories of its runs (runs) and its lock file,
// which it holds while it is in use so that SweepWorkspaces leaves it
// alone, in any process.
type workspace struct {
	dir  string
	root string
	runs string
	lock *flock.Lock
}

// Names inside a workspace directory.
const (
	workspaceLock = ".lock"
	workDir       = "work"
	stateRoot     = "state"
)

// workspace exports commit into a fresh directory under DataDir/work.
func (s *Session) workspace(ctx context.Context, commit *object.Commit) (*workspace, error) {
	parent := filepath.Join(s.opts.DataDir, workDir)
	// Workspaces and local state are strata's user's alone, whatever the
	// data dir's mode.
	for _, d := range []string{parent, filepath.Join(s.opts.DataDir, stateRoot)} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("workspace: %w", err)
		}
		if err := os.Chmod(d, 0o700); err != nil {
			return nil, fmt.Errorf("workspace: %w", err)
		}
	}
	dir, err := os.MkdirTemp(parent, commit.Hash.String()[:12]+"-")
	if err != nil {
		return nil, fmt.Errorf("workspace: %w", err)
	}
	ws := &workspace{dir: dir, root: filepath.Join(dir, "src"), runs: filepath.Join(dir, "runs")}
	if ws.lock, err = flock.Exclusive(ctx, filepath.Join(dir, workspaceLock)); err != nil {
		removeAll(dir)
		return nil, fmt.Errorf("workspace: %w", err)
	}
	if err := os.Mkdir(ws.runs, 0o700); err != nil {
		ws.close()
		return nil, fmt.Errorf("workspace: %w", err)
	}
	if err := s.repo.Export(ctx, commit, ws.root); err != nil {
		ws.close()
		return nil, fmt.Errorf("export %s into a workspace: %w", commit.Hash.String()[:12], err)
	}
	return ws, nil
}

// close removes the workspace and everything in it.
func (ws *workspace) close() {
	removeAll(ws.dir)
	ws.lock.Unlock()
}

// sweepAge is how old an entry of DATA_DIR/work must be before
// SweepWorkspaces removes it unlocked: a workspace being created has not
// taken its lock yet.
const sweepAge = time.Minute

// SweepWorkspaces removes what runs left under dataDir/work when the
// process that made them died: every entry that no live workspace holds
// the lock of, once it is a minute old. Workspaces in use, by this
// process or another, are left alone. It returns what it removed.
func SweepWorkspaces(dataDir string) ([]string, error) {
	parent := filepath.Join(dataDir, workDir)
	entries, err := os.ReadDir(parent)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sweep workspaces: %w", err)
	}
	var removed []string
	var errs []error
	for _, e := range entries {
		path := filepath.Join(parent, e.Name())
		if info, err := e.Info(); err != nil || time.Since(info.ModTime()) < sweepAge {
			continue
		}
		l, held, err := flock.TryExclusive(filepath.Join(path, workspaceLock))
		switch {
		case err == nil && !held:
			continue // in use
		case err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR):
			errs = append(errs, err)
			continue
		}
		if err := removeAll(path); err != nil {
			errs = append(errs, err)
		} else {
			removed = append(removed, path)
		}
		if l != nil {
			l.Unlock()
		}
	}
	return removed, errors.Join(errs...)
}

// removeAll is os.RemoveAll that also removes what sits in read-only
// directories (module caches, provider plugins copied without write
// permission), by making the directories writable first.
func removeAll(path string) error {
	if err := os.RemoveAll(path); err == nil {
		return nil
	}
	_ = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(p, 0o700)
		}
		return nil
	})
	return os.RemoveAll(path)
}

// runner finds the binary that fits strata.yaml's constraint and the
// required_version of the instances names (and their modules), and
// prepares a Runner.
func (s *Session) runner(ctx context.Context, an *stacks.Analysis, ws *workspace, names []string) (*Runner, error) {
	root, tempDir := ws.root, ws.runs
	cfg := an.Config
	var cons []tf.Constraint
	if cfg.Terraform.Version != "" {
		cons = append(cons, tf.Constraint{Expr: cfg.Terraform.Version, Source: stacks.ConfigFile + " terraform.version"})
	}
	seen := map[string]bool{}
	var all []string
	for _, n := range names {
		st := an.Instance(n)
		for _, m := range append([]string{st.Dir}, st.Modules...) {
			if !seen[m] {
				seen[m] = true
				all = append(all, m)
			}
		}
	}
	stackCons, err := StackConstraints(root, all)
	if err != nil {
		return nil, err
	}
	bin, err := tf.FindBinary(ctx, tf.BinaryOptions{
		Name: cfg.Terraform.Binary, Constraints: append(cons, stackCons...),
		NoDownload: s.opts.NoDownload, Environ: s.opts.Environ, Sandbox: s.opts.Sandbox,
	})
	if err != nil {
		return nil, err
	}
	parallel := s.opts.Parallel
	if parallel <= 0 {
		parallel = cfg.Parallel
	}
	return NewRunner(Options{
		Binary: bin, Parallel: parallel, StackTimeout: s.opts.StackTimeout,
		Progress: s.opts.Progress, Environ: s.opts.Environ,
		TempDir: tempDir, Sandbox: s.opts.Sandbox,
		PlanEnv: s.opts.PlanEnv, ApplyEnv: s.opts.ApplyEnv, Secrets: s.opts.Secrets,
	})
}

// job describes one stack instance of the analysed commit exported at
// root. Instances of one directory share its state directory: terraform
// keeps each workspace's state apart in it.
func (s *Session) job(an *stacks.Analysis, root, name string) Job {
	var b *Backend
	if len(an.Config.Backend.S3) > 0 {
		b = &Backend{S3: an.Config.Backend.S3}
	}
	st := an.Instance(name)
	return Job{
		Dir: st.Dir, Workspace: st.Workspace, Root: root, Commit: an.Commit,
		Inputs: an.Inputs(name), Backend: b,
		StateDir:  filepath.Join(s.opts.DataDir, stateRoot, filepath.FromSlash(s.opts.RepoName), filepath.FromSlash(st.Dir)),
		VarFiles:  st.VarFiles,
		Env:       st.Env,
		ExtraArgs: st.ExtraArgs,
	}
}

// repoName names a repository under DATA_DIR/state: the path of its origin
// remote's URL (host/owner/name) when it has one, so every clone of a
// repository shares its local state, else its directory name.
func repoName(r *stacks.Repo, dir string) string {
	if remote, err := r.Git().Remote("origin"); err == nil && len(remote.Config().URLs) > 0 {
		if name := remoteName(remote.Config().URLs[0]); name != "" {
			return name
		}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "repo"
	}
	return filepath.Base(abs)
}

// remoteName turns a clone URL into host/path without credentials or
// ".git": https://user@gitlab.com/acme/infra.git → gitlab.com/acme/infra,
// git@gitlab.com:acme/infra.git → gitlab.com/acme/infra.
func remoteName(raw string) string {
	var host, p string
	if u, err := url.Parse(raw); err == nil && u.Scheme != "" && u.Host != "" {
		host, p = u.Hostname(), u.Path
	} else if at := strings.Index(raw, "@"); at >= 0 && strings.Contains(raw[at:], ":") {
		rest := raw[at+1:]
		colon := strings.Index(rest, ":")
		host, p = rest[:colon], rest[colon+1:]
	} else {
		return ""
	}
	p = strings.TrimSuffix(strings.Trim(path.Clean("/"+p), "/"), ".git")
	if p == "" || strings.Contains(p, "..") {
		return ""
	}
	return host + "/" + p
}

package planner

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/strata-iac/strata/planner/tf"
	"github.com/strata-iac/strata/stacks"
)

// workspace is a throwaway directory holding one commit's tree (root) and
// anything else a run needs (dir).
type workspace struct {
	dir  string
	root string
}

// workspace exports commit into a fresh directory under DataDir/work.
func (s *Session) workspace(ctx context.Context, commit *object.Commit) (*workspace, error) {
	parent := filepath.Join(s.opts.DataDir, "work")
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return nil, fmt.Errorf("workspace: %w", err)
	}
	dir, err := os.MkdirTemp(parent, commit.Hash.String()[:12]+"-")
	if err != nil {
		return nil, fmt.Errorf("workspace: %w", err)
	}
	ws := &workspace{dir: dir, root: filepath.Join(dir, "src")}
	if err := s.repo.Export(ctx, commit, ws.root); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("export %s into a workspace: %w", commit.Hash.String()[:12], err)
	}
	return ws, nil
}

// runner finds the binary that fits strata.yaml's constraint and the
// required_version of the stacks (and their modules), and prepares a Runner.
func (s *Session) runner(ctx context.Context, an *stacks.Analysis, root string, dirs []string) (*Runner, error) {
	cfg := an.Config
	var cons []tf.Constraint
	if cfg.Terraform.Version != "" {
		cons = append(cons, tf.Constraint{Expr: cfg.Terraform.Version, Source: stacks.ConfigFile + " terraform.version"})
	}
	seen := map[string]bool{}
	var all []string
	for _, d := range dirs {
		for _, m := range append([]string{d}, an.Stack(d).Modules...) {
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
		NoDownload: s.opts.NoDownload, Environ: s.opts.Environ,
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
		TempDir: filepath.Join(s.opts.DataDir, "work"),
	})
}

// job describes one stack of the analysed commit exported at root.
func (s *Session) job(an *stacks.Analysis, root, dir string) Job {
	var b *Backend
	if len(an.Config.Backend.S3) > 0 {
		b = &Backend{S3: an.Config.Backend.S3}
	}
	return Job{
		Dir: dir, Workspace: an.Config.WorkspaceFor(dir), Root: root, Commit: an.Commit,
		Inputs: an.Inputs(dir), Backend: b,
		StateDir: filepath.Join(s.opts.DataDir, "state", filepath.FromSlash(s.opts.RepoName), filepath.FromSlash(dir)),
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

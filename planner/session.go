package planner

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/strata-iac/strata/internal/fault"
	"github.com/strata-iac/strata/planner/tf"
	"github.com/strata-iac/strata/policy"
	"github.com/strata-iac/strata/stacks"
)

// SessionOptions configures a Session.
type SessionOptions struct {
	// Repo is the repository to work on; when nil, RepoDir is opened.
	Repo    *stacks.Repo
	RepoDir string
	// RepoName names the repository under DataDir/state, where stacks
	// without a backend keep their state. Default: see repoName.
	RepoName string
	// DataDir holds workspaces (DataDir/work) and local state
	// (DataDir/state).
	DataDir string
	// Progress reports stacks as they start and end; nil reports nothing.
	Progress *Progress
	// Parallel overrides strata.yaml's parallel when > 0.
	Parallel     int
	StackTimeout time.Duration
	// Environ is terraform's base environment; nil means os.Environ().
	Environ []string
	// NoDownload forbids installing a terraform release that fits the
	// constraints when none on PATH does.
	NoDownload bool
	// Sandbox, PlanEnv, ApplyEnv and Secrets are passed to every Runner
	// (see Options).
	Sandbox           *tf.Sandbox
	PlanEnv, ApplyEnv []string
	Secrets           []string
}

// Session plans and applies the stacks of one repository: it reads the
// commit, exports it into a throwaway workspace, finds the Terraform
// binary that fits every constraint and runs the stacks.
type Session struct {
	opts    SessionOptions
	repo    *stacks.Repo
	ownRepo bool
}

// OpenSession opens the repository of opts.
func OpenSession(opts SessionOptions) (*Session, error) {
	if opts.DataDir == "" {
		return nil, errors.New("planner: no data directory")
	}
	s := &Session{opts: opts, repo: opts.Repo}
	if s.repo == nil {
		r, err := stacks.OpenRepo(opts.RepoDir)
		if err != nil {
			return nil, err
		}
		s.repo, s.ownRepo = r, true
	}
	if s.opts.RepoName == "" {
		s.opts.RepoName = repoName(s.repo, opts.RepoDir)
	}
	return s, nil
}

// Repo is the session's repository.
func (s *Session) Repo() *stacks.Repo { return s.repo }

// Close releases the repository when the session opened it.
func (s *Session) Close() error {
	if s.ownRepo {
		return s.repo.Close()
	}
	return nil
}

// Selection says which stacks to plan: those changed between Base and
// Head, those named in Stacks, or All. Exactly one must be set.
type Selection struct {
	Base string
	Head string // default HEAD
	// Stacks names stacks as a user does: DIR (every instance of DIR) or
	// DIR@WORKSPACE (one instance).
	Stacks []string
	All    bool
	// Targets plan only these resource addresses (-target) of the stacks
	// named in Stacks: partial plans.
	Targets []string
	// PolicyRef names the commit policies are read from; default Head. The
	// server passes the target branch, so a merge request cannot rewrite
	// the policies that judge it.
	PolicyRef string
}

// Target is a resolved selection: the commit, the stack instances to run
// in dependency order (by name: DIR, or DIR@WORKSPACE), and what the
// change set reported.
type Target struct {
	Commit   *object.Commit
	Base     string
	Analysis *stacks.Analysis
	Stacks   []string
	Deleted  []string
	Warnings []string
	// Reasons maps each instance of a change set to why it is in it.
	Reasons map[string][]string
	// Targets are the -target addresses every plan of Stacks is made with.
	Targets []string
}

// Select resolves a selection against the repository. Its errors are
// about what was asked for (an unknown ref, a broken strata.yaml, a
// directory that is not a stack): permanent, in package fault's terms.
func (s *Session) Select(ctx context.Context, sel Selection) (*Target, error) {
	t, err := s.selectTarget(ctx, sel)
	if err != nil {
		return nil, fault.Permanent(err)
	}
	return t, nil
}

func (s *Session) selectTarget(ctx context.Context, sel Selection) (*Target, error) {
	if sel.Head == "" {
		sel.Head = "HEAD"
	}
	head, err := s.repo.Resolve(sel.Head)
	if err != nil {
		return nil, err
	}
	t := &Target{Commit: head, Reasons: map[string][]string{}, Targets: sel.Targets}
	if len(sel.Targets) > 0 && len(sel.Stacks) == 0 {
		return nil, errors.New("-target plans part of a stack: name the stacks it applies to")
	}
	if sel.Base != "" {
		tip, err := s.repo.Resolve(sel.Base)
		if err != nil {
			return nil, err
		}
		// Every merge base counts: over-planning is safe.
		cs, err := s.repo.ChangesSince(ctx, tip, head)
		if err != nil {
			return nil, err
		}
		t.Base, t.Analysis, t.Deleted, t.Warnings = cs.Base, cs.Analysis, cs.Deleted, cs.Warnings
		for _, a := range cs.Stacks {
			t.Stacks = append(t.Stacks, a.Name())
			t.Reasons[a.Name()] = a.Reasons
		}
		return t, nil
	}
	if t.Analysis, err = s.repo.Analyze(ctx, head); err != nil {
		return nil, err
	}
	t.Warnings = t.Analysis.Warnings
	if sel.All {
		for _, st := range t.Analysis.Stacks {
			t.Stacks = append(t.Stacks, st.Name())
		}
		return t, nil
	}
	if t.Stacks, err = t.Analysis.Resolve(sel.Stacks); err != nil {
		return nil, err
	}
	return t, nil
}

// Plan selects stacks and plans them.
func (s *Session) Plan(ctx context.Context, sel Selection) (Summary, error) {
	t, err := s.Select(ctx, sel)
	if err != nil {
		return Summary{}, err
	}
	return s.PlanTarget(ctx, t, t.Stacks, sel.PolicyRef)
}

// PlanTarget plans names, a subset of t.Stacks (the server leaves out the
// stacks another merge request holds), and evaluates the policies of
// strata.yaml on every plan. policyRef is the commit whose strata.yaml and
// policy files judge the plans; "" means t.Commit.
func (s *Session) PlanTarget(ctx context.Context, t *Target, names []string, policyRef string) (Summary, error) {
	sum := Summary{
		Operation: OpPlan, Base: t.Base, Commit: t.Commit.Hash.String(), CreatedAt: time.Now().UTC(),
		Stacks: []Result{}, Deleted: t.Deleted, Warnings: t.Warnings,
	}
	if len(names) == 0 {
		return sum, nil
	}
	ws, err := s.workspace(ctx, t.Commit)
	if err != nil {
		return sum, err
	}
	defer ws.close()
	if sum.Stacks, err = s.planIn(ctx, t, ws, names, false); err != nil {
		return sum, err
	}
	if err := s.checkPolicies(ctx, t, policyRef, ws, sum.Stacks); err != nil {
		return sum, err
	}
	return sum, nil
}

// planIn plans the instances names of t in ws, at most Parallel at once,
// with -refresh-only when refreshOnly is set.
func (s *Session) planIn(ctx context.Context, t *Target, ws *workspace, names []string, refreshOnly bool) ([]Result, error) {
	run, err := s.runner(ctx, t.Analysis, ws, names)
	if err != nil {
		return nil, err
	}
	jobs := make([]Job, len(names))
	for i, n := range names {
		jobs[i] = s.job(t.Analysis, ws.root, n)
		jobs[i].RefreshOnly = refreshOnly
		jobs[i].Targets = t.Targets
	}
	return run.PlanAll(ctx, jobs), nil
}

// checkPolicies evaluates strata.yaml's policies on every plan that made
// a plan JSON. Policies that do not load fail every stack, loudly.
func (s *Session) checkPolicies(ctx context.Context, t *Target, policyRef string, ws *workspace, results []Result) error {
	cfg := t.Analysis.Config
	root := ws.root
	if policyRef != "" {
		c, err := s.repo.Resolve(policyRef)
		if err != nil {
			return fmt.Errorf("policies: %w", err)
		}
		if c.Hash != t.Commit.Hash {
			if cfg, err = s.repo.ConfigAt(c); err != nil {
				return fmt.Errorf("policies: strata.yaml at %s: %w", policyRef, err)
			}
			if len(cfg.Policy.Paths) == 0 {
				return nil
			}
			root = filepath.Join(ws.dir, "policy")
			if err := s.repo.Export(ctx, c, root); err != nil {
				return fmt.Errorf("policies: %w", err)
			}
		}
	}
	if len(cfg.Policy.Paths) == 0 {
		return nil
	}
	paths := make([]string, len(cfg.Policy.Paths))
	for i, p := range cfg.Policy.Paths {
		paths[i] = filepath.Join(root, filepath.FromSlash(p))
	}
	engine, loadErr := policy.Load(ctx, policy.Options{Paths: paths, Namespaces: cfg.Policy.Namespaces, BaseDir: root})
	for i := range results {
		r := &results[i]
		if len(r.PlanJSON) == 0 {
			continue
		}
		if loadErr != nil {
			r.Policy = &policy.Result{Outcome: policy.Fail, Failures: []policy.Message{}, Warnings: []policy.Message{}, Error: loadErr.Error()}
			continue
		}
		res, _ := engine.Evaluate(ctx, r.PlanJSON) // an error is recorded in res as a failure
		r.Policy = &res
	}
	return nil
}

package planner

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/strata-iac/strata/internal/fault"
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
	Base   string
	Head   string // default HEAD
	Stacks []string
	All    bool
	// PolicyRef names the commit policies are read from; default Head. The
	// server passes the target branch, so a merge request cannot rewrite
	// the policies that judge it.
	PolicyRef string
}

// Target is a resolved selection: the commit, the stacks to run in
// dependency order, and what the change set reported.
type Target struct {
	Commit   *object.Commit
	Base     string
	Analysis *stacks.Analysis
	Dirs     []string
	Deleted  []string
	Warnings []string
	// Reasons maps each stack of a change set to why it is in it.
	Reasons map[string][]string
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
	t := &Target{Commit: head, Reasons: map[string][]string{}}
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
			t.Dirs = append(t.Dirs, a.Dir)
			t.Reasons[a.Dir] = a.Reasons
		}
		return t, nil
	}
	if t.Analysis, err = s.repo.Analyze(ctx, head); err != nil {
		return nil, err
	}
	t.Warnings = t.Analysis.Warnings
	want := map[string]bool{}
	for _, d := range sel.Stacks {
		d = strings.Trim(strings.TrimPrefix(filepath.ToSlash(d), "./"), "/")
		if d == "" {
			d = "."
		}
		if t.Analysis.Stack(d) == nil {
			return nil, fmt.Errorf("%s is not a stack at %s (strata stacks lists them)", d, head.Hash.String()[:12])
		}
		want[d] = true
	}
	for _, st := range t.Analysis.Stacks {
		if sel.All || want[st.Dir] {
			t.Dirs = append(t.Dirs, st.Dir)
		}
	}
	return t, nil
}

// Plan selects stacks and plans them.
func (s *Session) Plan(ctx context.Context, sel Selection) (Summary, error) {
	t, err := s.Select(ctx, sel)
	if err != nil {
		return Summary{}, err
	}
	return s.PlanTarget(ctx, t, t.Dirs, sel.PolicyRef)
}

// PlanTarget plans dirs, a subset of t.Dirs (the server leaves out the
// stacks another merge request holds), and evaluates the policies of
// strata.yaml on every plan. policyRef is the commit whose strata.yaml and
// policy files judge the plans; "" means t.Commit.
func (s *Session) PlanTarget(ctx context.Context, t *Target, dirs []string, policyRef string) (Summary, error) {
	sum := Summary{
		Operation: OpPlan, Base: t.Base, Commit: t.Commit.Hash.String(), CreatedAt: time.Now().UTC(),
		Stacks: []Result{}, Deleted: t.Deleted, Warnings: t.Warnings,
	}
	if len(dirs) == 0 {
		return sum, nil
	}
	ws, err := s.workspace(ctx, t.Commit)
	if err != nil {
		return sum, err
	}
	defer ws.close()
	if sum.Stacks, err = s.planIn(ctx, t, ws, dirs, false); err != nil {
		return sum, err
	}
	if err := s.checkPolicies(ctx, t, policyRef, ws, sum.Stacks); err != nil {
		return sum, err
	}
	return sum, nil
}

// planIn plans dirs of t in ws, at most Parallel at once, with
// -refresh-only when refreshOnly is set.
func (s *Session) planIn(ctx context.Context, t *Target, ws *workspace, dirs []string, refreshOnly bool) ([]Result, error) {
	run, err := s.runner(ctx, t.Analysis, ws, dirs)
	if err != nil {
		return nil, err
	}
	jobs := make([]Job, len(dirs))
	for i, d := range dirs {
		jobs[i] = s.job(t.Analysis, ws.root, d)
		jobs[i].RefreshOnly = refreshOnly
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

// ApplyOptions says what to apply and what is accepted.
type ApplyOptions struct {
	// Head is the commit to apply at; default HEAD.
	Head string
	// Only restricts the apply to the stacks named.
	Only []string
	// PoliciesApproved accepts plans whose policy checks failed (a policy
	// owner approved them); otherwise such stacks are refused.
	PoliciesApproved bool
}

// Apply applies the plans saved in a, in dependency order. A stack is
// refused when its plan file does not match its recorded checksum, its
// inputs changed, or its policy checks failed without approval; the
// dependents of a stack that was not applied are skipped.
func (s *Session) Apply(ctx context.Context, a Artifacts, opts ApplyOptions) (Summary, error) {
	saved, err := ReadSummary(ctx, a)
	if err != nil {
		return Summary{}, err
	}
	if opts.Head == "" {
		opts.Head = "HEAD"
	}
	commit, err := s.repo.Resolve(opts.Head)
	if err != nil {
		return Summary{}, err
	}
	an, err := s.repo.Analyze(ctx, commit)
	if err != nil {
		return Summary{}, err
	}
	planned, err := pickPlanned(saved, opts.Only)
	if err != nil {
		return Summary{}, err
	}
	return s.ApplyPlanned(ctx, a, commit, an, planned, opts.PoliciesApproved)
}

// ApplyPlanned applies the given saved results (read from a) at commit.
func (s *Session) ApplyPlanned(ctx context.Context, a Artifacts, commit *object.Commit, an *stacks.Analysis, planned []Result, policiesApproved bool) (Summary, error) {
	sum := Summary{Operation: OpApply, Commit: commit.Hash.String(), CreatedAt: time.Now().UTC(), Stacks: []Result{}}
	order := map[string]int{}
	for i, st := range an.Stacks {
		order[st.Dir] = i
	}
	sort.SliceStable(planned, func(i, j int) bool { return rank(order, planned[i].Dir) < rank(order, planned[j].Dir) })

	var todo []string
	for _, r := range planned {
		if r.Status == StatusChanges {
			todo = append(todo, r.Dir)
		}
	}
	var ws *workspace
	var run *Runner
	if len(todo) > 0 {
		var err error
		if ws, err = s.workspace(ctx, commit); err != nil {
			return sum, err
		}
		defer ws.close()
		if run, err = s.runner(ctx, an, ws, todo); err != nil {
			return sum, err
		}
	}
	failed := map[string]bool{}
	for _, r := range planned {
		res := s.applyOne(ctx, a, an, ws, run, r, failed, policiesApproved)
		if res.Status != StatusApplied && res.Status != StatusNoChanges {
			failed[r.Dir] = true
		}
		sum.Stacks = append(sum.Stacks, res)
	}
	return sum, nil
}

func (s *Session) applyOne(ctx context.Context, a Artifacts, an *stacks.Analysis, ws *workspace, run *Runner, r Result, failed map[string]bool, policiesApproved bool) Result {
	out := Result{Dir: r.Dir, Workspace: r.Workspace, Commit: an.Commit, Inputs: r.Inputs, Counts: r.Counts, Changes: r.Changes, PlanSHA256: r.PlanSHA256}
	refuse := func(status Status, format string, args ...any) Result {
		out.Status, out.Error = status, fmt.Sprintf(format, args...)
		return out
	}
	st := an.Stack(r.Dir)
	if st == nil {
		return refuse(StatusRefused, "%s is no longer a stack at %s; plan again", r.Dir, an.Commit[:12])
	}
	for _, dep := range dependencies(an, r.Dir) {
		if failed[dep] {
			return refuse(StatusSkipped, "depends on %s, which was not applied", dep)
		}
	}
	switch r.Status {
	case StatusChanges:
	case StatusNoChanges:
		out.Status = StatusNoChanges
		return out
	default:
		return refuse(StatusRefused, "the plan did not succeed (%s); plan again", r.Status)
	}
	if r.Policy != nil && r.Policy.Outcome == policy.Fail && !policiesApproved {
		failures := fmt.Sprintf("%d failures", len(r.Policy.Failures))
		if len(r.Policy.Failures) == 1 {
			failures = "1 failure"
		}
		return refuse(StatusRefused, "policy checks fail (%s); fix the change, or have a policy owner approve it", failures)
	}
	if diff := inputsDiff(r.Inputs, an.Inputs(r.Dir)); diff != "" {
		return refuse(StatusRefused, "inputs changed since the plan: %s; plan again", diff)
	}
	planFile, err := a.Get(ctx, StackFile(r.Dir, PlanFile))
	if err != nil {
		return refuse(StatusRefused, "plan file: %v", err)
	}
	return run.Apply(ctx, s.job(an, ws.root, r.Dir), planFile, r.PlanSHA256)
}

// dependencies lists the stacks dir depends on, transitively.
func dependencies(an *stacks.Analysis, dir string) []string {
	var out []string
	seen := map[string]bool{}
	var walk func(d string)
	walk = func(d string) {
		st := an.Stack(d)
		if st == nil {
			return
		}
		for _, dep := range st.DependsOn {
			if !seen[dep] {
				seen[dep] = true
				out = append(out, dep)
				walk(dep)
			}
		}
	}
	walk(dir)
	return out
}

// inputsDiff describes how two input sets differ, or returns "".
func inputsDiff(planned, now map[string]string) string {
	var diffs []string
	for _, d := range sortedKeys(planned, now) {
		was, is := planned[d], now[d]
		switch {
		case was == is:
		case was == "":
			diffs = append(diffs, fmt.Sprintf("%s is new", d))
		case is == "":
			diffs = append(diffs, fmt.Sprintf("%s is gone", d))
		default:
			diffs = append(diffs, fmt.Sprintf("%s was at tree %s, is now at %s", d, was[:7], is[:7]))
		}
	}
	return strings.Join(diffs, ", ")
}

// pickPlanned returns the saved results to apply, all or those named.
func pickPlanned(saved Summary, only []string) ([]Result, error) {
	if len(only) == 0 {
		return saved.Stacks, nil
	}
	var out []Result
	for _, d := range only {
		d = strings.Trim(strings.TrimPrefix(filepath.ToSlash(d), "./"), "/")
		found := false
		for _, r := range saved.Stacks {
			if r.Dir == d {
				out, found = append(out, r), true
			}
		}
		if !found {
			return nil, fmt.Errorf("%s was not planned in this run; plan it first", d)
		}
	}
	return out, nil
}

func rank(order map[string]int, dir string) int {
	if i, ok := order[dir]; ok {
		return i
	}
	return len(order)
}

func sortedKeys(maps ...map[string]string) []string {
	seen := map[string]bool{}
	var keys []string
	for _, m := range maps {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	sort.Strings(keys)
	return keys
}

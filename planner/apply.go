package planner

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/strata-iac/strata/policy"
	"github.com/strata-iac/strata/stacks"
)

// ApplyOptions says what to apply and what is accepted.
type ApplyOptions struct {
	// Head is the commit to apply at; default HEAD.
	Head string
	// Only restricts the apply to the stacks named: DIR (every instance)
	// or DIR@WORKSPACE (one).
	Only []string
	// PoliciesApproved accepts plans whose policy checks failed (a policy
	// owner approved them); otherwise such stacks are refused.
	PoliciesApproved bool
}

// Allow says which saved plans an apply accepts beyond those that pass
// every check.
type Allow struct {
	// FailedPolicies accepts plans whose policy checks failed: a policy
	// owner approved them.
	FailedPolicies bool
	// Partial accepts partial plans (made with -target): the person
	// applying named the stacks to apply.
	Partial bool
}

// Apply applies the plans saved in a, by dependency, several at once. A
// stack is refused when its plan file does not match its recorded
// checksum, its inputs changed, its policy checks failed without approval,
// or its plan is partial and the stack was not named in opts.Only; the
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
	return s.ApplyPlanned(ctx, a, commit, an, planned, Allow{FailedPolicies: opts.PoliciesApproved, Partial: len(opts.Only) > 0})
}

// ApplyPlanned applies the given saved results (read from a) at commit, at
// most Parallel at once (SessionOptions, else strata.yaml's parallel). An
// instance starts once every planned instance it depends on, directly or
// through others, is done; when one of those was not applied it is
// skipped, and instances that do not depend on it go on. The summary lists
// the instances in dependency order, whatever order they finished in.
func (s *Session) ApplyPlanned(ctx context.Context, a Artifacts, commit *object.Commit, an *stacks.Analysis, planned []Result, allow Allow) (Summary, error) {
	sum := Summary{Operation: OpApply, Commit: commit.Hash.String(), CreatedAt: time.Now().UTC(), Stacks: []Result{}}
	order := map[string]int{}
	for i, st := range an.Stacks {
		order[st.Name()] = i
	}
	planned = slices.Clone(planned)
	sort.SliceStable(planned, func(i, j int) bool { return rank(order, planned[i].Name()) < rank(order, planned[j].Name()) })

	var todo []string
	for _, r := range planned {
		if r.Status == StatusChanges && an.Instance(r.Name()) != nil {
			todo = append(todo, r.Name())
		}
	}
	var ws *workspace
	var run *Runner
	var slots chan struct{}
	if len(todo) > 0 {
		var err error
		if ws, err = s.workspace(ctx, commit); err != nil {
			return sum, err
		}
		defer ws.close()
		if run, err = s.runner(ctx, an, ws, todo); err != nil {
			return sum, err
		}
		slots = make(chan struct{}, run.parallel)
	}
	index := map[string]int{}
	done := make([]chan struct{}, len(planned))
	for i, r := range planned {
		index[r.Name()] = i
		done[i] = make(chan struct{})
	}
	results := make([]Result, len(planned))
	var wg sync.WaitGroup
	for i, r := range planned {
		wg.Go(func() {
			defer close(done[i])
			notApplied := ""
			for _, dep := range dependencies(an, r.Name()) {
				j, ok := index[dep]
				if !ok {
					continue
				}
				<-done[j]
				if st := results[j].Status; notApplied == "" && st != StatusApplied && st != StatusNoChanges {
					notApplied = dep
				}
			}
			results[i] = s.applyOne(ctx, a, an, ws, run, slots, r, notApplied, allow)
		})
	}
	wg.Wait()
	sum.Stacks = results
	return sum, nil
}

// applyOne checks one saved plan and applies it, holding one of slots
// while terraform runs. notApplied names a dependency that was not
// applied, "" when there is none.
func (s *Session) applyOne(ctx context.Context, a Artifacts, an *stacks.Analysis, ws *workspace, run *Runner, slots chan struct{}, r Result, notApplied string, allow Allow) Result {
	out := Result{Dir: r.Dir, Workspace: r.Workspace, Commit: an.Commit, Inputs: r.Inputs, Counts: r.Counts, Changes: r.Changes, PlanSHA256: r.PlanSHA256, Targets: r.Targets}
	refuse := func(status Status, format string, args ...any) Result {
		out.Status, out.Error = status, fmt.Sprintf(format, args...)
		return out
	}
	st := an.Instance(r.Name())
	if st == nil {
		return refuse(StatusRefused, "%s is no longer a stack at %s; plan again", r.Name(), an.Commit[:12])
	}
	if notApplied != "" {
		return refuse(StatusSkipped, "depends on %s, which was not applied", notApplied)
	}
	switch r.Status {
	case StatusChanges:
	case StatusNoChanges:
		out.Status = StatusNoChanges
		return out
	default:
		return refuse(StatusRefused, "the plan did not succeed (%s); plan again", r.Status)
	}
	if r.Partial() && !allow.Partial {
		return refuse(StatusRefused, "partial plan (-target=%s): it is applied only when its stack is named on its own (-s/--stack %s), never with the others", strings.Join(r.Targets, " -target="), r.Name())
	}
	if r.Policy != nil && r.Policy.Outcome == policy.Fail && !allow.FailedPolicies {
		failures := fmt.Sprintf("%d failures", len(r.Policy.Failures))
		if len(r.Policy.Failures) == 1 {
			failures = "1 failure"
		}
		return refuse(StatusRefused, "policy checks fail (%s); fix the change, or have a policy owner approve it", failures)
	}
	if diff := inputsDiff(r.Inputs, an.Inputs(r.Name()), st.InputFiles()); diff != "" {
		return refuse(StatusRefused, "inputs changed since the plan: %s; plan again", diff)
	}
	planFile, err := a.Get(ctx, StackFile(r.Name(), PlanFile))
	if err != nil {
		return refuse(StatusRefused, "plan file: %v", err)
	}
	select {
	case slots <- struct{}{}:
	case <-ctx.Done():
		return refuse(StatusError, "not started: %v", ctx.Err())
	}
	defer func() { <-slots }()
	res := run.Apply(ctx, s.job(an, ws.root, r.Name()), planFile, r.PlanSHA256)
	res.Targets = r.Targets
	return res
}

// dependencies lists the instances name depends on, transitively.
func dependencies(an *stacks.Analysis, name string) []string {
	var out []string
	seen := map[string]bool{}
	var walk func(n string)
	walk = func(n string) {
		st := an.Instance(n)
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
	walk(name)
	return out
}

// inputsDiff describes how two input sets differ, or returns "". files
// are the inputs that are files rather than directories.
func inputsDiff(planned, now map[string]string, files []string) string {
	var diffs []string
	for _, d := range sortedKeys(planned, now) {
		was, is := planned[d], now[d]
		kind := "tree"
		if slices.Contains(files, d) {
			kind = "blob"
		}
		switch {
		case was == is:
		case was == "":
			diffs = append(diffs, fmt.Sprintf("%s is new", d))
		case is == "":
			diffs = append(diffs, fmt.Sprintf("%s is gone", d))
		default:
			diffs = append(diffs, fmt.Sprintf("%s was at %s %s, is now at %s", d, kind, was[:7], is[:7]))
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
	for _, name := range only {
		found := false
		for _, r := range saved.Stacks {
			if !stacks.Names(name, r.Dir, r.Workspace) {
				continue
			}
			found = true
			if !slices.ContainsFunc(out, func(o Result) bool { return o.Name() == r.Name() }) {
				out = append(out, r)
			}
		}
		if !found {
			return nil, fmt.Errorf("%s was not planned in this run; plan it first", name)
		}
	}
	return out, nil
}

func rank(order map[string]int, name string) int {
	if i, ok := order[name]; ok {
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

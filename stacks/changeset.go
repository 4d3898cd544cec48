package stacks

import (
	"context"
	"fmt"
	"slices"

	"github.com/go-git/go-git/v5/plumbing/object"
)

// ChangeSet is what a commit range touches: the affected stacks, each with
// the reasons why, in dependency order; the stacks it deletes; and warnings.
// Its JSON form is the `strata changed --format json` contract.
type ChangeSet struct {
	Base     string          `json:"base"` // the merge base, not the ref given
	Head     string          `json:"head"`
	Stacks   []AffectedStack `json:"stacks"`
	Deleted  []string        `json:"deleted"`
	Warnings []string        `json:"warnings"`

	// Analysis is the head commit, for planning the affected stacks.
	Analysis *Analysis `json:"-"`
}

// AffectedStack is a stack instance of a change set and why it is in it.
type AffectedStack struct {
	Dir       string   `json:"dir"`
	Workspace string   `json:"workspace"`
	Reasons   []string `json:"reasons"`
}

// Name is how the instance is written: DIR, or DIR@WORKSPACE.
func (s AffectedStack) Name() string { return InstanceName(s.Dir, s.Workspace) }

// Changes computes the change set of head against base the way a merge
// request shows it: the diff between merge-base(base, head) and head.
func (r *Repo) Changes(ctx context.Context, baseRef, headRef string) (*ChangeSet, error) {
	head, err := r.Resolve(headRef)
	if err != nil {
		return nil, err
	}
	tip, err := r.Resolve(baseRef)
	if err != nil {
		return nil, err
	}
	base, err := r.MergeBase(tip, head)
	if err != nil {
		return nil, err
	}
	return r.ChangesBetween(ctx, base, head)
}

// ChangesBetween computes the change set between two commits, base being
// the merge base already.
func (r *Repo) ChangesBetween(ctx context.Context, base, head *object.Commit) (*ChangeSet, error) {
	ha, err := r.Analyze(ctx, head)
	if err != nil {
		return nil, err
	}
	cs := &ChangeSet{
		Base: base.Hash.String(), Head: head.Hash.String(),
		Stacks: []AffectedStack{}, Deleted: []string{},
		Warnings: append([]string{}, ha.Warnings...),
		Analysis: ha,
	}
	paths, err := r.ChangedPaths(ctx, base, head)
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return cs, nil
	}
	bs, err := r.snapshot(base)
	if err != nil {
		return nil, err
	}
	d := detector{cs: cs, head: ha, baseSnap: bs, reasons: map[string][]string{}}
	d.attribute(paths)
	d.ruleOwnFiles()
	d.ruleModules()
	d.ruleWatch(paths)
	d.ruleVarFiles(paths)
	if slices.Contains(paths, ConfigFile) {
		d.ruleConfig()
	}
	d.ruleUnparsed()
	if err := d.deletedStacks(ctx, r, base); err != nil {
		return nil, err
	}
	for _, s := range ha.Stacks {
		if rs := d.reasons[s.Name()]; len(rs) > 0 {
			cs.Stacks = append(cs.Stacks, AffectedStack{Dir: s.Dir, Workspace: s.Workspace, Reasons: rs})
		}
	}
	return cs, nil
}

// detector applies the four rules of "Which stacks a change touches"
// (README.md) to one change set.
type detector struct {
	cs       *ChangeSet
	head     *Analysis
	baseSnap *snapshot
	// changedIn maps a Terraform directory (at head or base) to the
	// changed paths it owns.
	changedIn map[string][]string
	reasons   map[string][]string // instance name -> reasons
	// goneInstances are instances of head's stacks that strata.yaml listed
	// at the merge base and no longer does, if they were stacks there.
	goneInstances []string
}

func (d *detector) add(s Stack, reason string) {
	d.reasons[s.Name()] = append(d.reasons[s.Name()], reason)
}

// attribute gives each changed path to the deepest Terraform directory that
// contains it, at head or at base (so files of a deleted directory are not
// blamed on its parent).
func (d *detector) attribute(paths []string) {
	isTF := func(dir string) bool {
		_, h := d.head.snap.dirs[dir]
		_, b := d.baseSnap.dirs[dir]
		return h || b
	}
	d.changedIn = map[string][]string{}
	for _, p := range paths {
		if o := ownerDir(p, isTF); o != "" {
			d.changedIn[o] = append(d.changedIn[o], p)
		}
	}
}

// Rule 1: a changed path in the stack's own directory, not in a nested
// stack, unless ignore_changes matches it or it is the var file of an
// instance of the stack (ruleVarFiles gives that one to its instances).
func (d *detector) ruleOwnFiles() {
	varFiles := map[string]map[string]bool{}
	for _, s := range d.head.Stacks {
		for _, f := range s.inputFiles {
			if varFiles[s.Dir] == nil {
				varFiles[s.Dir] = map[string]bool{}
			}
			varFiles[s.Dir][f] = true
		}
	}
	for _, s := range d.head.Stacks {
		ignore := d.head.Config.IgnoreChangesFor(s.Dir)
		for _, p := range d.changedIn[s.Dir] {
			if !matchAny(ignore, relTo(s.Dir, p)) && !varFiles[s.Dir][p] {
				d.add(s, "changed "+p)
			}
		}
	}
}

// Rule 2: a changed path in a local module the stack calls, at any depth.
func (d *detector) ruleModules() {
	for _, s := range d.head.Stacks {
		for _, m := range s.Modules {
			if ps := d.changedIn[m]; len(ps) > 0 {
				d.add(s, fmt.Sprintf("module %s changed (%s)", m, firstAndCount(ps)))
			}
		}
	}
}

// Rule 3: a changed path matches one of the stack's watch globs.
func (d *detector) ruleWatch(paths []string) {
	for _, s := range d.head.Stacks {
		sc := d.head.Config.Stack(s.Dir)
		if sc == nil || len(sc.Watch) == 0 {
			continue
		}
		for _, p := range paths {
			if matchAny(sc.Watch, p) {
				d.add(s, "changed "+p+" (watched)")
			}
		}
	}
}

// Rule 3 for var files: a changed path is a file the instance gives
// terraform with -var-file (var_files, or -var-file in extra_args). It
// affects that instance only.
func (d *detector) ruleVarFiles(paths []string) {
	for _, s := range d.head.Stacks {
		for _, f := range s.inputFiles {
			if slices.Contains(paths, f) {
				d.add(s, "changed "+f+" (var file)")
			}
		}
	}
}

// Rule 4: the instance's entry in strata.yaml changed. Entries are
// compared instance by instance, so adding a workspace to a list affects
// the new instance only. An instance the merge base had and head does not
// (a workspace taken off a list) is reported under Deleted.
func (d *detector) ruleConfig() {
	baseCfg, err := loadConfig(d.baseSnap)
	if err != nil {
		d.cs.Warnings = append(d.cs.Warnings, fmt.Sprintf("cannot read strata.yaml at the merge base (%v); every stack it lists is treated as changed", err))
		baseCfg = DefaultConfig()
	}
	for _, s := range d.head.Stacks {
		listedBefore, listed := baseCfg.Stack(s.Dir) != nil, d.head.Config.Stack(s.Dir) != nil
		switch {
		case !listedBefore && !listed:
		case !listedBefore:
			d.add(s, ConfigFile+" entry added")
		case !listed:
			d.add(s, ConfigFile+" entry removed")
		case !sameStackEntry(baseCfg.instanceEntry(s.Dir, s.Workspace), d.head.Config.instanceEntry(s.Dir, s.Workspace)):
			d.add(s, ConfigFile+" entry changed")
		}
	}
	for _, s := range d.head.Stacks {
		for _, ws := range baseCfg.WorkspacesOf(s.Dir) {
			if name := InstanceName(s.Dir, ws); d.head.Instance(name) == nil && !slices.Contains(d.goneInstances, name) {
				d.goneInstances = append(d.goneInstances, name)
			}
		}
	}
}

// A stack that is, or calls, a directory whose HCL does not parse might
// call any module: it is affected whenever a local module changed.
func (d *detector) ruleUnparsed() {
	if len(d.head.unparsed) == 0 {
		return
	}
	moduleChanged := ""
	for _, dir := range sortedKeys(d.changedIn) {
		if d.head.Stack(dir) == nil {
			moduleChanged = dir
			break
		}
	}
	if moduleChanged == "" {
		return
	}
	for _, s := range d.head.Stacks {
		for _, dir := range append([]string{s.Dir}, s.Modules...) {
			if _, bad := d.head.unparsed[dir]; bad {
				d.add(s, fmt.Sprintf("might call changed module %s: %s does not parse", moduleChanged, dir))
				break
			}
		}
	}
}

// deletedStacks lists the stack instances of the merge base whose
// directory holds no Terraform at head, or whose workspace strata.yaml no
// longer lists. They are reported, never planned.
func (d *detector) deletedStacks(ctx context.Context, r *Repo, base *object.Commit) error {
	var gone []string
	for _, p := range d.baseSnap.paths {
		if _, still := d.head.snap.dirs[p]; !still {
			gone = append(gone, p)
		}
	}
	if len(gone) == 0 && len(d.goneInstances) == 0 {
		return nil
	}
	ba, err := r.Analyze(ctx, base)
	if err != nil {
		d.cs.Warnings = append(d.cs.Warnings, fmt.Sprintf("cannot analyse the merge base %s, so deleted stacks are not reported: %v", short(base.Hash), err))
		return nil
	}
	for _, st := range ba.Stacks {
		if slices.Contains(gone, st.Dir) || slices.Contains(d.goneInstances, st.Name()) {
			d.cs.Deleted = append(d.cs.Deleted, st.Name())
		}
	}
	slices.Sort(d.cs.Deleted)
	return nil
}

func firstAndCount(ps []string) string {
	if len(ps) == 1 {
		return ps[0]
	}
	return fmt.Sprintf("%s and %d more", ps[0], len(ps)-1)
}

package stacks

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// ChangeSet is what a commit range touches: the affected stacks, each with
// the reasons why, in dependency order; the stacks it deletes; the stacks
// that became modules; and warnings. Its JSON form is the `strata changed
// --format json` contract.
type ChangeSet struct {
	// Base is the merge base the change is compared against: after
	// criss-cross merges, the first of MergeBases (the one git merge-base
	// prints), though the change set is the union over all of them.
	Base       string          `json:"base"`
	MergeBases []string        `json:"merge_bases"`
	Head       string          `json:"head"`
	Stacks     []AffectedStack `json:"stacks"`
	Deleted    []string        `json:"deleted"`
	// BecameModule lists the stacks of a merge base that are modules at
	// head (another stack calls them now): no longer planned, though their
	// state still exists.
	BecameModule []string `json:"became_module"`
	Warnings     []string `json:"warnings"`

	// Analysis is the head commit, for planning the affected stacks.
	Analysis *Analysis `json:"-"`
}

// AffectedStack is a stack of a change set and why it is in it.
type AffectedStack struct {
	Dir     string   `json:"dir"`
	Reasons []string `json:"reasons"`
}

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
	return r.ChangesSince(ctx, tip, head)
}

// ChangesSince computes the change set of head against the branch tip it
// is to merge into: the union of the changes between every merge base of
// the two and head (after criss-cross merges there are several, and
// planning the union is safe where picking one might plan too little).
func (r *Repo) ChangesSince(ctx context.Context, tip, head *object.Commit) (*ChangeSet, error) {
	bases, err := r.MergeBases(tip, head)
	if err != nil {
		return nil, err
	}
	cs, err := r.changesFrom(ctx, bases, head)
	return cs, r.explain(err)
}

// ChangesBetween computes the change set between two commits, base being
// the merge base already.
func (r *Repo) ChangesBetween(ctx context.Context, base, head *object.Commit) (*ChangeSet, error) {
	cs, err := r.changesFrom(ctx, []*object.Commit{base}, head)
	return cs, r.explain(err)
}

func (r *Repo) changesFrom(ctx context.Context, bases []*object.Commit, head *object.Commit) (*ChangeSet, error) {
	ha, err := r.Analyze(ctx, head)
	if err != nil {
		return nil, err
	}
	cs := &ChangeSet{
		Base: bases[0].Hash.String(), Head: head.Hash.String(),
		Stacks: []AffectedStack{}, Deleted: []string{}, BecameModule: []string{},
		Warnings: append([]string{}, ha.Warnings...),
		Analysis: ha,
	}
	reasons := map[string][]string{}
	deleted, becameModule := map[string]bool{}, map[string]bool{}
	warned := map[string]bool{}
	for _, w := range cs.Warnings {
		warned[w] = true
	}
	for _, base := range bases {
		cs.MergeBases = append(cs.MergeBases, base.Hash.String())
		d, err := r.detect(ctx, base, ha)
		if err != nil {
			return nil, err
		}
		for dir, rs := range d.reasons {
			for _, reason := range rs {
				if !slices.Contains(reasons[dir], reason) {
					reasons[dir] = append(reasons[dir], reason)
				}
			}
		}
		for _, p := range d.deleted {
			deleted[p] = true
		}
		for _, p := range d.becameModule {
			becameModule[p] = true
		}
		for _, w := range d.warnings {
			if !warned[w] {
				warned[w] = true
				cs.Warnings = append(cs.Warnings, w)
			}
		}
	}
	for _, s := range ha.Stacks {
		if rs := reasons[s.Dir]; len(rs) > 0 {
			cs.Stacks = append(cs.Stacks, AffectedStack{Dir: s.Dir, Reasons: rs})
		}
	}
	cs.Deleted = append(cs.Deleted, sortedKeys(deleted)...)
	cs.BecameModule = append(cs.BecameModule, sortedKeys(becameModule)...)
	return cs, nil
}

// detect applies the rules of "Which stacks a change touches" (README.md)
// to the changes between one merge base and head.
func (r *Repo) detect(ctx context.Context, base *object.Commit, ha *Analysis) (*detector, error) {
	d := &detector{head: ha, reasons: map[string][]string{}}
	paths, err := r.diffCommits(ctx, base, ha.snap.commit)
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return d, nil
	}
	same, err := r.sameGraph(base.TreeHash, paths, ha)
	if err != nil {
		return nil, err
	}
	if same {
		d.base = ha
		d.baseSnap = ha.snap
	} else if d.base, err = r.analyze(ctx, base, false); err != nil {
		d.warnings = append(d.warnings, fmt.Sprintf("cannot analyse the merge base %s, so deleted stacks and stacks that became modules are not reported: %v", short(base.Hash), err))
		if d.baseSnap, err = r.snapshot(base); err != nil {
			return nil, err
		}
	} else {
		d.baseSnap = d.base.snap
	}
	d.attribute(paths)
	d.ruleOwnFiles()
	d.ruleBecameStack()
	d.ruleModules()
	d.ruleWatch(paths)
	if d.changed[ConfigFile] {
		d.ruleConfig()
	}
	d.ruleUnparsed()
	d.goneStacks()
	return d, nil
}

// sameGraph reports whether the merge base has the module graph and the
// stacks of head, so that head's analysis can stand for it: no change
// touches strata.yaml, a symlink or whether a submodule is there, no
// Terraform file is added or deleted, and every changed Terraform file
// calls the same modules on both sides (and parses on both, or on
// neither). Most changes only edit resources, and skip analysing the base.
func (r *Repo) sameGraph(baseRoot plumbing.Hash, paths []changedPath, ha *Analysis) (bool, error) {
	for l := range ha.snap.links {
		if isTerraformFile(l) {
			return false, nil // its text is elsewhere: any change may be a change to it
		}
	}
	for _, c := range paths {
		switch {
		case c.Path == ConfigFile, c.BaseMode == filemode.Symlink, c.HeadMode == filemode.Symlink,
			(c.BaseMode == filemode.Submodule) != (c.HeadMode == filemode.Submodule):
			return false, nil
		case !isTerraformFile(path.Base(c.Path)) || c.BaseMode == filemode.Submodule:
			continue
		case !c.AtBase || !c.AtHead || c.BaseMode == filemode.Dir || c.HeadMode == filemode.Dir:
			return false, nil
		}
		before, err := r.callsAt(baseRoot, c.Path)
		if err != nil {
			return false, err
		}
		after, err := r.callsAt(ha.snap.commit.TreeHash, c.Path)
		if err != nil {
			return false, err
		}
		if (before.Err == "") != (after.Err == "") || !slices.Equal(before.Sources, after.Sources) {
			return false, nil
		}
	}
	return true, nil
}

// callsAt returns the module calls of the Terraform file at p in the tree
// root, through the summaries of the trees on the way.
func (r *Repo) callsAt(root plumbing.Hash, p string) (fileCalls, error) {
	s, err := r.summarize(root)
	if err != nil {
		return fileCalls{}, err
	}
	dir, name := path.Split(p)
	for _, part := range splitPath(strings.TrimSuffix(dir, "/")) {
		found := false
		for _, d := range s.Dirs {
			if d.Name == part {
				if s, err = r.summarize(d.Hash); err != nil {
					return fileCalls{}, err
				}
				found = true
				break
			}
		}
		if !found {
			return fileCalls{}, fmt.Errorf("%s: no such Terraform file in tree %s", p, short(root))
		}
	}
	for i := range s.Files {
		if f := &s.Files[i]; f.Name == name && !f.Link {
			err := r.parse(f)
			return f.Calls, err
		}
	}
	return fileCalls{}, fmt.Errorf("%s: no such Terraform file in tree %s", p, short(root))
}

// quotePath writes a path as git does (core.quotePath): in double quotes,
// with escapes, when it holds a control character, a quote or a backslash.
func quotePath(p string) string {
	for i := 0; i < len(p); i++ {
		if c := p[i]; c < 0x20 || c == 0x7f || c == '"' || c == '\\' {
			return strconv.Quote(p)
		}
	}
	return p
}

func firstAndCount(ps []string) string {
	if len(ps) == 1 {
		return ps[0]
	}
	return fmt.Sprintf("%s and %d more", ps[0], len(ps)-1)
}

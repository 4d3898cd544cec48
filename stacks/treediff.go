package stacks

import (
	"context"
	"fmt"
	"sort"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// changedPath is a path that differs between two trees. A path git
// accepts is taken as it is, control characters included.
type changedPath struct {
	Path   string
	AtHead bool // the path exists at the new side (added or modified)
	AtBase bool // the path exists at the old side (deleted or modified)
	// The entries at either side (zero when absent).
	BaseHash, HeadHash plumbing.Hash
	BaseMode, HeadMode filemode.FileMode
}

// ChangedPaths lists the paths that differ between two commits' trees:
// added, modified and deleted files, symlinks and submodules; a rename
// yields both of its sides. The result is sorted and free of duplicates.
func (r *Repo) ChangedPaths(ctx context.Context, from, to *object.Commit) ([]string, error) {
	cps, err := r.diffCommits(ctx, from, to)
	if err != nil {
		return nil, err
	}
	paths := make([]string, len(cps))
	for i, c := range cps {
		paths[i] = c.Path
	}
	return paths, nil
}

// diffCommits is ChangedPaths with both sides of each path; the analysis
// cache keeps the result for the pair of trees.
func (r *Repo) diffCommits(ctx context.Context, from, to *object.Commit) ([]changedPath, error) {
	if cps, ok := r.cache.diff(from.TreeHash, to.TreeHash); ok {
		return cps, nil
	}
	var out []changedPath
	if err := r.diffTrees(ctx, "", from.TreeHash, to.TreeHash, &out); err != nil {
		return nil, r.explain(fmt.Errorf("diff %s..%s: %w", short(from.Hash), short(to.Hash), err))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	r.cache.putDiff(from.TreeHash, to.TreeHash, out)
	return out, nil
}

// diffTrees appends the paths under prefix that differ between the trees
// a (old) and b (new), either of which may be zero (absent). Subtrees with
// equal hashes are not read.
func (r *Repo) diffTrees(ctx context.Context, prefix string, a, b plumbing.Hash, out *[]changedPath) error {
	if a == b {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	ea, err := r.treeEntries(a)
	if err != nil {
		return err
	}
	eb, err := r.treeEntries(b)
	if err != nil {
		return err
	}
	i, j := 0, 0
	for i < len(ea) || j < len(eb) {
		var x, y *object.TreeEntry
		switch {
		case j == len(eb) || i < len(ea) && entryKey(&ea[i]) < entryKey(&eb[j]):
			x = &ea[i]
			i++
		case i == len(ea) || entryKey(&eb[j]) < entryKey(&ea[i]):
			y = &eb[j]
			j++
		default:
			x, y = &ea[i], &eb[j]
			i, j = i+1, j+1
			if x.Hash == y.Hash && x.Mode == y.Mode {
				continue
			}
		}
		name := ""
		if x != nil {
			name = prefix + x.Name
		} else {
			name = prefix + y.Name
		}
		var ta, tb plumbing.Hash
		if x != nil && x.Mode == filemode.Dir {
			ta = x.Hash
		}
		if y != nil && y.Mode == filemode.Dir {
			tb = y.Hash
		}
		if !ta.IsZero() || !tb.IsZero() {
			if err := r.diffTrees(ctx, name+"/", ta, tb, out); err != nil {
				return err
			}
			continue
		}
		c := changedPath{Path: name, AtBase: x != nil, AtHead: y != nil}
		if x != nil {
			c.BaseHash, c.BaseMode = x.Hash, x.Mode
		}
		if y != nil {
			c.HeadHash, c.HeadMode = y.Hash, y.Mode
		}
		*out = append(*out, c)
	}
	return nil
}

// treeEntries returns a tree's entries in git's order (a subtree sorts as
// if its name ended in "/"); the zero hash is an empty tree.
func (r *Repo) treeEntries(h plumbing.Hash) ([]object.TreeEntry, error) {
	if h.IsZero() {
		return nil, nil
	}
	t, err := r.readTree(h)
	if err != nil {
		return nil, fmt.Errorf("read tree %s: %w", short(h), err)
	}
	es := t.Entries
	if !sort.SliceIsSorted(es, func(i, j int) bool { return entryKey(&es[i]) < entryKey(&es[j]) }) {
		es = append([]object.TreeEntry(nil), es...)
		sort.Slice(es, func(i, j int) bool { return entryKey(&es[i]) < entryKey(&es[j]) })
	}
	return es, nil
}

func entryKey(e *object.TreeEntry) string {
	if e.Mode == filemode.Dir {
		return e.Name + "/"
	}
	return e.Name
}

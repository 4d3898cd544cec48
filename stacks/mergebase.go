package stacks

import (
	"container/heap"
	"fmt"
	"sort"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// commitNode is what the history walks need of a commit.
type commitNode struct {
	hash    plumbing.Hash
	parents []plumbing.Hash // none for a shallow clone's boundary commits
	when    int64           // committer date, Unix seconds
	seq     int             // queue insertion order, for ties
}

func (r *Repo) commitNode(h plumbing.Hash) (*commitNode, error) {
	if n, ok := r.commits[h]; ok {
		return n, nil
	}
	c, err := r.git.CommitObject(h)
	if err != nil {
		return nil, fmt.Errorf("read commit %s: %w", short(h), err)
	}
	n := &commitNode{hash: h, parents: c.ParentHashes, when: c.Committer.When.Unix()}
	if r.isShallow() && r.shallow[h] {
		n.parents = nil
	}
	r.commits[h] = n
	return n, nil
}

// MergeBase returns the best common ancestor of a and b that git merge-base
// prints: the first of MergeBases.
func (r *Repo) MergeBase(a, b *object.Commit) (*object.Commit, error) {
	bases, err := r.MergeBases(a, b)
	if err != nil {
		return nil, err
	}
	return bases[0], nil
}

// MergeBases returns every best common ancestor of a and b, as git
// merge-base --all does, newest committer date first (git's order). After
// criss-cross merges there are several; usually there is one. A shallow
// clone's history stops at its boundary commits.
func (r *Repo) MergeBases(a, b *object.Commit) ([]*object.Commit, error) {
	hs, err := r.mergeBases(a.Hash, b.Hash)
	if err != nil {
		return nil, r.explain(fmt.Errorf("merge base of %s and %s: %w", short(a.Hash), short(b.Hash), err))
	}
	if len(hs) == 0 {
		if r.isShallow() {
			return nil, fmt.Errorf("commits %s and %s have no common ancestor in this shallow clone: %s", short(a.Hash), short(b.Hash), unshallowHint)
		}
		return nil, fmt.Errorf("commits %s and %s have no common ancestor; if this is a shallow clone, %s", short(a.Hash), short(b.Hash), unshallowHint)
	}
	out := make([]*object.Commit, len(hs))
	for i, h := range hs {
		if out[i], err = r.git.CommitObject(h); err != nil {
			return nil, r.explain(fmt.Errorf("read commit %s: %w", short(h), err))
		}
	}
	return out, nil
}

// mergeBases is git's get_merge_bases: paint the history down from both
// commits to their common ancestors, drop those reachable from another,
// order the rest by date.
func (r *Repo) mergeBases(a, b plumbing.Hash) ([]plumbing.Hash, error) {
	one, err := r.commitNode(a)
	if err != nil {
		return nil, err
	}
	if a == b {
		return []plumbing.Hash{a}, nil
	}
	two, err := r.commitNode(b)
	if err != nil {
		return nil, err
	}
	common, flags, err := r.paintDownToCommon(one, []*commitNode{two})
	if err != nil {
		return nil, err
	}
	var cands []*commitNode
	for _, c := range common {
		if flags[c.hash]&stale == 0 {
			cands = append(cands, c)
		}
	}
	if cands, err = r.removeRedundant(cands); err != nil {
		return nil, err
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].when > cands[j].when })
	hs := make([]plumbing.Hash, len(cands))
	for i, c := range cands {
		hs[i] = c.hash
	}
	return hs, nil
}

const (
	parent1 uint8 = 1 << iota
	parent2
	stale
	result
)

// paintDownToCommon walks from one and twos towards the root, newest
// first, marking what each reaches; a commit both reach is a common
// ancestor, and what lies below it is stale.
func (r *Repo) paintDownToCommon(one *commitNode, twos []*commitNode) ([]*commitNode, map[plumbing.Hash]uint8, error) {
	flags := map[plumbing.Hash]uint8{one.hash: parent1}
	q := &commitQueue{}
	q.add(one)
	for _, t := range twos {
		flags[t.hash] |= parent2
		q.add(t)
	}
	var found []*commitNode
	for q.hasNonStale(flags) {
		c := heap.Pop(q).(*commitNode)
		f := flags[c.hash] & (parent1 | parent2 | stale)
		if f == parent1|parent2 {
			if flags[c.hash]&result == 0 {
				flags[c.hash] |= result
				found = append(found, c)
			}
			f |= stale
		}
		for _, ph := range c.parents {
			if flags[ph]&f == f {
				continue
			}
			p, err := r.commitNode(ph)
			if err != nil {
				return nil, nil, err
			}
			flags[ph] |= f
			q.add(p)
		}
	}
	return found, flags, nil
}

// removeRedundant drops the candidates another candidate reaches.
func (r *Repo) removeRedundant(cands []*commitNode) ([]*commitNode, error) {
	if len(cands) < 2 {
		return cands, nil
	}
	redundant := make([]bool, len(cands))
	for i := range cands {
		if redundant[i] {
			continue
		}
		var others []*commitNode
		var idx []int
		for j := range cands {
			if j != i && !redundant[j] {
				others = append(others, cands[j])
				idx = append(idx, j)
			}
		}
		_, flags, err := r.paintDownToCommon(cands[i], others)
		if err != nil {
			return nil, err
		}
		if flags[cands[i].hash]&parent2 != 0 {
			redundant[i] = true
		}
		for k, o := range others {
			if flags[o.hash]&parent1 != 0 {
				redundant[idx[k]] = true
			}
		}
	}
	var keep []*commitNode
	for i, c := range cands {
		if !redundant[i] {
			keep = append(keep, c)
		}
	}
	return keep, nil
}

// commitQueue pops the newest commit first, the earliest queued among
// equals.
type commitQueue struct {
	items []*commitNode
	seq   int
}

func (q *commitQueue) add(c *commitNode) {
	q.seq++
	heap.Push(q, &commitNode{hash: c.hash, parents: c.parents, when: c.when, seq: q.seq})
}

func (q *commitQueue) hasNonStale(flags map[plumbing.Hash]uint8) bool {
	for _, c := range q.items {
		if flags[c.hash]&stale == 0 {
			return true
		}
	}
	return false
}

func (q commitQueue) Len() int { return len(q.items) }
func (q commitQueue) Less(i, j int) bool {
	if q.items[i].when != q.items[j].when {
		return q.items[i].when > q.items[j].when
	}
	return q.items[i].seq < q.items[j].seq
}
func (q commitQueue) Swap(i, j int) { q.items[i], q.items[j] = q.items[j], q.items[i] }
func (q *commitQueue) Push(x any)   { q.items = append(q.items, x.(*commitNode)) }
func (q *commitQueue) Pop() any {
	old := q.items
	x := old[len(old)-1]
	q.items = old[:len(old)-1]
	return x
}

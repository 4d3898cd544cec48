package queue

import (
	"strconv"
	"time"
)

// index is the in-memory picture of the items bucket: which items wait in
// which group, and which groups have an item in flight. Payloads stay on
// disk. The Bolt queue guards it with its mutex.
type index struct {
	groups map[string]*group
	count  int // items pending or in flight
}

// group holds one group's pending items in put order (ascending seq).
type group struct {
	pending  []entry
	inflight bool
}

type entry struct {
	seq       uint64
	group     string // the index key, see groupKey
	notBefore time.Time
}

func newIndex() *index { return &index{groups: map[string]*group{}} }

// groupKey is the index key of an item's group. Items without a group get
// one of their own, named by their sequence number, which no real group
// name (a string without NUL) can equal.
func groupKey(name string, seq uint64) string {
	if name == "" {
		return "\x00" + strconv.FormatUint(seq, 10)
	}
	return name
}

func (x *index) group(key string) *group {
	g := x.groups[key]
	if g == nil {
		g = &group{}
		x.groups[key] = g
	}
	return g
}

// add appends a newly put item; its seq is higher than any in the index.
func (x *index) add(e entry) {
	g := x.group(e.group)
	g.pending = append(g.pending, e)
	x.count++
}

// pick leases the ready item with the lowest seq among the groups not in
// flight, marking its group in flight. When nothing is ready it returns
// ok=false and the earliest time a delayed item becomes ready (zero if
// none).
func (x *index) pick(now time.Time) (e entry, ok bool, wake time.Time) {
	var best *group
	for _, g := range x.groups {
		if g.inflight || len(g.pending) == 0 {
			continue
		}
		head := g.pending[0]
		if head.notBefore.After(now) {
			if wake.IsZero() || head.notBefore.Before(wake) {
				wake = head.notBefore
			}
			continue
		}
		if best == nil || head.seq < best.pending[0].seq {
			best = g
		}
	}
	if best == nil {
		return entry{}, false, wake
	}
	e = best.pending[0]
	best.pending = best.pending[1:]
	best.inflight = true
	return e, true, time.Time{}
}

// putBack returns a leased item to the head of its group, where it came
// from: nothing of its group was handed out after it.
func (x *index) putBack(e entry) {
	g := x.group(e.group)
	g.pending = append([]entry{e}, g.pending...)
	g.inflight = false
}

// finish ends the lease of an item that leaves the queue (acked or dead).
func (x *index) finish(key string) {
	g := x.group(key)
	g.inflight = false
	x.count--
	if len(g.pending) == 0 {
		delete(x.groups, key)
	}
}

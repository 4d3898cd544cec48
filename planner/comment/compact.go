package comment

import (
	"strconv"
	"strings"
)

// budget is how much of the comment is kept.
type budget struct {
	text  int // bytes kept of each plan, log or diagnostics; -1: all
	items int // entries kept of each list; -1: all
	drop  int // stack sections left out, largest plan first
}

var fullBudget = budget{text: -1, items: -1}

// minText is the least of a plan kept before plans are left out: about 20
// lines of its head and 10 of its tail.
const minText = 2_000

// block is one piece of a comment body: head alone, or head followed by
// items that may be spread over several bodies, head repeated in each.
type block struct {
	head  string
	items []string
	sep   string // between head and items, and between items
	// flow splits the block where it stands; otherwise a splittable block
	// that fits in a body of its own moves there whole.
	flow bool
}

func (b block) text() string {
	if len(b.items) == 0 {
		return b.head
	}
	return b.head + b.sep + strings.Join(b.items, b.sep)
}

// fit finds the least compaction that fits opt.MaxSize, in the order the
// comment gives things up: first the plans' middles, largest plan first,
// then the length of lists, then whole plans, largest first and those that
// destroy something last. It returns the
// budget and the number of bodies: 1 unless even the most compact comment
// is too large, in which case the comment is split into as few bodies as
// the most compact comment needs, and given back what fits in them.
func (c *commenter) fit() (budget, int) {
	if b, ok := c.search(1); ok {
		return b, 1
	}
	most := budget{text: minText, items: 0, drop: len(c.bySize)}
	parts, _ := c.pack(c.blocks(most))
	n := len(parts)
	if b, ok := c.search(n); ok {
		return b, n
	}
	return most, n
}

// search finds the least compaction whose comment fits in n bodies.
func (c *commenter) search(n int) (budget, bool) {
	fits := func(b budget) bool {
		blocks := c.blocks(b)
		if n == 1 {
			return len(c.single(blocks)) <= c.opt.MaxSize
		}
		parts, ok := c.pack(blocks)
		return ok && len(parts) <= n
	}
	b := fullBudget
	if fits(b) {
		return b, true
	}
	longest := 0
	for _, p := range c.plans {
		longest = max(longest, size(p))
	}
	b.text = minText
	if fits(b) {
		b.text = largest(minText, max(minText, longest), func(t int) bool {
			return fits(budget{text: t, items: -1})
		})
		return b, true
	}
	b.items = 0
	if fits(b) {
		return c.giveBack(b, longest, fits), true
	}
	b.drop = len(c.bySize)
	if !fits(b) {
		return b, false
	}
	b.drop = smallest(0, len(c.bySize), func(d int) bool {
		return fits(budget{text: minText, items: 0, drop: d})
	})
	return c.giveBack(b, longest, fits), true
}

// giveBack returns to lists, then to plans, what room budget b leaves.
func (c *commenter) giveBack(b budget, longest int, fits func(budget) bool) budget {
	b.items = largest(b.items, c.maxItems, func(k int) bool {
		return fits(budget{text: b.text, items: k, drop: b.drop})
	})
	b.text = largest(b.text, max(b.text, longest), func(t int) bool {
		return fits(budget{text: t, items: b.items, drop: b.drop})
	})
	return b
}

// largest is the largest v in [lo, hi] with ok(v), given ok(lo); ok is
// expected to hold below any value where it holds.
func largest(lo, hi int, ok func(int) bool) int {
	for lo < hi {
		mid := lo + (hi-lo+1)/2
		if ok(mid) {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo
}

// smallest is the smallest v in [lo, hi] with ok(v), given ok(hi).
func smallest(lo, hi int, ok func(int) bool) int {
	for lo < hi {
		mid := lo + (hi-lo)/2
		if ok(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return hi
}

// single renders blocks as one body.
func (c *commenter) single(blocks []block) string {
	texts := make([]string, len(blocks))
	for i, b := range blocks {
		texts[i] = b.text()
	}
	return c.marker + "\n" + strings.Join(texts, "\n\n") + "\n"
}

const (
	continued = "*Continued in the next comment.*"
	// tooLarge stands in for a block that does not fit in an empty body,
	// which only happens when MaxSize is smaller than any forge's limit.
	tooLarge = "*Too large for a comment: see the artifacts.*"
)

// continuation is the first line of body k of n, after the first.
func (c *commenter) continuation(k, n int) string {
	h := "### " + c.title
	if sha := shortSHA(c.s.Commit); sha != "" {
		h += " · " + codeSpan(sha)
	}
	return h + " · continued (" + strconv.Itoa(k) + " of " + strconv.Itoa(n) + ")"
}

// room is what body k (counting from 1) has for blocks, once its marker,
// continuation heading and "continued" line are in, numbered as if there
// were bound bodies.
func (c *commenter) room(k, bound int) int {
	r := c.opt.MaxSize - len(c.marker) - 1 - len("\n\n"+continued) - 1
	if k > 1 {
		r = c.opt.MaxSize - len(PartMarker(c.marker, bound)) - 1 -
			len(c.continuation(bound, bound)) - 2 - len("\n\n"+continued) - 1
	}
	return r
}

// pack lays blocks out over as few bodies as it can, in order. It reports
// false when a block had to be cut to fit an empty body.
func (c *commenter) pack(blocks []block) ([][]string, bool) {
	bound := len(blocks)
	for _, b := range blocks {
		bound += len(b.items)
	}
	ok := true
	var bodies [][]string
	var cur []string
	used := 0
	free := func() int {
		f := c.room(len(bodies)+1, bound) - used
		if len(cur) > 0 {
			f -= 2
		}
		return f
	}
	add := func(s string) {
		if f := free(); len(s) > f {
			ok = false
			s = clip(tooLarge, max(f, 0))
		}
		if len(cur) > 0 {
			used += 2
		}
		cur = append(cur, s)
		used += len(s)
	}
	next := func() {
		if len(cur) > 0 {
			bodies = append(bodies, cur)
		}
		cur, used = nil, 0
	}
	emptyRoom := func() int { return c.room(len(bodies)+2, bound) }
	for _, b := range blocks {
		t := b.text()
		if len(t) <= free() {
			add(t)
			continue
		}
		if len(b.items) == 0 || (!b.flow && len(t) <= emptyRoom()) {
			next()
			add(t)
			continue
		}
		part, items := b.head, 0
		for _, it := range b.items {
			if cand := part + b.sep + it; len(cand) <= free() {
				part, items = cand, items+1
				continue
			}
			if items > 0 {
				add(part)
			}
			next()
			part, items = b.head+b.sep+it, 1
		}
		add(part)
	}
	next()
	return bodies, ok
}

// assemble turns packed parts into bodies: marker, continuation heading,
// blocks, and a line saying the comment goes on.
func (c *commenter) assemble(parts [][]string) []string {
	out := make([]string, len(parts))
	for k, p := range parts {
		var b strings.Builder
		b.WriteString(PartMarker(c.marker, k+1) + "\n")
		if k > 0 {
			b.WriteString(c.continuation(k+1, len(parts)) + "\n\n")
		}
		b.WriteString(strings.Join(p, "\n\n"))
		if k < len(parts)-1 {
			b.WriteString("\n\n" + continued)
		}
		b.WriteString("\n")
		out[k] = clip(b.String(), c.opt.MaxSize)
	}
	return out
}

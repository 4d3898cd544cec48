package comment

import (
	"slices"
	"strings"

	"github.com/strata-iac/strata/planner"
)

// The lists after the stack sections: plans left out, locked stacks,
// removed stacks, warnings; and the next step, last.

// bulletList renders title and at most k items (k < 0: all) as a list, the
// rest summed up by more.
func bulletList(title string, items []string, k int, more func(n int) string) string {
	shown := items[:keep(len(items), k)]
	var b strings.Builder
	b.WriteString(title)
	for _, it := range shown {
		b.WriteString("\n- " + leadSafe(it))
	}
	if n := len(items) - len(shown); n > 0 {
		b.WriteString("\n- " + more(n))
	}
	return b.String()
}

// keep is how many of n entries a list shows when k may be shown (k < 0:
// all). Hiding a single entry would save nothing, so it is shown too.
func keep(n, k int) int {
	if k < 0 || n-k < 2 {
		return n
	}
	return k
}

// droppedNote points at the artifacts for the sections left out.
func (c *commenter) droppedNote(dropped map[int]bool) string {
	if len(dropped) == 0 {
		return ""
	}
	where := "the artifacts"
	if u := oneLine(c.opt.ArtifactsURL); u != "" {
		where = "[the artifacts](<" + strings.NewReplacer("<", "%3C", ">", "%3E").Replace(u) + ">)"
	}
	if len(dropped) == len(c.bySize) {
		return "📦 **Plans not shown:** too large for a comment, see " + where + "."
	}
	var names []string
	for _, i := range c.order {
		if dropped[i] {
			names = append(names, stackName(c.s.Stacks[i], codeSpan))
		}
	}
	return "📦 **Plans not shown** (too large for a comment, see " + where + "): " +
		strings.Join(names, ", ") + "."
}

func (c *commenter) lockedList(b budget) string {
	var items []string
	for _, i := range c.order {
		r := c.s.Stacks[i]
		if r.Status != planner.StatusLocked {
			continue
		}
		it := stackName(r, codeSpan)
		if by := mrRef(r.LockedBy); by != "" {
			it += " by " + by
		}
		items = append(items, it)
	}
	if len(items) == 0 {
		return ""
	}
	return bulletList("🔒 **Locked by other merge requests, not planned**", items, b.items,
		func(n int) string { return "and " + plural(n, "more stack", "more stacks") + ", see the table" })
}

func (c *commenter) deletedList(b budget) string {
	if len(c.s.Deleted) == 0 {
		return ""
	}
	dirs := slices.Clone(c.s.Deleted)
	slices.Sort(dirs)
	items := make([]string, len(dirs))
	for i, d := range dirs {
		items[i] = codeSpan(clipMiddle(oneLine(d), maxName))
	}
	return bulletList("🗑️ **Removed by this change, never planned:** their resources and state are left as they are", items, b.items,
		func(n int) string { return "and " + plural(n, "more stack", "more stacks") })
}

func (c *commenter) warningList(b budget) string {
	if len(c.s.Warnings) == 0 {
		return ""
	}
	items := make([]string, len(c.s.Warnings))
	for i, w := range c.s.Warnings {
		items[i] = escapeText(w)
	}
	return bulletList("⚠️ **Warnings**", items, b.items,
		func(n int) string { return "and " + plural(n, "more warning", "more warnings") + " in summary.json" })
}

package comment

import "strings"

// DefaultPartialHint is what the note on partial plans says about applying
// them when Options.PartialHint is empty.
const DefaultPartialHint = "A partial plan is never applied on merge or approval: it is applied only when someone allowed to apply names its stack (`strata apply -s STACK`)."

// partialNote lists the plans made with -target: they leave part of the
// change unplanned, so a reviewer must see that before anything else
// about them, and how they get applied.
func (c *commenter) partialNote(b budget) (block, bool) {
	var items []string
	for _, i := range c.order {
		r := c.s.Stacks[i]
		if !r.Partial() || c.kinds[i].rank != rankChanged {
			continue
		}
		targets := make([]string, len(r.Targets))
		for j, t := range r.Targets {
			targets[j] = codeSpan("-target=" + clip(oneLine(t), maxName))
		}
		items = append(items, "**"+stackName(r, codeSpan)+"**: "+strings.Join(targets, " "))
	}
	if len(items) == 0 {
		return block{}, false
	}
	hint := strings.TrimSpace(c.opt.PartialHint)
	if hint == "" {
		hint = DefaultPartialHint
	}
	title := "**" + plural(len(items), "partial plan", "partial plans") + "**, made with `-target`: only the resources named were planned, not the rest of the change. " + hint
	shown := items[:keep(len(items), b.items)]
	lines := make([]string, 0, len(shown)+1)
	for _, it := range shown {
		lines = append(lines, quote("- "+it))
	}
	if n := len(items) - len(shown); n > 0 {
		lines = append(lines, quote("- and "+plural(n, "more stack", "more stacks")+": see the table"))
	}
	return block{head: quote("[!IMPORTANT]\n"+title) + "\n>", items: lines, sep: "\n"}, true
}

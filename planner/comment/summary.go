package comment

import (
	"strings"

	"github.com/strata-iac/strata/planner"
)

// Summary renders the heading and the summary table alone, without a
// marker: the short report a forge shows beside a commit (a GitHub check
// run's output), which links to the comment for the rest. It is at most
// opt.MaxSize bytes (0: unlimited): rows that do not fit are counted in a
// last line instead. Only opt.MaxSize and opt.Title are used.
func Summary(s planner.Summary, opt Options) string {
	c := newCommenter(s, opt)
	out := c.head + "\n\n" + c.table.text() + "\n"
	if opt.MaxSize <= 0 || len(out) <= opt.MaxSize {
		return out
	}
	rows := c.table.items
	var b strings.Builder
	b.WriteString(c.head + "\n\n" + c.table.head)
	for i, row := range rows {
		rest := "\n\n*… and " + plural(len(rows)-i, "more stack", "more stacks") + ": see the comment.*\n"
		if b.Len()+len(c.table.sep)+len(row)+len(rest) > opt.MaxSize {
			if b.Len()+len(rest) > opt.MaxSize {
				return clip(c.head, opt.MaxSize)
			}
			return b.String() + rest
		}
		b.WriteString(c.table.sep + row)
	}
	return b.String() + "\n"
}

package planner

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"golang.org/x/term"

	"github.com/strata-iac/strata/stacks"
)

// Progress reports runs on a writer (stderr), one line when a stack starts
// and one when it ends:
//
//	… live/prod/network  planning
//	✓ live/prod/network  +2 ~1 -0  (3.4s)
//	✗ live/dev/app  error: main.tf:3: Unsupported block type  (0.8s)
//
// Quiet keeps only the closing lines. Colours are used only on a terminal
// (and never with NO_COLOR set); lines are written whole, so concurrent runs
// never interleave within a line. A nil *Progress reports nothing.
type Progress struct {
	mu    sync.Mutex
	w     io.Writer
	quiet bool
	color bool
}

// NewProgress returns a reporter writing to w.
func NewProgress(w io.Writer, quiet bool) *Progress {
	color := false
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		color = os.Getenv("NO_COLOR") == ""
	}
	return &Progress{w: w, quiet: quiet, color: color}
}

const (
	ansiReset = "\x1b[0m"
	ansiRed   = "\x1b[31m"
	ansiGreen = "\x1b[32m"
	ansiDim   = "\x1b[2m"
)

// Start reports that op ("plan", "apply") of a stack began.
func (p *Progress) Start(op, dir, workspace string) {
	if p == nil || p.quiet {
		return
	}
	verb := map[string]string{"plan": "planning", "apply": "applying"}[op]
	if verb == "" {
		verb = op
	}
	p.line(ansiDim, "…", progressName(dir, workspace)+"  "+verb)
}

// Done reports how a run ended.
func (p *Progress) Done(res Result) {
	if p == nil {
		return
	}
	name := progressName(res.Dir, res.Workspace)
	took := fmt.Sprintf("  (%.1fs)", res.Timings.Total)
	switch res.Status {
	case StatusNoChanges:
		p.line(ansiGreen, "✓", name+"  no changes"+outside(res.Counts)+took)
	case StatusChanges:
		p.line(ansiGreen, "✓", name+"  "+progressCounts(res.Counts)+outside(res.Counts)+took)
	case StatusApplied:
		p.line(ansiGreen, "✓", name+"  applied "+progressCounts(res.Counts)+took)
	case StatusLocked:
		p.line(ansiDim, "-", name+"  locked by "+res.LockedBy)
	case StatusSkipped:
		p.line(ansiDim, "-", name+"  skipped: "+res.Error)
	default:
		p.line(ansiRed, "✗", name+"  "+string(res.Status)+": "+res.Error+took)
	}
}

func (p *Progress) line(color, mark, text string) {
	var b strings.Builder
	if p.color {
		b.WriteString(color + mark + ansiReset)
	} else {
		b.WriteString(mark)
	}
	b.WriteString(" " + text + "\n")
	p.mu.Lock()
	defer p.mu.Unlock()
	_, _ = io.WriteString(p.w, b.String())
}

func progressName(dir, workspace string) string { return stacks.InstanceName(dir, workspace) }

// progressCounts renders counts as "+2 ~1 -0", with "±1" when something is
// replaced.
func progressCounts(c Counts) string {
	s := fmt.Sprintf("+%d ~%d -%d", c.Create, c.Update, c.Delete)
	if c.Replace > 0 {
		s += fmt.Sprintf(" ±%d", c.Replace)
	}
	return s
}

// outside notes the objects Terraform found changed outside Terraform.
func outside(c Counts) string {
	if c.Drift == 0 {
		return ""
	}
	return fmt.Sprintf(", %d changed outside Terraform", c.Drift)
}

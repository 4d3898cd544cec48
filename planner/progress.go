package planner

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/strata-iac/strata/stacks"
)

// Progress reports runs on a writer (stderr): a line when a stack starts,
// a line now and then while it runs long (how long it has run, and the
// last resource line terraform printed), a line when it ends, and the run's
// result once every stack is done:
//
//	… live/prod/network  planning
//	… live/prod/db  applying, 40s: terraform_data.primary: Still creating... [40s elapsed]
//	✓ live/prod/network  +2 ~1 -0  (3.4s)
//	✗ live/dev/app  error: main.tf:3: Unsupported block type  (0.8s)
//	plan: 2 stacks, 1 with changes, 1 failed
//
// A running stack reports every 10 s on a terminal and every 30 s
// otherwise (a CI log). Quiet keeps only failures and the result. Colours
// are used only on a terminal (and never with NO_COLOR set); lines are
// written whole, so concurrent runs never interleave within a line. A nil
// *Progress reports nothing.
type Progress struct {
	mu    sync.Mutex
	w     io.Writer
	quiet bool
	color bool
	// every is how often a running stack reports.
	every time.Duration
}

// Intervals between the reports of a running stack.
const (
	EveryOnTerminal = 10 * time.Second
	EveryInLog      = 30 * time.Second
)

// NewProgress returns a reporter writing to w.
func NewProgress(w io.Writer, quiet bool) *Progress {
	p := &Progress{w: w, quiet: quiet, every: EveryInLog}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.color = os.Getenv("NO_COLOR") == ""
		p.every = EveryOnTerminal
	}
	return p
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
	p.line(ansiDim, "…", progressName(dir, workspace)+"  "+verbOf(op))
}

func verbOf(op string) string {
	if verb := map[string]string{"plan": "planning", "apply": "applying", "check": "checking what an interrupted apply left"}[op]; verb != "" {
		return verb
	}
	return op
}

// Done reports how a run ended. Quiet reports only the runs that did not
// succeed.
func (p *Progress) Done(res Result) {
	if p == nil {
		return
	}
	name := progressName(res.Dir, res.Workspace)
	took := fmt.Sprintf("  (%.1fs)", res.Timings.Total)
	switch res.Status {
	case StatusNoChanges, StatusChanges, StatusApplied:
		if p.quiet {
			return
		}
	}
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

// Result reports a whole run once every stack is done: how many stacks,
// by outcome. Quiet reports it too.
func (p *Progress) Result(s Summary) {
	if p == nil {
		return
	}
	counts := map[string]int{}
	var order []string
	for _, r := range s.Stacks {
		word := map[Status]string{
			StatusChanges: "with changes", StatusNoChanges: "unchanged", StatusApplied: "applied",
			StatusLocked: "locked", StatusSkipped: "skipped", StatusRefused: "refused",
		}[r.Status]
		if s.Operation == OpDrift && r.Status == StatusChanges {
			word = "drifted"
		}
		if word == "" {
			word = "failed"
		}
		if counts[word] == 0 {
			order = append(order, word)
		}
		counts[word]++
	}
	text := fmt.Sprintf("%s: %d stacks", cmpOr(string(s.Operation), "plan"), len(s.Stacks))
	if len(s.Stacks) == 1 {
		text = strings.TrimSuffix(text, "s")
	}
	for _, w := range order {
		text += fmt.Sprintf(", %d %s", counts[w], w)
	}
	color := ansiGreen
	if len(s.Failed()) > 0 {
		color = ansiRed
	}
	p.line(color, "=", text)
}

// Watch reports a run from its start to its end: Start's line, then, while
// it runs, every interval how long it has run and the last resource line
// terraform printed (give it each line with Line), and Done's line. A nil
// *Progress gives a Watch that reports nothing.
func (p *Progress) Watch(op, dir, workspace string) *Watch {
	w := &Watch{p: p}
	if p == nil {
		return w
	}
	p.Start(op, dir, workspace)
	if p.quiet {
		return w
	}
	w.name, w.verb, w.started = progressName(dir, workspace), verbOf(op), time.Now()
	w.stop, w.done = make(chan struct{}), make(chan struct{})
	go w.report(p.every)
	return w
}

// Watch is one stack's run being reported; see Progress.Watch.
type Watch struct {
	p          *Progress
	name, verb string
	started    time.Time
	stop, done chan struct{}

	mu   sync.Mutex
	last string // the last resource line terraform printed
}

// resourceLine matches the lines terraform prints about one resource
// ("terraform_data.db: Still creating... [40s elapsed]",
// `module.a.aws_s3_bucket.b["x"]: Refreshing state...`).
var resourceLine = regexp.MustCompile(`^(module\.|data\.)?[A-Za-z_][\w-]*\.[\w-]+\S*( \([^)]*\))?: \S`)

// Line takes one line of terraform's output, text or the machine-readable
// UI (whose @message is the text line); a resource line becomes the one
// the next report shows. It is safe to call from any goroutine.
func (w *Watch) Line(line string) {
	if w == nil || w.stop == nil {
		return
	}
	if strings.HasPrefix(line, "{") {
		var msg struct {
			Message string `json:"@message"`
		}
		if json.Unmarshal([]byte(line), &msg) != nil {
			return
		}
		line = msg.Message
	}
	if !resourceLine.MatchString(line) {
		return
	}
	w.mu.Lock()
	w.last = clipLine(line, 200)
	w.mu.Unlock()
}

func (w *Watch) report(every time.Duration) {
	defer close(w.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case now := <-t.C:
			w.mu.Lock()
			last := w.last
			w.mu.Unlock()
			text := fmt.Sprintf("%s  %s, %s", w.name, w.verb, now.Sub(w.started).Round(time.Second))
			if last != "" {
				text += ": " + last
			}
			w.p.line(ansiDim, "…", text)
		}
	}
}

// Done stops the reports and reports how the run ended.
func (w *Watch) Done(res Result) {
	if w.stop != nil {
		close(w.stop)
		<-w.done
	}
	w.p.Done(res)
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

// clipLine cuts a line of terraform's output for a progress report.
func clipLine(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xc0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

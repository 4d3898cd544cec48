package planner

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestProgressLines(t *testing.T) {
	var buf strings.Builder
	p := NewProgress(&buf, false)
	p.Start("plan", "live/prod/network", "")
	p.Done(Result{Dir: "live/prod/network", Workspace: "default", Status: StatusChanges, Counts: Counts{Create: 2, Update: 1}, Timings: Timings{Total: 3.42}})
	p.Start("apply", "live/dev/app", "staging")
	p.Done(Result{Dir: "live/dev/app", Workspace: "staging", Status: StatusError, Error: "init: main.tf:3: Unsupported block type", Timings: Timings{Total: 0.8}})
	p.Done(Result{Dir: "live/x", Status: StatusNoChanges, Timings: Timings{Total: 1}})
	p.Done(Result{Dir: "live/y", Status: StatusApplied, Counts: Counts{Create: 1, Replace: 2}, Timings: Timings{Total: 2}})
	p.Done(Result{Dir: "live/z", Status: StatusRefused, Error: "live/z: plan file checksum …", Timings: Timings{Total: 0}})
	want := `… live/prod/network  planning
✓ live/prod/network  +2 ~1 -0  (3.4s)
… live/dev/app@staging  applying
✗ live/dev/app@staging  error: init: main.tf:3: Unsupported block type  (0.8s)
✓ live/x  no changes  (1.0s)
✓ live/y  applied +1 ~0 -0 ±2  (2.0s)
✗ live/z  refused: live/z: plan file checksum …  (0.0s)
`
	if buf.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", buf.String(), want)
	}
	if strings.Contains(buf.String(), "\x1b[") {
		t.Error("colours on a writer that is not a terminal")
	}
}

// TestProgressQuietAndConcurrent: quiet keeps only failures and the
// result, as --quiet says; lines of concurrent runs are written whole.
func TestProgressQuietAndConcurrent(t *testing.T) {
	var buf strings.Builder
	p := NewProgress(&buf, true)
	var wg sync.WaitGroup
	var sum Summary
	var mu sync.Mutex
	for i := range 50 {
		wg.Go(func() {
			dir := fmt.Sprintf("live/s%d", i)
			w := p.Watch("plan", dir, "")
			res := Result{Dir: dir, Status: StatusNoChanges}
			if i%2 == 1 {
				res.Status, res.Error = StatusError, "plan: boom"
			}
			w.Line("terraform_data.x: Refreshing state...")
			w.Done(res)
			mu.Lock()
			sum.Stacks = append(sum.Stacks, res)
			mu.Unlock()
		})
	}
	wg.Wait()
	p.Result(sum)
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 26 {
		t.Fatalf("%d lines, want the 25 failures and the result:\n%s", len(lines), buf.String())
	}
	for _, l := range lines[:25] {
		if !strings.HasPrefix(l, "✗ live/s") || !strings.HasSuffix(l, "  error: plan: boom  (0.0s)") {
			t.Errorf("mangled line %q", l)
		}
	}
	if last := lines[25]; last != "= plan: 50 stacks, 25 unchanged, 25 failed" && last != "= plan: 50 stacks, 25 failed, 25 unchanged" {
		t.Errorf("result line %q", last)
	}
	var nilProgress *Progress
	nilProgress.Start("plan", "x", "")
	nilProgress.Done(Result{})
	w := nilProgress.Watch("apply", "x", "")
	w.Line("terraform_data.x: Creating...")
	w.Done(Result{})
	nilProgress.Result(Summary{})
}

// TestProgressReportsLongRuns: while terraform applies a slow resource,
// the progress reports how long the stack has run and the last resource
// line terraform printed, before the stack's closing line: terraform's
// output is streamed, not only kept for the end.
func TestProgressReportsLongRuns(t *testing.T) {
	var buf strings.Builder
	p := NewProgress(&syncWriter{w: &buf}, false)
	p.every = 300 * time.Millisecond
	r := newTestRunner(t, Options{Progress: p})
	files := map[string]string{"live/slow/main.tf": `resource "terraform_data" "slow" {
  provisioner "local-exec" {
    command = "sleep 3"
  }
}
`}
	stateDir := t.TempDir()
	plan := r.Plan(context.Background(), Job{Dir: "live/slow", Root: export(t, files), StateDir: stateDir})
	if plan.Status != StatusChanges {
		t.Fatalf("plan: %s %s", plan.Status, plan.Error)
	}
	res := r.Apply(context.Background(), Job{Dir: "live/slow", Root: export(t, files), StateDir: stateDir}, plan.PlanFile, plan.PlanSHA256)
	if res.Status != StatusApplied {
		t.Fatalf("apply: %s %s", res.Status, res.Error)
	}
	out := buf.String()
	applying := strings.Index(out, "… live/slow  applying\n")
	done := strings.Index(out, "✓ live/slow  applied")
	report := regexp.MustCompile(`… live/slow  applying, \d+s: terraform_data\.slow[ :(]`).FindStringIndex(out)
	if applying < 0 || done < 0 || report == nil || report[0] < applying || report[0] > done {
		t.Errorf("no report naming terraform_data.slow between the apply's start and end:\n%s", out)
	}
}

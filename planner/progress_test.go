package planner

import (
	"fmt"
	"strings"
	"sync"
	"testing"
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

func TestProgressQuietAndConcurrent(t *testing.T) {
	var buf strings.Builder
	p := NewProgress(&buf, true)
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dir := fmt.Sprintf("live/s%d", i)
			p.Start("plan", dir, "")
			p.Done(Result{Dir: dir, Status: StatusNoChanges})
		}()
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 50 {
		t.Fatalf("%d lines, want 50 closing lines only", len(lines))
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "✓ live/s") || !strings.HasSuffix(l, "  no changes  (0.0s)") {
			t.Errorf("mangled line %q", l)
		}
	}
	var nilProgress *Progress
	nilProgress.Start("plan", "x", "")
	nilProgress.Done(Result{})
}

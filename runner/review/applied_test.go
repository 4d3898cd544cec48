package review

import (
	"context"
	"strings"
	"testing"

	"github.com/strata-iac/strata/planner"
	"github.com/strata-iac/strata/runner/forge"
	"github.com/strata-iac/strata/runner/records"
)

// markApplied records the apply of dir's plan in the merge request's
// state, as a completed apply leaves it, with the apply's summary.
func (h *harness) markApplied(iid int64, run string, dirs ...string) {
	h.t.Helper()
	ctx := context.Background()
	st, err := h.rv.loadState(ctx, h.event(iid, forge.ActionOpened, "bob").MRRef())
	if err != nil {
		h.t.Fatal(err)
	}
	sum := planner.Summary{Operation: planner.OpApply, Commit: st.Head}
	for _, d := range dirs {
		sum.Stacks = append(sum.Stacks, planner.Result{Dir: d, Workspace: "default", Status: planner.StatusApplied, Counts: planner.Counts{Create: 1}})
	}
	if err := h.rv.recordApplies(ctx, st, run, st.Head, sum); err != nil {
		h.t.Fatal(err)
	}
}

// TestAppliedPlanIsNotAppliedAgain: an event asking to apply plans the
// state records as applied (a redelivery after a crash) runs nothing: no
// run, no failed status; a comment is told when it was applied.
func TestAppliedPlanIsNotAppliedAgain(t *testing.T) {
	h := newHarness(t, repoFiles)
	h.openMR(1, "app", map[string]string{"live/app/main.tf": "# changed\n"})
	h.plannedAt(1, changes("live/app"))
	h.gl.Approve(h.path, 1, "erin")
	h.markApplied(1, "run-1", "live/app")

	h.handle(h.comment(1, "alice", "strata apply"))
	if replies := h.replies(1); len(replies) != 1 || !strings.Contains(replies[0], "already applied at ") ||
		!strings.Contains(replies[0], "run run-1") || !strings.Contains(replies[0], "nothing was run") {
		t.Errorf("replies %q, want one saying when it was applied", replies)
	}
	if st := h.status(1, forge.StatusApply); st != "success" {
		t.Errorf("strata/apply = %q, want success, as after the apply", st)
	}
	if note := h.note(1); !strings.Contains(note, "Applied. ") {
		t.Errorf("the note does not show the apply:\n%s", note)
	}
	if keys, _ := h.store.List(context.Background(), "runs/"); len(keys) != 0 {
		t.Errorf("a run was recorded: %v", keys)
	}
}

// TestInterruptedApplyIsNotRetried: plans whose apply was cut short are
// never applied again; `strata apply` says to plan first.
func TestInterruptedApplyIsNotRetried(t *testing.T) {
	h := newHarness(t, repoFiles)
	h.openMR(1, "app", map[string]string{"live/app/main.tf": "# changed\n"})
	h.plannedAt(1, changes("live/app"))
	ctx := context.Background()
	ref := h.event(1, forge.ActionOpened, "bob").MRRef()
	st, _ := h.rv.loadState(ctx, ref)
	st.Interrupted = []string{"live/app"}
	if err := h.rv.saveState(ctx, st); err != nil {
		t.Fatal(err)
	}
	h.handle(h.comment(1, "alice", "strata apply"))
	if replies := h.replies(1); len(replies) != 1 || !strings.Contains(replies[0], "the last apply of `live/app` was interrupted") ||
		!strings.Contains(replies[0], "Comment `strata plan` to plan again") {
		t.Errorf("replies %q", replies)
	}
	if keys, _ := h.store.List(ctx, "runs/"); len(keys) != 0 {
		t.Errorf("a run was recorded: %v", keys)
	}
	// A new plan of the stack makes it applicable again.
	st, _ = h.rv.loadState(ctx, ref)
	st.resetApplies([]string{"live/app"})
	if len(st.Interrupted) != 0 {
		t.Errorf("interrupted after a new plan: %v", st.Interrupted)
	}
}

// TestRecoverApply: at start, an apply this replica left running is closed
// as completed when the state records it (its status untouched), and as
// interrupted, with a failed status, when it does not.
func TestRecoverApply(t *testing.T) {
	h := newHarness(t, repoFiles)
	h.openMR(1, "app", map[string]string{"live/app/main.tf": "# changed\n"})
	h.plannedAt(1, changes("live/app"))
	ctx := context.Background()
	ev := h.event(1, forge.ActionOpened, "bob")
	start := func() *records.Record {
		return h.rv.cfg.Records.Start(ctx, records.Run{Operation: planner.OpApply, Repo: ev.RepoRef(), MR: 1, Commit: ev.HeadSHA, Status: forge.StatusApply})
	}
	done := start()
	h.markApplied(1, done.ID, "live/app")
	h.rv.RecoverApply(ctx, done)
	if st := h.status(1, forge.StatusApply); st != "" {
		t.Errorf("a completed apply's status was set to %q at recovery", st)
	}
	cut := start()
	h.rv.RecoverApply(ctx, cut)
	if st := h.status(1, forge.StatusApply); st != "failed" {
		t.Errorf("an interrupted apply's status is %q, want failed", st)
	}
	for rec, want := range map[*records.Record]records.State{done: records.StateCompleted, cut: records.StateInterrupted} {
		if rec.State != want || rec.EndedAt.IsZero() {
			t.Errorf("run %s closed as %s, want %s", rec.ID, rec.State, want)
		}
	}
	if active, _ := h.store.List(ctx, "runs/active/"); len(active) != 0 {
		t.Errorf("runs still active: %v", active)
	}
}

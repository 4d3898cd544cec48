package review

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/strata-iac/strata/planner"
	"github.com/strata-iac/strata/runner/forge"
	"github.com/strata-iac/strata/runner/records"
)

// claimed plans !1 and returns its event, its state and a context
// handling delivery item.
func claimSetup(t *testing.T) (*harness, forge.Event) {
	h := newHarness(t, repoFiles)
	h.openMR(1, "app", map[string]string{"live/app/main.tf": "# changed\n"})
	h.plannedAt(1, changes("live/app"))
	return h, h.event(1, forge.ActionMerged, "bob")
}

// writeRun puts a run record straight into the store, as a replica left
// it: in progress (active) or finished.
func (h *harness) writeRun(rec records.Record, active bool) {
	h.t.Helper()
	data, _ := json.Marshal(rec)
	key := records.RunKey(rec.RepoRef(), rec.ID)
	if active {
		key = records.ActiveRunKey(rec.ID)
	}
	if _, err := h.store.Put(context.Background(), key, data); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) begin(rv *Reviewer, ctx context.Context, ev forge.Event, run string) (bool, error) {
	st := h.load(rv, ev.MRRef())
	return rv.beginApply(ctx, ev, st, "m1", run)
}

// TestRedeliveredApplyIsAnsweredNotRepeated: a delivery whose apply
// completed, handled again, says so and touches nothing; another delivery
// may apply (terraform judges whether the plans still apply).
func TestRedeliveredApplyIsAnsweredNotRepeated(t *testing.T) {
	h, ev := claimSetup(t)
	ctx := records.WithItem(context.Background(), "gitlab:merge-1")
	st := h.load(h.rv, ev.MRRef())
	run := records.NewRunID()
	if ok, err := h.rv.beginApply(ctx, ev, st, "m1", run); !ok || err != nil {
		t.Fatalf("first claim = %v, %v", ok, err)
	}
	sum := planner.Summary{Stacks: []planner.Result{{Dir: "live/app", Status: planner.StatusApplied}}}
	if err := h.rv.endApply(ctx, st, run, &sum, "m1"); err != nil {
		t.Fatal(err)
	}
	if ok, err := h.begin(h.rv, ctx, ev, records.NewRunID()); ok || err != nil {
		t.Fatalf("the same delivery again = %v, %v; want answered, not applied", ok, err)
	}
	if r := h.replies(1); len(r) != 1 || !strings.Contains(r[0], "already applied at `m1`") {
		t.Errorf("replies %q", r)
	}
	if st := h.load(h.rv, ev.MRRef()); st.AppliedAt != "m1" {
		t.Errorf("applied at %q", st.AppliedAt)
	}
	if ok, err := h.begin(h.rv, records.WithItem(context.Background(), "gitlab:comment-2"), ev, records.NewRunID()); !ok || err != nil {
		t.Errorf("another delivery = %v, %v; want it claimed", ok, err)
	}
}

// TestInterruptedApplyIsNeverRepeated: an apply whose replica died
// mid-way (its run record stopped renewing) is closed as interrupted and
// never started again, whatever asks; new plans may be applied.
func TestInterruptedApplyIsNeverRepeated(t *testing.T) {
	h, ev := claimSetup(t)
	ctx := records.WithItem(context.Background(), "gitlab:merge-1")
	run := records.NewRunID()
	if ok, err := h.begin(h.rv, ctx, ev, run); !ok || err != nil {
		t.Fatalf("claim = %v, %v", ok, err)
	}
	mr, _ := h.gl.MergeRequest(h.path, 1)
	h.writeRun(records.Record{ID: run, Operation: planner.OpApply, Forge: "gitlab", Repo: h.path, MR: 1, Commit: mr.SHA,
		Replica: "replica-a", State: records.StateRunning, StartedAt: time.Now().Add(-time.Hour), Heartbeat: time.Now().Add(-time.Hour),
		Status: forge.StatusApply, Item: "gitlab:merge-1"}, true)

	if ok, err := h.begin(h.rv, ctx, ev, records.NewRunID()); ok || err != nil {
		t.Fatalf("the delivery again after its replica died = %v, %v; want refused", ok, err)
	}
	if rec, active, err := h.rv.cfg.Records.Find(context.Background(), ev.RepoRef(), run); err != nil || active || rec.State != records.StateInterrupted {
		t.Fatalf("the dead run's record = %+v, active %v, %v; want closed as interrupted", rec, active, err)
	}
	if got := h.status(1, forge.StatusApply); got != "failed" {
		t.Errorf("strata/apply = %q, want failed", got)
	}
	if ok, _ := h.begin(h.rv, records.WithItem(context.Background(), "gitlab:comment-2"), ev, records.NewRunID()); ok {
		t.Error("a later `strata apply` applied the plans of an interrupted apply")
	}
	r := h.replies(1)
	if len(r) != 2 || !strings.Contains(r[0], "was interrupted") || !strings.Contains(r[0], "will not apply these plans again") || !strings.Contains(r[0], "`strata plan`") {
		t.Errorf("replies %q", r)
	}
	h.plannedAt(1, changes("live/app"))
	st := h.load(h.rv, ev.MRRef())
	st.Applies = nil // what a plan run writes with new plans
	if err := h.rv.saveState(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	if ok, err := h.begin(h.rv, ctx, ev, records.NewRunID()); !ok || err != nil {
		t.Errorf("claim of new plans = %v, %v", ok, err)
	}
}

// TestCompletedButUnrecordedApply: a replica that died after its apply
// completed, before recording it in the state, leaves a finished run:
// the delivery again is answered from it.
func TestCompletedButUnrecordedApply(t *testing.T) {
	h, ev := claimSetup(t)
	ctx := records.WithItem(context.Background(), "gitlab:merge-1")
	run := records.NewRunID()
	if ok, err := h.begin(h.rv, ctx, ev, run); !ok || err != nil {
		t.Fatalf("claim = %v, %v", ok, err)
	}
	h.writeRun(records.Record{ID: run, Operation: planner.OpApply, Forge: "gitlab", Repo: h.path, MR: 1, State: records.StateCompleted}, false)
	if ok, err := h.begin(h.rv, ctx, ev, records.NewRunID()); ok || err != nil {
		t.Fatalf("again = %v, %v; want answered", ok, err)
	}
	if st := h.load(h.rv, ev.MRRef()); st.AppliedAt != "m1" || !st.Applies["gitlab:merge-1"].Done {
		t.Errorf("state %+v, want the apply recorded", st)
	}
}

// TestOneReplicaClaimsAnApply: replicas handling the same delivery at once
// (the queue lease of one lapsed) claim it once; the others wait for it.
func TestOneReplicaClaimsAnApply(t *testing.T) {
	h, ev := claimSetup(t)
	ctx := records.WithItem(context.Background(), "gitlab:merge-1")
	var claimed, waiting atomic.Int32
	var wg sync.WaitGroup
	for range 4 {
		rv := h.replicaOf()
		wg.Go(func() {
			ok, err := h.begin(rv, ctx, ev, records.NewRunID())
			switch {
			case ok:
				claimed.Add(1)
			case errors.Is(err, errApplyRunning):
				waiting.Add(1)
			default:
				t.Errorf("claim = %v, %v", ok, err)
			}
		})
	}
	wg.Wait()
	if claimed.Load() != 1 || waiting.Load() != 3 {
		t.Fatalf("%d replicas claimed the apply, %d wait; want 1 and 3", claimed.Load(), waiting.Load())
	}
}

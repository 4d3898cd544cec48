package review

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/strata-iac/strata/planner"
	"github.com/strata-iac/strata/runner/forge"
	"github.com/strata-iac/strata/runner/records"
)

// claimSetup plans !1 and returns the harness and an event of it.
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

// claim claims an apply of !1's plans for rv, begun at started.
func (h *harness) claim(rv *Reviewer, ev forge.Event, run string, started time.Time) error {
	st := h.load(rv, ev.MRRef())
	return rv.claimApply(context.Background(), st, &applying{Run: run, Commit: "m1", Stacks: []string{"live/app"}, Started: started, Trigger: records.TriggerMerge})
}

// TestOneReplicaClaimsAnApply: replicas handling the same event at once
// (the queue lease of one lapsed) claim its apply once; the others are
// sent back to the queue to wait for it.
func TestOneReplicaClaimsAnApply(t *testing.T) {
	h, ev := claimSetup(t)
	var claimed, waiting atomic.Int32
	var wg sync.WaitGroup
	var start sync.WaitGroup
	start.Add(4)
	for range 4 {
		rv := h.replicaOf()
		st := h.load(rv, ev.MRRef())
		wg.Go(func() {
			start.Done()
			start.Wait()
			err := rv.claimApply(context.Background(), st, &applying{Run: records.NewRunID(), Commit: "m1", Stacks: []string{"live/app"}, Started: time.Now().UTC()})
			switch {
			case err == nil:
				claimed.Add(1)
			case errors.Is(err, errApplyRunning):
				waiting.Add(1)
			default:
				t.Errorf("claim: %v", err)
			}
		})
	}
	wg.Wait()
	if claimed.Load() != 1 || waiting.Load() != 3 {
		t.Fatalf("%d replicas claimed the apply, %d wait; want 1 and 3", claimed.Load(), waiting.Load())
	}
}

// TestApplyOfALiveReplicaIsWaitedFor: an apply claimed by a replica that
// renews its run record, or that has only just claimed it, makes the next
// event wait; nothing is closed or settled.
func TestApplyOfALiveReplicaIsWaitedFor(t *testing.T) {
	h, ev := claimSetup(t)
	young := records.NewRunID()
	if err := h.claim(h.rv, ev, young, time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	if err := h.rv.orphaned(context.Background(), ev, h.load(h.rv, ev.MRRef())); !errors.Is(err, errApplyRunning) {
		t.Fatalf("a claim whose run has not started yet: %v, want errApplyRunning", err)
	}
	mr, _ := h.gl.MergeRequest(h.path, 1)
	h.writeRun(records.Record{ID: young, Operation: planner.OpApply, Forge: "gitlab", Repo: h.path, MR: 1, Commit: mr.SHA,
		Replica: "replica-a", State: records.StateRunning, StartedAt: time.Now(), Heartbeat: time.Now(), Status: forge.StatusApply}, true)
	if err := h.rv.orphaned(context.Background(), ev, h.load(h.rv, ev.MRRef())); !errors.Is(err, errApplyRunning) {
		t.Fatalf("a claim whose run is renewed: %v, want errApplyRunning", err)
	}
	if _, active, _ := h.rv.cfg.Records.Find(context.Background(), ev.RepoRef(), young); !active {
		t.Error("the live run was closed")
	}
}

// TestApplyOfADeadReplicaIsClosed: an apply whose replica stopped renewing
// its run record is closed as interrupted, its commit status failed, and
// left for the event to settle; so is a claim whose run never started.
func TestApplyOfADeadReplicaIsClosed(t *testing.T) {
	h, ev := claimSetup(t)
	run := records.NewRunID()
	if err := h.claim(h.rv, ev, run, time.Now().Add(-time.Hour).UTC()); err != nil {
		t.Fatal(err)
	}
	if err := h.rv.orphaned(context.Background(), ev, h.load(h.rv, ev.MRRef())); err != nil {
		t.Fatalf("a claim an hour old whose run never started: %v, want it orphaned", err)
	}
	mr, _ := h.gl.MergeRequest(h.path, 1)
	h.writeRun(records.Record{ID: run, Operation: planner.OpApply, Forge: "gitlab", Repo: h.path, MR: 1, Commit: mr.SHA,
		Replica: "replica-a", State: records.StateRunning, StartedAt: time.Now().Add(-time.Hour), Heartbeat: time.Now().Add(-time.Hour),
		Status: forge.StatusApply}, true)
	if err := h.rv.orphaned(context.Background(), ev, h.load(h.rv, ev.MRRef())); err != nil {
		t.Fatalf("a claim whose replica died: %v, want it orphaned", err)
	}
	if rec, active, err := h.rv.cfg.Records.Find(context.Background(), ev.RepoRef(), run); err != nil || active || rec.State != records.StateInterrupted {
		t.Fatalf("the dead run's record = %+v, active %v, %v; want closed as interrupted", rec, active, err)
	}
	if got := h.status(1, forge.StatusApply); got != "failed" {
		t.Errorf("strata/apply = %q, want failed", got)
	}
}

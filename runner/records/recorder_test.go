package records

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/strata-iac/strata/planner"
	"github.com/strata-iac/strata/runner/forge"
	"github.com/strata-iac/strata/runner/store"
)

func newRecorder(t *testing.T, st store.Store, replica string) *Recorder {
	return &Recorder{Store: st, Replica: replica, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

// TestRunRecordLifecycle: a started run sits under runs/active/ and is
// found by its replica after a crash; a finished run is under its
// repository, with its stacks, and no longer active.
func TestRunRecordLifecycle(t *testing.T) {
	ctx := context.Background()
	st, err := store.OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	repo := forge.RepoRef{Forge: "gitlab", Path: "acme/infra"}
	var ended []*Record
	rec := newRecorder(t, st, "r1")
	rec.Ended = func(r *Record) { ended = append(ended, r) }
	crashed := rec.Start(ctx, Run{Operation: planner.OpApply, Repo: repo, MR: 4, Commit: "abc", Trigger: TriggerMerge, Status: "strata/apply"})
	done := rec.Start(ctx, Run{Operation: planner.OpPlan, Repo: repo, MR: 4, Commit: "abc", Trigger: TriggerOpened})

	sum := planner.Summary{Stacks: []planner.Result{{Dir: "live/app", Status: planner.StatusChanges, Counts: planner.Counts{Create: 2}}}}
	rec.Finish(ctx, done, StateCompleted, &sum, nil)
	data, err := st.Get(ctx, "runs/gitlab/acme/infra/"+done.ID+".json")
	if err != nil {
		t.Fatal(err)
	}
	var back Record
	if err := json.Unmarshal(data, &back); err != nil || back.State != StateCompleted || len(back.Stacks) != 1 || back.Stacks[0].Counts.Create != 2 {
		t.Fatalf("finished record %s (%v)", data, err)
	}
	if _, err := st.Get(ctx, ActiveRunKey(done.ID)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a finished run is still active: %v", err)
	}
	if len(ended) != 1 || ended[0].ID != done.ID {
		t.Errorf("Ended saw %v", ended)
	}

	if other := newRecorder(t, st, "r2").Interrupted(ctx); len(other) != 0 {
		t.Errorf("another replica claims %d runs", len(other))
	}
	left := newRecorder(t, st, "r1").Interrupted(ctx)
	if len(left) != 1 || left[0].ID != crashed.ID || left[0].Status != "strata/apply" {
		t.Fatalf("after the crash, r1 finds %+v", left)
	}
	rec.Finish(ctx, left[0], StateInterrupted, nil, nil)
	if left := rec.Interrupted(ctx); len(left) != 0 {
		t.Errorf("still in progress after Finish: %v", left)
	}
}

func openStore(t *testing.T) store.Store {
	st, err := store.OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestHeartbeatKeepsARunAlive: a run whose replica renews its record is
// never taken for abandoned; once the renewals stop (the replica died),
// another replica closes it as interrupted, exactly once however many
// look, and the run's own end, should it come after all, is what stays.
func TestHeartbeatKeepsARunAlive(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	repo := forge.RepoRef{Forge: "gitlab", Path: "acme/infra"}
	r1 := newRecorder(t, st, "r1")
	r1.Lease = 300 * time.Millisecond
	run := r1.Start(WithItem(ctx, "gitlab:delivery-1"), Run{Operation: planner.OpPlan, Repo: repo, MR: 7, Commit: "abc", Status: "strata/plan"})
	var closers []*Recorder
	var ended atomic.Int32
	for _, name := range []string{"r2", "r3", "r4"} {
		c := newRecorder(t, st, name)
		c.Lease = r1.Lease
		c.Ended = func(*Record) { ended.Add(1) }
		closers = append(closers, c)
	}
	time.Sleep(3 * r1.Lease)
	if got := closers[0].Abandon(ctx, nil); len(got) != 0 {
		t.Fatalf("a run renewed by its replica was abandoned: %+v", got)
	}
	if got, active, err := closers[0].Find(ctx, repo, run.ID); err != nil || !active || got.Item != "gitlab:delivery-1" || !got.Heartbeat.After(run.StartedAt) {
		t.Fatalf("Find = %+v, %v, %v; want the active record, renewed, with its queue item", got, active, err)
	}

	r1.stopBeat(run.ID) // the replica dies: no more renewals, no Finish
	time.Sleep(r1.Lease)
	var wg sync.WaitGroup
	var closed atomic.Int32
	for _, c := range closers {
		wg.Go(func() {
			got := c.Abandon(ctx, func(rec *Record) bool { return rec.Item == "gitlab:delivery-1" })
			closed.Add(int32(len(got)))
		})
	}
	wg.Wait()
	if closed.Load() != 1 || ended.Load() != 1 {
		t.Fatalf("%d replicas closed the dead run (%d ended), want exactly 1", closed.Load(), ended.Load())
	}
	got, active, err := closers[0].Find(ctx, repo, run.ID)
	if err != nil || active || got.State != StateInterrupted || !strings.Contains(got.Error, "replica r1 stopped") {
		t.Fatalf("after the abandon: %+v, active %v, %v; want a finished record saying interrupted and why", got, active, err)
	}
	r1.Finish(ctx, run, StateCompleted, nil, nil)
	if got, _, _ := closers[0].Find(ctx, repo, run.ID); got.State != StateCompleted {
		t.Errorf("the run's own end did not replace the interrupted record: %s", got.State)
	}
}

// TestAbandonSkipsOwnRunsAndOthersItems: a replica never abandons a run it
// is still renewing itself, and a match narrows the runs it looks at.
func TestAbandonSkipsOwnRunsAndOthersItems(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	repo := forge.RepoRef{Forge: "gitlab", Path: "acme/infra"}
	r1 := newRecorder(t, st, "r1")
	r1.Lease = time.Hour
	mine := r1.Start(ctx, Run{Operation: planner.OpApply, Repo: repo, MR: 1})
	defer r1.Finish(ctx, mine, StateCompleted, nil, nil)
	dead := newRecorder(t, st, "r2")
	run := dead.Start(WithItem(ctx, "item-b"), Run{Operation: planner.OpPlan, Repo: repo, MR: 2})
	dead.stopBeat(run.ID)
	later := newRecorder(t, st, "r1")
	later.Lease = time.Nanosecond
	if got := later.Abandon(ctx, func(rec *Record) bool { return rec.Item == "item-a" }); len(got) != 0 {
		t.Errorf("abandoned %d runs of another item", len(got))
	}
	r1.Lease = time.Nanosecond
	if got := r1.Abandon(ctx, nil); len(got) != 1 || got[0].ID != run.ID {
		t.Errorf("Abandon = %+v, want only r2's dead run (r1 still renews its own)", got)
	}
}

package records

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"testing"

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

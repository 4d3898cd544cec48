package review

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/strata-iac/strata/runner/forge"
	"github.com/strata-iac/strata/runner/records"
	"github.com/strata-iac/strata/runner/store"
)

// Replicas and the apply in progress: st.Applying is claimed with a
// conditional write before terraform starts, so of the replicas that try,
// one wins; a later event that finds it asks the run records whether the
// replica running it is alive (orphaned) before treating it as cut short
// (settleInterrupted).

// errApplyRunning makes the queue retry an event later: an apply of the
// merge request's plans runs on another replica.
var errApplyRunning = errors.New("an apply of these plans is running on another replica")

// claimApply records a as the apply in progress, over the state as st was
// read: when another replica wrote the state since, nothing is claimed
// and errApplyRunning sends the event back to the queue, whose next try
// reads the state again and finds the other replica's apply, or its end.
func (r *Reviewer) claimApply(ctx context.Context, st *state, a *applying) error {
	a.Replica = r.cfg.Records.Replica
	st.Applying = a
	err := r.saveStrict(ctx, st)
	if errors.Is(err, store.ErrPreconditionFailed) {
		st.Applying = nil
		return fmt.Errorf("%w: the merge request's state changed while this replica claimed the apply", errApplyRunning)
	}
	return err
}

// orphaned judges the apply st records as in progress. While its replica
// runs it (its run record is active and renewed, or the claim is younger
// than a heartbeat lease and its record not written yet), the answer is
// errApplyRunning. Otherwise the replica died, or was restarted, before
// the apply ended: its record, if still open, is closed as interrupted and
// its commit status failed, and orphaned returns nil for the caller to
// settle what the apply left.
func (r *Reviewer) orphaned(ctx context.Context, ev forge.Event, st *state) error {
	a := st.Applying
	rec, active, err := r.cfg.Records.Find(ctx, st.Ref.RepoRef, a.Run)
	if err != nil {
		return err
	}
	now := time.Now()
	switch {
	case rec == nil && !r.cfg.Records.Stale(&records.Record{StartedAt: a.Started}, now):
		return fmt.Errorf("%w (%s, starting run %s)", errApplyRunning, a.Replica, a.Run)
	case active && !r.cfg.Records.Stale(rec, now):
		return fmt.Errorf("%w (%s, run %s)", errApplyRunning, rec.Replica, a.Run)
	case active:
		for _, dead := range r.cfg.Records.Abandon(ctx, func(x *records.Record) bool { return x.ID == a.Run }) {
			r.setStatus(ctx, ev.Repo, dead.Commit, forge.Status{Name: forge.StatusApply, State: forge.StatusFailed,
				Description: "interrupted: the strata replica applying it stopped"})
		}
	}
	return nil
}

package review

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/strata-iac/strata/planner"
	"github.com/strata-iac/strata/planner/comment"
	"github.com/strata-iac/strata/runner/forge"
	"github.com/strata-iac/strata/runner/lock"
)

// lockStacks takes the lock of every selected stack instance for the
// merge request. It returns the instances to plan, the results of those
// another merge request holds (by name), and the keys now held.
func (r *Reviewer) lockStacks(ctx context.Context, ref forge.MRRef, ev forge.Event, tgt *planner.Target) (toPlan []string, locked map[string]planner.Result, held []string, err error) {
	locked = map[string]planner.Result{}
	owner := lock.Owner{ID: ref.String(), Head: ev.HeadSHA, User: ev.User}
	for _, name := range tgt.Stacks {
		st := tgt.Analysis.Instance(name)
		key := lock.Key(ref.Forge, ref.Path, st.Dir, st.Workspace)
		_, err := r.cfg.Locks.Acquire(ctx, key, owner)
		var he *lock.HeldError
		switch {
		case errors.As(err, &he):
			locked[name] = planner.Result{
				Dir: st.Dir, Workspace: st.Workspace, Status: planner.StatusLocked, Commit: ev.HeadSHA,
				LockedBy: ref.Short(he.Lock.Owner),
			}
		case err != nil:
			return nil, nil, nil, fmt.Errorf("lock %s: %w", key, err)
		default:
			toPlan = append(toPlan, name)
			held = append(held, key)
		}
	}
	return toPlan, locked, held, nil
}

// releaseExcept releases the keys of old the merge request no longer needs.
func (r *Reviewer) releaseExcept(ctx context.Context, ref forge.MRRef, old, keep []string) {
	want := map[string]bool{}
	for _, k := range keep {
		want[k] = true
	}
	for _, k := range old {
		if !want[k] {
			r.release(ctx, ref, k)
		}
	}
}

func (r *Reviewer) release(ctx context.Context, ref forge.MRRef, key string) {
	err := r.cfg.Locks.Release(ctx, key, ref.String())
	if err != nil && !errors.Is(err, lock.ErrNotHolder) {
		r.log.Error("cannot release lock", "key", key, "mr", ref.String(), "err", err)
		return
	}
	if err == nil {
		r.log.Info("lock released", "key", key, "mr", ref.String())
	}
}

// releaseAll releases every lock the merge request holds, whether or not
// its state lists it.
func (r *Reviewer) releaseAll(ctx context.Context, ref forge.MRRef) error {
	locks, err := r.cfg.Locks.List(ctx)
	if err != nil {
		return err
	}
	for _, l := range locks {
		if l.Owner == ref.String() {
			r.release(ctx, ref, l.Key)
		}
	}
	return nil
}

// closed releases a closed merge request's locks.
func (r *Reviewer) closed(ctx context.Context, ev forge.Event) error {
	ref := ev.MRRef()
	if err := r.releaseAll(ctx, ref); err != nil {
		return err
	}
	st, err := r.loadState(ctx, ref)
	if err != nil {
		return err
	}
	st.Locks = nil
	if err := r.saveState(ctx, st); err != nil {
		return err
	}
	if st.Plans == "" {
		return nil
	}
	return r.upsertNote(ctx, ref, "### 🔓 Closed\n\nThis merge request was closed: its locks are released and its plans will not be applied.")
}

// unlock runs `strata unlock`: release the locks and discard the plans.
func (r *Reviewer) unlock(ctx context.Context, ev forge.Event) error {
	ref := ev.MRRef()
	if err := r.releaseAll(ctx, ref); err != nil {
		return err
	}
	st, err := r.loadState(ctx, ref)
	if err != nil {
		return err
	}
	st.Locks, st.Plans, st.PolicyApproval = nil, "", nil
	if err := r.saveState(ctx, st); err != nil {
		return err
	}
	r.setStatus(ctx, ev.Repo, ev.HeadSHA, forge.Status{Name: forge.StatusPlan, State: forge.StatusFailed, Description: "plans discarded by strata unlock"})
	return r.upsertNote(ctx, ref, fmt.Sprintf("### 🔓 Unlocked by %s\n\nThe locks of this merge request are released and its plans discarded. Comment `strata plan` to plan again.", comment.Inert("@"+ev.User)))
}

// Sweep releases the locks of a merge request that is merged or closed
// (or gone); the server queues one for every owner of a lock it finds,
// in case a webhook was lost.
func (r *Reviewer) Sweep(ctx context.Context, ref forge.MRRef) error {
	return r.sweep(ctx, ref, forge.StateOpened, forge.StateLocked)
}

// sweep releases the locks of merge request ref unless its state is one
// of keep.
func (r *Reviewer) sweep(ctx context.Context, ref forge.MRRef, keep ...forge.MRState) error {
	mr, err := r.cfg.Forge.MergeRequest(ctx, ref.Path, ref.Number)
	if errors.Is(err, forge.ErrNotFound) {
		mr.State = forge.StateClosed
	} else if err != nil {
		return err
	}
	if slices.Contains(keep, mr.State) {
		return nil
	}
	r.log.Info("lock sweep: releasing the locks of a merge request that is no longer open", "mr", ref.String(), "state", string(mr.State))
	return r.releaseAll(ctx, ref)
}

package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/strata-iac/strata/planner"
	"github.com/strata-iac/strata/runner/forge"
	"github.com/strata-iac/strata/runner/lock"
	"github.com/strata-iac/strata/runner/queue"
)

// lockStacks takes the lock of every selected stack for the merge request.
// It returns the stacks to plan, the results of those another merge
// request holds, and the keys now held.
func (s *Server) lockStacks(ctx context.Context, ref mrRef, ev forge.Event, tgt *planner.Target) (toPlan []string, locked map[string]planner.Result, held []string, err error) {
	locked = map[string]planner.Result{}
	owner := lock.Owner{ID: ref.String(), Head: ev.HeadSHA, User: ev.User}
	for _, dir := range tgt.Dirs {
		ws := tgt.Analysis.Config.WorkspaceFor(dir)
		key := lock.Key(ref.Forge, ref.Repo, dir, ws)
		_, err := s.cfg.Locks.Acquire(ctx, key, owner)
		var he *lock.HeldError
		switch {
		case errors.As(err, &he):
			locked[dir] = planner.Result{
				Dir: dir, Workspace: ws, Status: planner.StatusLocked, Commit: ev.HeadSHA,
				LockedBy: ref.shortRef(he.Lock.Owner),
			}
		case err != nil:
			return nil, nil, nil, fmt.Errorf("lock %s: %w", key, err)
		default:
			toPlan = append(toPlan, dir)
			held = append(held, key)
		}
	}
	return toPlan, locked, held, nil
}

// releaseExcept releases the keys of old the merge request no longer needs.
func (s *Server) releaseExcept(ctx context.Context, ref mrRef, old, keep []string) {
	want := map[string]bool{}
	for _, k := range keep {
		want[k] = true
	}
	for _, k := range old {
		if !want[k] {
			s.release(ctx, ref, k)
		}
	}
}

func (s *Server) release(ctx context.Context, ref mrRef, key string) {
	err := s.cfg.Locks.Release(ctx, key, ref.String())
	if err != nil && !errors.Is(err, lock.ErrNotHolder) {
		s.log.Error("cannot release lock", "key", key, "mr", ref.String(), "err", err)
		return
	}
	if err == nil {
		s.log.Info("lock released", "key", key, "mr", ref.String())
	}
}

// releaseAll releases every lock the merge request holds, whether or not
// its state lists it.
func (s *Server) releaseAll(ctx context.Context, ref mrRef) error {
	locks, err := s.cfg.Locks.List(ctx)
	if err != nil {
		return err
	}
	for _, l := range locks {
		if l.Owner == ref.String() {
			s.release(ctx, ref, l.Key)
		}
	}
	return nil
}

// closed releases a closed merge request's locks.
func (s *Server) closed(ctx context.Context, ev forge.Event) error {
	ref := refOf(ev)
	if err := s.releaseAll(ctx, ref); err != nil {
		return err
	}
	st, err := s.loadState(ctx, ref)
	if err != nil {
		return err
	}
	st.Locks = nil
	if err := s.saveState(ctx, st); err != nil {
		return err
	}
	if st.Plans == "" {
		return nil
	}
	return s.upsertNote(ctx, ref, "### 🔓 Closed\n\nThis merge request was closed: its locks are released and its plans will not be applied.")
}

// unlock runs `strata unlock`: release the locks and discard the plans.
func (s *Server) unlock(ctx context.Context, ev forge.Event) error {
	ref := refOf(ev)
	if err := s.releaseAll(ctx, ref); err != nil {
		return err
	}
	st, err := s.loadState(ctx, ref)
	if err != nil {
		return err
	}
	st.Locks, st.Plans, st.PolicyApproval = nil, "", nil
	if err := s.saveState(ctx, st); err != nil {
		return err
	}
	s.setStatus(ctx, ev.Repo, ev.HeadSHA, forge.Status{Name: forge.StatusPlan, State: forge.StatusFailed, Description: "plans discarded by strata unlock"})
	return s.upsertNote(ctx, ref, fmt.Sprintf("### 🔓 Unlocked by @%s\n\nThe locks of this merge request are released and its plans discarded. Comment `strata plan` to plan again.", ev.User))
}

// sweepLoop looks for locks of merge requests that are no longer open,
// every SweepInterval: a close webhook can be lost, a lock must not be.
// It queues a check per merge request rather than releasing directly, so
// the check runs after any event of that merge request still queued (a
// merge waiting to be applied keeps its locks until it is).
func (s *Server) sweepLoop(ctx context.Context) {
	t := time.NewTicker(s.cfg.SweepInterval)
	defer t.Stop()
	for {
		s.sweep(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Server) sweep(ctx context.Context) {
	locks, err := s.cfg.Locks.List(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("lock sweep: cannot list locks", "err", err)
		}
		return
	}
	s.metrics.locksHeld.Set(float64(len(locks)))
	seen := map[string]bool{}
	round := time.Now().Truncate(s.cfg.SweepInterval).Unix()
	for _, l := range locks {
		ref, ok := parseRef(l.Owner)
		if !ok || ref.Forge != s.cfg.Forge.Name() || seen[l.Owner] {
			continue
		}
		seen[l.Owner] = true
		payload, _ := json.Marshal(ref)
		_, err := s.cfg.Queue.Put(ctx, queue.Item{
			ID: fmt.Sprintf("sweep:%s:%d", ref, round), Group: ref.String(), Kind: kindSweep, Payload: payload,
		})
		if err != nil && ctx.Err() == nil {
			s.log.Error("lock sweep: cannot queue a check", "mr", ref.String(), "err", err)
		}
	}
}

// sweepMR releases the locks of a merge request that is merged or closed
// (or gone).
func (s *Server) sweepMR(ctx context.Context, ref mrRef) error {
	mr, err := s.cfg.Forge.MergeRequest(ctx, ref.Repo, ref.Number)
	if errors.Is(err, forge.ErrNotFound) {
		mr.State = forge.StateClosed
	} else if err != nil {
		return err
	}
	if mr.State == forge.StateOpened || mr.State == forge.StateLocked {
		return nil
	}
	s.log.Info("lock sweep: releasing the locks of a merge request that is no longer open", "mr", ref.String(), "state", string(mr.State))
	return s.releaseAll(ctx, ref)
}

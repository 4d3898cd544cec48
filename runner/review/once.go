package review

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/strata-iac/strata/planner"
	"github.com/strata-iac/strata/runner/forge"
	"github.com/strata-iac/strata/runner/records"
	"github.com/strata-iac/strata/runner/store"
)

// applyClaim is one apply of a plan set, as the state records it before
// terraform starts: an event delivered again, or handled by a second
// replica while the first still runs, finds it and never applies the
// plans again.
type applyClaim struct {
	// Run is the run record of the apply; Plans the plan set it applies;
	// Commit what it applies at.
	Run     string    `json:"run"`
	Plans   string    `json:"plans"`
	Commit  string    `json:"commit"`
	Replica string    `json:"replica"`
	At      time.Time `json:"at"`
	// Done says the apply completed: its event is answered if delivered
	// again.
	Done bool `json:"done,omitempty"`
}

// claimTries bounds how often beginApply claims again after another
// replica wrote the state first.
const claimTries = 8

// errApplyRunning makes the queue retry an event later: an apply of the
// same plans runs on another replica.
var errApplyRunning = errors.New("an apply of these plans is running on another replica")

// beginApply claims the apply of st's plans at commit for the delivery
// being handled, as run, with a conditional write: of the replicas that
// try, one wins. It returns false, with what it told the merge request,
// when terraform must not run:
//
//   - this delivery applied these plans already (it was delivered again
//     after the apply completed): it answers "already applied";
//   - an apply of these plans was interrupted (its replica died mid-way):
//     what it changed is unknown, so strata never applies them again and
//     says to plan again;
//   - another replica is applying them now: errApplyRunning, retried.
//
// A claim whose run never started (its replica died first) is dropped
// once it is as old as a stale heartbeat.
func (r *Reviewer) beginApply(ctx context.Context, ev forge.Event, st *state, commit, run string) (bool, error) {
	item := claimKey(ctx, run)
	for try := 1; ; try++ {
		for id, c := range st.Applies {
			if c.Plans != st.Plans {
				delete(st.Applies, id) // a claim of older plans at the same prefix
				continue
			}
			if c.Done {
				if id == item {
					r.log.Info("apply already done for this delivery", "mr", st.Ref.String(), "commit", c.Commit, "run", c.Run)
					return false, r.reply(ctx, ev, fmt.Sprintf("These plans were already applied at `%s` (run %s); this event was delivered again, and strata applies a plan once.", short(c.Commit), c.Run))
				}
				continue
			}
			rec, active, err := r.cfg.Records.Find(ctx, st.Ref.RepoRef, c.Run)
			if err != nil {
				return false, err
			}
			switch {
			case rec == nil && r.cfg.Records.Stale(&records.Record{StartedAt: c.At}, time.Now()):
				delete(st.Applies, id)
			case rec == nil:
				return false, fmt.Errorf("%w (%s, starting run %s)", errApplyRunning, c.Replica, c.Run)
			case active && !r.cfg.Records.Stale(rec, time.Now()):
				return false, fmt.Errorf("%w (%s, run %s)", errApplyRunning, rec.Replica, c.Run)
			case active:
				for _, dead := range r.cfg.Records.Abandon(ctx, func(x *records.Record) bool { return x.ID == c.Run }) {
					r.setStatus(ctx, ev.Repo, dead.Commit, forge.Status{Name: forge.StatusApply, State: forge.StatusFailed, Description: "interrupted: the strata replica applying it stopped"})
				}
				return false, r.interrupted(ctx, ev, c)
			case rec.State == records.StateCompleted:
				// The run ended but its replica died before recording it here.
				c.Done, st.AppliedAt = true, c.Commit
				if id == item {
					if err := r.saveState(ctx, st); err != nil {
						return false, err
					}
					return false, r.reply(ctx, ev, fmt.Sprintf("These plans were already applied at `%s` (run %s); this event was delivered again, and strata applies a plan once.", short(c.Commit), c.Run))
				}
			case rec.State == records.StateInterrupted:
				return false, r.interrupted(ctx, ev, c)
			default:
				delete(st.Applies, id) // it ended, failed or refused, and said so
			}
		}
		if st.Applies == nil {
			st.Applies = map[string]*applyClaim{}
		}
		st.Applies[item] = &applyClaim{Run: run, Plans: st.Plans, Commit: commit, Replica: r.cfg.Records.Replica, At: time.Now().UTC()}
		err := r.saveStrict(ctx, st)
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, store.ErrPreconditionFailed) || try == claimTries {
			return false, err
		}
		fresh, err := r.loadState(ctx, st.Ref)
		if err != nil {
			return false, err
		}
		*st = *fresh
	}
}

// endApply records how a claimed apply ended, before the event is
// acknowledged: completed, the claim is done and the plans applied at
// commit; failed before terraform ran, or with results terraform
// reported, the claim goes and a later apply may try again, as terraform
// refuses a plan its state has moved past.
func (r *Reviewer) endApply(ctx context.Context, st *state, run string, sum *planner.Summary, commit string) error {
	key := claimKey(ctx, run)
	c := st.Applies[key]
	switch {
	case sum != nil && len(sum.Failed()) == 0:
		st.AppliedAt = commit
		if c != nil {
			c.Done = true
		}
	case c != nil:
		delete(st.Applies, key)
	default:
		return nil
	}
	return r.saveState(context.WithoutCancel(ctx), st)
}

// claimKey is the delivery an apply is claimed for: the queue item being
// handled, or, outside the server's queue, the run itself.
func claimKey(ctx context.Context, run string) string {
	if item := records.ItemOf(ctx); item != "" {
		return item
	}
	return "run:" + run
}

// interrupted tells the merge request that an apply of its plans stopped
// half-way and will not be repeated.
func (r *Reviewer) interrupted(ctx context.Context, ev forge.Event, c *applyClaim) error {
	r.log.Warn("apply interrupted earlier: not applying these plans again", "mr", ev.MRRef().String(), "run", c.Run, "replica", c.Replica)
	return r.reply(ctx, ev, fmt.Sprintf("The apply of these plans that started at %s (run %s, on %s) was interrupted: its replica stopped before it finished. "+
		"What it changed is unknown, so strata will not apply these plans again. Comment `strata plan` to plan again, check the new plan, then apply it.",
		c.At.Format(time.RFC3339), c.Run, c.Replica))
}

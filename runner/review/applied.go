package review

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/strata-iac/strata/planner"
	"github.com/strata-iac/strata/planner/comment"
	"github.com/strata-iac/strata/runner/forge"
	"github.com/strata-iac/strata/runner/records"
	"github.com/strata-iac/strata/runner/store"
	"github.com/strata-iac/strata/stacks"
)

// What a merge request's applies did, kept so a plan is applied once: a
// completed apply is recorded in the state before the event is
// acknowledged (recordApplies), an event that finds its plans applied says
// so and changes nothing (alreadyApplied), and one that finds an apply a
// crash cut short settles it (settleInterrupted).

// changingStacks names (DIR or DIR@WORKSPACE) the stacks of planned whose
// plans have changes: those an apply touches.
func changingStacks(planned []planner.Result) []string {
	var names []string
	for _, res := range planned {
		if res.Status == planner.StatusChanges {
			names = append(names, res.Name())
		}
	}
	return names
}

// interruptedAmong lists the stacks of planned whose last apply was cut
// short.
func interruptedAmong(st *state, planned []planner.Result) []string {
	var out []string
	for _, d := range changingStacks(planned) {
		if slices.Contains(st.Interrupted, d) {
			out = append(out, d)
		}
	}
	return out
}

// notApplied splits planned into what is left to apply and the stacks
// whose plans are applied already. Nothing is left when every stack with
// changes is applied.
func notApplied(st *state, planned []planner.Result) (left []planner.Result, done []string) {
	for _, res := range planned {
		if _, ok := st.Applied[res.Name()]; ok && res.Status == planner.StatusChanges {
			done = append(done, res.Name())
			continue
		}
		left = append(left, res)
	}
	if len(changingStacks(left)) == 0 && len(done) > 0 {
		return nil, done
	}
	return left, done
}

// recordApplies saves, first thing after terraform, what an apply did: the
// stacks applied, those whose apply was cut short, and the apply's summary
// for later notes.
func (r *Reviewer) recordApplies(ctx context.Context, st *state, run, commit string, sum planner.Summary) error {
	if err := r.saveApplied(ctx, st, sum); err != nil {
		r.log.Error("cannot keep the summary of an apply", "mr", st.Ref.String(), "err", err)
	}
	now := time.Now().UTC()
	if st.Applied == nil {
		st.Applied = map[string]appliedStack{}
	}
	for _, res := range sum.Stacks {
		switch {
		case res.Status == planner.StatusApplied:
			st.Applied[res.Name()] = appliedStack{Run: run, Commit: commit, At: now}
		case res.Interrupted != nil:
			st.Interrupted = union(st.Interrupted, []string{res.Name()})
		}
	}
	st.Applying = nil
	return r.saveState(ctx, st)
}

// saveApplied adds sum's stacks to the summary of the applies of st's
// plans.
func (r *Reviewer) saveApplied(ctx context.Context, st *state, sum planner.Summary) error {
	if prev, ok := r.loadApplied(ctx, st); ok {
		sum = replaceStacks(prev, sum)
	}
	data, err := json.Marshal(sum)
	if err != nil {
		return err
	}
	_, err = r.cfg.Store.Put(ctx, records.MRAppliedKey(st.Ref, st.Head), data)
	return err
}

func (r *Reviewer) loadApplied(ctx context.Context, st *state) (planner.Summary, bool) {
	data, err := r.cfg.Store.Get(ctx, records.MRAppliedKey(st.Ref, st.Head))
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			r.log.Error("cannot read the summary of the applies", "mr", st.Ref.String(), "err", err)
		}
		return planner.Summary{}, false
	}
	var sum planner.Summary
	if err := json.Unmarshal(data, &sum); err != nil {
		return planner.Summary{}, false
	}
	return sum, true
}

// alreadyApplied answers an event asking to apply plans that are applied
// (a redelivery after a crash, a second approval): no terraform, and the
// status and note say what they said after the apply.
func (r *Reviewer) alreadyApplied(ctx context.Context, ev forge.Event, cfg *stacks.Config, st *state, mr forge.MergeRequest, done []string, trigger records.Trigger) error {
	var last appliedStack
	for _, d := range done {
		if a := st.Applied[d]; a.At.After(last.At) {
			last = a
		}
	}
	r.log.Info("already applied; nothing to do", "mr", ev.MRRef().String(), "stacks", done, "applied_at", last.At, "run", last.Run)
	sum, ok := r.loadApplied(ctx, st)
	if ok && len(sum.Failed()) == 0 {
		note, err := r.postNote(ctx, ev.MRRef(), r.render(cfg, sum, applyNext(cfg, sum, trigger)))
		r.setStatus(ctx, ev.Repo, st.Head, r.report(forge.StatusApply, forge.StatusSuccess, sum, note))
		if err != nil {
			return err
		}
	}
	if trigger == records.TriggerComment {
		return r.reply(ctx, ev, fmt.Sprintf("already applied at %s (commit `%s`, run %s): strata applies a plan once, so nothing was run.",
			last.At.Format("2006-01-02 15:04:05 UTC"), short(last.Commit), last.Run))
	}
	if ok && len(sum.Failed()) == 0 && cfg.Automerge && trigger != records.TriggerMerge && mr.State == forge.StateOpened {
		return r.automerge(ctx, ev, st)
	}
	return nil
}

// settleInterrupted handles an apply that a crash of strata cut short (the
// state still says it is in progress): it is not run again; a fresh run of
// each of its stacks finds out what it left (tainted resources, a state
// lock its terraform held, released), and the note says so and what to do.
func (r *Reviewer) settleInterrupted(ctx context.Context, ev forge.Event, cfg *stacks.Config, st *state) error {
	a := st.Applying
	ref := ev.MRRef()
	r.log.Warn("an apply was cut short by a restart; finding out what it left", "mr", ref.String(), "run", a.Run, "stacks", a.Stacks)
	rec := r.cfg.Records.Start(ctx, records.Run{
		Operation: planner.OpApply, Repo: ref.RepoRef, MR: ref.Number, Commit: a.Commit,
		User: ev.User, Trigger: a.Trigger, Status: forge.StatusApply,
	})
	defer r.failOnPanic(ctx, rec, ev.Repo, st.Head, forge.StatusApply)
	sum, err := r.settleAt(ctx, ev, a)
	if err != nil {
		r.cfg.Records.Finish(ctx, rec, records.StateFailed, nil, err)
		return err
	}
	post := context.WithoutCancel(ctx)
	st.Interrupted = union(st.Interrupted, a.Stacks)
	st.Applying = nil
	if err := r.saveState(post, st); err != nil {
		return err
	}
	r.cfg.Records.Finish(post, rec, records.StateInterrupted, &sum, nil)
	where := ""
	if a.Replica != "" {
		where = ", on " + comment.Code(a.Replica)
	}
	next := fmt.Sprintf("The apply begun at %s (run %s%s) was interrupted: the strata server running it stopped before terraform finished, "+
		"so what it changed is unknown and strata will not apply these plans again. %s",
		a.Started.Format("2006-01-02 15:04:05 UTC"), a.Run, where, interruptedNext(a.Trigger))
	note, err := r.postNote(post, ref, r.render(cfg, sum, next))
	r.setStatus(post, ev.Repo, st.Head, forge.Status{Name: forge.StatusApply, State: forge.StatusFailed,
		Description: "apply interrupted: plan again, then apply", TargetURL: note.URL})
	return err
}

// settleAt runs planner.Session.SettleApplies for an interrupted apply.
func (r *Reviewer) settleAt(ctx context.Context, ev forge.Event, a *applying) (planner.Summary, error) {
	sess, err := r.open(ctx, ev, a.Commit)
	if err != nil {
		return planner.Summary{}, err
	}
	defer sess.Close()
	c, err := sess.Repo().Resolve(a.Commit)
	if err != nil {
		return planner.Summary{}, err
	}
	an, err := sess.Repo().Analyze(ctx, c)
	if err != nil {
		return planner.Summary{}, err
	}
	return sess.SettleApplies(ctx, c, an, a.Stacks, a.Started)
}

// RecoverApply closes the record of an apply this replica left running
// when it died. An apply the merge request's state records as completed is
// finished as completed, its commit status left as it is; any other is
// finished as interrupted, with a failed status, and the event that
// started it, delivered again, finds out what it left (settleInterrupted).
func (r *Reviewer) RecoverApply(ctx context.Context, rec *records.Record) {
	ref := forge.MRRef{RepoRef: rec.RepoRef(), Number: rec.MR}
	st, err := r.loadState(ctx, ref)
	if err != nil {
		r.log.Error("cannot read the state of an interrupted apply", "mr", ref.String(), "run", rec.ID, "err", err)
		st = &state{Ref: ref, Head: rec.Commit}
	}
	for _, a := range st.Applied {
		if a.Run == rec.ID {
			r.log.Info("an apply completed before a restart; its record is closed as completed", "mr", ref.String(), "run", rec.ID)
			r.cfg.Records.Finish(ctx, rec, records.StateCompleted, nil, nil)
			return
		}
	}
	r.log.Warn("apply interrupted by a restart", "mr", ref.String(), "run", rec.ID)
	head := st.Head
	if head == "" {
		head = rec.Commit
	}
	r.setStatus(ctx, ref.Path, head, forge.Status{Name: forge.StatusApply, State: forge.StatusFailed,
		Description: "interrupted: the strata server restarted mid-apply; the merge request says what it left"})
	r.cfg.Records.Finish(ctx, rec, records.StateInterrupted, nil, nil)
}

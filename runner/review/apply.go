package review

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/strata-iac/strata/planner"
	"github.com/strata-iac/strata/planner/comment"
	"github.com/strata-iac/strata/runner/forge"
	"github.com/strata-iac/strata/runner/records"
	"github.com/strata-iac/strata/runner/store"
	"github.com/strata-iac/strata/stacks"
)

// apply applies the reviewed plans of a merge request, when every
// requirement holds, and only from the plan files that were reviewed. cfg
// is strata.yaml of the target branch. A plan is applied once: an event
// that finds it applied (a redelivery, a second approval) answers so and
// changes nothing, and one that finds an apply a crash cut short settles
// it (applied.go). A refusal, or nothing to apply, is settled.
func (r *Reviewer) apply(ctx context.Context, ev forge.Event, cfg *stacks.Config, only []string, trigger records.Trigger) (planner.Summary, error) {
	ref := ev.MRRef()
	st, err := r.loadState(ctx, ref)
	if err != nil {
		return planner.Summary{}, err
	}
	if st.Plans == "" {
		none := fmt.Errorf("there is nothing to apply: %w", ErrNoPlans)
		if trigger == records.TriggerComment {
			return planner.Summary{}, settle(none, r.reply(ctx, ev, none.Error()+". Comment `strata plan` first."))
		}
		return planner.Summary{}, settled{none}
	}
	if st.Applying != nil {
		if err := r.orphaned(ctx, ev, st); err != nil {
			return planner.Summary{}, err
		}
		return planner.Summary{}, settle(errors.New("an earlier apply of these plans was interrupted: plan again, then apply the new plans"),
			r.settleInterrupted(ctx, ev, cfg, st))
	}
	plans := store.Prefixed(r.cfg.Store, st.Plans)
	saved, err := planner.ReadSummary(ctx, plans)
	if err != nil {
		return planner.Summary{}, err
	}
	planned, err := pick(saved, only)
	if err != nil {
		return planner.Summary{}, settle(err, r.reply(ctx, ev, err.Error()))
	}
	// Named partial plans are applied only by comment, whatever apply_on
	// says: neither a merge nor an approval applies them.
	partial := trigger == records.TriggerComment && len(only) > 0 && onlyPartial(planned)
	if trigger == records.TriggerComment && cfg.ApplyOn == stacks.ApplyOnMerge && !partial {
		return planner.Summary{}, settle(errors.New("this repository applies on merge (apply_on: merge in strata.yaml)"),
			r.reply(ctx, ev, "this repository applies on merge (`apply_on: merge` in strata.yaml): merge the merge request to apply its plans. Only a partial plan (made with `-target`) is applied by comment: `strata apply -s STACK`."))
	}
	mr, err := r.cfg.Forge.MergeRequest(ctx, ev.Repo, ev.Number)
	if err != nil {
		return planner.Summary{}, err
	}
	if cut := interruptedAmong(st, planned); len(cut) > 0 {
		r.log.Info("not applying plans whose last apply was interrupted", "mr", ref.String(), "stacks", cut)
		why := fmt.Errorf("the last apply of %s was interrupted, so these plans no longer match the state", strings.Join(cut, ", "))
		if trigger != records.TriggerComment {
			return planner.Summary{}, settled{why}
		}
		return planner.Summary{}, settle(why, r.reply(ctx, ev, fmt.Sprintf("the last apply of %s was interrupted, so these plans no longer match the state. "+
			"Comment `strata plan` to plan again, then apply the new plans.", strings.Join(codeList(cut), ", "))))
	}
	planned, done := notApplied(st, planned)
	if len(planned) == 0 {
		return planner.Summary{}, r.alreadyApplied(ctx, ev, cfg, st, mr, done, trigger)
	}
	applyAt := st.Head
	if trigger == records.TriggerMerge {
		applyAt = mr.MergedSHA
		if applyAt == "" {
			applyAt = ev.MergeCommitSHA
		}
	}
	if unmet, err := r.unmet(ctx, ev, mr, st, cfg, planned, trigger); err != nil {
		return planner.Summary{}, err
	} else if len(unmet) > 0 {
		return planner.Summary{}, settle(&RefusedError{Unmet: unmet}, r.refuse(ctx, ev, cfg, st, saved, unmet, trigger))
	}

	run := records.NewRunID()
	if err := r.claimApply(ctx, st, &applying{Run: run, Commit: applyAt, Stacks: changingStacks(planned), Started: time.Now().UTC(), Trigger: trigger}); err != nil {
		return planner.Summary{}, err
	}
	r.setStatus(ctx, ev.Repo, st.Head, forge.Status{Name: forge.StatusApply, State: forge.StatusRunning, Description: "applying", TargetURL: r.jobURL()})
	rec := r.cfg.Records.Start(ctx, records.Run{
		ID: run, Operation: planner.OpApply, Repo: ref.RepoRef, MR: ref.Number, Commit: applyAt,
		User: ev.User, Trigger: trigger, Status: forge.StatusApply,
	})
	defer r.failOnPanic(ctx, rec, ev.Repo, st.Head, forge.StatusApply)
	ctx = planner.WithLiveLog(ctx, r.cfg.Records.RunLog(ctx, rec))
	allow := planner.Allow{FailedPolicies: approvedFor(st, st.Head), Partial: trigger == records.TriggerComment && len(only) > 0}
	sum, ver, err := r.applyAt(ctx, ev, applyAt, plans, planned, allow)
	// What happened is recorded, durably and first, even when the run was
	// cut short: the state says which stacks are applied before anything
	// else is told.
	post := context.WithoutCancel(ctx)
	if err != nil {
		state := records.StateFailed
		if ctx.Err() != nil {
			state = records.StateInterrupted
		}
		st.Applying = nil // nothing was applied: the failure came before terraform
		if serr := r.saveState(post, st); serr != nil {
			r.log.Error("cannot record that the apply did not start", "mr", ref.String(), "err", serr)
		}
		r.cfg.Records.Finish(post, rec, state, nil, err)
		r.setStatus(post, ev.Repo, st.Head, forge.Status{Name: forge.StatusApply, State: forge.StatusFailed, Description: "not applied: " + oneLine(err.Error()), TargetURL: r.jobURL()})
		return planner.Summary{}, err
	}
	if err := r.recordApplies(post, st, rec.ID, applyAt, sum); err != nil {
		return sum, err
	}
	ok := len(sum.Failed()) == 0
	state, status := records.StateCompleted, forge.StatusSuccess
	switch {
	case !ok && ctx.Err() != nil:
		state, status = records.StateInterrupted, forge.StatusFailed
	case !ok:
		state, status = records.StateFailed, forge.StatusFailed
	}
	rec.Verify = ver.record
	r.cfg.Records.Finish(post, rec, state, &sum, nil)
	note, err := r.postNote(post, ref, r.render(cfg, sum, applyNext(cfg, sum, trigger), ver.text, r.runLinks(rec, sum)))
	r.setStatus(post, ev.Repo, st.Head, r.report(forge.StatusApply, status, sum, note))
	if err != nil {
		return sum, err
	}
	if ok && cfg.Automerge && trigger != records.TriggerMerge {
		return sum, r.automerge(post, ev, st)
	}
	return sum, nil
}

// ErrNoPlans is an apply of a merge request strata never planned (or
// whose plans `strata unlock` discarded).
var ErrNoPlans = errors.New("strata holds no plan for this merge request")

// RefusedError is an apply refused because requirements do not hold; each
// entry says which one and what to do (Markdown, as on the note).
type RefusedError struct{ Unmet []string }

func (e *RefusedError) Error() string {
	return "the apply is refused: " + strings.ReplaceAll(strings.Join(e.Unmet, " "), "**", "")
}

// automerge merges the merge request after a clean apply (automerge:
// true).
func (r *Reviewer) automerge(ctx context.Context, ev forge.Event, st *state) error {
	if _, err := r.cfg.Forge.Merge(ctx, ev.Repo, ev.Number, forge.MergeOptions{SHA: st.Head}); err != nil {
		return r.reply(ctx, ev, fmt.Sprintf("the plans are applied but strata could not merge: %s. Merge it by hand.", comment.Inert(err.Error())))
	}
	return nil
}

// applyNext is the next step of an apply's note.
func applyNext(cfg *stacks.Config, sum planner.Summary, trigger records.Trigger) string {
	if failed := sum.Failed(); len(failed) > 0 {
		for _, res := range sum.Stacks {
			if res.Interrupted != nil {
				return interruptedNext(trigger)
			}
		}
		if trigger == records.TriggerMerge {
			return "This merge request is merged, but the stacks above were not applied. The locks are released: " +
				"open a merge request that plans them again to apply what is left."
		}
		return "Apply failed: fix the cause, push, and strata plans again."
	}
	switch {
	case trigger == records.TriggerMerge:
		return "Applied. The locks are released."
	case cfg.Automerge:
		return "Applied. strata merges this merge request now (`automerge: true`)."
	}
	return "Applied. Merge this merge request to release its locks."
}

// interruptedNext is the next step after an apply that was cut short.
func interruptedNext(trigger records.Trigger) string {
	if trigger == records.TriggerMerge {
		return "The apply was interrupted, and the plans no longer match the state (see each stack above). This merge request is merged: " +
			"open one that touches these stacks to plan them again, then apply the new plans once reviewed."
	}
	return "The apply was interrupted, and the plans no longer match the state (see each stack above). Comment `strata plan` to plan again, " +
		"then apply the new plans once reviewed."
}

// applyAt applies planned (read from plans) at commit sha, then plans the
// applied stacks again (feedback.go).
func (r *Reviewer) applyAt(ctx context.Context, ev forge.Event, sha string, plans store.Store, planned []planner.Result, allow planner.Allow) (planner.Summary, verdict, error) {
	sess, err := r.open(ctx, ev, sha)
	if err != nil {
		return planner.Summary{}, verdict{}, err
	}
	defer sess.Close()
	c, err := sess.Repo().Resolve(sha)
	if err != nil {
		return planner.Summary{}, verdict{}, err
	}
	an, err := sess.Repo().Analyze(ctx, c)
	if err != nil {
		return planner.Summary{}, verdict{}, err
	}
	sum, err := sess.ApplyPlanned(ctx, plans, c, an, planned, allow)
	if err != nil {
		return sum, verdict{}, err
	}
	return sum, r.verify(ctx, sess, ev.MRRef(), sha, sum), nil
}

// pick selects the saved results to apply: every one, or those named
// (DIR: every instance of DIR; DIR@WORKSPACE: one).
func pick(saved planner.Summary, only []string) ([]planner.Result, error) {
	if len(only) == 0 {
		return saved.Stacks, nil
	}
	var out []planner.Result
	for _, name := range only {
		found := false
		for _, res := range saved.Stacks {
			if !stacks.Names(name, res.Dir, res.Workspace) {
				continue
			}
			found = true
			if !slices.ContainsFunc(out, func(o planner.Result) bool { return o.Name() == res.Name() }) {
				out = append(out, res)
			}
		}
		if !found {
			return nil, fmt.Errorf("%s has no plan on this merge request; comment %s first", comment.Code(name), comment.Code("strata plan -s "+name))
		}
	}
	return out, nil
}

// onlyPartial reports whether every plan with changes among planned is
// partial, and there is one.
func onlyPartial(planned []planner.Result) bool {
	n := 0
	for _, res := range planned {
		if res.Status != planner.StatusChanges {
			continue
		}
		if !res.Partial() {
			return false
		}
		n++
	}
	return n > 0
}

// refuse reports unmet requirements on the note and the apply status.
func (r *Reviewer) refuse(ctx context.Context, ev forge.Event, cfg *stacks.Config, st *state, saved planner.Summary, unmet []string, trigger records.Trigger) error {
	ref := ev.MRRef()
	rec := r.cfg.Records.Start(ctx, records.Run{
		Operation: planner.OpApply, Repo: ref.RepoRef, MR: ref.Number, Commit: st.Head,
		User: ev.User, Trigger: trigger, Status: forge.StatusApply,
	})
	r.cfg.Records.Finish(ctx, rec, records.StateRefused, nil, errors.New(strings.Join(unmet, "; ")))
	next := "**Apply refused** (" + string(trigger) + "): these requirements do not hold yet:\n\n- " + strings.Join(unmet, "\n- ")
	note, err := r.postNote(ctx, ref, r.render(cfg, saved, next))
	target := note.URL
	if target == "" {
		target = r.jobURL()
	}
	r.setStatus(ctx, ev.Repo, st.Head, forge.Status{Name: forge.StatusApply, State: forge.StatusFailed,
		Description: "not applied: a requirement does not hold", TargetURL: target})
	return err
}

// merged applies the plans of a merge request just merged (apply_on:
// merge), then releases its locks, also when the apply was refused.
func (r *Reviewer) merged(ctx context.Context, ev forge.Event) (planner.Summary, error) {
	cfg, err := r.targetConfig(ctx, ev)
	if err != nil {
		return planner.Summary{}, err
	}
	ref := ev.MRRef()
	var sum planner.Summary
	var outcome error
	if cfg.ApplyOn == stacks.ApplyOnMerge {
		sum, outcome = r.apply(ctx, ev, cfg, nil, records.TriggerMerge)
		if outcome != nil && !isSettled(outcome) {
			return sum, outcome
		}
	} else if st, err := r.loadState(ctx, ref); err == nil && st.Plans != "" && len(st.Applied) == 0 {
		r.log.Warn("merged without applying", "mr", ref.String())
		outcome = settle(fmt.Errorf("this merge request was merged before its plans were applied (apply_on: %s); they will not be applied now", cfg.ApplyOn),
			r.reply(ctx, ev, "this merge request was merged before its plans were applied; they will not be applied now. Plan the target branch again to see what is left to do."))
		if !isSettled(outcome) {
			return sum, outcome
		}
	}
	if err := r.releaseAll(ctx, ref); err != nil {
		return sum, err
	}
	return sum, outcome
}

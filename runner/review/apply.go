package review

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/strata-iac/strata/planner"
	"github.com/strata-iac/strata/runner/forge"
	"github.com/strata-iac/strata/runner/records"
	"github.com/strata-iac/strata/runner/store"
	"github.com/strata-iac/strata/stacks"
)

// apply applies the reviewed plans of a merge request, when every
// requirement holds, and only from the plan files that were reviewed. cfg
// is strata.yaml of the target branch. A refusal, or nothing to apply, is
// settled.
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
	if trigger == records.TriggerComment && cfg.ApplyOn == stacks.ApplyOnMerge {
		return planner.Summary{}, settle(errors.New("this repository applies on merge (apply_on: merge in strata.yaml)"),
			r.reply(ctx, ev, "this repository applies on merge (`apply_on: merge` in strata.yaml): merge the merge request to apply its plans."))
	}
	mr, err := r.cfg.Forge.MergeRequest(ctx, ev.Repo, ev.Number)
	if err != nil {
		return planner.Summary{}, err
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

	r.setStatus(ctx, ev.Repo, st.Head, forge.Status{Name: forge.StatusApply, State: forge.StatusRunning, Description: "applying", TargetURL: r.jobURL()})
	rec := r.cfg.Records.Start(ctx, records.Run{
		Operation: planner.OpApply, Repo: ref.RepoRef, MR: ref.Number, Commit: applyAt,
		User: ev.User, Trigger: trigger, Status: forge.StatusApply,
	})
	sum, err := r.applyAt(ctx, ev, applyAt, plans, planned, approvedFor(st, st.Head))
	if err != nil {
		state := records.StateFailed
		if ctx.Err() != nil {
			state = records.StateInterrupted
		}
		r.cfg.Records.Finish(ctx, rec, state, nil, err)
		r.setStatus(context.WithoutCancel(ctx), ev.Repo, st.Head, forge.Status{Name: forge.StatusApply, State: forge.StatusFailed, Description: "not applied: " + oneLine(err.Error()), TargetURL: r.jobURL()})
		return planner.Summary{}, err
	}
	ok := len(sum.Failed()) == 0
	state, status := records.StateCompleted, forge.StatusSuccess
	if !ok {
		state, status = records.StateFailed, forge.StatusFailed
	}
	r.cfg.Records.Finish(ctx, rec, state, &sum, nil)
	note, err := r.recordApply(ctx, ref, cfg, st, sum, applyAt, trigger)
	r.setStatus(ctx, ev.Repo, st.Head, r.report(forge.StatusApply, status, sum, note))
	if err != nil {
		return sum, err
	}
	if ok && cfg.Automerge && trigger != records.TriggerMerge {
		if _, err := r.cfg.Forge.Merge(ctx, ev.Repo, ev.Number, forge.MergeOptions{SHA: st.Head}); err != nil {
			return sum, r.reply(ctx, ev, fmt.Sprintf("the plans are applied but strata could not merge: %v. Merge it by hand.", err))
		}
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

// recordApply keeps a finished apply in the merge request's state (when
// it succeeded) and on its note, and returns the note.
func (r *Reviewer) recordApply(ctx context.Context, ref forge.MRRef, cfg *stacks.Config, st *state, sum planner.Summary, applyAt string, trigger records.Trigger) (forge.Note, error) {
	ok := len(sum.Failed()) == 0
	if ok {
		st.AppliedAt = applyAt
		if err := r.saveState(ctx, st); err != nil {
			return forge.Note{}, err
		}
	}
	next := "Apply failed: fix the cause, push, and strata plans again."
	if trigger == records.TriggerMerge {
		next = "This merge request is merged, but the stacks above were not applied. The locks are released: " +
			"open a merge request that plans them again to apply what is left."
	}
	if ok {
		next = "Applied. "
		switch {
		case trigger == records.TriggerMerge:
			next += "The locks are released."
		case cfg.Automerge:
			next += "strata merges this merge request now (`automerge: true`)."
		default:
			next += "Merge this merge request to release its locks."
		}
	}
	return r.postNote(ctx, ref, r.render(cfg, sum, next))
}

// applyAt applies planned (read from plans) at commit sha.
func (r *Reviewer) applyAt(ctx context.Context, ev forge.Event, sha string, plans store.Store, planned []planner.Result, policiesApproved bool) (planner.Summary, error) {
	sess, err := r.open(ctx, ev, sha)
	if err != nil {
		return planner.Summary{}, err
	}
	defer sess.Close()
	c, err := sess.Repo().Resolve(sha)
	if err != nil {
		return planner.Summary{}, err
	}
	an, err := sess.Repo().Analyze(ctx, c)
	if err != nil {
		return planner.Summary{}, err
	}
	return sess.ApplyPlanned(ctx, plans, c, an, planned, policiesApproved)
}

// pick selects the saved results to apply: every one, or those named.
func pick(saved planner.Summary, only []string) ([]planner.Result, error) {
	if len(only) == 0 {
		return saved.Stacks, nil
	}
	var out []planner.Result
	for _, d := range only {
		i := slices.IndexFunc(saved.Stacks, func(res planner.Result) bool { return res.Dir == d })
		if i < 0 {
			return nil, fmt.Errorf("`%s` has no plan on this merge request; comment `strata plan -s %s` first", d, d)
		}
		out = append(out, saved.Stacks[i])
	}
	return out, nil
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
	} else if st, err := r.loadState(ctx, ref); err == nil && st.Plans != "" && st.AppliedAt == "" {
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

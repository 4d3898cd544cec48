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
// is strata.yaml of the target branch.
func (r *Reviewer) apply(ctx context.Context, ev forge.Event, cfg *stacks.Config, only []string, trigger records.Trigger) error {
	ref := ev.MRRef()
	st, err := r.loadState(ctx, ref)
	if err != nil {
		return err
	}
	if st.Plans == "" {
		if trigger == records.TriggerComment {
			return r.reply(ctx, ev, "there is nothing to apply: strata holds no plan for this merge request. Comment `strata plan` first.")
		}
		return nil
	}
	if trigger == records.TriggerComment && cfg.ApplyOn == stacks.ApplyOnMerge {
		return r.reply(ctx, ev, "this repository applies on merge (`apply_on: merge` in strata.yaml): merge the merge request to apply its plans.")
	}
	mr, err := r.cfg.Forge.MergeRequest(ctx, ev.Repo, ev.Number)
	if err != nil {
		return err
	}
	plans := store.Prefixed(r.cfg.Store, st.Plans)
	saved, err := planner.ReadSummary(ctx, plans)
	if err != nil {
		return err
	}
	planned, err := pick(saved, only)
	if err != nil {
		return r.reply(ctx, ev, err.Error())
	}
	applyAt := st.Head
	if trigger == records.TriggerMerge {
		applyAt = mr.MergedSHA
		if applyAt == "" {
			applyAt = ev.MergeCommitSHA
		}
	}
	if unmet, err := r.unmet(ctx, ev, mr, st, cfg, planned, trigger); err != nil {
		return err
	} else if len(unmet) > 0 {
		return r.refuse(ctx, ev, cfg, st, saved, unmet, trigger)
	}

	run := records.NewRunID()
	if proceed, err := r.beginApply(ctx, ev, st, applyAt, run); !proceed {
		return err
	}
	r.setStatus(ctx, ev.Repo, st.Head, forge.Status{Name: forge.StatusApply, State: forge.StatusRunning, Description: "applying"})
	rec := r.cfg.Records.Start(ctx, records.Run{
		ID: run, Operation: planner.OpApply, Repo: ref.RepoRef, MR: ref.Number, Commit: applyAt,
		User: ev.User, Trigger: trigger, Status: forge.StatusApply,
	})
	ctx = planner.WithLiveLog(ctx, r.cfg.Records.RunLog(ctx, rec))
	sum, ver, err := r.applyAt(ctx, ev, applyAt, plans, planned, approvedFor(st, st.Head))
	if err != nil {
		state := records.StateFailed
		if ctx.Err() != nil {
			state = records.StateInterrupted
		}
		r.cfg.Records.Finish(ctx, rec, state, nil, err)
		if eerr := r.endApply(ctx, st, run, nil, applyAt); eerr != nil {
			r.log.Error("cannot record the end of an apply", "mr", ref.String(), "err", eerr)
		}
		r.setStatus(context.WithoutCancel(ctx), ev.Repo, st.Head, forge.Status{Name: forge.StatusApply, State: forge.StatusFailed, Description: "not applied: " + oneLine(err.Error())})
		return err
	}
	ok := len(sum.Failed()) == 0
	state, status := records.StateCompleted, forge.StatusSuccess
	if !ok {
		state, status = records.StateFailed, forge.StatusFailed
	}
	rec.Verify = ver.record
	r.cfg.Records.Finish(ctx, rec, state, &sum, nil)
	note, err := r.recordApply(ctx, ref, cfg, st, rec, sum, applyAt, trigger, ver.text)
	r.setStatus(ctx, ev.Repo, st.Head, report(forge.StatusApply, status, sum, note))
	if err != nil {
		return err
	}
	if ok && cfg.Automerge && trigger != records.TriggerMerge {
		if _, err := r.cfg.Forge.Merge(ctx, ev.Repo, ev.Number, forge.MergeOptions{SHA: st.Head}); err != nil {
			return r.reply(ctx, ev, fmt.Sprintf("the plans are applied but strata could not merge: %v. Merge it by hand.", err))
		}
	}
	return nil
}

// recordApply keeps a finished apply in the merge request's state (its
// claim done and the plans applied, when it succeeded; see once.go) and on
// its note, and returns the note.
func (r *Reviewer) recordApply(ctx context.Context, ref forge.MRRef, cfg *stacks.Config, st *state, rec *records.Record, sum planner.Summary, applyAt string, trigger records.Trigger, verified string) (forge.Note, error) {
	ok := len(sum.Failed()) == 0
	if err := r.endApply(ctx, st, rec.ID, &sum, applyAt); err != nil {
		return forge.Note{}, err
	}
	next := "Apply failed: fix the cause, push, and strata plans again."
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
	return r.postNote(ctx, ref, r.render(cfg, sum, feedback(next, verified, r.runLinks(rec, sum))))
}

// applyAt applies planned (read from plans) at commit sha, then plans the
// applied stacks again (feedback.go).
func (r *Reviewer) applyAt(ctx context.Context, ev forge.Event, sha string, plans store.Store, planned []planner.Result, policiesApproved bool) (planner.Summary, verdict, error) {
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
	sum, err := sess.ApplyPlanned(ctx, plans, c, an, planned, policiesApproved)
	if err != nil {
		return sum, verdict{}, err
	}
	return sum, r.verify(ctx, sess, ev.MRRef(), sha, sum), nil
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
	r.setStatus(ctx, ev.Repo, st.Head, forge.Status{Name: forge.StatusApply, State: forge.StatusFailed,
		Description: "not applied: a requirement does not hold", TargetURL: note.URL})
	return err
}

// merged applies the plans of a merge request just merged (apply_on:
// merge), then releases its locks.
func (r *Reviewer) merged(ctx context.Context, ev forge.Event) error {
	cfg, err := r.targetConfig(ctx, ev)
	if err != nil {
		return err
	}
	ref := ev.MRRef()
	if cfg.ApplyOn == stacks.ApplyOnMerge {
		if err := r.apply(ctx, ev, cfg, nil, records.TriggerMerge); err != nil {
			return err
		}
	} else if st, err := r.loadState(ctx, ref); err == nil && st.Plans != "" && st.AppliedAt == "" {
		r.log.Warn("merged without applying", "mr", ref.String())
		if err := r.reply(ctx, ev, "this merge request was merged before its plans were applied; they will not be applied now. Plan the target branch again to see what is left to do."); err != nil {
			return err
		}
	}
	return r.releaseAll(ctx, ref)
}

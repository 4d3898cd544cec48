package review

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/strata-iac/strata/internal/fault"
	"github.com/strata-iac/strata/planner"
	"github.com/strata-iac/strata/planner/comment"
	"github.com/strata-iac/strata/runner/forge"
	"github.com/strata-iac/strata/runner/records"
	"github.com/strata-iac/strata/runner/store"
	"github.com/strata-iac/strata/stacks"
)

// plan plans the stacks a merge request touches (or those named, only the
// resources targets names when there are any), holding a lock on each,
// and posts the result. A failure it told the merge request about is
// settled.
func (r *Reviewer) plan(ctx context.Context, ev forge.Event, only, targets []string, trigger records.Trigger) (planner.Summary, error) {
	ref := ev.MRRef()
	if ev.Fork && !r.cfg.AllowForks {
		r.setStatus(ctx, ev.Repo, ev.HeadSHA, forge.Status{Name: forge.StatusPlan, State: forge.StatusFailed, Description: "merge requests from forks are not planned"})
		return planner.Summary{}, settle(errors.New("merge requests from forks are not planned"), r.upsertNote(ctx, ref,
			"strata does not plan merge requests from forks: planning runs the merge request's code "+
				"with the server's credentials. Push the branch to this project instead, or ask the strata operators "+
				"to start the server with `--allow-forks`."))
	}
	st, err := r.loadState(ctx, ref)
	if err != nil {
		return planner.Summary{}, err
	}
	if st.Applying != nil {
		// An apply running elsewhere, or one a crash cut short, may hold
		// the state lock these plans need: wait for it, or settle it.
		if st, err = r.settleFirst(ctx, ev, st); err != nil {
			return planner.Summary{}, err
		}
	}
	r.setStatus(ctx, ev.Repo, ev.HeadSHA, forge.Status{Name: forge.StatusPlan, State: forge.StatusPending, Description: "planning", TargetURL: r.jobURL()})
	rec := r.cfg.Records.Start(ctx, records.Run{
		Operation: planner.OpPlan, Repo: ref.RepoRef, MR: ref.Number, Commit: ev.HeadSHA,
		User: ev.User, Trigger: trigger, Status: forge.StatusPlan,
	})
	defer r.failOnPanic(ctx, rec, ev.Repo, ev.HeadSHA, forge.StatusPlan)
	ctx = planner.WithLiveLog(ctx, r.cfg.Records.RunLog(ctx, rec))
	sum, note, err := r.planMR(ctx, ev, st, only, targets, rec)
	if err != nil {
		if fault.IsPermanent(err) {
			r.cfg.Records.Finish(ctx, rec, records.StateFailed, nil, err)
			r.setStatus(ctx, ev.Repo, ev.HeadSHA, forge.Status{Name: forge.StatusPlan, State: forge.StatusFailed, Description: oneLine(err.Error()), TargetURL: r.jobURL()})
			return planner.Summary{}, settle(err, r.upsertNote(ctx, ref, fmt.Sprintf("### ❌ strata could not plan `%s`\n\n%s%s", short(ev.HeadSHA), comment.Inert(err.Error()), r.jobLine())))
		}
		state := records.StateFailed
		if ctx.Err() != nil {
			state = records.StateInterrupted
		}
		r.cfg.Records.Finish(ctx, rec, state, nil, err)
		r.setStatus(context.WithoutCancel(ctx), ev.Repo, ev.HeadSHA, forge.Status{Name: forge.StatusPlan, State: forge.StatusFailed, Description: "not planned: " + oneLine(err.Error()), TargetURL: r.jobURL()})
		return planner.Summary{}, err
	}
	state, status := records.StateCompleted, forge.StatusSuccess
	if len(sum.Failed()) > 0 {
		state, status = records.StateFailed, forge.StatusFailed
	}
	r.cfg.Records.Finish(ctx, rec, state, &sum, nil)
	r.setStatus(ctx, ev.Repo, ev.HeadSHA, r.report(forge.StatusPlan, status, sum, note))
	return sum, nil
}

// settleFirst waits for an apply another replica runs (errApplyRunning,
// retried), or settles one a crash cut short, and reads the state again.
func (r *Reviewer) settleFirst(ctx context.Context, ev forge.Event, st *state) (*state, error) {
	if err := r.orphaned(ctx, ev, st); err != nil {
		return nil, err
	}
	cfg, err := r.targetConfig(ctx, ev)
	if err != nil {
		return nil, err
	}
	if err := r.settleInterrupted(ctx, ev, cfg, st); err != nil {
		return nil, err
	}
	return r.loadState(ctx, ev.MRRef())
}

// planMR does the work of plan: fetch, select, lock, plan, store, comment.
// It returns the run and strata's note.
func (r *Reviewer) planMR(ctx context.Context, ev forge.Event, st *state, only, targets []string, rec *records.Record) (planner.Summary, forge.Note, error) {
	ref := ev.MRRef()
	sess, err := r.open(ctx, ev, ev.HeadSHA)
	if err != nil {
		return planner.Summary{}, forge.Note{}, err
	}
	defer sess.Close()
	target := targetRef(ev)
	sel := planner.Selection{Base: target, Head: ev.HeadSHA}
	if len(only) > 0 {
		sel = planner.Selection{Head: ev.HeadSHA, Stacks: only, Targets: targets}
	}
	tgt, err := sess.Select(ctx, sel)
	if err != nil {
		return planner.Summary{}, forge.Note{}, err
	}
	toPlan, locked, held, err := r.lockStacks(ctx, ref, ev, tgt)
	if err != nil {
		return planner.Summary{}, forge.Note{}, err
	}
	sum, err := sess.PlanTarget(ctx, tgt, toPlan, target)
	if err != nil {
		// Keep a record of the locks just taken, so unlock and close find them.
		st.Locks = union(st.Locks, held)
		if serr := r.saveState(ctx, st); serr != nil {
			r.log.Error("cannot record locks", "mr", ref.String(), "err", serr)
		}
		return planner.Summary{}, forge.Note{}, err
	}
	sum.Stacks = mergeResults(tgt.Stacks, sum.Stacks, locked)
	prefix := records.MRPlansPrefix(ref, ev.HeadSHA)
	var replanned []string // nil: the whole plan set is new
	if len(only) > 0 && st.Head == ev.HeadSHA && st.Plans != "" {
		// A partial plan at the same commit updates the plan set.
		replanned = []string{}
		for _, res := range sum.Stacks {
			replanned = append(replanned, res.Name())
		}
		if prev, err := planner.ReadSummary(ctx, store.Prefixed(r.cfg.Store, st.Plans)); err == nil {
			sum = replaceStacks(prev, sum)
		}
	} else {
		r.releaseExcept(ctx, ref, st.Locks, held)
		st.Locks = nil
	}
	cfg, err := configAt(sess.Repo(), target)
	if err != nil {
		return planner.Summary{}, forge.Note{}, err
	}
	bodies := r.render(cfg, sum, "", r.runLinks(rec, sum))
	if err := planner.WriteOut(ctx, store.Prefixed(r.cfg.Store, prefix), sum, strings.Join(bodies, "\n\n")); err != nil {
		return planner.Summary{}, forge.Note{}, err
	}
	st.resetApplies(replanned)
	if st.Head != ev.HeadSHA {
		st.PolicyApproval = nil // an approval covers one commit only
	}
	st.Head, st.Base, st.Plans = ev.HeadSHA, sum.Base, prefix
	st.Locks = union(st.Locks, held)
	if err := r.saveState(ctx, st); err != nil {
		return planner.Summary{}, forge.Note{}, err
	}
	note, err := r.postNote(ctx, ref, bodies)
	return sum, note, err
}

// mergeResults lays planned and locked stack instances out in the
// selection's order (by instance name).
func mergeResults(order []string, planned []planner.Result, locked map[string]planner.Result) []planner.Result {
	byName := map[string]planner.Result{}
	for _, res := range planned {
		byName[res.Name()] = res
	}
	out := make([]planner.Result, 0, len(order))
	for _, n := range order {
		if res, ok := byName[n]; ok {
			out = append(out, res)
		} else if res, ok := locked[n]; ok {
			out = append(out, res)
		}
	}
	return out
}

// replaceStacks puts the stack instances of next into prev, keeping
// prev's others.
func replaceStacks(prev, next planner.Summary) planner.Summary {
	byName := map[string]planner.Result{}
	for _, res := range next.Stacks {
		byName[res.Name()] = res
	}
	var out []planner.Result
	for _, res := range prev.Stacks {
		if n, ok := byName[res.Name()]; ok {
			out = append(out, n)
			delete(byName, res.Name())
		} else {
			out = append(out, res)
		}
	}
	for _, res := range next.Stacks {
		if _, ok := byName[res.Name()]; ok {
			out = append(out, res)
		}
	}
	prev.Stacks, prev.CreatedAt = out, next.CreatedAt
	return prev
}

func union(a, b []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range append(append([]string{}, a...), b...) {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// render turns a run into note bodies that fit the forge's limit. next,
// when set, is the whole next step; else the outcome picks it, in the
// words of applyStep and replanStep. The last body ends with the feedback
// given (an apply's verification, links to the run's logs; feedback.go)
// and, in CI mode, a link to the job.
func (r *Reviewer) render(cfg *stacks.Config, sum planner.Summary, next string, feedback ...string) []string {
	inCI := r.cfg.Job != nil
	replan := replanStep
	if inCI {
		replan = replanStepCI
	}
	footer := footer(feedback...) + r.jobLine()
	bodies := comment.Render(sum, comment.Options{
		MaxSize: r.cfg.Forge.CommentLimit() - len(footer), Marker: noteMarker, Next: next,
		Steps:       comment.Steps{Apply: applyStep(cfg, sum, inCI), Replan: replan},
		PolicyHint:  r.policyHint(cfg),
		PartialHint: "A partial plan is never applied on merge or approval: someone allowed to apply comments `strata apply -s STACK` to apply it.",
	})
	bodies[len(bodies)-1] += footer
	return bodies
}

// policyHint says how failing policies can still be applied: a policy
// owner's comment, which in CI mode nothing reads.
func (r *Reviewer) policyHint(cfg *stacks.Config) string {
	if r.cfg.Job != nil {
		return "These plans cannot be applied until the policies pass: `strata approve-policies` is a comment command, and only `strata server` reads comments."
	}
	return fmt.Sprintf("A policy owner (%s) must comment `strata approve-policies` before these plans can be applied.", ownersText(cfg))
}

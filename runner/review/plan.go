package review

import (
	"context"
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

// plan plans the stacks a merge request touches (or those named), holding
// a lock on each, and posts the result.
func (r *Reviewer) plan(ctx context.Context, ev forge.Event, only []string, trigger records.Trigger) error {
	ref := ev.MRRef()
	if ev.Fork && !r.cfg.AllowForks {
		r.setStatus(ctx, ev.Repo, ev.HeadSHA, forge.Status{Name: forge.StatusPlan, State: forge.StatusFailed, Description: "merge requests from forks are not planned"})
		return r.upsertNote(ctx, ref, "strata does not plan merge requests from forks: planning runs the merge request's code "+
			"with the server's credentials. Push the branch to this project instead, or ask the strata operators "+
			"to start the server with `--allow-forks`.")
	}
	st, err := r.loadState(ctx, ref)
	if err != nil {
		return err
	}
	r.setStatus(ctx, ev.Repo, ev.HeadSHA, forge.Status{Name: forge.StatusPlan, State: forge.StatusPending, Description: "planning"})
	rec := r.cfg.Records.Start(ctx, records.Run{
		Operation: planner.OpPlan, Repo: ref.RepoRef, MR: ref.Number, Commit: ev.HeadSHA,
		User: ev.User, Trigger: trigger, Status: forge.StatusPlan,
	})
	ctx = planner.WithLiveLog(ctx, r.cfg.Records.RunLog(ctx, rec))
	sum, note, err := r.planMR(ctx, ev, st, only, rec)
	if err != nil {
		if fault.IsPermanent(err) {
			r.cfg.Records.Finish(ctx, rec, records.StateFailed, nil, err)
			r.setStatus(ctx, ev.Repo, ev.HeadSHA, forge.Status{Name: forge.StatusPlan, State: forge.StatusFailed, Description: oneLine(err.Error())})
			return r.upsertNote(ctx, ref, fmt.Sprintf("### ❌ strata could not plan `%s`\n\n%s", short(ev.HeadSHA), err.Error()))
		}
		state := records.StateFailed
		if ctx.Err() != nil {
			state = records.StateInterrupted
		}
		r.cfg.Records.Finish(ctx, rec, state, nil, err)
		r.setStatus(context.WithoutCancel(ctx), ev.Repo, ev.HeadSHA, forge.Status{Name: forge.StatusPlan, State: forge.StatusFailed, Description: "not planned: " + oneLine(err.Error())})
		return err
	}
	state, status := records.StateCompleted, forge.StatusSuccess
	if len(sum.Failed()) > 0 {
		state, status = records.StateFailed, forge.StatusFailed
	}
	r.cfg.Records.Finish(ctx, rec, state, &sum, nil)
	r.setStatus(ctx, ev.Repo, ev.HeadSHA, report(forge.StatusPlan, status, sum, note))
	return nil
}

// planMR does the work of plan: fetch, select, lock, plan, store, comment.
// It returns the run and strata's note.
func (r *Reviewer) planMR(ctx context.Context, ev forge.Event, st *state, only []string, rec *records.Record) (planner.Summary, forge.Note, error) {
	ref := ev.MRRef()
	sess, err := r.open(ctx, ev, ev.HeadSHA)
	if err != nil {
		return planner.Summary{}, forge.Note{}, err
	}
	defer sess.Close()
	target := "refs/heads/" + ev.TargetBranch
	sel := planner.Selection{Base: target, Head: ev.HeadSHA}
	if len(only) > 0 {
		sel = planner.Selection{Head: ev.HeadSHA, Stacks: only}
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
	sum.Stacks = mergeResults(tgt.Dirs, sum.Stacks, locked)
	prefix := records.MRPlansPrefix(ref, ev.HeadSHA)
	if len(only) > 0 && st.Head == ev.HeadSHA && st.Plans != "" {
		// A partial plan at the same commit updates the plan set.
		if prev, err := planner.ReadSummary(ctx, store.Prefixed(r.cfg.Store, st.Plans)); err == nil {
			sum = replaceStacks(prev, sum)
		}
	} else {
		r.releaseExcept(ctx, ref, st.Locks, held)
		st.Locks = nil
	}
	cfg, err := configAt(sess.Repo(), ev.TargetBranch)
	if err != nil {
		return planner.Summary{}, forge.Note{}, err
	}
	bodies := r.render(cfg, sum, feedback(nextStep(cfg, sum), "", r.runLinks(rec, sum)))
	if err := planner.WriteOut(ctx, store.Prefixed(r.cfg.Store, prefix), sum, strings.Join(bodies, "\n\n")); err != nil {
		return planner.Summary{}, forge.Note{}, err
	}
	if st.Head != ev.HeadSHA {
		st.PolicyApproval = nil // an approval covers one commit only
		st.AppliedAt = ""
	}
	st.Head, st.Base, st.Plans = ev.HeadSHA, sum.Base, prefix
	st.Applies = nil // new plans: no apply of them has begun
	st.Locks = union(st.Locks, held)
	if err := r.saveState(ctx, st); err != nil {
		return planner.Summary{}, forge.Note{}, err
	}
	note, err := r.postNote(ctx, ref, bodies)
	return sum, note, err
}

// mergeResults lays planned and locked stacks out in the selection's order.
func mergeResults(order []string, planned []planner.Result, locked map[string]planner.Result) []planner.Result {
	byDir := map[string]planner.Result{}
	for _, res := range planned {
		byDir[res.Dir] = res
	}
	out := make([]planner.Result, 0, len(order))
	for _, d := range order {
		if res, ok := byDir[d]; ok {
			out = append(out, res)
		} else if res, ok := locked[d]; ok {
			out = append(out, res)
		}
	}
	return out
}

// replaceStacks puts the stacks of next into prev, keeping prev's others.
func replaceStacks(prev, next planner.Summary) planner.Summary {
	byDir := map[string]planner.Result{}
	for _, res := range next.Stacks {
		byDir[res.Dir] = res
	}
	var out []planner.Result
	for _, res := range prev.Stacks {
		if n, ok := byDir[res.Dir]; ok {
			out = append(out, n)
			delete(byDir, res.Dir)
		} else {
			out = append(out, res)
		}
	}
	for _, res := range next.Stacks {
		if _, ok := byDir[res.Dir]; ok {
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

// render turns a run into note bodies that fit the forge's limit.
func (r *Reviewer) render(cfg *stacks.Config, sum planner.Summary, next string) []string {
	return comment.Render(sum, comment.Options{
		MaxSize: r.cfg.Forge.CommentLimit(), Marker: noteMarker, Next: next,
		PolicyHint: fmt.Sprintf("A policy owner (%s) must comment `strata approve-policies` before these plans can be applied.", ownersText(cfg)),
	})
}

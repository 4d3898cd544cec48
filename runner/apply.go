package runner

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/strata-iac/strata/planner"
	"github.com/strata-iac/strata/policy"
	"github.com/strata-iac/strata/runner/forge"
	"github.com/strata-iac/strata/runner/lock"
	"github.com/strata-iac/strata/stacks"
)

// apply applies the reviewed plans of a merge request, when every
// requirement holds, and only from the plan files that were reviewed. cfg
// is strata.yaml of the target branch.
func (s *Server) apply(ctx context.Context, ev forge.Event, cfg *stacks.Config, only []string, trigger string) error {
	ref := refOf(ev)
	st, err := s.loadState(ctx, ref)
	if err != nil {
		return err
	}
	if st.Plans == "" {
		if trigger == triggerComment {
			return s.reply(ctx, ev, "there is nothing to apply: strata holds no plan for this merge request. Comment `strata plan` first.")
		}
		return nil
	}
	if trigger == triggerComment && cfg.ApplyOn == stacks.ApplyOnMerge {
		return s.reply(ctx, ev, "this repository applies on merge (`apply_on: merge` in strata.yaml): merge the merge request to apply its plans.")
	}
	mr, err := s.cfg.Forge.MergeRequest(ctx, ev.Repo, ev.Number)
	if err != nil {
		return err
	}
	plans := prefixed{s.cfg.Store, st.Plans}
	saved, err := planner.ReadSummary(ctx, plans)
	if err != nil {
		return err
	}
	planned, err := pick(saved, only)
	if err != nil {
		return s.reply(ctx, ev, err.Error())
	}
	applyAt := st.Head
	if trigger == triggerMerge {
		applyAt = mr.MergedSHA
		if applyAt == "" {
			applyAt = ev.MergeCommitSHA
		}
	}
	if unmet, err := s.unmet(ctx, ev, mr, st, cfg, planned, trigger); err != nil {
		return err
	} else if len(unmet) > 0 {
		return s.refuse(ctx, ev, cfg, st, saved, unmet, trigger)
	}

	s.setStatus(ctx, ev.Repo, st.Head, forge.Status{Name: forge.StatusApply, State: forge.StatusRunning, Description: "applying"})
	rec := s.startRun(ctx, "apply", ref, applyAt, ev.User, trigger, forge.StatusApply)
	sum, err := s.applyAt(ctx, ev, applyAt, plans, planned, approvedFor(st, st.Head))
	if err != nil {
		state := runFailed
		if ctx.Err() != nil {
			state = runInterrupted
		}
		s.finishRun(ctx, rec, state, nil, err)
		s.setStatus(context.WithoutCancel(ctx), ev.Repo, st.Head, forge.Status{Name: forge.StatusApply, State: forge.StatusFailed, Description: "not applied: " + oneLine(err.Error())})
		return err
	}
	ok := len(failedDirs(sum)) == 0
	state, status := runCompleted, forge.StatusSuccess
	if !ok {
		state, status = runFailed, forge.StatusFailed
	}
	s.finishRun(ctx, rec, state, &sum, nil)
	s.setStatus(ctx, ev.Repo, st.Head, forge.Status{Name: forge.StatusApply, State: status, Description: describe(sum)})
	if ok {
		st.AppliedAt = applyAt
		if err := s.saveState(ctx, st); err != nil {
			return err
		}
	}
	next := "Apply failed: fix the cause, push, and strata plans again."
	if ok {
		next = "Applied. "
		switch {
		case trigger == triggerMerge:
			next += "The locks are released."
		case cfg.Automerge:
			next += "strata merges this merge request now (`automerge: true`)."
		default:
			next += "Merge this merge request to release its locks."
		}
	}
	if err := s.postNote(ctx, ref, s.render(cfg, sum, next)); err != nil {
		return err
	}
	if ok && cfg.Automerge && trigger != triggerMerge {
		if _, err := s.cfg.Forge.Merge(ctx, ev.Repo, ev.Number, forge.MergeOptions{SHA: st.Head}); err != nil {
			return s.reply(ctx, ev, fmt.Sprintf("the plans are applied but strata could not merge: %v. Merge it by hand.", err))
		}
	}
	return nil
}

// applyAt applies planned (read from plans) at commit sha.
func (s *Server) applyAt(ctx context.Context, ev forge.Event, sha string, plans prefixed, planned []planner.Result, policiesApproved bool) (planner.Summary, error) {
	sess, err := s.session(ctx, ev, sha)
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
		i := slices.IndexFunc(saved.Stacks, func(r planner.Result) bool { return r.Dir == d })
		if i < 0 {
			return nil, fmt.Errorf("`%s` has no plan on this merge request; comment `strata plan -s %s` first", d, d)
		}
		out = append(out, saved.Stacks[i])
	}
	return out, nil
}

// unmet checks the requirements of DESIGN §5 for the stacks about to be
// applied, and says for each one that fails what to do about it.
func (s *Server) unmet(ctx context.Context, ev forge.Event, mr forge.MergeRequest, st *mrState, cfg *stacks.Config, planned []planner.Result, trigger string) ([]string, error) {
	var unmet []string
	required := map[string]bool{}
	var changing []planner.Result
	for _, r := range planned {
		if r.Status == planner.StatusChanges {
			changing = append(changing, r)
			for _, req := range cfg.RequirementsFor(r.Dir) {
				required[req] = true
			}
		}
	}
	if trigger == triggerComment {
		if ok, err := s.isApplier(ctx, ev.User); err != nil {
			return nil, err
		} else if !ok {
			unmet = append(unmet, fmt.Sprintf("**permission**: @%s may not apply here; ask one of %s.", ev.User, strings.Join(s.cfg.Appliers, ", ")))
		}
	}
	if required[stacks.RequireApproved] {
		a, err := s.cfg.Forge.Approvals(ctx, ev.Repo, ev.Number)
		if err != nil {
			return nil, err
		}
		if !a.Satisfied() {
			msg := "**approved**: nobody has approved this merge request yet. Ask a reviewer to approve it."
			if a.Left > 0 {
				msg = fmt.Sprintf("**approved**: %d more approval%s needed. Ask a reviewer to approve it.", a.Left, plural(a.Left))
			}
			unmet = append(unmet, msg)
		}
	}
	if required[stacks.RequireMergeable] && trigger != triggerMerge {
		switch {
		case mr.Draft:
			unmet = append(unmet, "**mergeable**: the merge request is a draft. Mark it as ready.")
		case mr.Conflicts:
			unmet = append(unmet, "**mergeable**: the source branch conflicts with the target branch. Rebase it, and strata plans the new commit.")
		}
	}
	if required[stacks.RequireFresh] && mr.HeadSHA != st.Head {
		unmet = append(unmet, fmt.Sprintf("**fresh**: the plans are for `%s` but the merge request is at `%s`. strata plans new commits by itself; wait for that plan, or comment `strata plan`.", short(st.Head), short(mr.HeadSHA)))
	}
	ref := refOf(ev)
	for _, r := range changing {
		key := lock.Key(ref.Forge, ref.Repo, r.Dir, r.Workspace)
		l, ok, err := s.cfg.Locks.Get(ctx, key)
		if err != nil {
			return nil, err
		}
		if !ok || l.Owner != ref.String() {
			holder := "nobody"
			if ok {
				holder = ref.shortRef(l.Owner)
			}
			unmet = append(unmet, fmt.Sprintf("**lock**: `%s` is not locked by this merge request (held by %s). Comment `strata plan` to take the lock again once it is free.", r.Dir, holder))
		}
	}
	if failing := policyFailures(changing); len(failing) > 0 && !approvedFor(st, st.Head) {
		unmet = append(unmet, fmt.Sprintf("**policies**: %s fail%s policy checks. A policy owner (%s) must review them and comment `strata approve-policies`.",
			strings.Join(codeList(failing), ", "), pluralVerb(len(failing)), ownersText(cfg)))
	}
	return unmet, nil
}

// refuse reports unmet requirements on the note and the apply status.
func (s *Server) refuse(ctx context.Context, ev forge.Event, cfg *stacks.Config, st *mrState, saved planner.Summary, unmet []string, trigger string) error {
	ref := refOf(ev)
	rec := s.startRun(ctx, "apply", ref, st.Head, ev.User, trigger, forge.StatusApply)
	s.finishRun(ctx, rec, runRefused, nil, errors.New(strings.Join(unmet, "; ")))
	s.setStatus(ctx, ev.Repo, st.Head, forge.Status{Name: forge.StatusApply, State: forge.StatusFailed, Description: "not applied: a requirement does not hold"})
	next := "**Apply refused** (" + trigger + "): these requirements do not hold yet:\n\n- " + strings.Join(unmet, "\n- ")
	return s.postNote(ctx, ref, s.render(cfg, saved, next))
}

// merged applies the plans of a merge request just merged (apply_on:
// merge), then releases its locks.
func (s *Server) merged(ctx context.Context, ev forge.Event) error {
	cfg, err := s.targetConfig(ctx, ev)
	if err != nil {
		return err
	}
	ref := refOf(ev)
	if cfg.ApplyOn == stacks.ApplyOnMerge {
		if err := s.apply(ctx, ev, cfg, nil, triggerMerge); err != nil {
			return err
		}
	} else if st, err := s.loadState(ctx, ref); err == nil && st.Plans != "" && st.AppliedAt == "" {
		s.log.Warn("merged without applying", "mr", ref.String())
		if err := s.reply(ctx, ev, "this merge request was merged before its plans were applied; they will not be applied now. Plan the target branch again to see what is left to do."); err != nil {
			return err
		}
	}
	return s.releaseAll(ctx, ref)
}

// isApplier reports whether user may run `strata apply`.
func (s *Server) isApplier(ctx context.Context, user string) (bool, error) {
	if len(s.cfg.Appliers) == 0 {
		return true, nil
	}
	return s.isOneOf(ctx, user, s.cfg.Appliers)
}

// isOneOf reports whether user is named in list, directly or through a
// "group:path" or "team:path" entry.
func (s *Server) isOneOf(ctx context.Context, user string, list []string) (bool, error) {
	for _, who := range list {
		kind, name, isGroup := strings.Cut(who, ":")
		if !isGroup {
			if strings.EqualFold(strings.TrimPrefix(who, "@"), user) {
				return true, nil
			}
			continue
		}
		if kind != "group" && kind != "team" {
			continue
		}
		ok, err := s.cfg.Forge.IsMember(ctx, name, user)
		if err != nil {
			return false, err
		}
		if ok {
			return true, nil
		}
	}
	return false, nil
}

// approvePolicies runs `strata approve-policies`: a policy owner accepts
// the failing policies of the merge request's current commit.
func (s *Server) approvePolicies(ctx context.Context, ev forge.Event) error {
	ref := refOf(ev)
	cfg, err := s.targetConfig(ctx, ev)
	if err != nil {
		return err
	}
	if len(cfg.Policy.Owners) == 0 {
		return s.reply(ctx, ev, "no policy owners are configured (`policy.owners` in strata.yaml on the target branch), so nobody can approve failing policies.")
	}
	ok, err := s.isOneOf(ctx, ev.User, cfg.Policy.Owners)
	if err != nil {
		return err
	}
	if !ok {
		return s.reply(ctx, ev, fmt.Sprintf("only policy owners (%s) can approve failing policies.", ownersText(cfg)))
	}
	st, err := s.loadState(ctx, ref)
	if err != nil {
		return err
	}
	if st.Plans == "" || st.Head != ev.HeadSHA {
		return s.reply(ctx, ev, "there is no plan of the current commit to approve; wait for strata's plan, then approve it.")
	}
	st.PolicyApproval = &policyApproval{Commit: st.Head, By: ev.User, At: time.Now().UTC()}
	if err := s.saveState(ctx, st); err != nil {
		return err
	}
	return s.reply(ctx, ev, fmt.Sprintf("the failing policies of `%s` are approved. A new commit needs a new approval.", short(st.Head)))
}

func policyFailures(rs []planner.Result) []string {
	var out []string
	for _, r := range rs {
		if r.Policy != nil && r.Policy.Outcome == policy.Fail {
			out = append(out, r.Dir)
		}
	}
	return out
}

func approvedFor(st *mrState, commit string) bool {
	return st.PolicyApproval != nil && st.PolicyApproval.Commit == commit
}

func ownersText(cfg *stacks.Config) string {
	if len(cfg.Policy.Owners) == 0 {
		return "none configured"
	}
	return strings.Join(cfg.Policy.Owners, ", ")
}

func pluralVerb(n int) string {
	if n == 1 {
		return "s"
	}
	return ""
}

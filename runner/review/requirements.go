package review

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/strata-iac/strata/planner"
	"github.com/strata-iac/strata/planner/comment"
	"github.com/strata-iac/strata/policy"
	"github.com/strata-iac/strata/runner/forge"
	"github.com/strata-iac/strata/runner/lock"
	"github.com/strata-iac/strata/runner/records"
	"github.com/strata-iac/strata/stacks"
)

// unmet checks the apply requirements (strata.yaml's requirements, the
// locks, the policies) for the stacks about to be applied, and says for
// each one that fails what to do about it.
func (r *Reviewer) unmet(ctx context.Context, ev forge.Event, mr forge.MergeRequest, st *state, cfg *stacks.Config, planned []planner.Result, trigger records.Trigger) ([]string, error) {
	var unmet []string
	required := map[string]bool{}
	var changing []planner.Result
	for _, res := range planned {
		if res.Status == planner.StatusChanges {
			changing = append(changing, res)
			for _, req := range cfg.RequirementsFor(res.Dir) {
				required[req] = true
			}
		}
	}
	if trigger == records.TriggerComment {
		if ok, err := r.isApplier(ctx, ev.User); err != nil {
			return nil, err
		} else if !ok {
			unmet = append(unmet, fmt.Sprintf("**permission**: %s may not apply here; ask one of %s.", comment.Inert("@"+ev.User), inertList(r.cfg.Appliers)))
		}
	}
	if required[stacks.RequireApproved] {
		a, err := r.cfg.Forge.Approvals(ctx, ev.Repo, ev.Number)
		if err != nil {
			return nil, err
		}
		if !a.Satisfied() {
			msg := "**approved**: nobody has approved this merge request yet. Ask a reviewer to approve it."
			switch {
			case len(a.ChangesRequestedBy) > 0:
				msg = fmt.Sprintf("**approved**: %s requested changes. Their approval, or the dismissal of their review, is needed.",
					strings.Join(codeList(a.ChangesRequestedBy), ", "))
			case a.Left > 0:
				msg = fmt.Sprintf("**approved**: %d more approval%s needed. Ask a reviewer to approve it.", a.Left, plural(a.Left))
			}
			unmet = append(unmet, msg)
		}
	}
	if required[stacks.RequireMergeable] && trigger != records.TriggerMerge {
		switch {
		case mr.Draft:
			unmet = append(unmet, "**mergeable**: the merge request is a draft. Mark it as ready.")
		case mr.Conflicts:
			unmet = append(unmet, "**mergeable**: the source branch conflicts with the target branch. Rebase it, and strata plans the new commit.")
		case mr.Blocked != "":
			unmet = append(unmet, "**mergeable**: "+mr.Blocked)
		}
	}
	if required[stacks.RequireFresh] && mr.HeadSHA != st.Head {
		unmet = append(unmet, fmt.Sprintf("**fresh**: the plans are for `%s` but the merge request is at `%s`. strata plans new commits by itself; wait for that plan, or comment `strata plan`.", short(st.Head), short(mr.HeadSHA)))
	}
	ref := ev.MRRef()
	for _, res := range changing {
		key := lock.Key(ref.Forge, ref.Path, res.Dir, res.Workspace)
		l, ok, err := r.cfg.Locks.Get(ctx, key)
		if err != nil {
			return nil, err
		}
		if !ok || l.Owner != ref.String() {
			holder := "nobody"
			if ok {
				holder = comment.LockOwner(ref.Short(l.Owner))
			}
			unmet = append(unmet, fmt.Sprintf("**lock**: %s is not locked by this merge request (held by %s). Comment `strata plan` to take the lock again once it is free.", comment.Code(res.Name()), holder))
		}
	}
	if failing := policyFailures(changing); len(failing) > 0 && !approvedFor(st, st.Head) {
		what := fmt.Sprintf("A policy owner (%s) must review them and comment `strata approve-policies`.", ownersText(cfg))
		if r.cfg.Job != nil {
			what = "Change the code until they pass: only `strata server` reads a policy owner's `strata approve-policies`."
		}
		unmet = append(unmet, fmt.Sprintf("**policies**: %s fail%s policy checks. %s", strings.Join(codeList(failing), ", "), pluralVerb(len(failing)), what))
	}
	return unmet, nil
}

// isApplier reports whether user may run `strata apply`.
func (r *Reviewer) isApplier(ctx context.Context, user string) (bool, error) {
	if len(r.cfg.Appliers) == 0 {
		return true, nil
	}
	return r.isOneOf(ctx, user, r.cfg.Appliers)
}

// isOneOf reports whether user is named in list, directly or through a
// "group:path" or "team:path" entry.
func (r *Reviewer) isOneOf(ctx context.Context, user string, list []string) (bool, error) {
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
		ok, err := r.cfg.Forge.IsMember(ctx, name, user)
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
func (r *Reviewer) approvePolicies(ctx context.Context, ev forge.Event) error {
	ref := ev.MRRef()
	cfg, err := r.targetConfig(ctx, ev)
	if err != nil {
		return err
	}
	if len(cfg.Policy.Owners) == 0 {
		return r.reply(ctx, ev, "no policy owners are configured (`policy.owners` in strata.yaml on the target branch), so nobody can approve failing policies.")
	}
	ok, err := r.isOneOf(ctx, ev.User, cfg.Policy.Owners)
	if err != nil {
		return err
	}
	if !ok {
		return r.reply(ctx, ev, fmt.Sprintf("only policy owners (%s) can approve failing policies.", ownersText(cfg)))
	}
	st, err := r.loadState(ctx, ref)
	if err != nil {
		return err
	}
	if st.Plans == "" || st.Head != ev.HeadSHA {
		return r.reply(ctx, ev, "there is no plan of the current commit to approve; wait for strata's plan, then approve it.")
	}
	st.PolicyApproval = &policyApproval{Commit: st.Head, By: ev.User, At: time.Now().UTC()}
	if err := r.saveState(ctx, st); err != nil {
		return err
	}
	return r.reply(ctx, ev, fmt.Sprintf("the failing policies of `%s` are approved. A new commit needs a new approval.", short(st.Head)))
}

func policyFailures(rs []planner.Result) []string {
	var out []string
	for _, res := range rs {
		if res.Policy != nil && res.Policy.Outcome == policy.Fail {
			out = append(out, res.Name())
		}
	}
	return out
}

func approvedFor(st *state, commit string) bool {
	return st.PolicyApproval != nil && st.PolicyApproval.Commit == commit
}

func ownersText(cfg *stacks.Config) string {
	if len(cfg.Policy.Owners) == 0 {
		return "none configured"
	}
	return inertList(cfg.Policy.Owners)
}

// inertList renders names from strata.yaml or the server's flags as inert
// prose, comma-separated.
func inertList(names []string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = comment.Inert(n)
	}
	return strings.Join(out, ", ")
}

func pluralVerb(n int) string {
	if n == 1 {
		return "s"
	}
	return ""
}

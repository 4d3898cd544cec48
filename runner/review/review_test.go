package review

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/strata-iac/strata/internal/fakegitlab"
	"github.com/strata-iac/strata/planner"
	"github.com/strata-iac/strata/planner/comment"
	"github.com/strata-iac/strata/policy"
	"github.com/strata-iac/strata/runner/forge"
	"github.com/strata-iac/strata/runner/lock"
	"github.com/strata-iac/strata/runner/records"
	"github.com/strata-iac/strata/runner/store"
	"github.com/strata-iac/strata/stacks"
)

var repoFiles = map[string]string{
	"strata.yaml":         "version: 1\napply_on: comment\npolicy:\n  owners: [carol, group:security]\n",
	"live/app/main.tf":    "resource \"terraform_data\" \"app\" {}\n",
	"live/db/main.tf":     "resource \"terraform_data\" \"db\" {}\n",
	"modules/net/main.tf": "# a module\n",
}

// unmetFor evaluates the requirements of an apply of the merge request's
// saved plans, as `strata apply` from user would.
func (h *harness) unmetFor(iid int64, user string, trigger records.Trigger) []string {
	h.t.Helper()
	ctx := context.Background()
	ev := h.comment(iid, user, "strata apply")
	cfg, err := h.rv.targetConfig(ctx, ev)
	if err != nil {
		h.t.Fatal(err)
	}
	st, err := h.rv.loadState(ctx, ev.MRRef())
	if err != nil {
		h.t.Fatal(err)
	}
	mr, err := h.rv.cfg.Forge.MergeRequest(ctx, h.path, iid)
	if err != nil {
		h.t.Fatal(err)
	}
	saved, err := planner.ReadSummary(ctx, store.Prefixed(h.store, st.Plans))
	if err != nil {
		h.t.Fatal(err)
	}
	unmet, err := h.rv.unmet(ctx, ev, mr, st, cfg, saved.Stacks, trigger)
	if err != nil {
		h.t.Fatal(err)
	}
	return unmet
}

func hasPrefix(list []string, prefix string) bool {
	return slices.ContainsFunc(list, func(s string) bool { return strings.HasPrefix(s, prefix) })
}

// TestRequirements: each requirement fails on its own, says what to do,
// and holds once that is done.
func TestRequirements(t *testing.T) {
	h := newHarness(t, repoFiles)
	h.openMR(1, "app", map[string]string{"live/app/main.tf": "# changed\n"})
	h.plannedAt(1, changes("live/app"))

	unmet := h.unmetFor(1, "mallory", records.TriggerComment)
	if !hasPrefix(unmet, "**permission**: @\u2060mallory may not apply here; ask one of alice, group:platform.") {
		t.Errorf("mallory is no applier: %q", unmet)
	}
	if !hasPrefix(unmet, "**approved**: nobody has approved this merge request yet.") {
		t.Errorf("nobody approved: %q", unmet)
	}
	// A member of an appliers group may apply.
	h.gl.AddGroupMember("platform", "dave", fakegitlab.Developer)
	if hasPrefix(h.unmetFor(1, "dave", records.TriggerComment), "**permission**") {
		t.Error("dave, of group platform, may not apply")
	}

	h.gl.UpdateMergeRequest(h.path, 1, func(mr *fakegitlab.MergeRequest) { mr.ApprovalsRequired = 2 })
	h.gl.Approve(h.path, 1, "erin")
	if unmet := h.unmetFor(1, "alice", records.TriggerComment); !hasPrefix(unmet, "**approved**: 1 more approval needed.") {
		t.Errorf("one of two approvals: %q", unmet)
	}
	h.gl.Approve(h.path, 1, "frank")

	h.gl.UpdateMergeRequest(h.path, 1, func(mr *fakegitlab.MergeRequest) { mr.Draft = true })
	if unmet := h.unmetFor(1, "alice", records.TriggerComment); !hasPrefix(unmet, "**mergeable**: the merge request is a draft.") {
		t.Errorf("draft: %q", unmet)
	}
	// After a merge, mergeable no longer applies.
	if unmet := h.unmetFor(1, "alice", records.TriggerMerge); hasPrefix(unmet, "**mergeable**") {
		t.Errorf("merge trigger checks mergeable: %q", unmet)
	}
	h.gl.UpdateMergeRequest(h.path, 1, func(mr *fakegitlab.MergeRequest) { mr.Draft, mr.HasConflicts = false, true })
	if unmet := h.unmetFor(1, "alice", records.TriggerComment); !hasPrefix(unmet, "**mergeable**: the source branch conflicts") {
		t.Errorf("conflicts: %q", unmet)
	}
	h.gl.UpdateMergeRequest(h.path, 1, func(mr *fakegitlab.MergeRequest) { mr.HasConflicts = false })
	if unmet := h.unmetFor(1, "alice", records.TriggerComment); len(unmet) != 0 {
		t.Errorf("every requirement holds, yet: %q", unmet)
	}
}

// TestStalePlanIsNeverApplied: a push after the plan makes it stale; the
// apply is refused, on the note and the status, without touching
// anything.
func TestStalePlanIsNeverApplied(t *testing.T) {
	h := newHarness(t, repoFiles)
	h.openMR(1, "app", map[string]string{"live/app/main.tf": "# changed\n"})
	h.plannedAt(1, changes("live/app"))
	planned := h.event(1, forge.ActionOpened, "bob").HeadSHA
	h.gl.Approve(h.path, 1, "erin")
	h.repo.Git("checkout", "-q", "app")
	h.repo.Write(map[string]string{"live/app/main.tf": "# changed again\n"})
	pushed := h.repo.Commit("again")
	h.repo.Git("checkout", "-q", "main")
	h.gl.UpdateMergeRequest(h.path, 1, func(mr *fakegitlab.MergeRequest) { mr.SHA = pushed })

	h.handle(h.comment(1, "alice", "strata apply"))
	note := h.note(1)
	want := "**fresh**: the plans are for `" + planned[:12] + "` but the merge request is at `" + pushed[:12] + "`."
	if !strings.Contains(note, "**Apply refused** (comment)") || !strings.Contains(note, want) {
		t.Fatalf("note does not refuse the stale plan:\n%s", note)
	}
	if st, _ := h.gl.LatestStatus(h.path, planned, forge.StatusApply); st.State != "failed" {
		t.Errorf("strata/apply on the planned commit = %q, want failed", st.State)
	}
	keys, err := h.store.List(context.Background(), "runs/gitlab/acme/infra/")
	if err != nil || len(keys) != 1 {
		t.Fatalf("run records %v, %v; want the refused apply", keys, err)
	}
	if data, _ := h.store.Get(context.Background(), keys[0]); !strings.Contains(string(data), `"state": "refused"`) {
		t.Errorf("run record:\n%s", data)
	}
}

// TestLockedStacksAreNotPlanned: a second merge request touching a stack
// the first one holds reports it locked by !1, plans nothing, and leaves
// the lock with !1; an apply of !1 finds its lock gone once !2 took it.
func TestLockedStacksAreNotPlanned(t *testing.T) {
	h := newHarness(t, repoFiles)
	h.openMR(1, "app", map[string]string{"live/app/main.tf": "# one\n"})
	h.plannedAt(1, changes("live/app"))
	h.handle(h.openMR(2, "app-too", map[string]string{"live/app/main.tf": "# two\n"}))

	note := h.note(2)
	for _, want := range []string{"`live/app`", "locked by !1", "`live/app` is held by !1: once that merge request is merged or closed, comment `strata plan` to plan it."} {
		if !strings.Contains(note, want) {
			t.Errorf("note of !2 lacks %q:\n%s", want, note)
		}
	}
	if got := h.status(2, forge.StatusPlan); got != "success" {
		t.Errorf("strata/plan of !2 = %q", got)
	}
	key := lock.Key("gitlab", h.path, "live/app", "default")
	if l, ok, _ := h.locks.Get(context.Background(), key); !ok || l.Owner != "gitlab/acme/infra!1" {
		t.Fatalf("lock %s is %+v, want it with !1", key, l)
	}

	if err := h.locks.ForceRelease(context.Background(), key); err != nil {
		t.Fatal(err)
	}
	if _, err := h.locks.Acquire(context.Background(), key, lock.Owner{ID: "gitlab/acme/infra!2"}); err != nil {
		t.Fatal(err)
	}
	unmet := h.unmetFor(1, "alice", records.TriggerComment)
	if !hasPrefix(unmet, "**lock**: `live/app` is not locked by this merge request (held by !2).") {
		t.Errorf("apply without the lock: %q", unmet)
	}
}

// TestPolicyApproval: failing policies block the apply until a policy
// owner, named or through a group, approves this commit; others cannot;
// a new commit needs a new approval.
func TestPolicyApproval(t *testing.T) {
	h := newHarness(t, repoFiles)
	h.openMR(1, "app", map[string]string{"live/app/main.tf": "# changed\n"})
	failing := changes("live/app")
	failing.Policy = &policy.Result{Outcome: policy.Fail, Failures: []policy.Message{{Namespace: "main", Rule: "deny", Msg: "no"}}}
	h.plannedAt(1, failing)
	if unmet := h.unmetFor(1, "alice", records.TriggerComment); !hasPrefix(unmet, "**policies**: `live/app` fails policy checks. A policy owner (carol, group:security)") {
		t.Fatalf("failing policies: %q", unmet)
	}

	h.handle(h.comment(1, "bob", "strata approve-policies"))
	if r := h.replies(1); len(r) != 1 || !strings.Contains(r[0], "only policy owners (carol, group:security) can approve") {
		t.Fatalf("bob's approval: %q", r)
	}
	h.gl.AddGroupMember("security", "dave", fakegitlab.Developer)
	h.handle(h.comment(1, "dave", "strata approve-policies"))
	head := h.event(1, forge.ActionOpened, "bob").HeadSHA
	if r := h.replies(1); len(r) != 2 || !strings.Contains(r[1], "the failing policies of `"+head[:12]+"` are approved") {
		t.Fatalf("dave's approval: %q", r)
	}
	if unmet := h.unmetFor(1, "alice", records.TriggerComment); hasPrefix(unmet, "**policies**") {
		t.Errorf("approved policies still block: %q", unmet)
	}
	st, _ := h.rv.loadState(context.Background(), h.event(1, forge.ActionOpened, "bob").MRRef())
	if st.PolicyApproval == nil || st.PolicyApproval.By != "dave" || approvedFor(st, "another commit") {
		t.Errorf("approval %+v must name dave and cover this commit only", st.PolicyApproval)
	}
}

// TestBrokenTargetConfigIsReported: a strata.yaml on the target branch
// that does not load is the author's to fix: the merge request says so
// and the event is done, not retried.
func TestBrokenTargetConfigIsReported(t *testing.T) {
	h := newHarness(t, map[string]string{"strata.yaml": "version: 1\napply_on: approval\nbogus: 1\n", "live/app/main.tf": "# app\n"})
	h.openMR(1, "app", map[string]string{"live/app/main.tf": "# changed\n"})
	if err := h.rv.HandleEvent(context.Background(), h.event(1, forge.ActionApproved, "erin")); err != nil {
		t.Fatalf("a permanent failure was returned for a retry: %v", err)
	}
	if note := h.note(1); !strings.Contains(note, "strata could not act on this merge request") || !strings.Contains(note, `strata.yaml:3: unknown key "bogus"`) {
		t.Fatalf("note:\n%s", note)
	}
}

// TestForksAreNotPlanned: a merge request from a fork is refused with the
// reason, before anything is fetched.
func TestForksAreNotPlanned(t *testing.T) {
	h := newHarness(t, repoFiles)
	ev := h.openMR(1, "app", map[string]string{"live/app/main.tf": "# changed\n"})
	ev.Fork = true
	h.handle(ev)
	if note := h.note(1); !strings.Contains(note, "does not plan merge requests from forks") || !strings.Contains(note, "--allow-forks") {
		t.Fatalf("note:\n%s", note)
	}
	if got := h.status(1, forge.StatusPlan); got != "failed" {
		t.Errorf("strata/plan = %q", got)
	}
}

// TestLocksEndWithTheMergeRequest: unlock releases the locks and discards
// the plans; closing releases them; the sweep releases those of a merge
// request merged without strata hearing of it, and keeps an open one's.
func TestLocksEndWithTheMergeRequest(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, repoFiles)
	held := func(owner string) int {
		ls, err := h.locks.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, l := range ls {
			if l.Owner == owner {
				n++
			}
		}
		return n
	}
	h.openMR(1, "app", map[string]string{"live/app/main.tf": "# one\n"})
	h.plannedAt(1, changes("live/app"), changes("live/db"))
	h.handle(h.comment(1, "bob", "strata unlock"))
	if n := held("gitlab/acme/infra!1"); n != 0 {
		t.Errorf("%d locks after unlock", n)
	}
	if note := h.note(1); !strings.Contains(note, "Unlocked by @\u2060bob") {
		t.Errorf("note:\n%s", note)
	}
	if st, _ := h.rv.loadState(ctx, h.event(1, forge.ActionOpened, "bob").MRRef()); st.Plans != "" || len(st.Locks) != 0 {
		t.Errorf("state after unlock: %+v", st)
	}

	h.openMR(2, "db", map[string]string{"live/db/main.tf": "# two\n"})
	h.plannedAt(2, changes("live/db"))
	h.handle(h.event(2, forge.ActionClosed, "bob"))
	if n := held("gitlab/acme/infra!2"); n != 0 {
		t.Errorf("%d locks after close", n)
	}
	if note := h.note(2); !strings.Contains(note, "This merge request was closed") {
		t.Errorf("note:\n%s", note)
	}

	h.openMR(3, "open", map[string]string{"live/app/main.tf": "# three\n"})
	h.plannedAt(3, changes("live/app"))
	h.openMR(4, "merged", map[string]string{"live/db/main.tf": "# four\n"})
	h.plannedAt(4, changes("live/db"))
	h.gl.UpdateMergeRequest(h.path, 4, func(mr *fakegitlab.MergeRequest) { mr.State = "merged" })
	for _, n := range []int64{3, 4} {
		if err := h.rv.Sweep(ctx, h.event(n, forge.ActionOpened, "bob").MRRef()); err != nil {
			t.Fatal(err)
		}
	}
	if held("gitlab/acme/infra!3") != 1 || held("gitlab/acme/infra!4") != 0 {
		t.Errorf("after the sweep: !3 holds %d (want 1), !4 holds %d (want 0)", held("gitlab/acme/infra!3"), held("gitlab/acme/infra!4"))
	}
}

// TestCommentCommands: strata answers help and unreadable commands, runs
// nothing on closed merge requests, ignores its own notes, and refuses a
// comment apply where the repository applies on merge.
func TestCommentCommands(t *testing.T) {
	h := newHarness(t, map[string]string{"live/app/main.tf": "# app\n"})
	h.openMR(1, "app", map[string]string{"live/app/main.tf": "# changed\n"})
	h.plannedAt(1, changes("live/app"))
	h.handle(h.comment(1, "bob", "strata help"))
	h.handle(h.comment(1, "bob", "strata destroy"))
	h.handle(h.comment(1, h.gl.Bot, "strata plan"))
	h.handle(h.comment(1, "bob", "strata apply"))
	closed := h.comment(1, "bob", "strata plan")
	closed.State = forge.StateClosed
	h.handle(closed)
	r := h.replies(1)
	wants := []string{"| `strata plan` |", `unknown command "strata destroy"`, "applies on merge (`apply_on: merge`", "This merge request is closed"}
	if len(r) != len(wants) {
		t.Fatalf("replies %q, want %d", r, len(wants))
	}
	for i, want := range wants {
		if !strings.Contains(r[i], want) || !strings.HasPrefix(r[i], "@bob ") {
			t.Errorf("reply %d = %q, want @bob … %q", i, r[i], want)
		}
	}
}

// TestPartialPlanIsAppliedOnlyByNamingIt: with apply_on: merge, a comment
// apply is refused, except one naming a partial plan, which goes on to the
// requirements like any apply; the note tells how a partial plan gets
// applied.
func TestPartialPlanIsAppliedOnlyByNamingIt(t *testing.T) {
	h := newHarness(t, map[string]string{"live/app/main.tf": "# app\n"})
	h.openMR(1, "app", map[string]string{"live/app/main.tf": "# changed\n"})
	partial := changes("live/app")
	partial.Targets = []string{"terraform_data.x"}
	h.plannedAt(1, partial)
	h.handle(h.comment(1, "bob", "strata apply"))
	if r := h.replies(1); len(r) != 1 || !strings.Contains(r[0], "applies on merge (`apply_on: merge`") {
		t.Fatalf("strata apply of everything: replies %q, want the apply_on: merge refusal", r)
	}
	h.handle(h.comment(1, "mallory", "strata apply -s live/app"))
	if n := h.note(1); !strings.Contains(n, "Apply refused") || !strings.Contains(n, "**permission**: "+comment.Inert("@mallory")+" may not apply here") {
		t.Errorf("a named partial plan is judged by the requirements, from appliers only:\n%s", n)
	}
	if n := applyStep(stacks.DefaultConfig(), planner.Summary{Stacks: []planner.Result{partial, changes("live/db")}}, false); !strings.Contains(n, "`live/app` is a partial plan: comment `strata apply -s live/app`") ||
		!strings.Contains(n, "For the other stacks: Merge this merge request") {
		t.Errorf("next step: %q", n)
	}
}

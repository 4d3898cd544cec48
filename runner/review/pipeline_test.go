package review

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/strata-iac/strata/internal/fakegitlab"
	"github.com/strata-iac/strata/runner/forge"
)

// TestTargetReadAtTargetSHA: an event that names a commit of the target
// branch (CI mode, whose checkout may hold no branch) has strata.yaml read
// there, not at the branch's head.
func TestTargetReadAtTargetSHA(t *testing.T) {
	h := newHarness(t, map[string]string{"strata.yaml": "version: 1\napply_on: comment\n", "live/app/main.tf": "# app\n"})
	old := h.repo.Git("rev-parse", "main")
	h.repo.Write(map[string]string{"strata.yaml": "version: 1\napply_on: approval\n"})
	h.repo.Commit("approval")
	ev := h.openMR(1, "app", map[string]string{"live/app/main.tf": "# changed\n"})
	ctx := context.Background()
	for _, tc := range []struct{ target, want string }{{"", "approval"}, {old, "comment"}} {
		ev.TargetSHA = tc.target
		cfg, err := h.rv.targetConfig(ctx, ev)
		if err != nil {
			t.Fatal(err)
		}
		if string(cfg.ApplyOn) != tc.want {
			t.Errorf("TargetSHA %q: apply_on %s, want %s", tc.target, cfg.ApplyOn, tc.want)
		}
	}
	ev.TargetSHA = strings.Repeat("e", 40)
	if _, err := h.rv.targetConfig(ctx, ev); err == nil || !strings.Contains(err.Error(), "the target branch") {
		t.Errorf("an unknown TargetSHA: %v", err)
	}
}

// TestApplyInAPipeline: Apply obeys apply_on (refuses after-merge
// repositories, needs a plan) and refuses with the unmet requirements,
// both on the note, which links to the job, and in its error.
func TestApplyInAPipeline(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, repoFiles)
	h.rv.cfg.Job = &Job{Name: "GitLab CI job 77", URL: "https://gitlab.example.com/acme/infra/-/jobs/77"}
	ev := h.openMR(1, "app", map[string]string{"live/app/main.tf": "# changed\n"})
	_, err := h.rv.Apply(ctx, ev)
	if err == nil || !isSettled(err) || !strings.Contains(err.Error(), "nothing to apply") {
		t.Fatalf("Apply without a plan: %v", err)
	}
	// apply_on: comment: the job stands for a comment, and is answered as one.
	if r := h.replies(1); len(r) != 1 || !strings.HasPrefix(r[0], "@bob there is nothing to apply") {
		t.Errorf("replies to an apply without a plan: %q", r)
	}

	h.plannedAt(1, changes("live/app"))
	_, err = h.rv.Apply(ctx, ev)
	var refused *RefusedError
	if !errors.As(err, &refused) || !strings.Contains(err.Error(), "approved: nobody has approved this merge request yet") {
		t.Fatalf("Apply before approval: %v", err)
	}
	note := h.note(1)
	if !strings.Contains(note, "**Apply refused** (comment)") || !strings.Contains(note, "Run by [GitLab CI job 77](<https://gitlab.example.com/acme/infra/-/jobs/77>).") {
		t.Errorf("note:\n%s", note)
	}
	if st, _ := h.gl.LatestStatus(h.path, ev.HeadSHA, forge.StatusApply); st.State != "failed" || st.TargetURL != h.rv.cfg.Job.URL {
		t.Errorf("strata/apply = %+v, want failed, linking to the job", st)
	}

	merge := newHarness(t, map[string]string{"live/app/main.tf": "# app\n"})
	mev := merge.openMR(1, "app", map[string]string{"live/app/main.tf": "# changed\n"})
	if _, err := merge.rv.Apply(ctx, mev); err == nil || !strings.Contains(err.Error(), "apply_on: merge") || !strings.Contains(err.Error(), "!1") {
		t.Errorf("Apply where apply_on is merge: %v", err)
	}
}

// TestSweepClosed: without a server, a merge request closed unmerged
// loses its locks when the next plan sweeps; a merged one keeps them for
// its apply, and an open one keeps them.
func TestSweepClosed(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, repoFiles)
	for i, state := range []string{"opened", "merged", "closed"} {
		n := int64(i + 1)
		h.openMR(n, state, map[string]string{"live/app/main.tf": "# " + state + "\n"})
		h.plannedAt(n, changes([]string{"live/app", "live/db", "modules/x"}[i]))
		h.gl.UpdateMergeRequest(h.path, n, func(mr *fakegitlab.MergeRequest) { mr.State = state })
		if err := h.rv.SweepClosed(ctx, h.event(n, forge.ActionOpened, "bob").MRRef()); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.rv.SweepClosed(ctx, forge.MRRef{RepoRef: forge.RepoRef{Forge: "gitlab", Path: h.path}, Number: 99}); err != nil {
		t.Fatalf("a merge request that is gone: %v", err)
	}
	ls, err := h.locks.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	owners := map[string]bool{}
	for _, l := range ls {
		owners[l.Owner] = true
	}
	if !owners["gitlab/acme/infra!1"] || !owners["gitlab/acme/infra!2"] || owners["gitlab/acme/infra!3"] || len(ls) != 2 {
		t.Errorf("locks after the sweep: %+v; want those of !1 (open) and !2 (merged)", ls)
	}
}

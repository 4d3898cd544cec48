package gitlab_test

import (
	"context"
	"testing"

	"github.com/strata-iac/strata/internal/fakegitlab"
	"github.com/strata-iac/strata/runner/forge"
)

// TestMergedBy: the merge request that merged a commit is found by its
// merge commit or, fast-forwarded, its head; an open merge request whose
// head the commit is, and a commit no merge request merged, are not.
func TestMergedBy(t *testing.T) {
	s, c := setup(t)
	ctx := context.Background()
	open := s.AddMergeRequest(repo, fakegitlab.MergeRequest{SHA: fakegitlab.SHA("open head")})
	merged := s.AddMergeRequest(repo, fakegitlab.MergeRequest{SHA: fakegitlab.SHA("merged head"), State: "merged",
		MergeCommitSHA: fakegitlab.SHA("merge commit"), TargetBranch: "main"})
	ff := s.AddMergeRequest(repo, fakegitlab.MergeRequest{SHA: fakegitlab.SHA("ff head"), State: "merged"})

	for _, tc := range []struct {
		sha  string
		want int64
	}{
		{fakegitlab.SHA("merge commit"), merged.IID},
		{fakegitlab.SHA("ff head"), ff.IID},
		{open.SHA, 0},
		{fakegitlab.SHA("pushed to main"), 0},
	} {
		mr, ok, err := c.MergedBy(ctx, repo, tc.sha)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case tc.want == 0 && ok:
			t.Errorf("%s: found !%d, want none", tc.sha[:8], mr.Number)
		case tc.want != 0 && (!ok || mr.Number != tc.want || mr.State != forge.StateMerged || mr.MergedSHA != tc.sha):
			t.Errorf("%s: got %+v (ok %v), want !%d merged at it", tc.sha[:8], mr, ok, tc.want)
		}
	}
	if calls := s.CallsTo("GET /projects/:id/repository/commits/:sha/merge_requests"); len(calls) != 4 {
		t.Errorf("%d calls to the commit's merge requests, want 4", len(calls))
	}
	if _, _, err := c.MergedBy(ctx, "acme/nope", fakegitlab.SHA("x")); err == nil {
		t.Error("an unknown project is no error")
	}
}

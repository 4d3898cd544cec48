package planner

import (
	"strings"
	"testing"
)

// TestVerificationMarkdown: what the merge request is told after an
// apply: verified, not converged with each address and the usual cause,
// or not verified for a stack that could not be planned again.
func TestVerificationMarkdown(t *testing.T) {
	ok := Result{Dir: "live/app", Status: StatusNoChanges}
	stamp := Result{Dir: "live/net", Status: StatusChanges, Counts: Counts{Update: 1},
		Changes: []ResourceChange{{Address: "terraform_data.stamp", Action: ActionUpdate}}}
	outputs := Result{Dir: "live/out", Status: StatusChanges, Counts: Counts{OutputChanges: 2}}
	broken := Result{Dir: "live/db", Status: StatusError, Error: "Error: backend unreachable\nmore"}
	commit := "0123456789abcdef0123"
	for _, c := range []struct {
		v        Verification
		verified bool
		want     []string
		not      []string
	}{
		{Verification{Commit: commit, Stacks: []Result{ok}}, true, []string{"✅ verified: no changes — 1 applied stack planned again at `0123456789ab`."}, []string{"⚠"}},
		{Verification{Commit: commit, Stacks: []Result{ok, stamp}}, false, []string{"⚠ not converged: 1 change remains", "- `live/net`: `terraform_data.stamp (update)`", "perpetual diff"}, []string{"live/app", "✅"}},
		{Verification{Commit: commit, Stacks: []Result{stamp, outputs}}, false, []string{"⚠ not converged: 3 changes remain", "- `live/out`: `2 outputs`"}, nil},
		{Verification{Commit: commit, Stacks: []Result{ok, broken}}, false, []string{"⚠ not verified", "- ⚠ `live/db` could not be planned again: Error: backend unreachable"}, []string{"more", "perpetual"}},
		{Verification{Commit: commit}, true, nil, []string{"verified"}},
	} {
		got := c.v.Markdown()
		if c.v.Verified() != c.verified {
			t.Errorf("Verified() = %v for\n%s", !c.verified, got)
		}
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("lacks %q:\n%s", w, got)
			}
		}
		for _, w := range c.not {
			if strings.Contains(got, w) {
				t.Errorf("has %q:\n%s", w, got)
			}
		}
	}
}

package gitlab_test

import (
	"context"
	"strings"
	"testing"

	"github.com/strata-iac/strata/internal/fakegitlab"
	"github.com/strata-iac/strata/internal/redact"
	"github.com/strata-iac/strata/runner/forge"
)

// TestRedactedForgeMasksEveryText sends a secret, once split over lines,
// through every text of a redacted GitLab: none reaches GitLab.
func TestRedactedForgeMasksEveryText(t *testing.T) {
	s, c := setup(t)
	const leak = "glpat-leaked-0123456789"
	f := forge.Redacted(c, redact.New(leak))
	ctx := context.Background()
	mr := s.AddMergeRequest(repo, fakegitlab.MergeRequest{})
	n, err := f.CreateNote(ctx, repo, mr.IID, "plan output: "+leak)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.UpdateNote(ctx, repo, mr.IID, n.ID, "wrapped: glpat-leaked-\n  0123456789"); err != nil {
		t.Fatal(err)
	}
	if err := f.SetStatus(ctx, repo, mr.SHA, forge.Status{Name: forge.StatusPlan, State: forge.StatusFailed, Description: "init: " + leak}); err != nil {
		t.Fatal(err)
	}
	is, err := f.CreateIssue(ctx, repo, forge.NewIssue{Title: "drift " + leak, Body: leak, Labels: []string{"strata-drift"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.UpdateIssue(ctx, repo, is.Number, "drift", "body "+leak); err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, n := range s.Notes(repo, mr.IID) {
		texts = append(texts, n.Body)
	}
	for _, st := range s.Statuses(repo, mr.SHA) {
		texts = append(texts, st.Description)
	}
	for _, is := range s.Issues(repo) {
		texts = append(texts, is.Title, is.Description)
	}
	all := strings.Join(texts, "\n")
	if strings.Contains(all, "0123456789") || strings.Count(all, redact.Mask) != 3 {
		t.Errorf("what GitLab got:\n%s", all)
	}
}

package gitlab_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/strata-iac/strata/internal/fakegitlab"
	"github.com/strata-iac/strata/runner/forge"
)

const driftMarker = "<!-- strata:drift -->"

func TestIssues(t *testing.T) {
	s, c := setup(t)
	ctx := context.Background()
	query := forge.IssueQuery{Marker: driftMarker, Labels: []string{"drift"}}

	_, ok, err := c.FindIssue(ctx, repo, query)
	if err != nil || ok {
		t.Fatalf("FindIssue on an empty project: ok=%v err=%v", ok, err)
	}

	// Lookalikes that must not be found: another author, another label, closed.
	s.AddIssue(repo, fakegitlab.Issue{Title: "copy", Description: driftMarker, Labels: []string{"drift"}, Author: "mallory"})
	s.AddIssue(repo, fakegitlab.Issue{Title: "unlabelled", Description: driftMarker})
	s.AddIssue(repo, fakegitlab.Issue{Title: "old report", Description: driftMarker, Labels: []string{"drift"}, State: "closed"})

	created, err := c.CreateIssue(ctx, repo, forge.NewIssue{Title: "Drift in 2 stacks",
		Body: driftMarker + "\nlive/prod/network", Labels: []string{"drift", "strata"}})
	if err != nil {
		t.Fatal(err)
	}
	if created.Number == 0 || created.State != "opened" || created.Author != s.Bot || len(created.Labels) != 2 || created.URL == "" {
		t.Errorf("CreateIssue = %+v", created)
	}

	found, ok, err := c.FindIssue(ctx, repo, query)
	if err != nil || !ok || found.Number != created.Number {
		t.Fatalf("FindIssue = %+v, %v, %v; want #%d", found, ok, err, created.Number)
	}
	byLabel, ok, err := c.FindIssue(ctx, repo, forge.IssueQuery{Labels: []string{"strata"}})
	if err != nil || !ok || byLabel.Number != created.Number {
		t.Errorf("FindIssue by label = %+v, %v, %v", byLabel, ok, err)
	}

	up, err := c.UpdateIssue(ctx, repo, created.Number, "Drift in 1 stack", driftMarker+"\nlive/prod/dns")
	if err != nil {
		t.Fatal(err)
	}
	if up.Title != "Drift in 1 stack" || up.Body != driftMarker+"\nlive/prod/dns" {
		t.Errorf("UpdateIssue = %+v", up)
	}

	if err := c.CloseIssue(ctx, repo, created.Number); err != nil {
		t.Fatal(err)
	}
	if err := c.CloseIssue(ctx, repo, created.Number); err != nil {
		t.Errorf("closing a closed issue: %v", err)
	}
	if _, ok, err := c.FindIssue(ctx, repo, query); err != nil || ok {
		t.Errorf("FindIssue after close: ok=%v err=%v", ok, err)
	}

	if _, _, err := c.FindIssue(ctx, repo, forge.IssueQuery{}); err == nil {
		t.Error("FindIssue with an empty query: no error")
	}
	if _, err := c.CreateIssue(ctx, repo, forge.NewIssue{Body: "x"}); err == nil {
		t.Error("CreateIssue without title: no error")
	}
	if _, err := c.UpdateIssue(ctx, repo, 999, "t", "b"); !errors.Is(err, forge.ErrNotFound) {
		t.Errorf("UpdateIssue on a missing issue: %v", err)
	}
	if err := c.CloseIssue(ctx, repo, 999); !errors.Is(err, forge.ErrNotFound) {
		t.Errorf("CloseIssue on a missing issue: %v", err)
	}
}

func TestFindIssuePaginates(t *testing.T) {
	s, c := setup(t)
	for i := range 150 {
		s.AddIssue(repo, fakegitlab.Issue{Title: fmt.Sprint(i), Labels: []string{"drift"}})
	}
	want := s.AddIssue(repo, fakegitlab.Issue{Title: "report", Description: driftMarker, Labels: []string{"drift"}})
	s.ResetCalls()
	got, ok, err := c.FindIssue(context.Background(), repo, forge.IssueQuery{Marker: driftMarker, Labels: []string{"drift"}})
	if err != nil || !ok || got.Number != want.IID {
		t.Fatalf("FindIssue = %+v, %v, %v; want #%d", got, ok, err, want.IID)
	}
	calls := s.CallsTo("GET /projects/:id/issues")
	if len(calls) != 2 {
		t.Fatalf("%d pages read, want 2", len(calls))
	}
	q := calls[0].Query
	if q.Get("state") != "opened" || q.Get("labels") != "drift" || q.Get("author_id") == "" || q.Get("per_page") != "100" {
		t.Errorf("query = %v", q)
	}
}

func TestIsMember(t *testing.T) {
	s, c := setup(t)
	ctx := context.Background()
	s.AddGroupMember("acme", "carol", fakegitlab.Maintainer)
	s.AddGroupMember("acme/platform", "dave", fakegitlab.Developer)
	s.AddGroupMember("acme/platform", "erin", 5) // minimal access
	s.AddGroupMember("acme/platform", "frank", fakegitlab.Developer)
	s.BlockUser("frank")
	s.AddUser("grace")

	for _, tc := range []struct {
		group, user string
		want        bool
	}{
		{"acme/platform", "dave", true},
		{"acme/platform", "DAVE", true},
		{"acme/platform", "carol", true}, // inherited from acme
		{"acme", "dave", false},          // membership does not flow up
		{"acme/platform", "erin", false},
		{"acme/platform", "frank", false},
		{"acme/platform", "grace", false},
		{"acme/platform", "nobody", false},
		{"acme/nope", "dave", false},
	} {
		got, err := c.IsMember(ctx, tc.group, tc.user)
		if err != nil || got != tc.want {
			t.Errorf("IsMember(%s, %s) = %v, %v; want %v", tc.group, tc.user, got, err, tc.want)
		}
	}
	if _, err := c.IsMember(ctx, "", "dave"); err == nil {
		t.Error("IsMember with an empty group: no error")
	}
}

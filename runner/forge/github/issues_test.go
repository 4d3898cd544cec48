package github_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/strata-iac/strata/internal/fakegithub"
	"github.com/strata-iac/strata/internal/fault"
	"github.com/strata-iac/strata/runner/forge"
)

// TestDriftIssues: strata finds its own open issue by marker and label,
// never a pull request (GitHub's issues API lists those too) nor someone
// else's issue, and updates and closes it.
func TestDriftIssues(t *testing.T) {
	s, c := setup(t)
	ctx := context.Background()
	const mark = "<!-- strata:drift github/acme/infra live/prod -->"
	q := forge.IssueQuery{Marker: mark, Labels: []string{"strata-drift"}}
	s.AddPullRequest(repo, fakegithub.PullRequest{Title: mark, Author: s.Bot})
	s.AddIssue(repo, fakegithub.Issue{Title: "pasted", Body: mark, User: "mallory", Labels: []string{"strata-drift"}})
	s.AddIssue(repo, fakegithub.Issue{Title: "unlabelled", Body: mark})
	if _, ok, err := c.FindIssue(ctx, repo, q); err != nil || ok {
		t.Fatalf("found an issue strata did not open: %v, %v", ok, err)
	}
	is, err := c.CreateIssue(ctx, repo, forge.NewIssue{Title: "strata: drift in live/prod", Body: mark + "\ndrift", Labels: q.Labels})
	if err != nil || is.State != "opened" || is.Author != s.Bot || !slices.Equal(is.Labels, q.Labels) || is.Number != 4 {
		t.Fatalf("CreateIssue = %+v, %v", is, err)
	}
	got, ok, err := c.FindIssue(ctx, repo, q)
	if err != nil || !ok || got.Number != is.Number {
		t.Fatalf("FindIssue = %+v, %v, %v", got, ok, err)
	}
	if _, err := c.UpdateIssue(ctx, repo, is.Number, "strata: drift in live/prod", mark+"\nmore drift"); err != nil {
		t.Fatal(err)
	}
	if err := c.CloseIssue(ctx, repo, is.Number); err != nil {
		t.Fatal(err)
	}
	last := s.Issues(repo)[2]
	if last.Number != is.Number || last.State != "closed" || last.Body != mark+"\nmore drift" {
		t.Errorf("issue after update and close: %+v", last)
	}
	if _, ok, _ := c.FindIssue(ctx, repo, q); ok {
		t.Error("a closed issue was found")
	}
	if _, err := c.UpdateIssue(ctx, repo, 99, "t", "b"); !errors.Is(err, forge.ErrNotFound) {
		t.Errorf("a missing issue: %v", err)
	}
}

// TestTeams: team:org/slug is an active membership of that team.
func TestTeams(t *testing.T) {
	s, c := setup(t)
	ctx := context.Background()
	s.AddTeamMember("acme/platform", "alice", "active")
	s.AddTeamMember("acme/platform", "bob", "pending")
	for _, tc := range []struct {
		team, user string
		want       bool
	}{
		{"acme/platform", "alice", true},
		{"acme/platform", "ALICE", true},
		{"acme/platform", "bob", false},
		{"acme/platform", "carol", false},
		{"acme/nobody", "alice", false},
		{"other/platform", "alice", false},
	} {
		got, err := c.IsMember(ctx, tc.team, tc.user)
		if err != nil || got != tc.want {
			t.Errorf("IsMember(%s, %s) = %v, %v; want %v", tc.team, tc.user, got, err, tc.want)
		}
	}
	_, err := c.IsMember(ctx, "platform", "alice")
	if !fault.IsPermanent(err) || err == nil {
		t.Errorf("a team without its organisation: %v, want a permanent error naming the form", err)
	}
	if len(s.CallsTo("GET /orgs/:org/teams/:slug/memberships/:username")) != 6 {
		t.Error("a malformed team was looked up")
	}
}

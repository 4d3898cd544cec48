package github_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/strata-iac/strata/internal/fakegithub"
	"github.com/strata-iac/strata/runner/forge"
	"github.com/strata-iac/strata/runner/forge/github"
)

const (
	repo   = "acme/infra"
	secret = "webhook-secret-for-tests"
)

// setup starts a fake GitHub with one repository and a token client for
// it.
func setup(t *testing.T) (*fakegithub.Server, *github.Client) {
	t.Helper()
	s := fakegithub.New()
	t.Cleanup(s.Close)
	s.AddRepo(fakegithub.Repo{FullName: repo})
	return s, newClient(t, github.Options{BaseURL: s.URL, Token: s.Token})
}

// newClient is a client with quick retries and polls.
func newClient(t *testing.T, opts github.Options) *github.Client {
	t.Helper()
	opts.WebhookSecret = secret
	opts.Timeout = 5 * time.Second
	opts.RetryWaitMin, opts.RetryWaitMax = 5*time.Millisecond, 3*time.Second
	opts.MergeableWait = 10 * time.Millisecond
	c, err := github.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// noToken fails the test when err's message holds the token.
func noToken(t *testing.T, err error, token string) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), token) {
		t.Fatalf("error message leaks the token: %v", err)
	}
}

func TestMergeRequest(t *testing.T) {
	s, c := setup(t)
	ctx := context.Background()
	want := s.AddPullRequest(repo, fakegithub.PullRequest{Title: "Grow the VPC", HeadRef: "grow-vpc"})
	got, err := c.MergeRequest(ctx, repo, want.Number)
	if err != nil {
		t.Fatal(err)
	}
	if got.Number != want.Number || got.Title != "Grow the VPC" || got.Author != "alice" || got.State != forge.StateOpened ||
		got.SourceBranch != "grow-vpc" || got.TargetBranch != "main" || got.HeadSHA != want.HeadSHA || got.Fork ||
		!got.Mergeable || got.Conflicts || got.Blocked != "" || got.MergeStatus != "clean" ||
		got.URL != fmt.Sprintf("%s/%s/pull/%d", s.URL, repo, want.Number) {
		t.Errorf("MergeRequest = %+v", got)
	}

	fork := s.AddPullRequest(repo, fakegithub.PullRequest{HeadRepo: "mallory/infra"})
	if got, _ := c.MergeRequest(ctx, repo, fork.Number); !got.Fork {
		t.Error("a pull request from another repository is not a fork")
	}
	s.UpdatePullRequest(repo, want.Number, func(pr *fakegithub.PullRequest) {
		pr.State, pr.Merged, pr.MergeCommitSHA = "closed", true, fakegithub.SHA("merge")
	})
	if got, _ := c.MergeRequest(ctx, repo, want.Number); got.State != forge.StateMerged || got.MergedSHA != fakegithub.SHA("merge") {
		t.Errorf("merged: %+v", got)
	}
	if _, err := c.MergeRequest(ctx, repo, 99); !errors.Is(err, forge.ErrNotFound) {
		t.Errorf("missing pull request: %v", err)
	}
}

// TestMergeableStates: GitHub's mergeable_state decides the mergeable
// requirement; while it is being computed, MergeRequest asks again.
func TestMergeableStates(t *testing.T) {
	s, c := setup(t)
	ctx := context.Background()
	for _, tc := range []struct {
		state              string
		mergeable, blocked bool
		conflicts, draft   bool
	}{
		{state: "clean", mergeable: true},
		{state: "has_hooks", mergeable: true},
		{state: "unstable", mergeable: true},
		{state: "dirty", conflicts: true},
		{state: "blocked", blocked: true},
		{state: "behind", blocked: true},
		{state: "draft", draft: true},
	} {
		pr := s.AddPullRequest(repo, fakegithub.PullRequest{MergeableState: tc.state, Draft: tc.draft})
		got, err := c.MergeRequest(ctx, repo, pr.Number)
		if err != nil {
			t.Fatal(err)
		}
		if got.Mergeable != tc.mergeable || (got.Blocked != "") != tc.blocked || got.Conflicts != tc.conflicts || got.Draft != tc.draft {
			t.Errorf("%s: %+v", tc.state, got)
		}
	}

	pr := s.AddPullRequest(repo, fakegithub.PullRequest{UnknownFor: 3, MergeableState: "dirty"})
	s.ResetCalls()
	got, err := c.MergeRequest(ctx, repo, pr.Number)
	if err != nil || !got.Conflicts {
		t.Fatalf("after GitHub computed it: %+v, %v", got, err)
	}
	if n := len(s.CallsTo("GET /repos/:owner/:repo/pulls/:number")); n != 4 {
		t.Errorf("%d reads, want 4 (three while mergeable was null)", n)
	}
	stuck := s.AddPullRequest(repo, fakegithub.PullRequest{UnknownFor: 100})
	got, err = c.MergeRequest(ctx, repo, stuck.Number)
	if err != nil || got.Mergeable || !strings.Contains(got.Blocked, "not finished computing") {
		t.Errorf("still unknown after polling: %+v, %v", got, err)
	}
}

func TestApprovals(t *testing.T) {
	s, c := setup(t)
	ctx := context.Background()
	pr := s.AddPullRequest(repo, fakegithub.PullRequest{})
	approvals := func() forge.Approvals {
		t.Helper()
		a, err := c.Approvals(ctx, repo, pr.Number)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	if a := approvals(); a.Satisfied() || len(a.ApprovedBy) != 0 {
		t.Errorf("no reviews: %+v", a)
	}
	s.AddReview(repo, pr.Number, "bob", "COMMENTED")
	if a := approvals(); a.Satisfied() {
		t.Errorf("a comment approves: %+v", a)
	}
	s.AddReview(repo, pr.Number, "bob", "APPROVED")
	s.AddReview(repo, pr.Number, "bob", "COMMENTED") // a later comment keeps bob's approval
	if a := approvals(); !a.Satisfied() || !slices.Equal(a.ApprovedBy, []string{"bob"}) {
		t.Errorf("bob approved: %+v", a)
	}
	carol := s.AddReview(repo, pr.Number, "carol", "CHANGES_REQUESTED")
	if a := approvals(); a.Satisfied() || !slices.Equal(a.ChangesRequestedBy, []string{"carol"}) {
		t.Errorf("carol requested changes: %+v", a)
	}
	s.DismissReview(repo, pr.Number, carol.ID)
	if a := approvals(); !a.Satisfied() {
		t.Errorf("carol's review dismissed: %+v", a)
	}
	s.AddReview(repo, pr.Number, "bob", "CHANGES_REQUESTED") // bob's latest now withholds
	if a := approvals(); a.Satisfied() || len(a.ApprovedBy) != 0 {
		t.Errorf("bob changed his mind: %+v", a)
	}

	// Reviews are read page after page: the latest of each reviewer is on
	// the last one.
	many := s.AddPullRequest(repo, fakegithub.PullRequest{})
	for i := range 150 {
		s.AddReview(repo, many.Number, fmt.Sprintf("r%d", i%3), "COMMENTED")
	}
	s.AddReview(repo, many.Number, "dave", "APPROVED")
	if a, err := c.Approvals(ctx, repo, many.Number); err != nil || !a.Satisfied() || !slices.Equal(a.ApprovedBy, []string{"dave"}) {
		t.Errorf("151 reviews: %+v, %v", a, err)
	}
}

func TestMerge(t *testing.T) {
	s, c := setup(t)
	ctx := context.Background()
	pr := s.AddPullRequest(repo, fakegithub.PullRequest{})

	_, err := c.Merge(ctx, repo, pr.Number, forge.MergeOptions{SHA: fakegithub.SHA("not the head")})
	if !errors.Is(err, forge.ErrHeadMoved) {
		t.Fatalf("moved head: %v", err)
	}
	if _, err := c.Merge(ctx, repo, pr.Number, forge.MergeOptions{SHA: pr.HeadSHA, RemoveSourceBranch: true}); err == nil ||
		!strings.Contains(err.Error(), "Automatically delete head branches") {
		t.Errorf("RemoveSourceBranch: %v", err)
	}
	got, err := c.Merge(ctx, repo, pr.Number, forge.MergeOptions{SHA: pr.HeadSHA})
	if err != nil || got.State != forge.StateMerged || got.MergedSHA == "" {
		t.Fatalf("merge: %+v, %v", got, err)
	}
	if call := s.CallsTo("PUT /repos/:owner/:repo/pulls/:number/merge"); !strings.Contains(string(call[len(call)-1].Body), pr.HeadSHA) {
		t.Errorf("the merge did not carry the expected head: %s", call[len(call)-1].Body)
	}
	// A retry of a merge whose answer was lost: GitHub refuses, the pull
	// request is merged at that head, so the merge succeeded.
	if got, err := c.Merge(ctx, repo, pr.Number, forge.MergeOptions{SHA: pr.HeadSHA}); err != nil || got.State != forge.StateMerged {
		t.Errorf("merging again: %+v, %v", got, err)
	}

	blocked := s.AddPullRequest(repo, fakegithub.PullRequest{MergeableState: "blocked"})
	_, err = c.Merge(ctx, repo, blocked.Number, forge.MergeOptions{SHA: blocked.HeadSHA})
	if !errors.Is(err, forge.ErrNotMergeable) || !strings.Contains(err.Error(), "blocked") {
		t.Errorf("blocked: %v", err)
	}
	noToken(t, err, s.Token)
}

// hookRequest is a webhook delivery of h signed with the test secret.
func hookRequest(t *testing.T, h fakegithub.Hook) *http.Request {
	t.Helper()
	r, err := fakegithub.NewRequest(context.Background(), "http://strata.invalid/events/github", secret, h, "")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

package gitlab_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/strata-iac/strata/internal/fakegitlab"
	"github.com/strata-iac/strata/runner/forge"
	"github.com/strata-iac/strata/runner/forge/gitlab"
)

const (
	repo   = "acme/infra/live"
	secret = "webhook-secret-for-tests"
)

// setup starts a fake GitLab with one project and a client for it.
func setup(t *testing.T) (*fakegitlab.Server, *gitlab.Client) {
	t.Helper()
	s := fakegitlab.New()
	t.Cleanup(s.Close)
	s.AddProject(fakegitlab.Project{Path: repo})
	return s, newClient(t, s.URL, s.Token)
}

func newClient(t *testing.T, url, token string) *gitlab.Client {
	t.Helper()
	c, err := gitlab.New(gitlab.Options{
		BaseURL: url, Token: token, WebhookSecret: secret,
		Timeout: 5 * time.Second, RetryWaitMin: 5 * time.Millisecond, RetryWaitMax: 2 * time.Second,
	})
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
	want := s.AddMergeRequest(repo, fakegitlab.MergeRequest{Title: "Grow the VPC", Author: "alice",
		SourceBranch: "grow-vpc", Draft: true})

	got, err := c.MergeRequest(ctx, repo, want.IID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Number != want.IID || got.Title != "Grow the VPC" || got.Author != "alice" ||
		got.State != forge.StateOpened || !got.Draft || got.SourceBranch != "grow-vpc" ||
		got.TargetBranch != "main" || got.HeadSHA != want.SHA || got.Fork || got.Conflicts ||
		got.MergeStatus != "draft_status" || got.Mergeable || got.MergedSHA != "" || got.Repo != repo {
		t.Errorf("MergeRequest = %+v", got)
	}
	if !strings.HasSuffix(got.URL, "/acme/infra/live/-/merge_requests/1") {
		t.Errorf("URL = %q", got.URL)
	}

	s.UpdateMergeRequest(repo, want.IID, func(mr *fakegitlab.MergeRequest) {
		mr.Draft, mr.HasConflicts, mr.SourceProjectID = false, true, 999
	})
	got, err = c.MergeRequest(ctx, repo, want.IID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Fork || !got.Conflicts || got.Mergeable || got.MergeStatus != "conflict" {
		t.Errorf("fork with conflicts = %+v", got)
	}

	_, err = c.MergeRequest(ctx, repo, 42)
	if !errors.Is(err, forge.ErrNotFound) || !strings.Contains(err.Error(), "acme/infra/live!42") {
		t.Errorf("missing merge request: err = %v, want ErrNotFound naming it", err)
	}
	_, err = c.MergeRequest(ctx, "acme/nope", 1)
	if !errors.Is(err, forge.ErrNotFound) {
		t.Errorf("missing project: err = %v", err)
	}
}

func TestMergeRequestByProjectID(t *testing.T) {
	s, c := setup(t)
	p, _ := s.Project(repo)
	mr := s.AddMergeRequest(repo, fakegitlab.MergeRequest{})
	got, err := c.MergeRequest(context.Background(), strconv.FormatInt(p.ID, 10), mr.IID)
	if err != nil || got.HeadSHA != mr.SHA {
		t.Fatalf("by project ID: %+v, %v", got, err)
	}
}

func TestApprovals(t *testing.T) {
	s, c := setup(t)
	ctx := context.Background()
	mr := s.AddMergeRequest(repo, fakegitlab.MergeRequest{})

	a, err := c.Approvals(ctx, repo, mr.IID)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Approved || a.Satisfied() || len(a.ApprovedBy) != 0 {
		t.Errorf("no rule, nobody approved: %+v, Satisfied=%v; want forge-approved but not satisfied", a, a.Satisfied())
	}

	s.Approve(repo, mr.IID, "bob")
	if a, err = c.Approvals(ctx, repo, mr.IID); err != nil {
		t.Fatal(err)
	}
	if !a.Satisfied() || len(a.ApprovedBy) != 1 || a.ApprovedBy[0] != "bob" {
		t.Errorf("bob approved: %+v", a)
	}

	s.UpdateMergeRequest(repo, mr.IID, func(m *fakegitlab.MergeRequest) { m.ApprovalsRequired = 2 })
	if a, err = c.Approvals(ctx, repo, mr.IID); err != nil {
		t.Fatal(err)
	}
	if a.Approved || a.Satisfied() || a.Required != 2 || a.Left != 1 {
		t.Errorf("1 of 2 approvals: %+v", a)
	}

	if _, err := c.Approvals(ctx, repo, 77); !errors.Is(err, forge.ErrNotFound) {
		t.Errorf("missing merge request: %v", err)
	}
}

func TestMerge(t *testing.T) {
	s, c := setup(t)
	ctx := context.Background()
	mr := s.AddMergeRequest(repo, fakegitlab.MergeRequest{})

	stale := fakegitlab.SHA("older head")
	_, err := c.Merge(ctx, repo, mr.IID, forge.MergeOptions{SHA: stale})
	if !errors.Is(err, forge.ErrHeadMoved) {
		t.Fatalf("merge at a stale SHA: err = %v, want ErrHeadMoved", err)
	}
	if !strings.Contains(err.Error(), stale) || !strings.Contains(err.Error(), mr.SHA) {
		t.Errorf("head-moved error should name both SHAs: %v", err)
	}
	if got, _ := s.MergeRequest(repo, mr.IID); got.State != "opened" {
		t.Fatalf("merge request state after refused merge = %s", got.State)
	}

	if _, err := c.Merge(ctx, repo, mr.IID, forge.MergeOptions{}); err == nil || !strings.Contains(err.Error(), "no head SHA") {
		t.Errorf("merge without SHA: err = %v", err)
	}

	got, err := c.Merge(ctx, repo, mr.IID, forge.MergeOptions{SHA: mr.SHA, Message: "Merge by strata", RemoveSourceBranch: true})
	if err != nil {
		t.Fatal(err)
	}
	if got.State != forge.StateMerged || got.MergedSHA == "" || got.MergedSHA == mr.SHA {
		t.Errorf("merged = %+v", got)
	}
	call := s.CallsTo("PUT /projects/:id/merge_requests/:iid/merge")[1]
	for _, want := range []string{`"sha":"` + mr.SHA + `"`, `"merge_commit_message":"Merge by strata"`, `"should_remove_source_branch":true`} {
		if !strings.Contains(string(call.Body), want) {
			t.Errorf("merge request body %s lacks %s", call.Body, want)
		}
	}

	// A retried merge whose first answer was lost: GitLab says 405, but
	// the merge request is merged at the reviewed head.
	again, err := c.Merge(ctx, repo, mr.IID, forge.MergeOptions{SHA: mr.SHA})
	if err != nil || again.MergedSHA != got.MergedSHA {
		t.Errorf("merge again at the same SHA: %+v, %v; want the merged merge request", again, err)
	}
}

func TestMergeRefused(t *testing.T) {
	for name, tc := range map[string]struct {
		mr     fakegitlab.MergeRequest
		status string
	}{
		"conflicts": {fakegitlab.MergeRequest{HasConflicts: true}, "422"},
		"draft":     {fakegitlab.MergeRequest{Draft: true}, "405"},
		"closed":    {fakegitlab.MergeRequest{State: "closed"}, "405"},
		"approvals": {fakegitlab.MergeRequest{ApprovalsRequired: 1}, "405"},
	} {
		t.Run(name, func(t *testing.T) {
			s, c := setup(t)
			mr := s.AddMergeRequest(repo, tc.mr)
			_, err := c.Merge(context.Background(), repo, mr.IID, forge.MergeOptions{SHA: mr.SHA})
			if !errors.Is(err, forge.ErrNotMergeable) || !strings.Contains(err.Error(), "HTTP "+tc.status) {
				t.Fatalf("err = %v, want ErrNotMergeable with HTTP %s", err, tc.status)
			}
			if !strings.Contains(err.Error(), "merge status") {
				t.Errorf("refusal should say the merge status: %v", err)
			}
		})
	}
}

func TestMergeHook(t *testing.T) {
	s, c := setup(t)
	mr := s.AddMergeRequest(repo, fakegitlab.MergeRequest{})
	merged := fakegitlab.SHA("real merge commit")
	s.OnMerge(func(path string, m fakegitlab.MergeRequest) (string, error) {
		if path != repo || m.IID != mr.IID {
			t.Errorf("OnMerge(%s, %d)", path, m.IID)
		}
		return merged, nil
	})
	got, err := c.Merge(context.Background(), repo, mr.IID, forge.MergeOptions{SHA: mr.SHA})
	if err != nil || got.MergedSHA != merged {
		t.Fatalf("Merge = %+v, %v; want merged SHA %s", got, err, merged)
	}
}

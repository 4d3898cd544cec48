package github_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/strata-iac/strata/internal/fakegithub"
	"github.com/strata-iac/strata/runner/forge"
	"github.com/strata-iac/strata/runner/forge/github"
)

func TestRetryOn5xx(t *testing.T) {
	s, c := setup(t)
	pr := s.AddPullRequest(repo, fakegithub.PullRequest{})
	s.FailNext(2, http.StatusBadGateway, "")
	got, err := c.MergeRequest(context.Background(), repo, pr.Number)
	if err != nil || got.HeadSHA != pr.HeadSHA {
		t.Fatalf("MergeRequest after two 502s = %+v, %v", got, err)
	}
	calls := s.CallsTo("GET /repos/:owner/:repo/pulls/:number")
	if len(calls) != 3 || calls[0].Status != 502 || calls[2].Status != 200 {
		t.Errorf("calls = %+v, want 502, 502, 200", calls)
	}
}

// TestSecondaryRateLimitBacksOff: a secondary rate limit is waited out
// for its Retry-After, and the comment (a POST) is sent again whole.
func TestSecondaryRateLimitBacksOff(t *testing.T) {
	s, c := setup(t)
	pr := s.AddPullRequest(repo, fakegithub.PullRequest{})
	s.Fail(fakegithub.Failure{Route: "POST /repos/:owner/:repo/issues/:number/comments", Times: 1,
		Status: http.StatusForbidden, Secondary: true, RetryAfter: "1"})
	if _, err := c.CreateNote(context.Background(), repo, pr.Number, "hello"); err != nil {
		t.Fatal(err)
	}
	calls := s.CallsTo("POST /repos/:owner/:repo/issues/:number/comments")
	if len(calls) != 2 || calls[0].Status != 403 || calls[1].Status != 201 {
		t.Fatalf("calls = %+v, want 403 then 201", calls)
	}
	if gap := calls[1].Time.Sub(calls[0].Time); gap < 900*time.Millisecond {
		t.Errorf("retried after %v, Retry-After asked for 1s", gap)
	}
	if cs := s.Comments(repo, pr.Number); len(cs) != 1 || cs[0].Body != "hello" {
		t.Errorf("comments: %+v", cs)
	}
}

// TestPrimaryRateLimitWaitsForReset: with X-RateLimit-Remaining 0, the
// call is sent again only after X-RateLimit-Reset.
func TestPrimaryRateLimitWaitsForReset(t *testing.T) {
	s, c := setup(t)
	pr := s.AddPullRequest(repo, fakegithub.PullRequest{})
	reset := time.Now().Add(2 * time.Second).Truncate(time.Second)
	s.Fail(fakegithub.Failure{Times: 1, Status: http.StatusForbidden, RateLimitReset: reset,
		Message: "API rate limit exceeded for installation ID 42."})
	if _, err := c.MergeRequest(context.Background(), repo, pr.Number); err != nil {
		t.Fatal(err)
	}
	calls := s.Calls()
	if len(calls) != 2 || calls[1].Time.Before(reset) {
		t.Errorf("calls at %v, the limit reset at %v", calls, reset)
	}
}

// TestRateLimitTooFarAway: a limit that resets after RetryWaitMax is not
// waited for; the error says until when it holds.
func TestRateLimitTooFarAway(t *testing.T) {
	s, c := setup(t)
	pr := s.AddPullRequest(repo, fakegithub.PullRequest{})
	s.Fail(fakegithub.Failure{Times: 1, Status: http.StatusForbidden, RateLimitReset: time.Now().Add(time.Hour)})
	start := time.Now()
	_, err := c.MergeRequest(context.Background(), repo, pr.Number)
	if err == nil || !strings.Contains(err.Error(), "rate limit exceeded until") || time.Since(start) > time.Second {
		t.Errorf("after %v: %v", time.Since(start), err)
	}
	if errors.Is(err, forge.ErrPermission) {
		t.Error("a rate limit reported as a missing permission")
	}
	if n := len(s.Calls()); n != 1 {
		t.Errorf("%d calls, want 1", n)
	}
}

func TestRetryGivesUp(t *testing.T) {
	s := fakegithub.New()
	t.Cleanup(s.Close)
	s.AddRepo(fakegithub.Repo{FullName: repo})
	c, err := github.New(github.Options{BaseURL: s.URL, Token: s.Token, Retries: 2,
		RetryWaitMin: time.Millisecond, RetryWaitMax: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	s.FailNext(3, http.StatusServiceUnavailable, "")
	_, err = c.MergeRequest(context.Background(), repo, 1)
	var ae *forge.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusServiceUnavailable {
		t.Fatalf("err = %v, want an APIError with status 503", err)
	}
	if n := len(s.Calls()); n != 3 {
		t.Errorf("%d attempts, want 3 (1 + 2 retries)", n)
	}
	noToken(t, err, s.Token)

	// A 403 that is no rate limit is a permission problem, never retried.
	s.ResetCalls()
	s.Fail(fakegithub.Failure{Times: 1, Status: http.StatusForbidden, Message: "Resource not accessible by integration"})
	if _, err := c.MergeRequest(context.Background(), repo, 1); !errors.Is(err, forge.ErrPermission) {
		t.Errorf("403: %v", err)
	}
	if n := len(s.Calls()); n != 1 {
		t.Errorf("a 403 was tried %d times", n)
	}
}

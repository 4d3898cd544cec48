package gitlab_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/strata-iac/strata/internal/fakegitlab"
	"github.com/strata-iac/strata/runner/forge"
	"github.com/strata-iac/strata/runner/forge/gitlab"
)

func TestRetryOn5xx(t *testing.T) {
	s, c := setup(t)
	mr := s.AddMergeRequest(repo, fakegitlab.MergeRequest{})
	s.FailNext(2, http.StatusInternalServerError, "")
	got, err := c.MergeRequest(context.Background(), repo, mr.IID)
	if err != nil || got.HeadSHA != mr.SHA {
		t.Fatalf("MergeRequest after two 500s = %+v, %v", got, err)
	}
	calls := s.CallsTo("GET /projects/:id/merge_requests/:iid")
	if len(calls) != 3 || calls[0].Status != 500 || calls[2].Status != 200 {
		t.Errorf("calls = %+v, want 500, 500, 200", calls)
	}
}

func TestRetryHonoursRetryAfter(t *testing.T) {
	s, c := setup(t)
	mr := s.AddMergeRequest(repo, fakegitlab.MergeRequest{})
	s.Fail(fakegitlab.Failure{Route: "POST /projects/:id/merge_requests/:iid/notes", Times: 1,
		Status: http.StatusTooManyRequests, RetryAfter: "1"})
	if _, err := c.CreateNote(context.Background(), repo, mr.IID, "hello"); err != nil {
		t.Fatal(err)
	}
	calls := s.CallsTo("POST /projects/:id/merge_requests/:iid/notes")
	if len(calls) != 2 || calls[0].Status != 429 || calls[1].Status != 201 {
		t.Fatalf("calls = %+v, want 429 then 201", calls)
	}
	// The wait is at least what Retry-After asked (the minimum backoff
	// configured is 5ms, so only the header explains a longer one).
	if gap := calls[1].Time.Sub(calls[0].Time); gap < 900*time.Millisecond {
		t.Errorf("retried after %v, Retry-After asked for 1s", gap)
	}
	if n := len(s.Notes(repo, mr.IID)); n != 1 {
		t.Errorf("%d notes, want 1", n)
	}
}

func TestRetryGivesUp(t *testing.T) {
	s := fakegitlab.New()
	t.Cleanup(s.Close)
	s.AddProject(fakegitlab.Project{Path: repo})
	c, err := gitlab.New(gitlab.Options{BaseURL: s.URL, Token: s.Token, Retries: 2,
		RetryWaitMin: time.Millisecond, RetryWaitMax: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	s.FailNext(3, http.StatusServiceUnavailable, "0")
	_, err = c.MergeRequest(context.Background(), repo, 1)
	var ae *forge.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusServiceUnavailable {
		t.Fatalf("err = %v, want an APIError with status 503", err)
	}
	if n := len(s.Calls()); n != 3 {
		t.Errorf("%d attempts, want 3 (1 + 2 retries)", n)
	}

	// 4xx other than 429 is never retried.
	s.ResetCalls()
	s.Fail(fakegitlab.Failure{Times: 1, Status: http.StatusBadRequest})
	if _, err := c.MergeRequest(context.Background(), repo, 1); err == nil {
		t.Fatal("400: no error")
	}
	if n := len(s.Calls()); n != 1 {
		t.Errorf("400 was tried %d times", n)
	}
}

func TestRetryStopsWithContext(t *testing.T) {
	s, c := setup(t)
	s.FailNext(1, http.StatusTooManyRequests, "30")
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.MergeRequest(ctx, repo, 1)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Error("the retry wait ignored the context")
	}
}

func TestBadToken(t *testing.T) {
	s, _ := setup(t)
	c := newClient(t, s.URL, "glpat-wrong-token-000000000")
	_, err := c.MergeRequest(context.Background(), repo, 1)
	if !errors.Is(err, forge.ErrPermission) {
		t.Errorf("wrong token: err = %v, want ErrPermission", err)
	}
	noToken(t, err, "glpat-wrong-token-000000000")
}

// TestTokenNeverInErrors runs every API method against a GitLab that
// repeats the request's token in its error messages, and a few transport
// failures, and checks that no error string holds the token.
func TestTokenNeverInErrors(t *testing.T) {
	const token = "glpat-SECRET-do-not-print-42"
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := r.Header.Get("PRIVATE-TOKEN")
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasSuffix(r.URL.Path, "/user"):
			fmt.Fprintf(w, `{"id": 1, "username": "bot"}`)
		case strings.HasSuffix(r.URL.Path, "/merge"):
			w.WriteHeader(http.StatusConflict)
			fmt.Fprintf(w, `{"message": "SHA does not match, token %s"}`, tok)
		case r.Method == http.MethodPost:
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"message": {"body": ["bad token %s"]}}`, tok)
		case strings.Contains(r.URL.Path, "members"):
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprintf(w, `not json %s`, tok)
		case strings.HasSuffix(r.URL.Path, "/users"):
			fmt.Fprint(w, `[{"id": 2, "username": "dave", "state": "active"}]`)
		default:
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, `{"error": "invalid token %s"}`, tok)
		}
	}))
	defer echo.Close()
	c := newClient(t, echo.URL, token)
	ctx := context.Background()

	var errs []error
	add := func(err error) { errs = append(errs, err) }
	_, err := c.MergeRequest(ctx, repo, 1)
	add(err)
	_, err = c.Approvals(ctx, repo, 1)
	add(err)
	_, err = c.Merge(ctx, repo, 1, forge.MergeOptions{SHA: "abc"})
	add(err)
	_, _, err = c.FindNote(ctx, repo, 1, marker)
	add(err)
	_, err = c.CreateNote(ctx, repo, 1, "x")
	add(err)
	_, err = c.UpdateNote(ctx, repo, 1, 2, "x")
	add(err)
	add(c.SetStatus(ctx, repo, "abc", forge.Status{Name: forge.StatusPlan, State: forge.StatusPending}))
	_, _, err = c.FindIssue(ctx, repo, forge.IssueQuery{Marker: driftMarker})
	add(err)
	_, err = c.CreateIssue(ctx, repo, forge.NewIssue{Title: "t"})
	add(err)
	_, err = c.UpdateIssue(ctx, repo, 1, "t", "b")
	add(err)
	add(c.CloseIssue(ctx, repo, 1))
	_, err = c.IsMember(ctx, "acme", "dave")
	add(err)

	// Transport failures: a closed server, and a timeout.
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	cd, err := gitlab.New(gitlab.Options{BaseURL: dead.URL, Token: token, Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = cd.MergeRequest(ctx, repo, 1)
	add(err)
	tctx, cancel := context.WithTimeout(ctx, time.Nanosecond)
	defer cancel()
	_, err = c.MergeRequest(tctx, repo, 1)
	add(err)

	for i, err := range errs {
		if err == nil {
			t.Errorf("call %d: no error", i)
			continue
		}
		noToken(t, err, token)
		if !strings.HasPrefix(err.Error(), "gitlab: ") {
			t.Errorf("call %d: error does not say it is GitLab's: %v", i, err)
		}
	}
	if !strings.Contains(errs[4].Error(), "[REDACTED]") {
		t.Errorf("the echoed token should show as [REDACTED]: %v", errs[4])
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	const token = "glpat-SECRET-in-url-0000"
	for _, tc := range []struct {
		opts gitlab.Options
		want string
	}{
		{gitlab.Options{BaseURL: "https://gitlab.example.com"}, "no API token"},
		{gitlab.Options{BaseURL: "ftp://gitlab.example.com", Token: token}, "http or https"},
		{gitlab.Options{BaseURL: "https://", Token: token}, "no host"},
		{gitlab.Options{BaseURL: "https://oauth2:" + token + "@gitlab.example.com", Token: token}, "credentials"},
		{gitlab.Options{BaseURL: "https://gitlab.example.com/%zz", Token: token}, "not a valid URL"},
	} {
		_, err := gitlab.New(tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%q): err = %v, want %q", tc.opts.BaseURL, err, tc.want)
		}
		noToken(t, err, token)
	}
	c, err := gitlab.New(gitlab.Options{Token: token})
	if err != nil || c.Name() != "gitlab" {
		t.Errorf("defaults: %v, %v", c, err)
	}
}

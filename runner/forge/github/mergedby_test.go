package github_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/strata-iac/strata/internal/fakegithub"
	"github.com/strata-iac/strata/runner/forge"
	"github.com/strata-iac/strata/runner/forge/github"
)

// TestMergedBy: the pull request that merged a commit is found by its
// merge commit; an open pull request whose head the commit is, a closed
// unmerged one, and a commit no pull request merged, are not.
func TestMergedBy(t *testing.T) {
	s, c := setup(t)
	ctx := context.Background()
	open := s.AddPullRequest(repo, fakegithub.PullRequest{HeadSHA: fakegithub.SHA("open head")})
	merged := s.AddPullRequest(repo, fakegithub.PullRequest{HeadSHA: fakegithub.SHA("merged head")})
	if _, err := c.Merge(ctx, repo, merged.Number, forge.MergeOptions{SHA: merged.HeadSHA}); err != nil {
		t.Fatal(err)
	}
	mergeSHA := func() string { pr, _ := s.PullRequest(repo, merged.Number); return pr.MergeCommitSHA }()
	closed := s.AddPullRequest(repo, fakegithub.PullRequest{HeadSHA: fakegithub.SHA("closed head"), State: "closed"})

	mr, ok, err := c.MergedBy(ctx, repo, mergeSHA)
	if err != nil {
		t.Fatal(err)
	}
	if !ok || mr.Number != merged.Number || mr.State != forge.StateMerged || mr.MergedSHA != mergeSHA || mr.HeadSHA != merged.HeadSHA {
		t.Errorf("by merge commit: %+v (ok %v), want #%d merged at %s", mr, ok, merged.Number, mergeSHA[:8])
	}
	for _, sha := range []string{open.HeadSHA, closed.HeadSHA, merged.HeadSHA, fakegithub.SHA("pushed to main")} {
		if mr, ok, err := c.MergedBy(ctx, repo, sha); err != nil || ok {
			t.Errorf("%s: found #%d (err %v), want none", sha[:8], mr.Number, err)
		}
	}
}

// TestActionsToken: with GitHub Actions' GITHUB_TOKEN, which GitHub does
// not tell whom it acts as, the client takes the login it is given and
// comments as github-actions[bot]; without one, the error says why.
func TestActionsToken(t *testing.T) {
	s := fakegithub.New()
	t.Cleanup(s.Close)
	s.AddRepo(fakegithub.Repo{FullName: repo})
	pr := s.AddPullRequest(repo, fakegithub.PullRequest{})
	token := s.ActionsToken(repo)
	ctx := context.Background()

	blind := newClient(t, github.Options{BaseURL: s.URL, Token: token})
	_, err := blind.BotUsername(ctx)
	if !errors.Is(err, forge.ErrPermission) || !strings.Contains(err.Error(), "GITHUB_TOKEN") {
		t.Errorf("BotUsername of a GITHUB_TOKEN without BotLogin: %v", err)
	}
	noToken(t, err, token)

	c := newClient(t, github.Options{BaseURL: s.URL, Token: token, BotLogin: fakegithub.ActionsBot})
	first, err := c.CreateNote(ctx, repo, pr.Number, "<!-- m --> one")
	if err != nil {
		t.Fatal(err)
	}
	found, ok, err := c.FindNote(ctx, repo, pr.Number, "<!-- m -->")
	if err != nil || !ok || found.ID != first.ID || found.Author != fakegithub.ActionsBot {
		t.Fatalf("FindNote = %+v, %v, %v; want the note github-actions[bot] wrote", found, ok, err)
	}
	if len(s.CallsTo("GET /user")) != 1 {
		t.Errorf("GET /user called %d times, want once (by the client without a login)", len(s.CallsTo("GET /user")))
	}
	if _, err := github.New(github.Options{BaseURL: s.URL, AppID: 1, AppKey: []byte("k"), BotLogin: "x"}); err == nil {
		t.Error("a bot login with an App is accepted")
	}
}

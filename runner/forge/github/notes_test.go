package github_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/strata-iac/strata/internal/fakegithub"
	"github.com/strata-iac/strata/runner/forge"
)

const marker = "<!-- strata:mr -->"

// TestNotesAreStrataOwn: FindNote returns only what strata's user wrote,
// across pages; a marker pasted by someone else is never taken over.
func TestNotesAreStrataOwn(t *testing.T) {
	s, c := setup(t)
	ctx := context.Background()
	pr := s.AddPullRequest(repo, fakegithub.PullRequest{})
	s.AddComment(repo, pr.Number, "mallory", marker+"\nI am strata now")
	for i := range 120 {
		s.AddComment(repo, pr.Number, "alice", fmt.Sprintf("comment %d", i))
	}
	if _, ok, err := c.FindNote(ctx, repo, pr.Number, marker); err != nil || ok {
		t.Fatalf("found a note strata did not write: %v, %v", ok, err)
	}
	n, err := c.CreateNote(ctx, repo, pr.Number, marker+"\nthe plan")
	if err != nil {
		t.Fatal(err)
	}
	if n.Author != s.Bot || !strings.Contains(n.URL, fmt.Sprintf("/pull/%d#issuecomment-%d", pr.Number, n.ID)) {
		t.Errorf("created %+v", n)
	}
	found, ok, err := c.FindNote(ctx, repo, pr.Number, marker)
	if err != nil || !ok || found.ID != n.ID {
		t.Fatalf("FindNote after 121 comments = %+v, %v, %v; want comment %d", found, ok, err, n.ID)
	}
	if _, err := c.UpdateNote(ctx, repo, pr.Number, n.ID, marker+"\nthe new plan"); err != nil {
		t.Fatal(err)
	}
	all := s.Comments(repo, pr.Number)
	if last := all[len(all)-1]; last.ID != n.ID || !strings.HasSuffix(last.Body, "the new plan") {
		t.Errorf("not edited in place: %+v", last)
	}
}

func TestNoteLength(t *testing.T) {
	s, c := setup(t)
	pr := s.AddPullRequest(repo, fakegithub.PullRequest{})
	_, err := c.CreateNote(context.Background(), repo, pr.Number, strings.Repeat("é", 65_537))
	if !errors.Is(err, forge.ErrTooLong) {
		t.Fatalf("65,537 characters: %v", err)
	}
	if len(s.Calls()) != 0 || len(s.Comments(repo, pr.Number)) != 0 {
		t.Error("an oversized comment was sent")
	}
	if _, err := c.CreateNote(context.Background(), repo, pr.Number, strings.Repeat("é", 65_536)); err != nil {
		t.Errorf("65,536 characters (131,072 bytes): %v", err)
	}
}

// TestCommitStatuses: with a token, strata sets commit statuses; running
// shows as pending and descriptions fit GitHub's 140 characters.
func TestCommitStatuses(t *testing.T) {
	s, c := setup(t)
	ctx := context.Background()
	sha := fakegithub.SHA("head")
	for _, st := range []forge.Status{
		{Name: forge.StatusPlan, State: forge.StatusRunning, Description: strings.Repeat("x", 300)},
		{Name: forge.StatusPlan, State: forge.StatusFailed, Description: "1 stack, 1 failed", TargetURL: "https://github.com/acme/infra/pull/1#issuecomment-9"},
		{Name: forge.StatusApply, State: forge.StatusSuccess, Summary: "| table |"},
	} {
		if err := c.SetStatus(ctx, repo, sha, st); err != nil {
			t.Fatalf("SetStatus(%+v): %v", st, err)
		}
	}
	all := s.Statuses(repo, sha)
	if len(all) != 3 || all[0].State != "pending" || len([]rune(all[0].Description)) != 140 ||
		all[1].State != "failure" || all[1].TargetURL == "" || all[2].Context != "strata/apply" || all[2].State != "success" {
		t.Errorf("statuses: %+v", all)
	}
	if err := c.SetStatus(ctx, repo, sha, forge.Status{Name: "x", State: "weird"}); err == nil {
		t.Error("an unknown state was accepted")
	}
}

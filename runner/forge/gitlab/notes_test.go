package gitlab_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/strata-iac/strata/internal/fakegitlab"
	"github.com/strata-iac/strata/runner/forge"
)

const marker = "<!-- strata:plan-comment -->"

func TestFindNotePaginates(t *testing.T) {
	s, c := setup(t)
	ctx := context.Background()
	mr := s.AddMergeRequest(repo, fakegitlab.MergeRequest{})
	// Someone pastes the marker early: it must not be taken for strata's.
	s.AddNote(repo, mr.IID, "mallory", "look: "+marker)
	for i := range 230 {
		s.AddNote(repo, mr.IID, "alice", fmt.Sprintf("comment %d", i))
	}
	want := s.AddNote(repo, mr.IID, s.Bot, marker+"\n## Plan")
	s.AddNote(repo, mr.IID, s.Bot, marker+"\nnewer copy")
	s.ResetCalls()

	got, ok, err := c.FindNote(ctx, repo, mr.IID, marker)
	if err != nil || !ok {
		t.Fatalf("FindNote = %v, %v", ok, err)
	}
	if got.ID != want.ID || got.Author != s.Bot || got.Body != want.Body {
		t.Errorf("FindNote = %+v, want the oldest note by %s with the marker (%d)", got, s.Bot, want.ID)
	}
	pages := s.CallsTo("GET /projects/:id/merge_requests/:iid/notes")
	if len(pages) != 3 {
		t.Fatalf("read %d pages of notes, want 3", len(pages))
	}
	for i, p := range pages {
		q := p.Query
		if q.Get("per_page") != "100" || q.Get("page") != fmt.Sprint(i+1) || q.Get("sort") != "asc" || q.Get("order_by") != "created_at" {
			t.Errorf("page %d query = %v", i+1, q)
		}
	}

	_, ok, err = c.FindNote(ctx, repo, mr.IID, "<!-- strata:absent -->")
	if err != nil || ok {
		t.Errorf("absent marker: ok=%v err=%v", ok, err)
	}
	if _, _, err := c.FindNote(ctx, repo, mr.IID, ""); err == nil {
		t.Error("empty marker: no error")
	}
	if _, _, err := c.FindNote(ctx, repo, 99, marker); !errors.Is(err, forge.ErrNotFound) {
		t.Errorf("missing merge request: %v", err)
	}
}

func TestCreateUpdateNote(t *testing.T) {
	s, c := setup(t)
	ctx := context.Background()
	mr := s.AddMergeRequest(repo, fakegitlab.MergeRequest{})

	n, err := c.CreateNote(ctx, repo, mr.IID, marker+"\nplanning…")
	if err != nil {
		t.Fatal(err)
	}
	if n.Author != s.Bot || n.ID == 0 {
		t.Errorf("CreateNote = %+v", n)
	}
	up, err := c.UpdateNote(ctx, repo, mr.IID, n.ID, marker+"\n1 to add")
	if err != nil {
		t.Fatal(err)
	}
	if up.ID != n.ID || up.Body != marker+"\n1 to add" {
		t.Errorf("UpdateNote = %+v", up)
	}
	notes := s.Notes(repo, mr.IID)
	if len(notes) != 1 || notes[0].Body != marker+"\n1 to add" {
		t.Errorf("notes = %+v, want one note edited in place", notes)
	}
	found, ok, err := c.FindNote(ctx, repo, mr.IID, marker)
	if err != nil || !ok || found.ID != n.ID {
		t.Errorf("FindNote after create = %+v, %v, %v", found, ok, err)
	}

	if _, err := c.CreateNote(ctx, repo, mr.IID, "strata help output"); err != nil {
		t.Errorf("plain note: %v", err)
	}

	theirs := s.AddNote(repo, mr.IID, "alice", "mine")
	if _, err := c.UpdateNote(ctx, repo, mr.IID, theirs.ID, "hijack"); !errors.Is(err, forge.ErrPermission) {
		t.Errorf("editing someone else's note: err = %v, want ErrPermission", err)
	}
	if _, err := c.UpdateNote(ctx, repo, mr.IID, 424242, "x"); !errors.Is(err, forge.ErrNotFound) {
		t.Errorf("editing a missing note: err = %v", err)
	}
	if _, err := c.CreateNote(ctx, repo, mr.IID, "  "); err == nil || !strings.Contains(err.Error(), "blank") {
		t.Errorf("blank note: err = %v, want GitLab's message", err)
	}
}

func TestNoteLimit(t *testing.T) {
	s, c := setup(t)
	ctx := context.Background()
	mr := s.AddMergeRequest(repo, fakegitlab.MergeRequest{})
	if c.CommentLimit() != 1_000_000 {
		t.Errorf("CommentLimit = %d", c.CommentLimit())
	}
	// The limit counts characters, not bytes.
	atLimit := strings.Repeat("é", c.CommentLimit())
	if _, err := c.CreateNote(ctx, repo, mr.IID, atLimit); err != nil {
		t.Fatalf("note at the limit: %v", err)
	}
	s.ResetCalls()
	_, err := c.CreateNote(ctx, repo, mr.IID, atLimit+"!")
	if !errors.Is(err, forge.ErrTooLong) {
		t.Fatalf("note over the limit: err = %v, want ErrTooLong", err)
	}
	if _, err := c.UpdateNote(ctx, repo, mr.IID, 1, atLimit+"!"); !errors.Is(err, forge.ErrTooLong) {
		t.Fatalf("update over the limit: err = %v, want ErrTooLong", err)
	}
	if calls := s.Calls(); len(calls) != 0 {
		t.Errorf("an oversized note reached GitLab: %d calls", len(calls))
	}
}

func TestBotUsername(t *testing.T) {
	s, c := setup(t)
	for range 2 {
		got, err := c.BotUsername(context.Background())
		if err != nil || got != s.Bot {
			t.Fatalf("BotUsername = %q, %v", got, err)
		}
	}
	if n := len(s.CallsTo("GET /user")); n != 1 {
		t.Errorf("GET /user called %d times, want once (cached)", n)
	}
}

func TestSetStatus(t *testing.T) {
	s, c := setup(t)
	ctx := context.Background()
	sha := fakegitlab.SHA("head")

	steps := []forge.Status{
		{Name: forge.StatusPlan, State: forge.StatusPending, Description: "queued"},
		{Name: forge.StatusPlan, State: forge.StatusRunning, Description: "planning 3 stacks", TargetURL: "https://strata.example.com/runs/1"},
		// GitLab refuses running → running; the adapter takes it as done.
		{Name: forge.StatusPlan, State: forge.StatusRunning, Description: "still planning"},
		{Name: forge.StatusPlan, State: forge.StatusSuccess, Description: "2 to change"},
		{Name: forge.StatusApply, State: forge.StatusPending, Description: "waiting for approval"},
		{Name: forge.StatusApply, State: forge.StatusPending, Description: "waiting for approval"},
		{Name: forge.StatusApply, State: forge.StatusFailed, Description: strings.Repeat("x", 400)},
	}
	for _, st := range steps {
		if err := c.SetStatus(ctx, repo, sha, st); err != nil {
			t.Fatalf("SetStatus(%+v): %v", st, err)
		}
	}
	plan, ok := s.LatestStatus(repo, sha, forge.StatusPlan)
	if !ok || plan.State != "success" || plan.Description != "2 to change" || plan.TargetURL != "https://strata.example.com/runs/1" || plan.Author != s.Bot {
		t.Errorf("strata/plan = %+v", plan)
	}
	apply, _ := s.LatestStatus(repo, sha, forge.StatusApply)
	if apply.State != "failed" || len([]rune(apply.Description)) != 255 || !strings.HasSuffix(apply.Description, "…") {
		t.Errorf("strata/apply = %s, description of %d characters", apply.State, len([]rune(apply.Description)))
	}
	if n := len(s.Statuses(repo, sha)); n != 2 {
		t.Errorf("%d statuses, want 2 (GitLab moves an unfinished status in place)", n)
	}

	// A finished status is followed by a new one on a re-plan.
	if err := c.SetStatus(ctx, repo, sha, forge.Status{Name: forge.StatusPlan, State: forge.StatusPending}); err != nil {
		t.Fatal(err)
	}
	if n := len(s.Statuses(repo, sha)); n != 3 {
		t.Errorf("%d statuses after re-plan, want 3", n)
	}

	// running → pending is a real refusal, not a repeat.
	if err := c.SetStatus(ctx, repo, sha, forge.Status{Name: forge.StatusPlan, State: forge.StatusRunning}); err != nil {
		t.Fatal(err)
	}
	err := c.SetStatus(ctx, repo, sha, forge.Status{Name: forge.StatusPlan, State: forge.StatusPending})
	if err == nil || !strings.Contains(err.Error(), "from :running") {
		t.Errorf("running → pending: err = %v, want GitLab's refusal", err)
	}

	for _, bad := range []forge.Status{{Name: forge.StatusPlan, State: "done"}, {State: forge.StatusPending}} {
		if err := c.SetStatus(ctx, repo, sha, bad); err == nil {
			t.Errorf("SetStatus(%+v): no error", bad)
		}
	}
	if err := c.SetStatus(ctx, "acme/nope", sha, steps[0]); !errors.Is(err, forge.ErrNotFound) {
		t.Errorf("missing project: %v", err)
	}
}

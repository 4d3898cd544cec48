package review

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/strata-iac/strata/internal/fault"
	"github.com/strata-iac/strata/planner"
	"github.com/strata-iac/strata/runner/records"
	"github.com/strata-iac/strata/runner/workspace"
)

// brokenOpener stands for a bug met while opening a workspace: it panics.
type brokenOpener struct{}

func (brokenOpener) Open(context.Context, workspace.Repo, string) (*planner.Session, error) {
	var byDir map[string]int
	byDir["live/app"]++
	return nil, nil
}

// TestPanicFailsTheRun: a panic while planning fails that run: its record
// and commit status say failed, with the cause, the note tells the merge
// request, and HandleEvent returns a permanent error instead of taking
// the process down.
func TestPanicFailsTheRun(t *testing.T) {
	h := newHarness(t, repoFiles)
	ev := h.openMR(1, "app", map[string]string{"live/app/main.tf": "# changed\n"})
	h.rv.cfg.Workspaces = brokenOpener{}

	err := h.rv.HandleEvent(context.Background(), ev)
	var p *fault.PanicError
	if !errors.As(err, &p) || !fault.IsPermanent(err) {
		t.Fatalf("HandleEvent returned %v, want a permanent *fault.PanicError", err)
	}
	if !strings.Contains(string(p.Stack), "panic_test.go") {
		t.Errorf("the stack does not show where it panicked:\n%s", p.Stack)
	}
	mr, _ := h.gl.MergeRequest(h.path, 1)
	st, _ := h.gl.LatestStatus(h.path, mr.SHA, "strata/plan")
	if st.State != "failed" || !strings.Contains(st.Description, "a bug in strata") || !strings.Contains(st.Description, "nil map") {
		t.Errorf("plan status %q %q, want failed with the cause", st.State, st.Description)
	}
	if note := h.note(1); !strings.Contains(note, "strata failed while handling this event") || !strings.Contains(note, "nil map") {
		t.Errorf("the note does not report the failure:\n%s", note)
	}
	keys, err := h.store.List(context.Background(), "runs/gitlab/acme/infra/")
	if err != nil || len(keys) != 1 {
		t.Fatalf("run records %v (%v), want one", keys, err)
	}
	data, _ := h.store.Get(context.Background(), keys[0])
	var rec records.Record
	if err := json.Unmarshal(data, &rec); err != nil {
		t.Fatal(err)
	}
	if rec.State != records.StateFailed || !strings.Contains(rec.Error, "nil map") {
		t.Errorf("run record %s %q, want failed with the cause", rec.State, rec.Error)
	}
	if active, _ := h.store.List(context.Background(), "runs/active/"); len(active) != 0 {
		t.Errorf("the run is still recorded as in progress: %v", active)
	}
}

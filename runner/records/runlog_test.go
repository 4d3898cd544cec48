package records

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/strata-iac/strata/internal/redact"
	"github.com/strata-iac/strata/planner"
	"github.com/strata-iac/strata/runner/forge"
	"github.com/strata-iac/strata/runner/store"
)

// TestRunLogStreamsThenStays: a run's log is readable while the run goes
// on, grows as terraform prints, keeps each line's time and stack, never
// holds a secret, and ends up next to the run's record.
func TestRunLogStreamsThenStays(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	repo := forge.RepoRef{Forge: "gitlab", Path: "acme/infra"}
	rec := newRecorder(t, st, "r1")
	rec.LogEvery = 20 * time.Millisecond
	rec.Redactor = redact.New("hunter2-very-secret")
	run := rec.Start(ctx, Run{Operation: planner.OpPlan, Repo: repo, MR: 3, Commit: "abc"})
	log := rec.RunLog(ctx, run)
	app := log.Stack("live/app", "prod")
	fmt.Fprint(app, "$ terraform init\nInitializing the backend")
	fmt.Fprint(app, "...\n")

	waitLog := func(want string) string {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			data, active, err := ReadLog(ctx, st, repo, run.ID)
			if err == nil && active && strings.Contains(string(data), want) {
				return string(data)
			}
			if time.Now().After(deadline) {
				t.Fatalf("the log of the run in progress never showed %q: %q, %v, %v", want, data, active, err)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	got := waitLog("Initializing the backend...")
	if !regexp.MustCompile(`(?m)^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z live/app@prod \| \$ terraform init$`).MatchString(got) {
		t.Errorf("a line lacks its time or stack:\n%s", got)
	}
	fmt.Fprint(log.Stack("live/db", ""), "token is hunter2-very-secret\n")
	got = waitLog("live/db | token is")
	if strings.Contains(got, "hunter2") {
		t.Fatalf("the streamed log holds the secret:\n%s", got)
	}

	rec.Finish(ctx, run, StateCompleted, nil, nil)
	data, active, err := ReadLog(ctx, st, repo, run.ID)
	if err != nil || active {
		t.Fatalf("after the run: %v, active %v", err, active)
	}
	if s := string(data); !strings.Contains(s, "Initializing the backend...") || !strings.Contains(s, "token is "+redact.Mask) || strings.Contains(s, "hunter2") {
		t.Errorf("final log:\n%s", s)
	}
	if _, err := st.Get(ctx, ActiveLogKey(run.ID)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the log of the run in progress stays: %v", err)
	}
	back, _, _ := rec.Find(ctx, repo, run.ID)
	if back.Log != LogKey(repo, run.ID) {
		t.Errorf("record names log %q", back.Log)
	}
	if left := rec.Interrupted(ctx); len(left) != 0 {
		t.Errorf("logs taken for runs in progress: %v", left)
	}
}

// TestRunLogOfAnAbandonedRun: a run closed by another replica after its
// own died keeps what its log streamed.
func TestRunLogOfAnAbandonedRun(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	repo := forge.RepoRef{Forge: "gitlab", Path: "acme/infra"}
	dead := newRecorder(t, st, "r1")
	dead.LogEvery = 10 * time.Millisecond
	run := dead.Start(ctx, Run{Operation: planner.OpApply, Repo: repo, MR: 3})
	fmt.Fprintln(dead.RunLog(ctx, run).Stack("live/app", ""), "terraform_data.x: Creating...")
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := st.Get(ctx, ActiveLogKey(run.ID)); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the log was never streamed")
		}
		time.Sleep(5 * time.Millisecond)
	}
	dead.stopBeat(run.ID)
	other := newRecorder(t, st, "r2")
	other.Lease = time.Nanosecond
	if got := other.Abandon(ctx, nil); len(got) != 1 {
		t.Fatalf("abandoned %d runs", len(got))
	}
	data, active, err := ReadLog(ctx, st, repo, run.ID)
	if err != nil || active || !strings.Contains(string(data), "Creating...") {
		t.Errorf("log of the interrupted run: %q, active %v, %v", data, active, err)
	}
}

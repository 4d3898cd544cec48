package planner

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/strata-iac/strata/planner/tf"
)

// TestApplyRefusesTamperedPlan changes one byte of a plan file: Apply
// refuses it, names the stack, and runs nothing.
func TestApplyRefusesTamperedPlan(t *testing.T) {
	r := newTestRunner(t, Options{})
	stateDir := t.TempDir()
	files := map[string]string{"live/a/main.tf": twoResources}
	plan := r.Plan(context.Background(), Job{Dir: "live/a", Root: export(t, files), StateDir: stateDir})
	if plan.Status != StatusChanges {
		t.Fatalf("%s %s", plan.Status, plan.Error)
	}
	tampered := append([]byte(nil), plan.PlanFile...)
	tampered[len(tampered)/2] ^= 0xff
	for name, file := range map[string][]byte{"tampered file": tampered, "other checksum": plan.PlanFile} {
		want := plan.PlanSHA256
		if name == "other checksum" {
			want = strings.Repeat("0", 64)
		}
		res := r.Apply(context.Background(), Job{Dir: "live/a", Root: export(t, files), StateDir: stateDir}, file, want)
		if res.Status != StatusRefused || !strings.HasPrefix(res.Error, "live/a: plan file checksum ") || !strings.Contains(res.Error, "refusing to apply") {
			t.Errorf("%s: %s %q", name, res.Status, res.Error)
		}
		if res.Log != "" {
			t.Errorf("%s: terraform ran:\n%s", name, res.Log)
		}
	}
	if entries, _ := os.ReadDir(stateDir); len(entries) != 0 {
		t.Errorf("state dir touched: %v", entries)
	}
}

// TestApplyRefusesStalePlan makes two plans from the same state and applies
// both: terraform refuses the second, and strata reports it as refused.
func TestApplyRefusesStalePlan(t *testing.T) {
	r := newTestRunner(t, Options{})
	stateDir := t.TempDir()
	files := map[string]string{"live/a/main.tf": twoResources}
	job := func() Job { return Job{Dir: "live/a", Root: export(t, files), StateDir: stateDir} }
	first := r.Plan(context.Background(), job())
	second := r.Plan(context.Background(), job())
	if res := r.Apply(context.Background(), job(), first.PlanFile, first.PlanSHA256); res.Status != StatusApplied {
		t.Fatalf("first apply: %s %s", res.Status, res.Error)
	}
	before, _ := os.ReadFile(filepath.Join(stateDir, "terraform.tfstate"))
	res := r.Apply(context.Background(), job(), second.PlanFile, second.PlanSHA256)
	if res.Status != StatusRefused || !strings.Contains(res.Error, "Saved plan is stale") {
		t.Errorf("stale plan: %s %q", res.Status, res.Error)
	}
	if after, _ := os.ReadFile(filepath.Join(stateDir, "terraform.tfstate")); string(after) != string(before) {
		t.Error("state changed by a refused apply")
	}
}

func TestNonDefaultWorkspace(t *testing.T) {
	r := newTestRunner(t, Options{})
	stateDir := t.TempDir()
	files := map[string]string{"live/a/main.tf": twoResources + "output \"ws\" {\n  value = terraform.workspace\n}\n"}
	job := func() Job {
		return Job{Dir: "live/a", Workspace: "staging", Root: export(t, files), StateDir: stateDir}
	}
	plan := r.Plan(context.Background(), job())
	if plan.Status != StatusChanges || plan.Workspace != "staging" || !strings.Contains(plan.PlanText, `+ ws = "staging"`) {
		t.Fatalf("%s %s\n%s", plan.Status, plan.Error, plan.PlanText)
	}
	if res := r.Apply(context.Background(), job(), plan.PlanFile, plan.PlanSHA256); res.Status != StatusApplied {
		t.Fatalf("apply: %s %s\n%s", res.Status, res.Error, res.Log)
	}
	if _, err := os.Stat(filepath.Join(stateDir, "terraform.tfstate.d", "staging", "terraform.tfstate")); err != nil {
		t.Errorf("no staging state: %v", err)
	}
	if _, err := os.Stat(filepath.Join(stateDir, "terraform.tfstate")); err == nil {
		t.Error("the default workspace got state")
	}
	if again := r.Plan(context.Background(), job()); again.Status != StatusNoChanges {
		t.Errorf("second plan: %s %s", again.Status, again.Error)
	}
	if def := r.Plan(context.Background(), Job{Dir: "live/a", Root: export(t, files), StateDir: stateDir}); def.Status != StatusChanges || def.Counts.Create != 2 {
		t.Errorf("default workspace: %s %+v", def.Status, def.Counts)
	}
}

// holdStateLock takes the lock terraform's local backend takes on a state
// file (an fcntl write lock, and a file saying who holds it), as another
// terraform run would.
func holdStateLock(t *testing.T, path string) {
	t.Helper()
	info := `{"ID":"4f3a","Operation":"OperationTypeApply","Who":"someone@elsewhere","Version":"1.11.4","Created":"2026-01-01T00:00:00Z","Path":"` + path + `"}`
	writeFiles(t, filepath.Dir(path), map[string]string{".terraform.tfstate.lock.info": info})
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	lock := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: 0}
	if err := syscall.FcntlFlock(f.Fd(), syscall.F_SETLK, &lock); err != nil {
		t.Fatal(err)
	}
}

// TestStackTimeout plans a stack whose state another run holds locked,
// with a lock timeout longer than the stack's: the stack times out,
// terraform is interrupted, and the result says so.
func TestStackTimeout(t *testing.T) {
	r := newTestRunner(t, Options{StackTimeout: 3 * time.Second, LockTimeout: time.Minute})
	stateDir := t.TempDir()
	holdStateLock(t, filepath.Join(stateDir, "terraform.tfstate"))
	start := time.Now()
	res := r.Plan(context.Background(), Job{Dir: "live/a", Root: export(t, map[string]string{"live/a/main.tf": twoResources}), StateDir: stateDir})
	if took := time.Since(start); took > 15*time.Second {
		t.Errorf("took %s with a 3s stack timeout", took)
	}
	if res.Status != StatusError || res.Error != "plan: timed out after 3s; terraform was interrupted" {
		t.Errorf("%s %q\n%s", res.Status, res.Error, res.Log)
	}
}

// TestCancelApplyReleasesStateLock cancels an apply while a provisioner
// runs: terraform gets SIGINT, stops cleanly and releases the state lock,
// so the next run takes it at once.
func TestCancelApplyReleasesStateLock(t *testing.T) {
	r := newTestRunner(t, Options{})
	stateDir, markers := t.TempDir(), t.TempDir()
	started := filepath.Join(markers, "started")
	files := map[string]string{"live/slow/main.tf": `
resource "terraform_data" "slow" {
  provisioner "local-exec" {
    command = "touch '` + started + `' && sleep 30"
  }
}
`}
	plan := r.Plan(context.Background(), Job{Dir: "live/slow", Root: export(t, files), StateDir: stateDir})
	if plan.Status != StatusChanges {
		t.Fatalf("%s %s", plan.Status, plan.Error)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan Result)
	go func() {
		done <- r.Apply(ctx, Job{Dir: "live/slow", Root: export(t, files), StateDir: stateDir}, plan.PlanFile, plan.PlanSHA256)
	}()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(started); err == nil {
			break
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("the provisioner never started:\n%s", (<-done).Log)
		}
	}
	cancelled := time.Now()
	cancel()
	res := <-done
	if took := time.Since(cancelled); took > 10*time.Second {
		t.Errorf("apply took %s to stop after cancellation", took)
	}
	if res.Status != StatusError || !strings.HasPrefix(res.Error, "apply: cancelled (context canceled); terraform was interrupted; ") {
		t.Errorf("%s %q\n%s", res.Status, res.Error, res.Log)
	}
	// What the interrupted apply left is said, with what to do.
	if in := res.Interrupted; in == nil || !slices.Equal(in.Tainted, []string{"terraform_data.slow"}) ||
		!slices.Equal(in.Unfinished, []string{"terraform_data.slow"}) || in.LockHeld != "" || len(in.Unknown) != 0 {
		t.Errorf("interruption %+v, want terraform_data.slow tainted and unfinished, no lock held", res.Interrupted)
	}
	for _, want := range []string{"terraform marked terraform_data.slow tainted", "the state is not locked", "plan again, then apply the new plan"} {
		if !strings.Contains(res.Error, want) {
			t.Errorf("error %q lacks %q", res.Error, want)
		}
	}
	if !strings.Contains(res.Log, "Interrupt received") {
		t.Errorf("terraform did not report a graceful interrupt:\n%s", res.Log)
	}
	if _, err := os.Stat(filepath.Join(stateDir, ".terraform.tfstate.lock.info")); !os.IsNotExist(err) {
		t.Errorf("lock info left behind: %v", err)
	}
	quick := newTestRunner(t, Options{LockTimeout: time.Millisecond})
	next := quick.Plan(context.Background(), Job{Dir: "live/slow", Root: export(t, files), StateDir: stateDir})
	if next.Status == StatusError {
		t.Errorf("next plan could not run: %s\n%s", next.Error, next.Log)
	}
}

func TestJobsThatCannotRun(t *testing.T) {
	r, err := NewRunner(Options{Binary: &tf.Binary{Name: "terraform", Path: "/bin/false", Version: "1.11.4"}, CacheDir: t.TempDir(), TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	root := export(t, map[string]string{"live/a/main.tf": ""})
	for dir, want := range map[string]string{
		"../etc": `prepare: stack directory "../etc" must be a path inside the repository, relative to its root`,
		"":       `prepare: stack directory "" must be a path inside the repository, relative to its root`,
		"live/b": "prepare: stack directory live/b not found in " + root,
	} {
		res := r.Plan(context.Background(), Job{Dir: dir, Root: root, StateDir: t.TempDir()})
		if res.Status != StatusError || res.Error != want || res.Log != "" {
			t.Errorf("%q: %s %q, want %q", dir, res.Status, res.Error, want)
		}
	}
	res := r.Plan(context.Background(), Job{Dir: "live/a", Root: root})
	if res.Status != StatusError || !strings.Contains(res.Error, "live/a has no backend block and no state directory was given") {
		t.Errorf("no state dir: %s %q", res.Status, res.Error)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	results := r.PlanAll(ctx, []Job{{Dir: "live/a", Root: root}, {Dir: "live/b", Root: root}})
	for i, res := range results {
		if res.Dir != []string{"live/a", "live/b"}[i] || res.Status != StatusError || res.Error != "not started: context canceled" {
			t.Errorf("cancelled PlanAll, result %d: %s %s %q", i, res.Dir, res.Status, res.Error)
		}
	}
}

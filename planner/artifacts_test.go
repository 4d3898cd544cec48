package planner

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// dirArtifacts keeps artifacts as files and fails every Put after the
// first okPuts, like a store whose endpoint goes away mid-run.
type dirArtifacts struct {
	dir    string
	okPuts int
}

func (d *dirArtifacts) Put(_ context.Context, key string, data []byte) (string, error) {
	if d.okPuts == 0 {
		return "", errors.New("connection refused")
	}
	d.okPuts--
	p := filepath.Join(d.dir, filepath.FromSlash(key))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return "", err
	}
	return "", os.WriteFile(p, data, 0o644)
}

func (d *dirArtifacts) Get(_ context.Context, key string) ([]byte, error) {
	return os.ReadFile(filepath.Join(d.dir, filepath.FromSlash(key)))
}

func TestWriteOutNeverRecordsAPartialRunAsComplete(t *testing.T) {
	s := Summary{Operation: "plan", Commit: "abc", Stacks: []Result{
		{Dir: "live/a", Status: StatusChanges, PlanFile: []byte("plan a"), PlanJSON: []byte("{}"), PlanText: "+ a"},
		{Dir: ".", Status: StatusChanges, PlanFile: []byte("plan root"), PlanJSON: []byte("{}"), PlanText: "+ root"},
	}}
	// Six stack files, comment.md, summary.json: fail at every point.
	for ok := 0; ok < 8; ok++ {
		a := &dirArtifacts{dir: t.TempDir(), okPuts: ok}
		if err := WriteOut(context.Background(), a, s, "comment"); err == nil {
			t.Fatalf("%d puts allowed: WriteOut succeeded", ok)
		}
		if _, err := ReadSummary(context.Background(), a); err == nil {
			t.Errorf("%d puts allowed: summary.json written although the run's files are incomplete", ok)
		}
	}
	a := &dirArtifacts{dir: t.TempDir(), okPuts: 8}
	if err := WriteOut(context.Background(), a, s, "comment"); err != nil {
		t.Fatal(err)
	}
	got, err := ReadSummary(context.Background(), a)
	if err != nil || len(got.Stacks) != 2 {
		t.Fatalf("ReadSummary = %+v, %v", got, err)
	}
	if data, _ := a.Get(context.Background(), "plan.tfplan"); string(data) != "plan root" {
		t.Errorf("the root stack's plan is %q, want it at the top of the layout", data)
	}
}

package planner

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sync"
	"testing"

	"github.com/strata-iac/strata/internal/gittest"
)

func TestDriftVerdict(t *testing.T) {
	changes := Result{Dir: "a", Status: StatusChanges, Counts: Counts{Create: 1},
		Changes: []ResourceChange{{Address: "terraform_data.x", Action: ActionCreate}}}
	noise := Result{Dir: "b", Status: StatusNoChanges, Counts: Counts{NoOp: 1, Drift: 1},
		Drift: []ResourceChange{{Address: "aws_ssm_parameter.p", Action: ActionUpdate}}}
	outputs := Result{Dir: "c", Status: StatusChanges, Counts: Counts{OutputChanges: 1}}
	// Refresh-only: terraform exited 2 without any change, as some
	// versions do.
	exit2 := Result{Dir: "d", Status: StatusChanges}
	failed := Result{Dir: "e", Status: StatusError, Error: "init: no backend"}
	for _, tc := range []struct {
		r           Result
		refreshOnly bool
		want        Status
	}{
		{changes, false, StatusChanges},
		{noise, false, StatusNoChanges},
		{outputs, false, StatusChanges},
		{changes, true, StatusNoChanges},
		{noise, true, StatusChanges},
		{exit2, true, StatusNoChanges},
		{failed, false, StatusError},
	} {
		if got := driftStatus(tc.r, tc.refreshOnly); got != tc.want {
			t.Errorf("%s (refresh-only %v): %s, want %s", tc.r.Dir, tc.refreshOnly, got, tc.want)
		}
	}

	noise.Changes = []ResourceChange{{Address: "aws_ssm_parameter.p", Action: ActionUpdate, Reason: "x"}}
	noise.Status = StatusChanges
	rep := NewDriftReport("main", Summary{Commit: "c0ffee", Stacks: []Result{noise, failed, {Dir: "f", Status: StatusNoChanges}}})
	want := DriftReport{Ref: "main", Commit: "c0ffee", Stacks: []DriftStack{
		{Dir: "b", Drifted: true, Counts: noise.Counts, Resources: []DriftResource{
			{Address: "aws_ssm_parameter.p", Action: ActionUpdate, Kind: ResourceDrifted},
			{Address: "aws_ssm_parameter.p", Action: ActionUpdate, Kind: ResourcePlanned, Reason: "x"},
		}},
		{Dir: "e", Resources: []DriftResource{}, Error: "init: no backend"},
		{Dir: "f", Resources: []DriftResource{}},
	}}
	if !reflect.DeepEqual(rep, want) {
		t.Errorf("report\n%+v\nwant\n%+v", rep, want)
	}
	if d, f := rep.Drifted(), rep.Failed(); !reflect.DeepEqual(d, []string{"b"}) || !reflect.DeepEqual(f, []string{"e"}) {
		t.Errorf("drifted %v, failed %v", d, f)
	}
}

// memArtifacts is an in-memory Artifacts.
type memArtifacts struct {
	mu    sync.Mutex
	files map[string][]byte
}

func (m *memArtifacts) Put(_ context.Context, key string, data []byte) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.files == nil {
		m.files = map[string][]byte{}
	}
	m.files[key] = data
	return "", nil
}

func (m *memArtifacts) Get(_ context.Context, key string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	data, ok := m.files[key]
	if !ok {
		return nil, os.ErrNotExist
	}
	return data, nil
}

// TestSessionDrift applies two stacks, takes a resource out of one's
// state and adds a resource to the other's code: both drifted in a normal
// plan, with the addresses; with -refresh-only neither did, since nothing
// changed outside Terraform.
func TestSessionDrift(t *testing.T) {
	bin := terraformBinary(t)
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	g := gittest.New(t)
	g.Write(map[string]string{
		"strata.yaml":    strataYAML(""),
		"live/a/main.tf": `resource "terraform_data" "x" {}` + "\n" + `resource "terraform_data" "y" {}`,
		"live/b/main.tf": `resource "terraform_data" "z" {}`,
	})
	g.Commit("stacks")
	data := t.TempDir()
	s, err := OpenSession(SessionOptions{RepoDir: g.Dir, RepoName: "acme/infra", DataDir: data, Parallel: 2, NoDownload: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	sum, err := s.Plan(ctx, Selection{All: true})
	if err != nil {
		t.Fatal(err)
	}
	a := &memArtifacts{}
	if err := WriteOut(ctx, a, sum, ""); err != nil {
		t.Fatal(err)
	}
	applied, err := s.Apply(ctx, a, ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range applied.Stacks {
		if r.Status != StatusApplied {
			t.Fatalf("apply %s: %s %s", r.Dir, r.Status, r.Error)
		}
	}

	drift := func(refreshOnly bool) map[string]Result {
		t.Helper()
		tgt, err := s.Select(ctx, Selection{All: true})
		if err != nil {
			t.Fatal(err)
		}
		sum, err := s.Drift(ctx, tgt, DriftOptions{RefreshOnly: refreshOnly})
		if err != nil {
			t.Fatal(err)
		}
		if sum.Operation != "drift" {
			t.Errorf("operation %q", sum.Operation)
		}
		out := map[string]Result{}
		for _, r := range sum.Stacks {
			out[r.Dir] = r
		}
		return out
	}
	if got := drift(false); got["live/a"].Status != StatusNoChanges || got["live/b"].Status != StatusNoChanges {
		t.Fatalf("right after apply: %s, %s; want both in sync", got["live/a"].Status, got["live/b"].Status)
	}

	state := filepath.Join(data, "state", "acme", "infra", "live", "a", "terraform.tfstate")
	rm := exec.Command(bin.Path, "state", "rm", "-state="+state, "terraform_data.y")
	rm.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE="+filepath.Join(t.TempDir(), "none.tfrc"))
	if out, err := rm.CombinedOutput(); err != nil {
		t.Fatalf("terraform state rm: %v\n%s", err, out)
	}
	g.Write(map[string]string{"live/b/more.tf": `resource "terraform_data" "w" {}`})
	g.Commit("more, never applied")

	got := drift(false)
	for dir, addr := range map[string]string{"live/a": "terraform_data.y", "live/b": "terraform_data.w"} {
		r := got[dir]
		want := []ResourceChange{{Address: addr, Action: ActionCreate}}
		if r.Status != StatusChanges || !reflect.DeepEqual(r.Changes, want) {
			t.Errorf("%s: %s %+v, want drifted with %s to create", dir, r.Status, r.Changes, addr)
		}
	}
	got = drift(true)
	for _, dir := range []string{"live/a", "live/b"} {
		if r := got[dir]; r.Status != StatusNoChanges || len(r.Changes) != 0 || len(r.Drift) != 0 {
			t.Errorf("%s refresh-only: %s %+v %+v, want in sync: nothing changed outside Terraform", dir, r.Status, r.Changes, r.Drift)
		}
	}
}

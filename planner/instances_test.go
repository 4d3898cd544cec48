package planner

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/strata-iac/strata/internal/gittest"
)

// envApp is one root module planned once per environment.
var envApp = map[string]string{
	"live/app/main.tf": `variable "size" {}
variable "team" {}
variable "region" {}
resource "terraform_data" "app" { input = "${var.size}/${var.team}/${var.region}" }
resource "terraform_data" "extra" { input = "extra" }
output "app" { value = terraform_data.app.input }
output "ws" { value = terraform.workspace }
`,
	"env/dev.tfvars":  `size = "small"`,
	"env/prod.tfvars": `size = "large"`,
}

func instanceRepo(t *testing.T, workspaces string) (*gittest.Repo, *Session, string) {
	t.Helper()
	terraformBinary(t)
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	g := gittest.New(t)
	g.Write(envApp)
	g.Write(map[string]string{"strata.yaml": strataYAML(`stacks:
  - dir: live/app
    workspaces: ` + workspaces + `
    var_files: ["env/{{ .Workspace }}.tfvars"]
    env: {TF_VAR_team: platform, TF_VAR_api_token: hunter2}
    extra_args:
      plan: ["-var=region={{ .Workspace }}-1", "-parallelism=2"]
`)})
	g.Commit("one module, one instance per environment")
	data := t.TempDir()
	s, err := OpenSession(SessionOptions{RepoDir: g.Dir, RepoName: "acme/infra", DataDir: data, Parallel: 2, NoDownload: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return g, s, data
}

func byName(rs []Result) map[string]Result {
	m := map[string]Result{}
	for _, r := range rs {
		m[r.Name()] = r
	}
	return m
}

func planAndApply(t *testing.T, s *Session, sel Selection, only ...string) (Summary, Summary) {
	t.Helper()
	ctx := context.Background()
	plan, err := s.Plan(ctx, sel)
	if err != nil {
		t.Fatal(err)
	}
	a := &memArtifacts{}
	if err := WriteOut(ctx, a, plan, ""); err != nil {
		t.Fatal(err)
	}
	applied, err := s.Apply(ctx, a, ApplyOptions{Only: only})
	if err != nil {
		t.Fatal(err)
	}
	return plan, applied
}

// TestInstancesHaveTheirOwnVariablesAndState: two workspaces of one
// directory plan with their own var file, env and extra arguments, apply
// into separate state, and a change to one var file plans that instance
// only.
func TestInstancesHaveTheirOwnVariablesAndState(t *testing.T) {
	g, s, data := instanceRepo(t, "[dev, prod]")
	plan, applied := planAndApply(t, s, Selection{All: true})
	got := byName(plan.Stacks)
	for name, want := range map[string][]string{
		"live/app@dev":  {`+ app = "small/platform/dev-1"`, `+ ws  = "dev"`},
		"live/app@prod": {`+ app = "large/platform/prod-1"`, `+ ws  = "prod"`},
	} {
		r := got[name]
		if r.Status != StatusChanges {
			t.Fatalf("%s: %s %s\n%s", name, r.Status, r.Error, r.Log)
		}
		for _, w := range want {
			if !strings.Contains(r.PlanText, w) {
				t.Errorf("%s: plan lacks %q:\n%s", name, w, r.PlanText)
			}
		}
		if !reflect.DeepEqual(r.Env, map[string]string{"TF_VAR_team": "platform", "TF_VAR_api_token": "(masked)"}) {
			t.Errorf("%s: env shown as %v, want the token masked", name, r.Env)
		}
	}
	for _, r := range applied.Stacks {
		if r.Status != StatusApplied {
			t.Fatalf("apply %s: %s %s\n%s", r.Name(), r.Status, r.Error, r.Log)
		}
	}
	stateDir := filepath.Join(data, "state", "acme", "infra", "live", "app")
	for _, ws := range []string{"dev", "prod"} {
		state, err := os.ReadFile(filepath.Join(stateDir, "terraform.tfstate.d", ws, "terraform.tfstate"))
		if err != nil || !strings.Contains(string(state), `"value": "`+ws+`"`) {
			t.Errorf("state of %s: %v\n%s", ws, err, state)
		}
	}

	g.Write(map[string]string{"env/prod.tfvars": `size = "huge"`})
	g.Commit("prod grows")
	again, err := s.Plan(context.Background(), Selection{Base: "HEAD~1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Stacks) != 1 || again.Stacks[0].Name() != "live/app@prod" || again.Stacks[0].Status != StatusChanges ||
		again.Stacks[0].Counts.Update != 1 {
		t.Fatalf("after a change to env/prod.tfvars: %+v, want live/app@prod alone, updating its resource", again.Stacks)
	}
	all, err := s.Plan(context.Background(), Selection{Stacks: []string{"live/app@dev"}})
	if err != nil || len(all.Stacks) != 1 || all.Stacks[0].Status != StatusNoChanges {
		t.Errorf("live/app@dev after its apply: %+v %v, want no changes: its state is its own", all.Stacks, err)
	}
}

// TestMissingVarFileFailsItsInstance: the instance whose var file is not
// in the commit fails naming the file; the other plans.
func TestMissingVarFileFailsItsInstance(t *testing.T) {
	_, s, _ := instanceRepo(t, "[dev, qa]")
	sum, err := s.Plan(context.Background(), Selection{Stacks: []string{"live/app"}})
	if err != nil {
		t.Fatal(err)
	}
	got := byName(sum.Stacks)
	if r := got["live/app@qa"]; r.Status != StatusError || !strings.Contains(r.Error, "var file env/qa.tfvars is not in commit") {
		t.Errorf("live/app@qa: %s %q, want an error naming env/qa.tfvars", r.Status, r.Error)
	}
	if r := got["live/app@dev"]; r.Status != StatusChanges {
		t.Errorf("live/app@dev: %s %s", r.Status, r.Error)
	}
}

// TestPartialPlanIsAppliedOnlyWhenNamed: a plan made with -target plans
// that resource only, says so, and is refused by an apply of everything;
// named, it applies.
func TestPartialPlanIsAppliedOnlyWhenNamed(t *testing.T) {
	_, s, data := instanceRepo(t, "[dev]")
	ctx := context.Background()
	plan, err := s.Plan(ctx, Selection{Stacks: []string{"live/app@dev"}, Targets: []string{"terraform_data.extra"}})
	if err != nil {
		t.Fatal(err)
	}
	r := plan.Stacks[0]
	if r.Status != StatusChanges || !r.Partial() || r.Counts.Create != 1 || !reflect.DeepEqual(r.Targets, []string{"terraform_data.extra"}) {
		t.Fatalf("partial plan: %s %s counts %+v targets %q", r.Status, r.Error, r.Counts, r.Targets)
	}
	warned := false
	for _, d := range r.Diagnostics {
		warned = warned || d.Severity == "warning" && strings.Contains(d.Summary, "targeting is in effect")
	}
	if !warned {
		t.Errorf("terraform's warning about -target is missing: %+v", r.Diagnostics)
	}
	a := &memArtifacts{}
	if err := WriteOut(ctx, a, plan, ""); err != nil {
		t.Fatal(err)
	}
	all, err := s.Apply(ctx, a, ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r := all.Stacks[0]; r.Status != StatusRefused || !strings.Contains(r.Error, "partial plan (-target=terraform_data.extra)") {
		t.Errorf("apply of everything: %s %q, want the partial plan refused", r.Status, r.Error)
	}
	state := filepath.Join(data, "state", "acme", "infra", "live", "app", "terraform.tfstate.d", "dev", "terraform.tfstate")
	if _, err := os.Stat(state); err == nil {
		t.Fatal("state written by a refused apply")
	}
	named, err := s.Apply(ctx, a, ApplyOptions{Only: []string{"live/app@dev"}})
	if err != nil {
		t.Fatal(err)
	}
	if r := named.Stacks[0]; r.Status != StatusApplied {
		t.Fatalf("named apply: %s %s\n%s", r.Status, r.Error, r.Log)
	}
	if st, _ := os.ReadFile(state); !strings.Contains(string(st), `"extra"`) || strings.Contains(string(st), `"app"`) {
		t.Errorf("state after the partial apply holds more or less than the target:\n%s", st)
	}
}

// timedStack is a stack whose apply appends "NAME start|end SECONDS" to log
// around a sleep, from a local-exec provisioner: the clock of the shell,
// not strata's.
func timedStack(name, log, extra string) string {
	return `resource "terraform_data" "` + name + `" {
  provisioner "local-exec" {
    command = "echo ` + name + ` start $(date +%s.%N) >> ` + log + `; sleep 2; ` + extra + `echo ` + name + ` end $(date +%s.%N) >> ` + log + `"
  }
}
`
}

// readTimes reads the log of timedStack: name → [start, end].
func readTimes(t *testing.T, log string) map[string][2]float64 {
	t.Helper()
	data, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	times := map[string][2]float64{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[2], 64)
		if err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		tt := times[f[0]]
		tt[map[string]int{"start": 0, "end": 1}[f[1]]] = v
		times[f[0]] = tt
	}
	return times
}

// TestApplyRunsIndependentStacksTogether: a and b depend on nothing, c on
// both. Applied at parallel 2, a and b overlap in time and c starts after
// both ended.
func TestApplyRunsIndependentStacksTogether(t *testing.T) {
	terraformBinary(t)
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	log := filepath.Join(t.TempDir(), "times")
	g := gittest.New(t)
	g.Write(map[string]string{
		"strata.yaml": strataYAML("stacks:\n  - dir: c\n    depends_on: [a, b]\n"),
		"a/main.tf":   timedStack("a", log, ""),
		"b/main.tf":   timedStack("b", log, ""),
		"c/main.tf":   timedStack("c", log, ""),
	})
	g.Commit("a, b -> c")
	s, err := OpenSession(SessionOptions{RepoDir: g.Dir, DataDir: t.TempDir(), Parallel: 2, NoDownload: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, applied := planAndApply(t, s, Selection{All: true})
	var order []string
	for _, r := range applied.Stacks {
		if r.Status != StatusApplied {
			t.Fatalf("%s: %s %s\n%s", r.Name(), r.Status, r.Error, r.Log)
		}
		order = append(order, r.Name())
	}
	if !reflect.DeepEqual(order, []string{"a", "b", "c"}) {
		t.Errorf("summary order %q, want dependency order", order)
	}
	tm := readTimes(t, log)
	a, b, c := tm["a"], tm["b"], tm["c"]
	if !(a[0] < b[1] && b[0] < a[1]) {
		t.Errorf("a %v and b %v did not overlap: independent stacks ran one after the other", a, b)
	}
	if c[0] < a[1] || c[0] < b[1] {
		t.Errorf("c started at %.3f, before a (%.3f) or b (%.3f) ended", c[0], a[1], b[1])
	}
}

// TestFailedApplySkipsOnlyItsDependents: a fails; c, which depends on it,
// is skipped; b and d (after b) apply.
func TestFailedApplySkipsOnlyItsDependents(t *testing.T) {
	terraformBinary(t)
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	log := filepath.Join(t.TempDir(), "times")
	g := gittest.New(t)
	g.Write(map[string]string{
		"strata.yaml": strataYAML("stacks:\n  - dir: c\n    depends_on: [a]\n  - dir: d\n    depends_on: [b]\n"),
		"a/main.tf":   timedStack("a", log, "exit 1; "),
		"b/main.tf":   timedStack("b", log, ""),
		"c/main.tf":   timedStack("c", log, ""),
		"d/main.tf":   timedStack("d", log, ""),
	})
	g.Commit("a fails")
	s, err := OpenSession(SessionOptions{RepoDir: g.Dir, DataDir: t.TempDir(), Parallel: 2, NoDownload: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, applied := planAndApply(t, s, Selection{All: true})
	got := map[string]string{}
	for _, r := range applied.Stacks {
		got[r.Name()] = string(r.Status)
		if r.Name() == "c" && r.Error != "depends on a, which was not applied" {
			t.Errorf("c: %q", r.Error)
		}
	}
	want := map[string]string{"a": "error", "b": "applied", "c": "skipped", "d": "applied"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("outcomes %v, want %v", got, want)
	}
	ran := []string{}
	for name := range readTimes(t, log) {
		ran = append(ran, name)
	}
	sort.Strings(ran)
	if !reflect.DeepEqual(ran, []string{"a", "b", "d"}) {
		t.Errorf("provisioners ran for %q: c must never start", ran)
	}
}

package planner

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/strata-iac/strata/planner/tf"
)

var (
	tfOnce sync.Once
	tfBin  *tf.Binary
	tfErr  error
)

// testBinaryName is the binary the tests run: terraform, or the one
// STRATA_TEST_BINARY names (tofu, for the OpenTofu pass of .ci/run).
func testBinaryName() string {
	if b := os.Getenv("STRATA_TEST_BINARY"); b != "" {
		return b
	}
	return "terraform"
}

// strataYAML is a strata.yaml that picks the test binary, followed by body.
func strataYAML(body string) string {
	return "version: 1\nterraform:\n  binary: " + testBinaryName() + "\n" + body
}

// terraformBinary returns the test binary on PATH. Without one the test is
// skipped, except under CI=true, where it fails.
func terraformBinary(t testing.TB) *tf.Binary {
	t.Helper()
	if _, err := exec.LookPath(testBinaryName()); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not on PATH: %v", testBinaryName(), err)
		}
		t.Skipf("%s is not on PATH", testBinaryName())
	}
	tfOnce.Do(func() {
		tfBin, tfErr = tf.FindBinary(context.Background(), tf.BinaryOptions{Name: testBinaryName(), NoDownload: true, CacheDir: filepath.Join(os.TempDir(), "strata-test-no-cache")})
	})
	if tfErr != nil {
		t.Fatal(tfErr)
	}
	return tfBin
}

// newTestRunner returns a Runner on the real terraform with its caches in
// temporary directories.
func newTestRunner(t testing.TB, opts Options) *Runner {
	t.Helper()
	opts.Binary = terraformBinary(t)
	if opts.CacheDir == "" {
		opts.CacheDir = t.TempDir()
	}
	if opts.TempDir == "" {
		opts.TempDir = t.TempDir()
	}
	if opts.Grace == 0 {
		opts.Grace = 20 * time.Second
	}
	r, err := NewRunner(opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestStrataVariablesNeverReachTerraform runs a whole plan with a fake
// terraform that records its environment, with a token in strata's own.
func TestStrataVariablesNeverReachTerraform(t *testing.T) {
	dir := t.TempDir()
	dump := filepath.Join(dir, "env")
	fake := filepath.Join(dir, "terraform")
	script := "#!/bin/sh\nenv >> " + dump + "\necho '--' >> " + dump + "\n" +
		"case \"$1\" in version) echo '{\"terraform_version\":\"1.11.4\"}';; plan) exit 1;; esac\nexit 0\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("STRATA_GITLAB_TOKEN", "secret")
	t.Setenv("TF_CLI_CONFIG_FILE", "/root/.terraformrc")
	t.Setenv("TF_LOG", "TRACE")
	t.Setenv("TF_VAR_region", "eu-west-1")
	bin, err := tf.FindBinary(context.Background(), tf.BinaryOptions{Name: fake, NoDownload: true})
	if err != nil {
		t.Fatal(err)
	}
	cacheDir := t.TempDir()
	r, err := NewRunner(Options{Binary: bin, CacheDir: cacheDir, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	root := export(t, map[string]string{"live/a/main.tf": `resource "terraform_data" "x" {}`})
	res := r.Plan(context.Background(), Job{Dir: "live/a", Root: root, StateDir: t.TempDir()})
	if res.Status != StatusError {
		t.Fatalf("status %s, want error from the fake plan", res.Status)
	}
	data, err := os.ReadFile(dump)
	if err != nil {
		t.Fatal(err)
	}
	runs := strings.Split(strings.TrimSuffix(string(data), "--\n"), "--\n")
	if len(runs) != 3 { // version (FindBinary), init, plan
		t.Fatalf("fake terraform ran %d times, want 3:\n%s", len(runs), data)
	}
	for i, run := range runs {
		if strings.Contains(run, "secret") || strings.Contains(run, "STRATA_") {
			t.Errorf("run %d: a STRATA_ variable reached terraform:\n%s", i, run)
		}
		for _, want := range []string{"TF_IN_AUTOMATION=1\n", "TF_INPUT=0\n", "CHECKPOINT_DISABLE=1\n", "TF_VAR_region=eu-west-1\n"} {
			if !strings.Contains(run, want) {
				t.Errorf("run %d lacks %s", i, want)
			}
		}
		if strings.Contains(run, "TF_LOG=") || strings.Contains(run, "TF_CLI_CONFIG_FILE=/root/.terraformrc") {
			t.Errorf("run %d: the user's TF_LOG or CLI config reached terraform", i)
		}
	}
	cli, _ := filepath.Glob(filepath.Join(cacheDir, "terraformrc-*"))
	if len(cli) != 1 || !strings.Contains(runs[1], "TF_CLI_CONFIG_FILE="+cli[0]+"\n") {
		t.Errorf("init does not use strata's CLI config %v", cli)
	}
}

const twoResources = `resource "terraform_data" "a" {
  input = "a"
}

resource "terraform_data" "b" {
  input            = "b"
  triggers_replace = "1"
}

output "b" {
  value = terraform_data.b.output
}
`

// cliWarnings are what terraform prints when TF_CLI_CONFIG_FILE names a
// missing file; strata's own CLI config must keep them away.
var cliWarnings = []string{"Unable to open CLI configuration file", "problems with the CLI configuration"}

func checkNoCLIWarning(t *testing.T, res Result) {
	t.Helper()
	all := res.Log + res.PlanText + res.ApplyText + res.Error
	for _, d := range res.Diagnostics {
		all += d.Summary + d.Detail
	}
	for _, w := range cliWarnings {
		if strings.Contains(all, w) {
			t.Errorf("%s: terraform warned %q:\n%s", res.Dir, w, all)
		}
	}
}

// TestPlanApplyPlan plans a new stack, applies the plan in another
// throwaway workspace, and plans again in a third: the state lives in
// StateDir, so the last plan has nothing to do.
func TestPlanApplyPlan(t *testing.T) {
	environ := append(os.Environ(), "TF_CLI_CONFIG_FILE=/nonexistent/terraformrc", "STRATA_GITLAB_TOKEN=secret")
	r := newTestRunner(t, Options{Environ: environ})
	files := map[string]string{"live/prod/app/main.tf": twoResources}
	stateDir := filepath.Join(t.TempDir(), "state", "repo", "live", "prod", "app")
	job := func() Job {
		return Job{Dir: "live/prod/app", Root: export(t, files), Commit: "abc123", StateDir: stateDir,
			Inputs: map[string]string{"live/prod/app": "tree1"}}
	}
	ctx := context.Background()

	plan := r.Plan(ctx, job())
	checkNoCLIWarning(t, plan)
	if plan.Status != StatusChanges {
		t.Fatalf("first plan: %s %s\n%s", plan.Status, plan.Error, plan.Log)
	}
	if want := (Counts{Create: 2, OutputChanges: 1}); plan.Counts != want {
		t.Errorf("counts %+v, want %+v", plan.Counts, want)
	}
	wantChanges := []ResourceChange{{Address: "terraform_data.a", Action: ActionCreate}, {Address: "terraform_data.b", Action: ActionCreate}}
	if len(plan.Changes) != 2 || plan.Changes[0] != wantChanges[0] || plan.Changes[1] != wantChanges[1] {
		t.Errorf("changes %+v, want %+v", plan.Changes, wantChanges)
	}
	sum := sha256.Sum256(plan.PlanFile)
	if len(plan.PlanFile) == 0 || plan.PlanSHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("plan SHA-256 %q does not match the %d-byte plan file", plan.PlanSHA256, len(plan.PlanFile))
	}
	var pj struct {
		TerraformVersion string `json:"terraform_version"`
	}
	if err := json.Unmarshal(plan.PlanJSON, &pj); err != nil || pj.TerraformVersion != plan.TerraformVersion || plan.TerraformVersion == "" {
		t.Errorf("plan JSON version %q (%v), result version %q", pj.TerraformVersion, err, plan.TerraformVersion)
	}
	if !strings.Contains(plan.PlanText, "# terraform_data.a will be created") || strings.Contains(plan.PlanText, "Refreshing") {
		t.Errorf("plan text:\n%s", plan.PlanText)
	}
	if plan.Commit != "abc123" || plan.Inputs["live/prod/app"] != "tree1" || plan.Workspace != "default" || plan.Dir != "live/prod/app" {
		t.Errorf("job fields not copied: %+v", plan)
	}
	if plan.StartedAt.IsZero() || plan.Timings.Init <= 0 || plan.Timings.Plan <= 0 || plan.Timings.Show <= 0 || plan.Timings.Total < plan.Timings.Plan {
		t.Errorf("timings %+v, started %v", plan.Timings, plan.StartedAt)
	}

	applied := r.Apply(ctx, job(), plan.PlanFile, plan.PlanSHA256)
	checkNoCLIWarning(t, applied)
	if applied.Status != StatusApplied || applied.Counts != plan.Counts || !strings.Contains(applied.ApplyText, "Apply complete! Resources: 2 added") {
		t.Fatalf("apply: %s %s %+v\n%s", applied.Status, applied.Error, applied.Counts, applied.Log)
	}
	if applied.Timings.Apply <= 0 || applied.PlanSHA256 != plan.PlanSHA256 {
		t.Errorf("apply timings %+v, checksum %q", applied.Timings, applied.PlanSHA256)
	}
	if _, err := os.Stat(filepath.Join(stateDir, "terraform.tfstate")); err != nil {
		t.Errorf("no state in the state dir: %v", err)
	}

	again := r.Plan(ctx, job())
	checkNoCLIWarning(t, again)
	if again.Status != StatusNoChanges || again.Counts.Changed() || again.Counts.NoOp != 2 || len(again.Changes) != 0 {
		t.Errorf("plan after apply: %s %+v %+v\n%s", again.Status, again.Counts, again.Changes, again.Log)
	}
}

// applied plans and applies files for dir with state in stateDir.
func applied(t *testing.T, r *Runner, dir, stateDir string, files map[string]string) {
	t.Helper()
	ctx := context.Background()
	plan := r.Plan(ctx, Job{Dir: dir, Root: export(t, files), StateDir: stateDir})
	if plan.Status != StatusChanges {
		t.Fatalf("plan: %s %s\n%s", plan.Status, plan.Error, plan.Log)
	}
	res := r.Apply(ctx, Job{Dir: dir, Root: export(t, files), StateDir: stateDir}, plan.PlanFile, plan.PlanSHA256)
	if res.Status != StatusApplied {
		t.Fatalf("apply: %s %s\n%s", res.Status, res.Error, res.Log)
	}
}

func TestPlanCountsEveryKindOfChange(t *testing.T) {
	r := newTestRunner(t, Options{})
	stateDir := t.TempDir()
	applied(t, r, "live/a", stateDir, map[string]string{"live/a/main.tf": `
resource "terraform_data" "gone" {}
resource "terraform_data" "replaced" {
  triggers_replace = "1"
}
resource "terraform_data" "renamed" {}
resource "terraform_data" "forgotten" {}
resource "terraform_data" "kept" {}
`})
	res := r.Plan(context.Background(), Job{Dir: "live/a", StateDir: stateDir, Root: export(t, map[string]string{"live/a/main.tf": `
resource "terraform_data" "replaced" {
  triggers_replace = "2"
}
resource "terraform_data" "new_name" {}
moved {
  from = terraform_data.renamed
  to   = terraform_data.new_name
}
removed {
  from = terraform_data.forgotten
  lifecycle {
    destroy = false
  }
}
import {
  to = terraform_data.imported
  id = "some-id"
}
resource "terraform_data" "imported" {}
resource "terraform_data" "kept" {}
resource "terraform_data" "added" {}
`})})
	if res.Status != StatusChanges {
		t.Fatalf("%s %s\n%s", res.Status, res.Error, res.Log)
	}
	want := Counts{Create: 1, Delete: 1, Replace: 1, Import: 1, Move: 1, NoOp: 3, Forget: 1}
	if res.Counts != want {
		t.Errorf("counts %+v\nwant   %+v", res.Counts, want)
	}
	got := map[string]ResourceChange{}
	for _, c := range res.Changes {
		got[c.Address] = c
	}
	for _, w := range []ResourceChange{
		{Address: "terraform_data.added", Action: ActionCreate},
		{Address: "terraform_data.gone", Action: ActionDelete, Reason: "delete_because_no_resource_config"},
		{Address: "terraform_data.replaced", Action: ActionReplace, Reason: "replace_because_cannot_update"},
		{Address: "terraform_data.new_name", Action: ActionNoOp, MovedFrom: "terraform_data.renamed"},
		{Address: "terraform_data.imported", Action: ActionNoOp, Imported: true},
		{Address: "terraform_data.forgotten", Action: ActionForget, Reason: "delete_because_no_resource_config"},
	} {
		if got[w.Address] != w {
			t.Errorf("%s: %+v, want %+v", w.Address, got[w.Address], w)
		}
	}
	if len(res.Changes) != 6 {
		t.Errorf("%d changes, want 6: %+v", len(res.Changes), res.Changes)
	}
	// Terraform and OpenTofu word the forget warning differently.
	if len(res.Diagnostics) != 1 || res.Diagnostics[0].Severity != "warning" ||
		(res.Diagnostics[0].Summary != "Some objects will no longer be managed by Terraform" && res.Diagnostics[0].Summary != "Resource will be removed from the state") {
		t.Errorf("diagnostics %+v, want the forget warning", res.Diagnostics)
	}
	if strings.Contains(res.PlanText, "Warning:") {
		t.Errorf("warnings left in the plan text:\n%s", res.PlanText)
	}
}

// TestPlanAllKeepsGoing plans four stacks, two of them broken: the good
// ones (one through a local module) are planned, the broken ones carry
// Terraform's message with file and line, and the results keep the order
// of the jobs.
func TestPlanAllKeepsGoing(t *testing.T) {
	var progress strings.Builder
	r := newTestRunner(t, Options{Parallel: 2, Progress: NewProgress(&syncWriter{w: &progress}, false)})
	root := export(t, map[string]string{
		"live/good1/main.tf":      `resource "terraform_data" "x" {}`,
		"live/badhcl/main.tf":     "resource \"terraform_data\" \"x\" {\n  input = \"a\"\n\nfoo {\n",
		"live/missingvar/vars.tf": "variable \"region\" {\n  type = string\n}\n",
		"live/missingvar/main.tf": `resource "terraform_data" "x" { input = var.region }`,
		"live/good2/main.tf":      `module "m" { source = "../../modules/m" }`,
		"modules/m/main.tf":       `resource "terraform_data" "y" {}`,
	})
	dirs := []string{"live/good1", "live/badhcl", "live/missingvar", "live/good2"}
	var jobs []Job
	for _, d := range dirs {
		jobs = append(jobs, Job{Dir: d, Root: root, StateDir: filepath.Join(t.TempDir(), d)})
	}
	results := r.PlanAll(context.Background(), jobs)
	for i, res := range results {
		if res.Dir != dirs[i] {
			t.Errorf("result %d is %s, want %s", i, res.Dir, dirs[i])
		}
	}
	for _, i := range []int{0, 3} {
		if results[i].Status != StatusChanges || results[i].Counts.Create != 1 {
			t.Errorf("%s: %s %s", dirs[i], results[i].Status, results[i].Error)
		}
	}
	bad := results[1]
	if bad.Status != StatusError || bad.Error != "init: main.tf:4: Unclosed configuration block: There is no closing brace for this block before the end of the file." {
		t.Errorf("invalid HCL: %s %q", bad.Status, bad.Error)
	}
	if !hasDiagnostic(bad.Diagnostics, "error", "Unclosed configuration block", "main.tf:4") {
		t.Errorf("invalid HCL diagnostics: %+v", bad.Diagnostics)
	}
	missing := results[2]
	if missing.Status != StatusError || !strings.HasPrefix(missing.Error, "plan: vars.tf:1: No value for required variable: The root module input variable \"region\" is not set") {
		t.Errorf("missing variable: %s %q", missing.Status, missing.Error)
	}
	if !hasDiagnostic(missing.Diagnostics, "error", "No value for required variable", "vars.tf:1") || missing.PlanFile != nil {
		t.Errorf("missing variable diagnostics: %+v", missing.Diagnostics)
	}
	out := progress.String()
	for _, want := range []string{"… live/good1  planning\n", "✓ live/good1  +1 ~0 -0  (", "✗ live/badhcl  error: init: main.tf:4: Unclosed configuration block"} {
		if !strings.Contains(out, want) {
			t.Errorf("progress lacks %q:\n%s", want, out)
		}
	}
}

func hasDiagnostic(diags []Diagnostic, severity, summary, rng string) bool {
	for _, d := range diags {
		if d.Severity == severity && d.Summary == summary && d.Range == rng {
			return true
		}
	}
	return false
}

package planner

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strata-iac/strata/internal/gittest"
	"github.com/strata-iac/strata/planner/tf"
)

// needSandbox makes terraform's sandbox, skipping the test where none can
// be made (failing it under CI=true).
func needSandbox(t testing.TB) *tf.Sandbox {
	t.Helper()
	sb, err := tf.NewSandbox(context.Background(), tf.SandboxRequired)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true: %v", err)
		}
		t.Skip(err)
	}
	return sb
}

// probeStack reads what plan-time code can find: strata's data dir, the
// state of another stack, its own environment, and writes, at apply, its
// environment next to its state.
func probeStack(data string) string {
	return fmt.Sprintf(`
variable "out" {
  type = string
}

locals {
  data = %q
}

output "seen" {
  value = {
    locks       = fileexists("${local.data}/locks.db")
    store       = fileexists("${local.data}/store/secret.json")
    other_state = fileexists("${local.data}/state/acme/infra/live/other/terraform.tfstate")
    files       = sort(setunion(fileset(local.data, "*.db"), fileset(local.data, "store/**"), fileset(local.data, "state/**/terraform.tfstate")))
    environ     = file("/proc/self/environ")
  }
}

resource "terraform_data" "apply_env" {
  provisioner "local-exec" {
    command = "env > ${var.out}"
  }
}
`, data)
}

// TestSandboxedSessionReachesOnlyItsRun plans and applies a stack that
// probes what plan-time code can reach, in a data dir made world-readable:
// in the sandbox it sees neither strata's files nor another stack's state,
// its environment holds the plan's variables (secrets masked in the
// result) and not the apply's, the apply's processes get the apply's, and
// state, workspace and state files end up private. Without the sandbox
// the same probe sees the data dir, which shows the probe works.
func TestSandboxedSessionReachesOnlyItsRun(t *testing.T) {
	sb := needSandbox(t)
	terraformBinary(t)
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	data := t.TempDir()
	for name, content := range map[string]string{
		"locks.db": "locks", "store/secret.json": "plans",
		"state/acme/infra/live/other/terraform.tfstate": "another stack's state",
	} {
		p := filepath.Join(data, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(content), 0o644)
	}
	os.Chmod(data, 0o755)
	os.Chmod(filepath.Join(data, "state"), 0o755)
	stateDir := filepath.Join(data, "state", "acme", "infra", "live", "probe")
	g := gittest.New(t)
	g.Write(map[string]string{"live/probe/main.tf": probeStack(data)})
	g.Commit("probe")

	const deployToken = "deploy-token-0123456789"
	env := append(os.Environ(), "STRATA_GITLAB_TOKEN=glpat-strata-own-token", "DEPLOY_TOKEN="+deployToken,
		"TF_VAR_out="+filepath.Join(stateDir, "apply.env"))
	open := func(sandbox *tf.Sandbox) *Session {
		s, err := OpenSession(SessionOptions{RepoDir: g.Dir, RepoName: "acme/infra", DataDir: data, NoDownload: true,
			Environ: env, Sandbox: sandbox, PlanEnv: []string{"WHO=plan-credentials"}, ApplyEnv: []string{"WHO=apply-credentials"}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	ctx := context.Background()
	seen := func(s *Session) (Summary, map[string]any) {
		t.Helper()
		sum, err := s.Plan(ctx, Selection{All: true})
		if err != nil {
			t.Fatal(err)
		}
		r := sum.Stacks[0]
		if r.Status != StatusChanges {
			t.Fatalf("plan: %s %s\n%s", r.Status, r.Error, r.Log)
		}
		var plan struct {
			PlannedValues struct {
				Outputs map[string]struct{ Value map[string]any } `json:"outputs"`
			} `json:"planned_values"`
		}
		if err := json.Unmarshal(r.PlanJSON, &plan); err != nil {
			t.Fatal(err)
		}
		return sum, plan.PlannedValues.Outputs["seen"].Value
	}

	_, unsandboxed := seen(open(nil))
	if unsandboxed["locks"] != true || unsandboxed["other_state"] != true {
		t.Fatalf("without the sandbox the probe does not see the data dir, so it proves nothing: %v", unsandboxed)
	}

	s := open(sb)
	sum, got := seen(s)
	if got["locks"] != false || got["store"] != false || got["other_state"] != false {
		t.Errorf("in the sandbox plan-time code sees strata's data dir: %v", got)
	}
	for _, f := range got["files"].([]any) {
		if !strings.HasPrefix(f.(string), "state/acme/infra/live/probe/") {
			t.Errorf("in the sandbox plan-time code lists %s under the data dir", f)
		}
	}
	environ := fmt.Sprint(got["environ"])
	if !strings.Contains(environ, "WHO=plan-credentials") || strings.Contains(environ, "apply-credentials") ||
		strings.Contains(environ, "STRATA_") || !strings.Contains(environ, "DEPLOY_TOKEN=[redacted]") {
		t.Errorf("terraform's environment at plan time, as the result reports it:\n%s", environ)
	}
	if res := sum.Stacks[0]; strings.Contains(string(res.PlanJSON)+res.PlanText+res.Log, deployToken) {
		t.Error("a secret of terraform's environment is in the plan's result")
	}

	a := &memArtifacts{}
	if err := WriteOut(ctx, a, sum, ""); err != nil {
		t.Fatal(err)
	}
	applied, err := s.Apply(ctx, a, ApplyOptions{})
	if err != nil || applied.Stacks[0].Status != StatusApplied {
		t.Fatalf("apply: %v %+v", err, applied.Stacks)
	}
	applyEnv, err := os.ReadFile(filepath.Join(stateDir, "apply.env"))
	if err != nil || !strings.Contains(string(applyEnv), "WHO=apply-credentials") || strings.Contains(string(applyEnv), "plan-credentials") {
		t.Errorf("the apply's environment (%v):\n%s", err, applyEnv)
	}
	for path, want := range map[string]os.FileMode{
		filepath.Join(data, "state"):                 0o700,
		filepath.Join(data, "work"):                  0o700,
		stateDir:                                     0o700,
		filepath.Join(stateDir, "terraform.tfstate"): 0o600,
		filepath.Join(stateDir, "apply.env"):         0o600,
	} {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v (%v), want %v", path, fi.Mode().Perm(), err, want)
		}
	}
}

func TestStackDirectoryMustStayInTheTree(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	os.MkdirAll(filepath.Join(root, "live"), 0o755)
	os.Symlink(outside, filepath.Join(root, "live", "escape"))
	os.WriteFile(filepath.Join(outside, "main.tf"), []byte(`resource "terraform_data" "x" {}`), 0o644)
	r := newTestRunner(t, Options{})
	res := r.Plan(context.Background(), Job{Dir: "live/escape", Root: root, StateDir: t.TempDir()})
	if res.Status != StatusError || !strings.Contains(res.Error, "leads outside the repository") {
		t.Errorf("a stack directory symlinked out of the tree: %s %q", res.Status, res.Error)
	}
}

package test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strata-iac/strata/internal/gittest"
	"github.com/strata-iac/strata/planner"
)

// needTerraform skips a test without the test binary (testBinary) on
// PATH, and fails it under CI=true, where every tool the tests need must
// be present.
func needTerraform(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath(testBinary()); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not on PATH (CI=true): %v", testBinary(), err)
		}
		t.Skipf("%s not on PATH", testBinary())
	}
}

// monorepo commits examples/monorepo into a new git repository and returns
// it with an environment that keeps strata's data and cache in the test's
// temp dir.
func monorepo(t *testing.T) (*gittest.Repo, []string) {
	t.Helper()
	needTerraform(t)
	g := gittest.New(t)
	g.CopyDir("../examples/monorepo", ".")
	g.Write(map[string]string{"strata.yaml": withTestBinary(readFile(t, "../examples/monorepo/strata.yaml"))})
	g.Commit("infrastructure")
	home := t.TempDir()
	return g, []string{"XDG_DATA_HOME=" + filepath.Join(home, "data"), "XDG_CACHE_HOME=" + filepath.Join(home, "cache")}
}

func readSummary(t *testing.T, dir string) planner.Summary {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, planner.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	var s planner.Summary
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func statuses(s planner.Summary) map[string]planner.Status {
	m := map[string]planner.Status{}
	for _, r := range s.Stacks {
		m[r.Dir] = r.Status
	}
	return m
}

// TestPlanApplyCycle: a change on a branch is planned (exit 2) into --out,
// applied from there (exit 0), and a plan afterwards finds nothing (exit 0):
// state outlived the throwaway workspaces.
func TestPlanApplyCycle(t *testing.T) {
	g, env := monorepo(t)
	g.Git("checkout", "-q", "-b", "flow-logs")
	g.Write(map[string]string{"live/prod/network/extra.tf": `resource "terraform_data" "flow_logs" { input = "on" }`})
	g.Commit("flow logs")
	out := t.TempDir()

	r := runStrata(t, env, "plan", "--repo", g.Dir, "--base", "main", "--out", out)
	if r.code != 2 {
		t.Fatalf("plan exit %d, want 2 (changes)\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, f := range []string{"summary.json", "comment.md", "live/prod/network/plan.tfplan", "live/prod/network/plan.json", "live/prod/network/plan.txt"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("--out lacks %s: %v", f, err)
		}
	}
	s := readSummary(t, out)
	if got := statuses(s); len(got) != 1 || got["live/prod/network"] != planner.StatusChanges {
		t.Fatalf("planned %v, want only live/prod/network with changes", got)
	}
	if c := s.Stacks[0].Counts; c.Create != 5 {
		t.Errorf("counts %+v, want 5 creates (vpc, 3 subnets, flow logs)", c)
	}
	comment, _ := os.ReadFile(filepath.Join(out, "comment.md"))
	if !strings.Contains(string(comment), "`live/prod/network`") || !strings.Contains(string(comment), "terraform_data.flow_logs") {
		t.Errorf("comment.md does not show the stack and its resources:\n%s", comment)
	}

	if r := runStrata(t, env, "apply", "--repo", g.Dir, "--out", out); r.code != 0 {
		t.Fatalf("apply exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runStrata(t, env, "plan", "--repo", g.Dir, "--stack", "live/prod/network", "--format", "json")
	if r.code != 0 || !strings.Contains(r.stdout, `"status": "no-changes"`) {
		t.Fatalf("plan after apply: exit %d, want 0 and no changes\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestPlanErrorInOneStack: a stack with invalid HCL errors with
// Terraform's own message, the others still plan, and the exit code is 1.
func TestPlanErrorInOneStack(t *testing.T) {
	g, env := monorepo(t)
	g.Write(map[string]string{"live/staging/app/broken.tf": "resource \"terraform_data\" \"x\" {\n  input = \n}\n"})
	g.Commit("broken")
	r := runStrata(t, env, "plan", "--repo", g.Dir, "--all", "--format", "json")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s", r.code, r.stderr)
	}
	var s planner.Summary
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
		t.Fatal(err)
	}
	for _, res := range s.Stacks {
		switch {
		case res.Dir == "live/staging/app":
			if res.Status != planner.StatusError || !strings.Contains(res.Error, "broken.tf:2: Invalid expression") {
				t.Errorf("broken stack: %+v, want an error with Terraform's diagnostic naming broken.tf", res)
			}
		case res.Status != planner.StatusChanges:
			t.Errorf("%s: %s (%s), want changes: one broken stack must not stop the others", res.Dir, res.Status, res.Error)
		}
	}
	if !strings.Contains(r.stderr, "live/staging/app") {
		t.Errorf("stderr does not name the failed stack:\n%s", r.stderr)
	}
}

// TestApplyRefusesTamperedPlanAndChangedInputs: apply checks the plan
// file's checksum and the tree hashes of the stack and its modules, and
// leaves state untouched when either differs.
func TestApplyRefusesTamperedPlanAndChangedInputs(t *testing.T) {
	g, env := monorepo(t)
	out := t.TempDir()
	if r := runStrata(t, env, "plan", "--repo", g.Dir, "--stack", "live/prod/network", "--stack", "live/prod/database", "--out", out); r.code != 2 {
		t.Fatalf("plan exit %d\n%s", r.code, r.stderr)
	}
	plan := filepath.Join(out, "live/prod/network/plan.tfplan")
	data, _ := os.ReadFile(plan)
	if err := os.WriteFile(plan, append(data, 0), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runStrata(t, env, "apply", "--repo", g.Dir, "--out", out)
	if r.code != 1 || !strings.Contains(r.stdout, "live/prod/network") || !strings.Contains(r.stdout+r.stderr, "checksum") {
		t.Fatalf("tampered plan: exit %d, want 1 naming the stack and the checksum\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "live/prod/database  skipped") {
		t.Errorf("database depends on network and must be skipped:\n%s", r.stdout)
	}
	if states, _ := filepath.Glob(filepath.Join(envValue(env, "XDG_DATA_HOME"), "strata/state/*/live/prod/network/*.tfstate")); len(states) != 0 {
		t.Errorf("state written despite the refusal: %v", states)
	}

	out2 := t.TempDir()
	runStrata(t, env, "plan", "--repo", g.Dir, "--stack", "live/prod/database", "--out", out2)
	g.Write(map[string]string{"README.md": "unrelated"})
	g.Commit("unrelated change")
	g.Write(map[string]string{"modules/service/main.tf": "# edited after the plan\n" + readFile(t, filepath.Join(g.Dir, "modules/service/main.tf"))})
	g.Commit("module changes after the plan")
	r = runStrata(t, env, "apply", "--repo", g.Dir, "--out", out2)
	if r.code != 1 || !strings.Contains(r.stdout, "inputs changed since the plan: modules/service was at tree") {
		t.Fatalf("changed module: exit %d, want a refusal naming modules/service\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := runStrata(t, env, "apply", "--repo", g.Dir, "--out", out2, "--head", "HEAD~1"); r.code != 0 {
		t.Fatalf("apply at a commit whose change reads nothing of the stack: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestPlanBadInput(t *testing.T) {
	g, env := monorepo(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"plan", "--repo", g.Dir}, "exactly one of --base REF, --stack DIR or --all"},
		{[]string{"plan", "--repo", g.Dir, "--base", "nope"}, `unknown ref "nope"`},
		{[]string{"plan", "--repo", g.Dir, "--stack", "modules/naming"}, "modules/naming is not a stack"},
		{[]string{"apply", "--repo", g.Dir, "--out", t.TempDir()}, "summary.json"},
	} {
		r := runStrata(t, env, tc.args...)
		if r.code != 1 || !strings.Contains(r.stderr, tc.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
			t.Errorf("strata %q: exit %d, stderr %q; want exit 1 and one line containing %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
}

func readFile(t testing.TB, p string) string {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func envValue(env []string, name string) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return v
		}
	}
	return ""
}

// TestPlanRunsPolicies: with policy.paths in strata.yaml, strata plan
// evaluates every plan, records the results in summary.json and the
// comment, and strata apply refuses a failing stack unless told a policy
// owner accepted it.
func TestPlanRunsPolicies(t *testing.T) {
	g, env := monorepo(t)
	g.Write(map[string]string{
		"strata.yaml":                  "version: 1\npolicy:\n  paths: [policy/]\n",
		"policy/forbidden.rego":        forbiddenPolicy,
		"live/prod/app/forbidden.tf":   `resource "terraform_data" "forbidden" {}`,
		"live/staging/app/harmless.tf": `resource "terraform_data" "harmless" {}`,
	})
	g.Commit("policies")
	out := t.TempDir()
	r := runStrata(t, env, "plan", "--repo", g.Dir, "--stack", "live/prod/app", "--stack", "live/staging/app", "--out", out)
	if r.code != 2 {
		t.Fatalf("plan exit %d, want 2\n%s", r.code, r.stderr)
	}
	outcomes := map[string]string{}
	for _, res := range readSummary(t, out).Stacks {
		if res.Policy != nil {
			outcomes[res.Dir] = string(res.Policy.Outcome)
		}
	}
	if outcomes["live/prod/app"] != "fail" || outcomes["live/staging/app"] != "pass" {
		t.Fatalf("policy outcomes %v, want prod fail and staging pass", outcomes)
	}
	if comment := readFile(t, filepath.Join(out, "comment.md")); !strings.Contains(comment, "forbidden may not be created") {
		t.Errorf("comment.md does not show the failing policy:\n%s", comment)
	}
	r = runStrata(t, env, "apply", "--repo", g.Dir, "--out", out)
	if r.code != 1 || !strings.Contains(r.stdout, "live/prod/app     refused  policy checks fail") || !strings.Contains(r.stdout, "live/staging/app  applied") {
		t.Fatalf("apply: exit %d, want prod refused for its policy and staging applied\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := runStrata(t, env, "apply", "--repo", g.Dir, "--out", out, "--stack", "live/prod/app", "--approve-policies"); r.code != 0 {
		t.Fatalf("apply --approve-policies: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

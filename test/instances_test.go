package test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/strata-iac/strata/internal/gittest"
)

// appModule is one root module planned once per environment, with a
// tfvars file each.
var appModule = map[string]string{
	"live/app/main.tf": `variable "size" {}
variable "team" {}
resource "terraform_data" "app" { input = "${var.size}/${var.team}" }
resource "terraform_data" "extra" { input = "extra" }
output "ws" { value = terraform.workspace }
`,
	"env/dev.tfvars":  `size = "small"`,
	"env/prod.tfvars": `size = "large"`,
}

const instancesYAML = `version: 1
stacks:
  - dir: live/app
    workspaces: [dev, prod]
    var_files: ["env/{{ .Workspace }}.tfvars"]
    env: {TF_VAR_team: platform}
`

// instanceRepo is a repository whose live/app has two instances.
func instanceRepo(t *testing.T) (*gittest.Repo, []string) {
	t.Helper()
	needTerraform(t)
	g := gittest.New(t)
	g.Write(appModule)
	g.Write(map[string]string{"strata.yaml": withTestBinary(instancesYAML)})
	g.Commit("one module, two environments")
	home := t.TempDir()
	return g, []string{"XDG_DATA_HOME=" + filepath.Join(home, "data"), "XDG_CACHE_HOME=" + filepath.Join(home, "cache")}
}

// TestInstancesThroughTheCLI: DIR@WORKSPACE in stacks, changed, plan,
// apply and drift; a change to one var file plans that instance only; each
// instance keeps its own state.
func TestInstancesThroughTheCLI(t *testing.T) {
	g, env := instanceRepo(t)
	r := runStrata(t, env, "stacks", "--repo", g.Dir)
	if r.code != 0 || !strings.Contains(r.stdout, "live/app@dev") || !strings.Contains(r.stdout, "live/app@prod  var files env/prod.tfvars") {
		t.Fatalf("stacks: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	g.Git("checkout", "-q", "-b", "bigger-prod")
	g.Write(map[string]string{"env/prod.tfvars": `size = "huge"`})
	g.Commit("prod grows")
	r = runStrata(t, env, "changed", "--repo", g.Dir, "--base", "main", "--format", "json")
	var cs struct {
		Stacks []struct {
			Dir, Workspace string
			Reasons        []string
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &cs); err != nil || r.code != 0 {
		t.Fatalf("changed: exit %d %v\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	if len(cs.Stacks) != 1 || cs.Stacks[0].Dir != "live/app" || cs.Stacks[0].Workspace != "prod" ||
		strings.Join(cs.Stacks[0].Reasons, ";") != "changed env/prod.tfvars (var file)" {
		t.Fatalf("changed: %+v, want live/app in workspace prod, for its var file", cs.Stacks)
	}

	out := t.TempDir()
	r = runStrata(t, env, "plan", "--repo", g.Dir, "--base", "main", "--out", out)
	if r.code != 2 || !strings.Contains(r.stderr, "live/app@prod") {
		t.Fatalf("plan: exit %d, want 2\n%s%s", r.code, r.stdout, r.stderr)
	}
	s := readSummary(t, out)
	if len(s.Stacks) != 1 || s.Stacks[0].Name() != "live/app@prod" || s.Stacks[0].Env["TF_VAR_team"] != "platform" {
		t.Fatalf("planned %+v, want live/app@prod alone, with its env recorded", s.Stacks)
	}
	if _, err := os.Stat(filepath.Join(out, "live/app@prod/plan.tfplan")); err != nil {
		t.Errorf("the instance's plan file: %v", err)
	}
	if c := readFile(t, filepath.Join(out, "comment.md")); !strings.Contains(c, "| `live/app@prod` | 📝 changes |") || !strings.Contains(c, `"huge/platform"`) {
		t.Errorf("comment.md does not name live/app@prod with its plan:\n%s", c)
	}
	if r := runStrata(t, env, "apply", "--repo", g.Dir, "--out", out); r.code != 0 || !strings.Contains(r.stdout, "live/app@prod  applied") {
		t.Fatalf("apply: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	if r := runStrata(t, env, "plan", "--repo", g.Dir, "--stack", "live/app@prod"); r.code != 0 {
		t.Errorf("live/app@prod after its apply: exit %d, want 0 (no changes)\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := runStrata(t, env, "plan", "--repo", g.Dir, "--stack", "live/app@dev"); r.code != 2 {
		t.Errorf("live/app@dev, never applied: exit %d, want 2: its state is its own\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runStrata(t, env, "drift", "--repo", g.Dir, "--ref", "HEAD", "--stack", "live/app", "--format", "json")
	var rep struct {
		Stacks []struct {
			Dir, Workspace string
			Drifted        bool
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != 2 || len(rep.Stacks) != 2 ||
		rep.Stacks[0].Workspace != "dev" || !rep.Stacks[0].Drifted || rep.Stacks[1].Workspace != "prod" || rep.Stacks[1].Drifted {
		t.Errorf("drift of live/app: exit %d %v %+v, want dev drifted (never applied) and prod in sync\n%s", r.code, err, rep.Stacks, r.stderr)
	}
	r = runStrata(t, env, "plan", "--repo", g.Dir, "--stack", "live/app@staging")
	if r.code != 1 || !strings.Contains(r.stderr, `live/app has no workspace "staging"`) || strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
		t.Errorf("unknown workspace: exit %d, stderr %q; want one line naming it", r.code, r.stderr)
	}
}

// TestExtraArgsAllowlist: a flag outside the allowlist in extra_args is a
// config error naming strata.yaml:LINE and the flag, for every command.
func TestExtraArgsAllowlist(t *testing.T) {
	g, env := instanceRepo(t)
	g.Write(map[string]string{"strata.yaml": withTestBinary(instancesYAML + "    extra_args:\n      plan: [-refresh=false, -chdir=/tmp]\n")})
	g.Commit("-chdir")
	line := strconv.Itoa(strings.Count(withTestBinary(instancesYAML), "\n") + 2)
	for _, args := range [][]string{{"stacks"}, {"plan", "--all"}} {
		r := runStrata(t, env, append(args, "--repo", g.Dir)...)
		if r.code != 1 || !strings.Contains(r.stderr, "strata.yaml:"+line+": stacks[0].extra_args.plan[1]: -chdir is not allowed") {
			t.Errorf("strata %s: exit %d, stderr %q; want strata.yaml:%s naming -chdir", args[0], r.code, r.stderr, line)
		}
	}
}

// TestPartialPlanThroughTheCLI: plan --target makes a partial plan, which
// the comment marks and apply refuses unless the stack is named.
func TestPartialPlanThroughTheCLI(t *testing.T) {
	g, env := instanceRepo(t)
	out := t.TempDir()
	r := runStrata(t, env, "plan", "--repo", g.Dir, "--stack", "live/app@dev", "--target", "terraform_data.extra", "--out", out)
	if r.code != 2 {
		t.Fatalf("partial plan: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if c := readFile(t, filepath.Join(out, "comment.md")); !strings.Contains(c, "changes (partial plan)") || !strings.Contains(c, "`-target=terraform_data.extra`") {
		t.Errorf("comment.md does not mark the partial plan:\n%s", c)
	}
	r = runStrata(t, env, "apply", "--repo", g.Dir, "--out", out)
	if r.code != 1 || !strings.Contains(r.stdout, "live/app@dev  refused  partial plan (-target=terraform_data.extra)") {
		t.Fatalf("apply of everything: exit %d, want the partial plan refused\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := runStrata(t, env, "apply", "--repo", g.Dir, "--out", out, "--stack", "live/app@dev"); r.code != 0 {
		t.Fatalf("apply --stack live/app@dev: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runStrata(t, env, "plan", "--repo", g.Dir, "--stack", "live/app@dev", "--format", "json")
	if r.code != 2 || !strings.Contains(r.stdout, `"create": 1`) {
		t.Errorf("after the partial apply, the rest is still to create: exit %d\n%s", r.code, r.stdout)
	}
	if r := runStrata(t, env, "plan", "--repo", g.Dir, "--all", "--target", "terraform_data.extra"); r.code != 1 || !strings.Contains(r.stderr, "--target plans part of a stack") {
		t.Errorf("--target without --stack: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestApplyParallelFlag: with --parallel 2, a and b (independent) apply
// together and c, after both, once they are done.
func TestApplyParallelFlag(t *testing.T) {
	needTerraform(t)
	log := filepath.Join(t.TempDir(), "times")
	stack := func(name string) string {
		return `resource "terraform_data" "` + name + `" {
  provisioner "local-exec" {
    command = "echo ` + name + ` start $(date +%s.%N) >> ` + log + `; sleep 2; echo ` + name + ` end $(date +%s.%N) >> ` + log + `"
  }
}
`
	}
	g := gittest.New(t)
	g.Write(map[string]string{
		"strata.yaml": withTestBinary("version: 1\nparallel: 1\nstacks:\n  - dir: c\n    depends_on: [a, b]\n"),
		"a/main.tf":   stack("a"), "b/main.tf": stack("b"), "c/main.tf": stack("c"),
	})
	g.Commit("a, b -> c")
	home := t.TempDir()
	env := []string{"XDG_DATA_HOME=" + filepath.Join(home, "data"), "XDG_CACHE_HOME=" + filepath.Join(home, "cache")}
	out := t.TempDir()
	if r := runStrata(t, env, "plan", "--repo", g.Dir, "--all", "--out", out); r.code != 2 {
		t.Fatalf("plan: exit %d\n%s", r.code, r.stderr)
	}
	// The provisioners log their times in the test's temp dir, which the
	// sandbox hides from terraform.
	if r := runStrata(t, env, "apply", "--repo", g.Dir, "--out", out, "--parallel", "2", "--sandbox", "off"); r.code != 0 {
		t.Fatalf("apply: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	times := map[string][2]float64{}
	for _, line := range strings.Split(strings.TrimSpace(readFile(t, log)), "\n") {
		f := strings.Fields(line)
		v, _ := strconv.ParseFloat(f[2], 64)
		tt := times[f[0]]
		if f[1] == "end" {
			tt[1] = v
		} else {
			tt[0] = v
		}
		times[f[0]] = tt
	}
	a, b, c := times["a"], times["b"], times["c"]
	if !(a[0] < b[1] && b[0] < a[1]) {
		t.Errorf("a %v and b %v did not overlap with --parallel 2 (strata.yaml says 1)", a, b)
	}
	if c[0] < a[1] || c[0] < b[1] {
		t.Errorf("c started at %.3f, before a (%.3f) or b (%.3f) ended", c[0], a[1], b[1])
	}
}

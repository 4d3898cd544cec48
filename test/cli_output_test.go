package test

import (
	"strings"
	"testing"
)

const brokenHCL = "resource \"terraform_data\" \"x\" {\n  input = \n}\n"

// TestPlanQuietPrintsFailuresAndResult: --quiet prints what its help says,
// only failures and the final result; without it, a log (no terminal)
// gets every stack's start and end too, not only the end.
func TestPlanQuietPrintsFailuresAndResult(t *testing.T) {
	g, env := monorepo(t)
	g.Write(map[string]string{"live/staging/app/broken.tf": brokenHCL})
	g.Commit("broken")

	r := runStrata(t, env, "plan", "--repo", g.Dir, "--all", "--quiet")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "✗ live/staging/app  error: ") ||
		lines[1] != "= plan: 6 stacks, 5 with changes, 1 failed" || lines[2] != "strata: 1 of 6 stacks failed: live/staging/app" {
		t.Errorf("--quiet stderr:\n%s\nwant the failure and the result only", r.stderr)
	}

	r = runStrata(t, env, "plan", "--repo", g.Dir, "--all")
	for _, want := range []string{"… live/prod/network  planning", "✓ live/prod/network  +", "✗ live/staging/app  error: ", "= plan: 6 stacks"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
}

// TestPlanNextStepCLI: the CLI comment's next step fits the outcome: a
// plan where every stack failed says to fix them, not to apply; a change
// that touches no stack says there is nothing to do, not to save plans.
func TestPlanNextStepCLI(t *testing.T) {
	g, env := monorepo(t)
	g.Git("checkout", "-q", "-b", "broken")
	g.Write(map[string]string{"live/staging/app/broken.tf": brokenHCL})
	g.Commit("broken")
	r := runStrata(t, env, "plan", "--repo", g.Dir, "--stack", "live/staging/app", "--format", "markdown", "--out", t.TempDir())
	if want := "**Next:** Fix `live/staging/app`, then run `strata plan` again."; r.code != 1 || !strings.Contains(r.stdout, want) || strings.Contains(r.stdout, "Apply exactly") {
		t.Errorf("all failed: exit %d, comment:\n%s\nwant %q", r.code, r.stdout, want)
	}

	g.Git("checkout", "-q", "-b", "docs", "main")
	g.Write(map[string]string{"NOTES.md": "notes\n"})
	g.Commit("docs")
	r = runStrata(t, env, "plan", "--repo", g.Dir, "--base", "main", "--format", "markdown")
	if want := "**Next:** Nothing to do: this change touches no stack."; r.code != 0 || !strings.Contains(r.stdout, want) || strings.Contains(r.stdout, "Save the plans") {
		t.Errorf("no stack touched: exit %d, comment:\n%s\nwant %q", r.code, r.stdout, want)
	}
}

package test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/strata-iac/strata/internal/fakegitlab"
)

// TestCIApplyInMergeRequestPipeline: with apply_on: approval, strata ci
// apply in the merge request's pipeline is refused until GitLab reports
// an approval, then applies the reviewed plan there. The locks and plans
// live on the one runner's disk, which strata warns about.
func TestCIApplyInMergeRequestPipeline(t *testing.T) {
	needTerraform(t)
	shared := t.TempDir()
	p := newGitLabPipeline(t, "version: 1\napply_on: approval\n", map[string]string{
		"STRATA_DATA_DIR": shared, "STRATA_LOCKS": "bolt://" + filepath.Join(shared, "locks.db"), "STRATA_STORE": filepath.Join(shared, "store"),
	})
	sha := p.rem.branch("flow-logs", map[string]string{"live/staging/network/flow_logs.tf": flowLogs})
	p.gl.AddMergeRequest(ciProject, fakegitlab.MergeRequest{IID: 5, SourceBranch: "flow-logs", SHA: sha})
	r, dir, env := p.mrJob("strata ci plan", 5)
	if r.code != 0 {
		t.Fatalf("plan job: exit %d\n%s", r.code, r.stderr)
	}
	for _, w := range []string{"--locks bolt://", "is a file on this runner", "--store " + shared, "is a directory on this runner"} {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("no warning %q:\n%s", w, r.stderr)
		}
	}
	if !noteContains(p.gl, ciProject, 5, "run its pipeline's apply job (`strata ci apply`)") {
		n, _ := mainNote(p.gl, ciProject, 5)
		t.Errorf("the note does not say how to apply in CI:\n%s", n.Body)
	}

	r = p.runner.run(dir, env, []string{"sh", "-c"}, "strata ci apply")
	if r.code != 1 || !strings.Contains(r.stderr, "the apply is refused: approved: nobody has approved this merge request yet") {
		t.Fatalf("apply before approval: exit %d\n%s", r.code, r.stderr)
	}
	if !statusIs(p.gl, ciProject, sha, "strata/apply", "failed") {
		t.Error("strata/apply is not failed after the refusal")
	}

	p.gl.Approve(ciProject, 5, "bob")
	r = p.runner.run(dir, env, []string{"sh", "-c"}, "strata ci apply")
	if r.code != 0 || !strings.Contains(r.stdout, "live/staging/network  applied") {
		t.Fatalf("apply once approved: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	if !statusIs(p.gl, ciProject, sha, "strata/apply", "success") || !noteContains(p.gl, ciProject, 5, "applied") {
		n, _ := mainNote(p.gl, ciProject, 5)
		t.Errorf("the apply is not reported:\n%s", n.Body)
	}
}

package test

import (
	"path/filepath"
	"testing"

	"github.com/strata-iac/strata/internal/fakegitlab"
)

// BenchmarkCIPlanJob is the wall time of one plan job of
// examples/ci/.gitlab-ci.yml on examples/monorepo, as a fresh runner
// does it: a change to shared/app-config.json, which two stacks watch,
// planned from a fresh clone with a cold cache (strata's and terraform's),
// the note and statuses written to the fake GitLab, locks and plans on
// the runner's disk. The clone is not timed.
func BenchmarkCIPlanJob(b *testing.B) {
	needTerraform(b)
	shared := b.TempDir()
	p := newGitLabPipeline(b, readFile(b, "../examples/monorepo/strata.yaml"), map[string]string{
		"STRATA_LOCKS": "bolt://" + filepath.Join(shared, "locks.db"), "STRATA_STORE": filepath.Join(shared, "store"),
	})
	sha := p.rem.branch("config", map[string]string{"shared/app-config.json": `{"replicas": 3}` + "\n"})
	p.gl.AddMergeRequest(ciProject, fakegitlab.MergeRequest{IID: 1, SourceBranch: "config", SHA: sha})
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		j := p.ci.jobFor(b, "strata ci plan")
		env := p.runner.env(p.ci.env(j, p.mrVars(1), p.project))
		dir := p.runner.clone(sha, depth(env), false)
		b.StartTimer()
		if r := p.runner.run(dir, env, []string{"sh", "-ec"}, j.Script[0]); r.code != 0 {
			b.Fatalf("plan job: exit %d\n%s", r.code, r.stderr)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/job")
}

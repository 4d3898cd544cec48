package stacks

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/strata-iac/strata/internal/synth"
)

// BenchmarkChanged measures change detection on the synthetic monorepo of
// synth.Large (3,000 stacks, 600 modules, 200 changed files): a cold run
// with an empty module-call cache, a warm run with the cache on disk, and
// `git diff --name-only` for scale. Targets: cold ≤ 1.3 s, warm ≤ 0.3 s.
func BenchmarkChanged(b *testing.B) {
	dir := b.TempDir()
	start := time.Now()
	repo, err := synth.Generate(dir, synth.Large)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("generated %s in %s", dir, time.Since(start).Round(time.Millisecond))
	b.Setenv("XDG_CACHE_HOME", b.TempDir())

	run := func() (time.Duration, *ChangeSet) {
		t0 := time.Now()
		r, err := OpenRepo(dir)
		if err != nil {
			b.Fatal(err)
		}
		cs, err := r.Changes(context.Background(), repo.Base, repo.Head)
		if err != nil {
			b.Fatal(err)
		}
		if err := r.Close(); err != nil {
			b.Fatal(err)
		}
		return time.Since(t0), cs
	}
	b.ResetTimer()
	var cold, warm, diff time.Duration
	var cs *ChangeSet
	for i := 0; i < b.N; i++ {
		os.RemoveAll(os.Getenv("XDG_CACHE_HOME"))
		cold, cs = run()
		warm, _ = run()
		t0 := time.Now()
		cmd := exec.Command("git", "diff", "--name-only", repo.Base+"..."+repo.Head)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("git diff: %v: %s", err, out)
		}
		diff = time.Since(t0)
	}
	b.ReportMetric(float64(cold.Milliseconds()), "cold-ms")
	b.ReportMetric(float64(warm.Milliseconds()), "warm-ms")
	b.ReportMetric(float64(diff.Milliseconds()), "git-diff-ms")
	b.ReportMetric(float64(len(cs.Stacks)), "affected-stacks")
	b.ReportMetric(float64(len(cs.Analysis.Stacks)), "stacks")
}

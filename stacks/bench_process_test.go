package stacks

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/strata-iac/strata/internal/synth"
)

// BenchmarkChangedProcess measures what a CI job waits for: a whole
// `strata changed --base B --head H --format json` process on the
// synthetic monorepo of synth.Large, its analysis cache warm, against a
// whole `git diff --name-only B...H` process, and `strata version` for the
// cost of starting the binary at all. Each is run several times; the
// figures are medians. Target: strata within 3× of git diff.
func BenchmarkChangedProcess(b *testing.B) {
	dir := b.TempDir()
	repo, err := synth.Generate(dir, synth.Large)
	if err != nil {
		b.Fatal(err)
	}
	bin := filepath.Join(b.TempDir(), "strata")
	build := exec.Command("go", "build", "-o", bin, "./cmd/strata")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("build strata: %v\n%s", err, out)
	}
	cache := b.TempDir()
	run := func(name string, args ...string) time.Duration {
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+cache)
		t0 := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%s %q: %v\n%s", name, args, err, out)
		}
		return time.Since(t0)
	}
	changed := []string{"changed", "--base", repo.Base, "--head", repo.Head, "--format", "json"}
	run(bin, changed...) // fills the cache
	const runs = 9
	b.ResetTimer()
	var strata, diff, start []time.Duration
	for i := 0; i < b.N; i++ {
		for j := 0; j < runs; j++ {
			strata = append(strata, run(bin, changed...))
			diff = append(diff, run("git", "diff", "--name-only", repo.Base+"..."+repo.Head))
			start = append(start, run(bin, "version"))
		}
	}
	s, d := median(strata), median(diff)
	b.ReportMetric(float64(s.Microseconds())/1000, "process-warm-ms")
	b.ReportMetric(float64(d.Microseconds())/1000, "process-git-diff-ms")
	b.ReportMetric(float64(s)/float64(d), "process-ratio")
	b.ReportMetric(float64(median(start).Microseconds())/1000, "process-version-ms")
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

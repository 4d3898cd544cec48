package planner

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/strata-iac/strata/internal/gittest"
)

// BenchmarkDrift checks 100 trivial stacks for drift at Parallel 2, as
// `strata drift --parallel 2` does (the commit exported into a workspace,
// then init, plan -detailed-exitcode and show -json per stack), and
// compares it with raw `terraform init && terraform plan` in each stack,
// one after the other, half before and half after strata's run. Reported
// per iteration:
//
//	drift-s            wall time of Session.Drift
//	raw-s              sum of the raw init+plan times
//	ratio              drift-s / (raw-s / 2): 1 would be no overhead
//	overhead-ms/stack  worker time strata spends per stack beyond the raw
//	                   commands: (2 × drift-s − raw-s) / 100
//	cpu-ratio          CPU time of the drift run over the raw commands'
func BenchmarkDrift(b *testing.B) {
	const stacks, parallel = 100, 2
	b.Setenv("XDG_CACHE_HOME", b.TempDir())
	r := newTestRunner(b, Options{})
	files := map[string]string{}
	var dirs []string
	for i := range stacks {
		dir := fmt.Sprintf("live/s%03d", i)
		dirs = append(dirs, dir)
		files[dir+"/main.tf"] = fmt.Sprintf("resource \"terraform_data\" \"a\" {\n  input = \"%d\"\n}\n", i)
	}
	g := gittest.New(b)
	g.Write(files)
	g.Commit("100 stacks")
	s, err := OpenSession(SessionOptions{RepoDir: g.Dir, DataDir: b.TempDir(), Parallel: parallel, NoDownload: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	var driftTotal, rawTotal, driftCPU, rawCPU time.Duration
	for b.Loop() {
		b.StopTimer()
		rawRoot := export(b, files)
		cpu := cpuTime()
		rawTotal += rawInitPlan(b, r, rawRoot, dirs[:stacks/2], 1)
		rawCPU += cpuTime() - cpu
		b.StartTimer()
		start, cpu := time.Now(), cpuTime()
		t, err := s.Select(ctx, Selection{All: true})
		if err != nil {
			b.Fatal(err)
		}
		sum, err := s.Drift(ctx, t, DriftOptions{})
		driftTotal += time.Since(start)
		driftCPU += cpuTime() - cpu
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		for _, res := range sum.Stacks {
			if res.Status != StatusChanges {
				b.Fatalf("%s: %s %s, want drifted (never applied)", res.Dir, res.Status, res.Error)
			}
		}
		cpu = cpuTime()
		rawTotal += rawInitPlan(b, r, rawRoot, dirs[stacks/2:], 1)
		rawCPU += cpuTime() - cpu
		b.StartTimer()
	}
	n := float64(b.N)
	b.ReportMetric(driftTotal.Seconds()/n, "drift-s")
	b.ReportMetric(rawTotal.Seconds()/n, "raw-s")
	b.ReportMetric(driftTotal.Seconds()/(rawTotal.Seconds()/parallel), "ratio")
	b.ReportMetric((parallel*driftTotal.Seconds()-rawTotal.Seconds())/(n*stacks)*1000, "overhead-ms/stack")
	b.ReportMetric(driftCPU.Seconds()/rawCPU.Seconds(), "cpu-ratio")
}

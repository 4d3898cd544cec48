package planner

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/strata-iac/strata/internal/gittest"
)

// BenchmarkParallelApply applies 20 independent trivial stacks one at a
// time and two at a time, side by side in each iteration (sequential
// first, then parallel, each from fresh plans and state), so the machine's
// load weighs on both. For reference it does the same with the raw
// `terraform init && terraform apply` of each stack: what two at a time
// can gain on this machine at this moment, whatever strata does. Reported
// per iteration:
//
//	seq-s        wall time of the apply at Parallel 1
//	par2-s       wall time of the apply at Parallel 2
//	ratio        par2-s / seq-s; the target is 0.6 or less
//	raw-ratio    the same ratio for the raw commands
func BenchmarkParallelApply(b *testing.B) {
	r := newTestRunner(b, Options{})
	b.Setenv("XDG_CACHE_HOME", b.TempDir())
	g := gittest.New(b)
	files := map[string]string{"strata.yaml": strataYAML("")}
	var dirs []string
	for i := range 20 {
		dir := fmt.Sprintf("live/s%02d", i)
		dirs = append(dirs, dir)
		files[dir+"/main.tf"] = fmt.Sprintf(`resource "terraform_data" "x" {
  input = "%d"
}
`, i)
	}
	g.Write(files)
	g.Commit("20 independent stacks")
	initApply := [][]string{{"init", "-input=false"}, {"apply", "-input=false", "-auto-approve"}}
	var seq, par, rawSeq, rawPar time.Duration
	for b.Loop() {
		seq += timedApply(b, g.Dir, 1)
		par += timedApply(b, g.Dir, 2)
		b.StopTimer()
		rawSeq += rawCommands(b, r, export(b, files), dirs, 1, initApply...)
		rawPar += rawCommands(b, r, export(b, files), dirs, 2, initApply...)
		b.StartTimer()
	}
	n := float64(b.N)
	b.ReportMetric(seq.Seconds()/n, "seq-s")
	b.ReportMetric(par.Seconds()/n, "par2-s")
	b.ReportMetric(par.Seconds()/seq.Seconds(), "ratio")
	b.ReportMetric(rawPar.Seconds()/rawSeq.Seconds(), "raw-ratio")
}

// timedApply plans every stack of repo into fresh state (untimed) and
// returns how long applying them all at parallel took.
func timedApply(b *testing.B, repo string, parallel int) time.Duration {
	b.Helper()
	b.StopTimer()
	defer b.StartTimer()
	ctx := context.Background()
	s, err := OpenSession(SessionOptions{RepoDir: repo, DataDir: b.TempDir(), Parallel: parallel, NoDownload: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	plan, err := s.Plan(ctx, Selection{All: true})
	if err != nil {
		b.Fatal(err)
	}
	a := &memArtifacts{}
	if err := WriteOut(ctx, a, plan, ""); err != nil {
		b.Fatal(err)
	}
	b.StartTimer()
	start := time.Now()
	applied, err := s.Apply(ctx, a, ApplyOptions{})
	took := time.Since(start)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	for _, r := range applied.Stacks {
		if r.Status != StatusApplied {
			b.Fatalf("%s: %s %s", r.Name(), r.Status, r.Error)
		}
	}
	return took
}

package planner

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"
)

// BenchmarkPlanAll plans 40 trivial stacks at Parallel 2 and compares the
// wall time with raw `terraform init && terraform plan` typed by hand in
// each stack, one stack after the other: their total divided by 2 is what
// two at a time would take with no overhead at all. The raw runs are split
// around strata's, so a change in the machine's load weighs on both.
// Reported per iteration:
//
//	strata-s     wall time of PlanAll
//	raw-s        sum of the raw init+plan times
//	ratio        strata-s / (raw-s / 2), the figure to watch
//	raw-p2-s     wall time of the raw commands two stacks at a time, for
//	             reference: what 2 workers really get on this machine
//	cpu-ratio    CPU time (user+system, terraform's and strata's) of
//	             PlanAll over that of the raw commands: the overhead, free
//	             of the noise other processes on the machine add to wall
//	             times
//	init-ms, plan-ms, show-ms  mean time of each of strata's phases
func BenchmarkPlanAll(b *testing.B) {
	const stacks, parallel = 40, 2
	r := newTestRunner(b, Options{Parallel: parallel})
	files := map[string]string{}
	var dirs []string
	for i := range stacks {
		dir := fmt.Sprintf("live/s%02d", i)
		dirs = append(dirs, dir)
		files[dir+"/main.tf"] = fmt.Sprintf(`resource "terraform_data" "a" {
  input = "%d"
}

resource "terraform_data" "b" {
  input = terraform_data.a.output
}

output "b" {
  value = terraform_data.b.output
}
`, i)
	}
	ctx := context.Background()
	if out, err := exec.Command(r.bin.Path, "version").CombinedOutput(); err != nil {
		b.Fatalf("terraform version: %v\n%s", err, out)
	}
	var strataTotal, rawTotal, rawP2Total, strataCPU, rawCPU time.Duration
	var phases Timings
	for b.Loop() {
		b.StopTimer()
		root, states, rawRoot := export(b, files), b.TempDir(), export(b, files)
		jobs := make([]Job, stacks)
		for i, d := range dirs {
			jobs[i] = Job{Dir: d, Root: root, StateDir: filepath.Join(states, d)}
		}
		cpu := cpuTime()
		rawTotal += rawInitPlan(b, r, rawRoot, dirs[:stacks/2], 1)
		rawCPU += cpuTime() - cpu
		b.StartTimer()
		start, cpu := time.Now(), cpuTime()
		results := r.PlanAll(ctx, jobs)
		strataTotal += time.Since(start)
		strataCPU += cpuTime() - cpu
		b.StopTimer()
		cpu = cpuTime()
		rawTotal += rawInitPlan(b, r, rawRoot, dirs[stacks/2:], 1)
		rawCPU += cpuTime() - cpu
		rawP2Total += rawInitPlan(b, r, export(b, files), dirs, parallel)
		for _, res := range results {
			if res.Status != StatusChanges {
				b.Fatalf("%s: %s %s", res.Dir, res.Status, res.Error)
			}
			phases.Init += res.Timings.Init
			phases.Plan += res.Timings.Plan
			phases.Show += res.Timings.Show
		}
		b.StartTimer()
	}
	n := float64(b.N)
	b.ReportMetric(strataTotal.Seconds()/n, "strata-s")
	b.ReportMetric(rawTotal.Seconds()/n, "raw-s")
	b.ReportMetric(strataTotal.Seconds()/(rawTotal.Seconds()/parallel), "ratio")
	b.ReportMetric(rawP2Total.Seconds()/n, "raw-p2-s")
	b.ReportMetric(strataCPU.Seconds()/rawCPU.Seconds(), "cpu-ratio")
	perStack := 1000 / (n * stacks)
	b.ReportMetric(phases.Init*perStack, "init-ms")
	b.ReportMetric(phases.Plan*perStack, "plan-ms")
	b.ReportMetric(phases.Show*perStack, "show-ms")
}

// cpuTime returns the user and system time this process and the children
// it waited for have used so far.
func cpuTime() time.Duration {
	var total time.Duration
	for _, who := range []int{syscall.RUSAGE_SELF, syscall.RUSAGE_CHILDREN} {
		var ru syscall.Rusage
		if err := syscall.Getrusage(who, &ru); err == nil {
			total += time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		}
	}
	return total
}

// rawInitPlan runs `terraform init && terraform plan` in each stack,
// parallel stacks at a time, in the environment strata gives terraform,
// and returns the wall time: with parallel 1, the sum of the commands'.
func rawInitPlan(b *testing.B, r *Runner, root string, dirs []string, parallel int) time.Duration {
	return rawCommands(b, r, root, dirs, parallel, []string{"init", "-input=false"}, []string{"plan", "-input=false"})
}

// rawCommands runs the terraform commands in each stack in turn, parallel
// stacks at a time, and returns the wall time.
func rawCommands(b *testing.B, r *Runner, root string, dirs []string, parallel int, commands ...[]string) time.Duration {
	work := make(chan string)
	errs := make(chan error, len(dirs))
	var wg sync.WaitGroup
	start := time.Now()
	for range parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for d := range work {
				for _, args := range commands {
					cmd := exec.Command(r.bin.Path, args...)
					cmd.Dir = filepath.Join(root, d)
					cmd.Env = slices.Clip(r.env)
					if out, err := cmd.CombinedOutput(); err != nil {
						errs <- fmt.Errorf("raw terraform %s in %s: %v\n%s", args[0], d, err, out)
						break
					}
				}
			}
		}()
	}
	for _, d := range dirs {
		work <- d
	}
	close(work)
	wg.Wait()
	took := time.Since(start)
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	return took
}

// BenchmarkPlanAllSandboxed plans the 40 trivial stacks of BenchmarkPlanAll
// at Parallel 2 with every terraform process in the sandbox and without
// it, side by side in turns (three rounds each per iteration, the order
// swapped every round), so the machine's load weighs on both alike.
// Reported per iteration:
//
//	sandbox-s, bare-s  wall time of one PlanAll, mean over the rounds
//	ratio              sandbox-s / bare-s, the figure to watch (≤ 1.10)
//	min-ratio, max-ratio  the ratio's range over the rounds
//	cpu-ratio          the same for CPU time (user+system, strata's and
//	                   terraform's): free of the waiting other work on the
//	                   machine adds to wall times
func BenchmarkPlanAllSandboxed(b *testing.B) {
	const stacks, parallel, rounds = 40, 2, 3
	sb := needSandbox(b)
	bare := newTestRunner(b, Options{Parallel: parallel})
	boxed := newTestRunner(b, Options{Parallel: parallel, Sandbox: sb})
	files := map[string]string{}
	var dirs []string
	for i := range stacks {
		dir := fmt.Sprintf("live/s%02d", i)
		dirs = append(dirs, dir)
		files[dir+"/main.tf"] = fmt.Sprintf("resource \"terraform_data\" \"a\" {\n  input = \"%d\"\n}\n\noutput \"a\" {\n  value = terraform_data.a.output\n}\n", i)
	}
	ctx := context.Background()
	var boxedCPU, bareCPU time.Duration
	planAll := func(r *Runner) time.Duration {
		root, states := export(b, files), b.TempDir()
		jobs := make([]Job, stacks)
		for i, d := range dirs {
			jobs[i] = Job{Dir: d, Root: root, StateDir: filepath.Join(states, d)}
		}
		start, cpu := time.Now(), cpuTime()
		results := r.PlanAll(ctx, jobs)
		took := time.Since(start)
		if r == boxed {
			boxedCPU += cpuTime() - cpu
		} else {
			bareCPU += cpuTime() - cpu
		}
		for _, res := range results {
			if res.Status != StatusChanges {
				b.Fatalf("%s: %s %s", res.Dir, res.Status, res.Error)
			}
		}
		return took
	}
	var boxedTotal, bareTotal time.Duration
	minRatio, maxRatio := 0.0, 0.0
	for b.Loop() {
		for round := range rounds {
			var x, y time.Duration
			if round%2 == 0 {
				x = planAll(boxed)
				y = planAll(bare)
			} else {
				y = planAll(bare)
				x = planAll(boxed)
			}
			boxedTotal, bareTotal = boxedTotal+x, bareTotal+y
			ratio := x.Seconds() / y.Seconds()
			if minRatio == 0 || ratio < minRatio {
				minRatio = ratio
			}
			maxRatio = max(maxRatio, ratio)
		}
	}
	n := float64(b.N * rounds)
	b.ReportMetric(boxedTotal.Seconds()/n, "sandbox-s")
	b.ReportMetric(bareTotal.Seconds()/n, "bare-s")
	b.ReportMetric(boxedTotal.Seconds()/bareTotal.Seconds(), "ratio")
	b.ReportMetric(minRatio, "min-ratio")
	b.ReportMetric(maxRatio, "max-ratio")
	b.ReportMetric(boxedCPU.Seconds()/bareCPU.Seconds(), "cpu-ratio")
}

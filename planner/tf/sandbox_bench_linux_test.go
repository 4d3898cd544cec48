package tf

import (
	"context"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// BenchmarkSandboxStart measures what the sandbox adds to one terraform
// process: `terraform version -json` run bare and in the sandbox, in
// turns, 20 times each per iteration. Reported per iteration:
//
//	bare-ms, sandbox-ms  mean wall time of one process
//	cost-ms              sandbox-ms - bare-ms, the figure to watch (≤ 15)
//	cost-cpu-ms          the CPU time (user+system) the sandbox adds to one
//	                     process: free of the waiting other work on the
//	                     machine adds to wall times
func BenchmarkSandboxStart(b *testing.B) {
	sb := needSandbox(b)
	path, err := exec.LookPath("terraform")
	if err != nil {
		b.Skip("terraform is not on PATH")
	}
	env := Environ(nil)
	ctx := context.Background()
	bare := command{bin: path, env: env, grace: time.Second}
	boxed := command{bin: path, env: env, grace: time.Second, sandbox: sb}
	const runs = 20
	var bareTook, boxedTook, bareCPU, boxedCPU time.Duration
	timed := func(c command, took, cpu *time.Duration) {
		start, startCPU := time.Now(), childCPU()
		out, err := c.run(ctx, "version", "-json")
		if err != nil || out.Code != 0 {
			b.Fatalf("terraform version: %v, exit %d: %s", err, out.Code, out.Stderr)
		}
		*took += time.Since(start)
		*cpu += childCPU() - startCPU
	}
	for b.Loop() {
		for i := range runs {
			if i%2 == 0 {
				timed(bare, &bareTook, &bareCPU)
				timed(boxed, &boxedTook, &boxedCPU)
			} else {
				timed(boxed, &boxedTook, &boxedCPU)
				timed(bare, &bareTook, &bareCPU)
			}
		}
	}
	n := float64(b.N * runs)
	ms := func(d time.Duration) float64 { return d.Seconds() * 1000 / n }
	b.ReportMetric(ms(bareTook), "bare-ms")
	b.ReportMetric(ms(boxedTook), "sandbox-ms")
	b.ReportMetric(ms(boxedTook-bareTook), "cost-ms")
	b.ReportMetric(ms(boxedCPU-bareCPU), "cost-cpu-ms")
}

// childCPU is the user and system time of the children this process
// waited for.
func childCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

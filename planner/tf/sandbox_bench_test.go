package tf

import (
	"context"
	"os/exec"
	"testing"
	"time"
)

// BenchmarkSandboxStart measures what the sandbox adds to one terraform
// process: `terraform version -json` run bare and in the sandbox, in
// turns, 20 times each per iteration. Reported per iteration:
//
//	bare-ms, sandbox-ms  mean wall time of one process
//	cost-ms              sandbox-ms - bare-ms, the figure to watch (≤ 15)
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
	var bareTook, boxedTook time.Duration
	timed := func(c command) time.Duration {
		start := time.Now()
		out, err := c.run(ctx, "version", "-json")
		if err != nil || out.Code != 0 {
			b.Fatalf("terraform version: %v, exit %d: %s", err, out.Code, out.Stderr)
		}
		return time.Since(start)
	}
	for b.Loop() {
		for i := range runs {
			if i%2 == 0 {
				bareTook += timed(bare)
				boxedTook += timed(boxed)
			} else {
				boxedTook += timed(boxed)
				bareTook += timed(bare)
			}
		}
	}
	n := float64(b.N * runs)
	ms := func(d time.Duration) float64 { return d.Seconds() * 1000 / n }
	b.ReportMetric(ms(bareTook), "bare-ms")
	b.ReportMetric(ms(boxedTook), "sandbox-ms")
	b.ReportMetric(ms(boxedTook-bareTook), "cost-ms")
}

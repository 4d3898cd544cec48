package locktest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/strata-iac/strata/runner/lock"
)

// Cycles is how many acquire/release cycles one benchmark iteration
// times, so that even -benchtime 1x yields meaningful percentiles.
const Cycles = 200

// Bench times Cycles acquire/release cycles of l per iteration, over ten
// keys, and reports the p50 and p99 latency of each in milliseconds.
func Bench(b *testing.B, l lock.Locker) {
	ctx := b.Context()
	owner := lock.Owner{ID: "bench", Head: "0123456789abcdef", User: "bench"}
	var acquire, release []time.Duration
	for b.Loop() {
		for i := range Cycles {
			key := fmt.Sprintf("bench/acme/infra/stack%d/default", i%10)
			t0 := time.Now()
			if _, err := l.Acquire(ctx, key, owner); err != nil {
				b.Fatal(err)
			}
			t1 := time.Now()
			if err := l.Release(ctx, key, owner.ID); err != nil {
				b.Fatal(err)
			}
			acquire = append(acquire, t1.Sub(t0))
			release = append(release, time.Since(t1))
		}
	}
	report(b, "acquire", acquire)
	report(b, "release", release)
}

func report(b *testing.B, op string, samples []time.Duration) {
	slices.Sort(samples)
	for _, p := range []int{50, 99} {
		i := min(len(samples)-1, len(samples)*p/100)
		b.ReportMetric(float64(samples[i])/float64(time.Millisecond), fmt.Sprintf("%s-p%d-ms", op, p))
	}
}

package test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/strata-iac/strata/internal/fakegitlab"
)

// BenchmarkWebhookBodiesMemory sends eight 24 MiB merge request hooks at
// once to a strata server and reports its peak resident memory (VmHWM),
// with bodies read two at a time (the default --webhook-max-bodies) and
// all eight at once, as before the bound.
func BenchmarkWebhookBodiesMemory(b *testing.B) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		b.Skip("needs /proc to read the server's memory")
	}
	for _, bodies := range []int{2, 8} {
		b.Run(fmt.Sprintf("max-bodies=%d", bodies), func(b *testing.B) {
			for range b.N {
				gl := fakegitlab.New()
				p := gl.AddProject(fakegitlab.Project{Path: "acme/infra"})
				var hooks []fakegitlab.MergeRequestHook
				for i := range 8 {
					iid := int64(i + 1)
					gl.AddMergeRequest(p.Path, fakegitlab.MergeRequest{IID: iid})
					h := gl.MergeRequestHook(p.Path, iid, "open", "alice")
					h.Description = strings.Repeat("x", 24<<20)
					hooks = append(hooks, h)
				}
				srv := startServer(b, gl, b.TempDir(), "--webhook-max-bodies", strconv.Itoa(bodies))
				idle := peakRSS(b, srv.cmd.Process.Pid)
				var wg sync.WaitGroup
				for _, h := range hooks {
					wg.Go(func() {
						resp, err := fakegitlab.Deliver(context.Background(), srv.url("/events/gitlab"), webhookSecret, h)
						if err != nil {
							b.Error(err)
							return
						}
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode != http.StatusAccepted {
							b.Errorf("HTTP %d, want 202", resp.StatusCode)
						}
					})
				}
				wg.Wait()
				b.ReportMetric(idle, "idle-MB")
				b.ReportMetric(peakRSS(b, srv.cmd.Process.Pid), "peak-MB")
				srv.stop()
				gl.Close()
			}
		})
	}
}

// peakRSS is the peak resident set size of process pid, in MB.
func peakRSS(b *testing.B, pid int) float64 {
	b.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	b.Fatal("no VmHWM in /proc/PID/status")
	return 0
}

package test

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/strata-iac/strata/internal/fakegitlab"
	"github.com/strata-iac/strata/internal/motoserver"
)

// benchEvents is how many merge requests each fleet plans.
const benchEvents = 24

// BenchmarkFleetThroughput measures events planned per minute by 1, 2 and
// 3 `strata server` replicas on one SQS queue (moto, on loopback), with
// DynamoDB locks and an S3 store: benchEvents merge requests opened at
// once, each touching one trivial stack, from the first webhook to the
// last plan. Each replica runs one worker, so that a replica is a fixed
// unit of capacity, as it is on a machine of its own; "scaling" reports
// the figures at 2 and 3 replicas relative to 1. cpu-busy is how busy the
// machine's cores were (from /proc/stat), which says whether the figures
// are the fleet's or the CPU's; cpu-s/event is the CPU the replicas and
// the terraform and git they started used per event (moto's not counted),
// so cores×60/cpu-s/event bounds events per minute on this machine.
func BenchmarkFleetThroughput(b *testing.B) {
	if _, err := exec.LookPath("terraform"); err != nil {
		if os.Getenv("CI") == "true" {
			b.Fatalf("terraform not on PATH (CI=true): %v", err)
		}
		b.Skip("terraform not on PATH")
	}
	motoserver.Shared(b)
	perMinute := map[int]float64{}
	for _, n := range []int{1, 2, 3} {
		b.Run(fmt.Sprintf("replicas=%d", n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				m := measureFleet(b, n, i)
				perMinute[n] = m.rate
				b.ReportMetric(m.rate, "events/min")
				b.ReportMetric(m.cpuPerEvent, "cpu-s/event")
				if m.busy >= 0 {
					b.ReportMetric(m.busy*100, "%cpu-busy")
				}
			}
		})
	}
	b.Run("scaling", func(b *testing.B) {
		if perMinute[1] == 0 {
			b.Skip("no figure for one replica")
		}
		b.ReportMetric(perMinute[2]/perMinute[1], "x-at-2-replicas")
		b.ReportMetric(perMinute[3]/perMinute[1], "x-at-3-replicas")
		b.ReportMetric(float64(runtime.NumCPU()), "cores")
	})
}

// measured is one fleet's figures.
type measured struct {
	rate        float64 // events planned per minute
	busy        float64 // how busy the machine's cores were, 0..1; -1 unknown
	cpuPerEvent float64 // CPU seconds of the replicas and their children per event
}

// measureFleet plans benchEvents merge requests with n replicas.
func measureFleet(b *testing.B, n, round int) measured {
	b.StopTimer()
	gl := fakegitlab.New()
	defer gl.Close()
	files := map[string]string{}
	for i := 1; i <= benchEvents; i++ {
		files[fmt.Sprintf("live/b%02d/main.tf", i)] = `resource "terraform_data" "base" {}`
	}
	rem := newRemote(b, files)
	const repo = "acme/bench"
	gl.AddProject(fakegitlab.Project{Path: repo, CloneURL: rem.url()})
	var opens []fakegitlab.Hook
	for i := 1; i <= benchEvents; i++ {
		branch := fmt.Sprintf("b%02d", i)
		sha := rem.branch(branch, map[string]string{fmt.Sprintf("live/b%02d/extra.tf", i): `resource "terraform_data" "extra" {}`})
		gl.AddMergeRequest(repo, fakegitlab.MergeRequest{IID: int64(i), SourceBranch: branch, SHA: sha})
		opens = append(opens, gl.MergeRequestHook(repo, int64(i), "open", "alice"))
	}
	cpu0 := childCPU()
	f := newFleet(b, gl, fmt.Sprintf("bench-%d-%d", n, round), n, "--workers", "1")
	before := cpuStat()
	b.StartTimer()
	start := time.Now()
	f.deliverAll(opens)
	f.eventually(30*time.Minute, "every merge request planned", func() bool {
		done := 0
		for i := 1; i <= benchEvents; i++ {
			mr, _ := gl.MergeRequest(repo, int64(i))
			if statusIs(gl, repo, mr.SHA, "strata/plan", "success") {
				done++
			}
		}
		return done == benchEvents
	})
	elapsed := time.Since(start)
	b.StopTimer()
	m := measured{rate: benchEvents / elapsed.Minutes(), busy: -1}
	if after := cpuStat(); before.total > 0 && after.total > before.total {
		m.busy = float64(after.busy-before.busy) / float64(after.total-before.total)
	}
	for _, s := range f.replicas {
		s.stop()
	}
	m.cpuPerEvent = (childCPU() - cpu0).Seconds() / benchEvents
	return m
}

// childCPU is the CPU time of the child processes this process has waited
// for, and of theirs.
func childCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// jiffies are the machine's CPU time counters from /proc/stat.
type jiffies struct{ busy, total uint64 }

// cpuStat reads the first line of /proc/stat; zero where there is none.
func cpuStat() jiffies {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return jiffies{}
	}
	line, _, _ := strings.Cut(string(data), "\n")
	fields := strings.Fields(line)
	var j jiffies
	for i, f := range fields[1:] {
		v, _ := strconv.ParseUint(f, 10, 64)
		j.total += v
		if i != 3 && i != 4 { // idle, iowait
			j.busy += v
		}
	}
	return j
}

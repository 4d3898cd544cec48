package test

import (
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/strata-iac/strata/internal/fakegitlab"
	"github.com/strata-iac/strata/planner/comment"
)

// TestServerSurvivesBadSchedule: strata.yaml lines on which the cron
// library panics (TZ=, CRON_TZ=, TZ=UTC) used to take the server down,
// and every restart picked the event up and crashed again. Each merge
// request is now told what is wrong with its drift.schedule, the plan
// status fails, and the server goes on serving.
func TestServerSurvivesBadSchedule(t *testing.T) {
	gl := fakegitlab.New()
	t.Cleanup(gl.Close)
	rem := newRemote(t, nil)
	const repo = "acme/cron"
	gl.AddProject(fakegitlab.Project{Path: repo, CloneURL: rem.url()})
	srv := startServer(t, gl, t.TempDir())

	specs := []string{"TZ=", "CRON_TZ=", "TZ=UTC"}
	shas := map[int64]string{}
	for i, spec := range specs {
		iid := int64(i + 1)
		branch := fmt.Sprintf("schedule-%d", iid)
		shas[iid] = rem.branch(branch, map[string]string{"strata.yaml": "version: 1\ndrift: {schedule: \"" + spec + "\"}\n"})
		gl.AddMergeRequest(repo, fakegitlab.MergeRequest{IID: iid, SourceBranch: branch, SHA: shas[iid]})
		if code := srv.deliver(gl.MergeRequestHook(repo, iid, "open", "alice")); code != http.StatusAccepted {
			t.Fatalf("open !%d: HTTP %d, want 202", iid, code)
		}
	}
	for i, spec := range specs {
		iid := int64(i + 1)
		srv.eventually(fmt.Sprintf("!%d told about %q", iid, spec), func() bool {
			return statusIs(gl, repo, shas[iid], "strata/plan", "failed") &&
				noteContains(gl, repo, iid, "strata.yaml:2: drift.schedule:", comment.Inert(spec)) // CRON\_TZ=: inert Markdown
		})
	}
	resp, err := http.Get(srv.url("/healthz"))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("the server is not serving after the bad schedules: %v\n%s", err, srv.log())
	}
	resp.Body.Close()
	if strings.Contains(srv.log(), "panic") {
		t.Errorf("the log mentions a panic:\n%s", srv.log())
	}
}

// TestServerIdleWithScheduleThatNeverFires: a default branch whose
// drift.schedule never fires (February 31st) used to make the drift loop
// re-queue for ever, spinning a core. It is now refused as never firing,
// and the idle server uses next to no CPU.
func TestServerIdleWithScheduleThatNeverFires(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("needs /proc to read the server's CPU time")
	}
	gl := fakegitlab.New()
	t.Cleanup(gl.Close)
	rem := newRemote(t, map[string]string{"strata.yaml": "version: 1\ndrift: {schedule: \"0 0 31 2 *\"}\n"})
	const repo = "acme/never"
	gl.AddProject(fakegitlab.Project{Path: repo, CloneURL: rem.url()})
	srv := startServer(t, gl, t.TempDir())

	sha := rem.branch("docs", map[string]string{"README.md": "docs\n"})
	gl.AddMergeRequest(repo, fakegitlab.MergeRequest{IID: 1, SourceBranch: "docs", SHA: sha})
	srv.deliver(gl.MergeRequestHook(repo, 1, "open", "alice"))
	srv.eventually("the drift loop to refuse the schedule", func() bool {
		return strings.Contains(srv.log(), "cannot read drift.schedule") && strings.Contains(srv.log(), "never fires")
	})
	before := cpuSeconds(t, srv.cmd.Process.Pid)
	time.Sleep(3 * time.Second)
	if used := cpuSeconds(t, srv.cmd.Process.Pid) - before; used > 1 {
		t.Errorf("the idle server used %.2f CPU-seconds in 3 s", used)
	}
}

// TestServerRepliesAreInert: a reply that quotes a comment strata could
// not read mentions nobody and links to nothing (it used to answer
// "unknown command "strata @all"", notifying everyone).
func TestServerRepliesAreInert(t *testing.T) {
	gl := fakegitlab.New()
	t.Cleanup(gl.Close)
	rem := newRemote(t, nil)
	const repo = "acme/chat"
	gl.AddProject(fakegitlab.Project{Path: repo, CloneURL: rem.url()})
	srv := startServer(t, gl, t.TempDir())
	sha := rem.branch("docs", map[string]string{"README.md": "docs\n"})
	gl.AddMergeRequest(repo, fakegitlab.MergeRequest{IID: 1, SourceBranch: "docs", SHA: sha})

	for _, tc := range []struct{ comment, inert string }{
		{"strata @all", "unknown command \"strata @\u2060all\""},
		{"strata plan now #12 !3 @here", "unexpected \"now #\u206012 !\u20603 @\u2060here\""},
	} {
		srv.deliver(gl.Comment(repo, 1, "mallory", tc.comment))
		srv.eventually("the reply to "+tc.comment, func() bool {
			for _, n := range botNotes(gl, repo, 1) {
				if strings.Contains(n.Body, tc.inert) {
					return true
				}
			}
			return false
		})
	}
	for _, n := range botNotes(gl, repo, 1) {
		for _, live := range []string{"@all", "@here", "#12", "!3 "} {
			if strings.Contains(n.Body, live) {
				t.Errorf("a reply holds %q:\n%s", live, n.Body)
			}
		}
	}
}

// cpuSeconds is the user and system CPU time process pid has used.
func cpuSeconds(t *testing.T, pid int) float64 {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// Fields after the command name, which is in parentheses: utime and
	// stime are the 12th and 13th.
	fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
	utime, _ := strconv.ParseFloat(fields[11], 64)
	stime, _ := strconv.ParseFloat(fields[12], 64)
	return (utime + stime) / 100
}

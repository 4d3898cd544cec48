package test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strata-iac/strata/internal/fakegitlab"
	"github.com/strata-iac/strata/internal/gittest"
	"github.com/strata-iac/strata/internal/motoserver"
)

// TestFleetPlansEachMergeRequestOnce: three `strata server` processes on
// one SQS queue, DynamoDB locks and an S3 store. Thirty merge requests
// opened at once, the webhooks spread over the replicas, are each planned
// exactly once (one completed plan run record, one note), by replicas that
// all take part; a webhook redelivered to another replica is answered as a
// duplicate. Then three events at once for each of ten merge requests:
// the runs of one merge request never overlap, whichever replicas ran
// them.
func TestFleetPlansEachMergeRequestOnce(t *testing.T) {
	motoserver.Shared(t)
	needTerraform(t)
	const mrs = 30
	gl := fakegitlab.New()
	t.Cleanup(gl.Close)
	files := map[string]string{}
	for i := range mrs {
		files[fmt.Sprintf("live/s%02d/main.tf", i+1)] = `resource "terraform_data" "base" {}`
	}
	rem := newRemote(t, files)
	const repo = "acme/fleet"
	gl.AddProject(fakegitlab.Project{Path: repo, CloneURL: rem.url()})
	f := newFleet(t, gl, "fleet-once", 3)

	var opens []fakegitlab.Hook
	for i := 1; i <= mrs; i++ {
		branch := fmt.Sprintf("change-%02d", i)
		sha := rem.branch(branch, map[string]string{fmt.Sprintf("live/s%02d/extra.tf", i): `resource "terraform_data" "extra" {}`})
		gl.AddMergeRequest(repo, fakegitlab.MergeRequest{IID: int64(i), SourceBranch: branch, SHA: sha})
		opens = append(opens, gl.MergeRequestHook(repo, int64(i), "open", "alice"))
	}
	f.deliverAll(append(opens[:4:4], opens[5:]...))
	// !5's webhook is delivered, then delivered again by the forge to
	// another replica: the second is answered as a duplicate, from the
	// deliveries DynamoDB remembers (SQS would not say).
	for i, s := range f.replicas[:2] {
		req, err := fakegitlab.NewRequest(context.Background(), s.url("/events/gitlab"), webhookSecret, opens[4], "delivery-of-5")
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if want := []int{http.StatusAccepted, http.StatusOK}[i]; resp.StatusCode != want {
			t.Fatalf("delivery %d of !5's webhook: HTTP %d, want %d", i+1, resp.StatusCode, want)
		}
	}

	planned := func(first, last, n int) func() bool {
		return func() bool {
			per := completed(byMR(f.runs(repo, false), "plan"))
			for i := first; i <= last; i++ {
				if len(per[int64(i)]) < n {
					return false
				}
			}
			return true
		}
	}
	f.eventually(6*time.Minute, "every merge request planned", planned(1, mrs, 1))
	time.Sleep(3 * time.Second) // a second plan of any of them would show now
	all := byMR(f.runs(repo, false), "plan")
	per := completed(all)
	by := map[string]int{}
	for i := 1; i <= mrs; i++ {
		runs := per[int64(i)]
		if len(runs) != 1 {
			t.Errorf("!%d was planned %d times: %+v, want once", i, len(runs), runs)
		}
		if failed := len(all[int64(i)]) - len(runs); failed > 0 {
			// A run that failed for a reason that may pass (the machine
			// too loaded to answer `terraform version` in time) is retried:
			// that is the queue doing its work, not a second plan.
			t.Logf("!%d: %d failed run(s) before its plan: %+v", i, failed, all[int64(i)])
		}
		if n := len(botNotes(gl, repo, int64(i))); n != 1 {
			t.Errorf("!%d has %d notes, want 1", i, n)
		}
		mr, _ := gl.MergeRequest(repo, int64(i))
		if !statusIs(gl, repo, mr.SHA, "strata/plan", "success") {
			t.Errorf("!%d: strata/plan is not success", i)
		}
		for _, r := range runs {
			by[r.Replica]++
		}
	}
	if len(by) != 3 {
		t.Errorf("plans by replica %v: want all three replicas to take part", by)
	}
	t.Logf("30 plans by replica: %v", by)

	// Three events at once for each of ten merge requests, on any replica.
	var more []fakegitlab.Hook
	for i := 1; i <= 10; i++ {
		for range 3 {
			more = append(more, gl.Comment(repo, int64(i), "alice", "strata plan"))
		}
	}
	f.deliverAll(more)
	f.eventually(6*time.Minute, "the comments planned", planned(1, 10, 4))
	all = byMR(f.runs(repo, false), "plan")
	per = completed(all)
	for i := 1; i <= 10; i++ {
		if n := len(per[int64(i)]); n != 4 {
			t.Errorf("!%d has %d completed plan runs, want 4", i, n)
		}
		runs := all[int64(i)]
		for j := 1; j < len(runs); j++ {
			if runs[j].StartedAt.Before(runs[j-1].EndedAt) {
				t.Errorf("!%d: run %s (%s, from %s) started before run %s (%s) ended at %s",
					i, runs[j].ID, runs[j].Replica, runs[j].StartedAt.Format(time.StampMilli),
					runs[j-1].ID, runs[j-1].Replica, runs[j-1].EndedAt.Format(time.StampMilli))
			}
		}
		if n := len(botNotes(gl, repo, int64(i))); n != 1 {
			t.Errorf("!%d has %d notes after replanning, want the one edited", i, n)
		}
	}
}

// counted is a stack whose apply appends a line to counter, then sleeps:
// how many times it was applied, and a window to kill its replica in.
func counted(counter string, sleep int) string {
	return fmt.Sprintf(`resource "terraform_data" "counted" {
  input = "v2"
  provisioner "local-exec" {
    command = "echo applied >> %s && sleep %d"
  }
}
`, counter, sleep)
}

// lines counts the lines of a file, 0 when it is missing.
func lines(path string) int {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	return strings.Count(string(data), "\n")
}

// TestFleetSurvivesKilledReplicas: a replica killed (SIGKILL) in the middle
// of a plan and another in the middle of an apply. Every merge request
// ends planned, or applied; nothing is applied twice (each apply appends
// to a counter file from a local-exec provisioner); the killed runs'
// records say interrupted, closed by the replicas that took the work over;
// the merge request whose apply was cut short is told so and never
// applied again.
func TestFleetSurvivesKilledReplicas(t *testing.T) {
	motoserver.Shared(t)
	needTerraform(t)
	const mrs = 5
	gl := fakegitlab.New()
	t.Cleanup(gl.Close)
	// The provisioners count their runs in the test's temp dir, which the
	// sandbox hides from terraform (what it hides is the subject of
	// TestServerSandboxKeepsPlanCodeFromStrata).
	f := newFleet(t, gl, "fleet-kill", 3, "--sandbox", "off")
	counters := t.TempDir()
	files := map[string]string{"strata.yaml": fmt.Sprintf(`version: 1
apply_on: merge
backend:
  s3:
    bucket: %s
    region: us-east-1
    key: "tfstate/{{ .Dir }}/terraform.tfstate"
    dynamodb_table: %s
    use_path_style: true
    skip_credentials_validation: true
    skip_requesting_account_id: true
    skip_metadata_api_check: true
`, f.bucket, f.table)}
	for i := 1; i <= mrs; i++ {
		files[fmt.Sprintf("live/k%d/main.tf", i)] = `resource "terraform_data" "base" {}`
	}
	rem := newRemote(t, files)
	const repo = "acme/chaos"
	gl.AddProject(fakegitlab.Project{Path: repo, CloneURL: rem.url()})
	counter := func(i int) string { return filepath.Join(counters, fmt.Sprintf("k%d", i)) }

	var opens []fakegitlab.Hook
	for i := 1; i <= mrs; i++ {
		sleep := 0
		if i == 2 {
			sleep = 8
		}
		branch := fmt.Sprintf("k%d", i)
		sha := rem.branch(branch, map[string]string{fmt.Sprintf("live/k%d/counted.tf", i): counted(counter(i), sleep)})
		gl.AddMergeRequest(repo, fakegitlab.MergeRequest{IID: int64(i), SourceBranch: branch, SHA: sha, ApprovedBy: []string{"bob"}})
		opens = append(opens, gl.MergeRequestHook(repo, int64(i), "open", "alice"))
	}
	f.deliverAll(opens)

	// Kill the replica planning !1 while it plans.
	activeRun := func(mr int64, op string) (fleetRun, bool) {
		for _, r := range f.runs(repo, true) {
			if r.MR == mr && r.Operation == op && r.State == "running" {
				return r, true
			}
		}
		return fleetRun{}, false
	}
	var killedPlan fleetRun
	f.eventually(3*time.Minute, "!1's plan to start", func() bool {
		var ok bool
		killedPlan, ok = activeRun(1, "plan")
		return ok
	})
	f.replica(killedPlan.Replica).kill()
	t.Logf("killed %s in the middle of plan run %s of !1", killedPlan.Replica, killedPlan.ID)
	f.start("replica-d", "--sandbox", "off")

	planned := func(i int) bool {
		for _, r := range byMR(f.runs(repo, false), "plan")[int64(i)] {
			if r.State == "completed" {
				return true
			}
		}
		return false
	}
	f.eventually(5*time.Minute, "every merge request planned", func() bool {
		for i := 1; i <= mrs; i++ {
			if !planned(i) {
				return false
			}
		}
		return true
	})

	// Merge them all; kill the replica applying !2 while its provisioner
	// sleeps, after it counted.
	var merges []fakegitlab.Hook
	for i := 1; i <= mrs; i++ {
		merge := rem.merge(fmt.Sprintf("k%d", i))
		gl.UpdateMergeRequest(repo, int64(i), func(mr *fakegitlab.MergeRequest) { mr.State, mr.MergeCommitSHA = "merged", merge })
		merges = append(merges, gl.MergeRequestHook(repo, int64(i), "merge", "bob"))
	}
	f.deliverAll(merges)
	var killedApply fleetRun
	f.eventually(3*time.Minute, "!2's apply to run its provisioner", func() bool {
		var ok bool
		killedApply, ok = activeRun(2, "apply")
		return ok && lines(counter(2)) == 1
	})
	f.replica(killedApply.Replica).kill()
	t.Logf("killed %s in the middle of apply run %s of !2", killedApply.Replica, killedApply.ID)

	interrupted := func(i int) bool {
		for _, n := range botNotes(gl, repo, int64(i)) {
			if strings.Contains(n.Body, "was interrupted") && strings.Contains(n.Body, "will not apply these plans again") {
				return true
			}
		}
		return false
	}
	applied := func(i int) bool {
		mr, _ := gl.MergeRequest(repo, int64(i))
		return statusIs(gl, repo, mr.SHA, "strata/apply", "success")
	}
	f.eventually(5*time.Minute, "every merge request applied, or told its apply was interrupted", func() bool {
		for i := 1; i <= mrs; i++ {
			if !applied(i) && !interrupted(i) {
				return false
			}
		}
		return true
	})
	time.Sleep(5 * time.Second) // a second apply of anything would count now
	for i := 1; i <= mrs; i++ {
		if !planned(i) {
			t.Errorf("!%d was never planned", i)
		}
		switch n := lines(counter(i)); {
		case applied(i) && n != 1:
			t.Errorf("!%d applied, its provisioner ran %d times, want once", i, n)
		case n > 1:
			t.Errorf("!%d's provisioner ran %d times: applied twice", i, n)
		}
	}
	if !interrupted(2) || applied(2) || lines(counter(2)) != 1 {
		t.Errorf("!2, killed mid-apply: told %v, applied %v, provisioner ran %d times; want told, not applied, once",
			interrupted(2), applied(2), lines(counter(2)))
	}
	for _, killed := range []fleetRun{killedPlan, killedApply} {
		var got *fleetRun
		for _, r := range f.runs(repo, false) {
			if r.ID == killed.ID {
				got = &r
			}
		}
		if got == nil || got.State != "interrupted" || !strings.Contains(got.Error, killed.Replica+" stopped") {
			t.Errorf("the killed %s run %s: %+v, want its record closed as interrupted", killed.Operation, killed.ID, got)
		}
	}
}

// TestFleetDriftScansOncePerTick: three replicas on one SQS queue all
// schedule the repository's drift scans and put each tick on the queue;
// the queue hands each tick out once, and each is scanned once.
func TestFleetDriftScansOncePerTick(t *testing.T) {
	motoserver.Shared(t)
	needTerraform(t)
	g := gittest.New(t)
	g.Write(map[string]string{
		"strata.yaml":    "version: 1\ndrift:\n  schedule: \"@every 5s\"\n",
		"live/a/main.tf": `resource "terraform_data" "a" {}`,
	})
	g.Commit("one stack, scanned every 5s")
	gl := fakegitlab.New()
	t.Cleanup(gl.Close)
	addProject(gl, "acme/drifting", g)
	f := newFleet(t, gl, "fleet-drift", 3)
	// Each replica learns the repository from a webhook of its own.
	for _, s := range f.replicas {
		if code := s.deliver(gl.MergeRequestHook("acme/drifting", 1, "close", "alice")); code != http.StatusAccepted {
			t.Fatalf("webhook: HTTP %d", code)
		}
	}
	scans := func() []fleetRun {
		var out []fleetRun
		for _, r := range f.runs("acme/drifting", false) {
			if r.Operation == "drift" {
				out = append(out, r)
			}
		}
		return out
	}
	f.eventually(3*time.Minute, "four drift scans", func() bool { return len(scans()) >= 4 })
	var ticks []time.Time
	for _, r := range scans() {
		if r.State != "completed" {
			t.Errorf("scan of %s: %s %s", r.Scheduled, r.State, r.Error)
		}
		ticks = append(ticks, r.Scheduled)
	}
	seen := map[time.Time]int{}
	for _, at := range ticks {
		seen[at]++
		if seen[at] > 1 {
			t.Errorf("tick %s scanned %d times", at, seen[at])
		}
	}
	queued, doubled := 0, 0
	for _, s := range f.replicas {
		queued += strings.Count(s.log(), `"msg":"drift: scan queued"`)
		doubled += strings.Count(s.log(), "another scan of the repository is running")
	}
	// Every replica puts every tick, at the same moment: each Put is
	// accepted (SQS drops a repeat silently) and SQS keeps one message, so
	// no scan ever finds another of the same tick running.
	t.Logf("%d scans of %d ticks; %d puts of them by 3 replicas", len(ticks), len(seen), queued)
	if queued < 2*len(seen) {
		t.Errorf("%d puts for %d ticks: the replicas did not all schedule the scans", queued, len(seen))
	}
	if doubled > 0 {
		t.Errorf("%d deliveries of a tick found its scan running: the queue handed out a tick twice", doubled)
	}
}

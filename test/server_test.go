package test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/strata-iac/strata/internal/awsconfig"
	"github.com/strata-iac/strata/internal/fakegitlab"
	"github.com/strata-iac/strata/internal/motoserver"
)

const flowLogs = `resource "terraform_data" "flow_logs" { input = "on" }`

// locksOf lists the lock keys an owner holds, through strata locks list.
func locksOf(t *testing.T, locksURL, owner string) []string {
	t.Helper()
	r := runStrata(t, nil, "locks", "list", "--locks", locksURL, "--format", "json")
	if r.code != 0 {
		t.Fatalf("locks list: %s", r.stderr)
	}
	var locks []struct{ Key, Owner string }
	if err := json.Unmarshal([]byte(r.stdout), &locks); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, l := range locks {
		if l.Owner == owner {
			keys = append(keys, l.Key)
		}
	}
	return keys
}

func s3Object(t *testing.T, bucket, key string) string {
	t.Helper()
	ctx := context.Background()
	cfg, err := awsconfig.Load(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	obj, err := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).
		GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return ""
	}
	defer obj.Body.Close()
	body, _ := io.ReadAll(obj.Body)
	return string(body)
}

// TestServerMergeRequestLoop drives strata server through a merge
// request's life on GitLab (the fake), with locks in DynamoDB, plans and
// state in S3 (moto) and the real terraform: open, push, a second merge
// request on the same stack, apply refused before approval, approval,
// close, and a delivery with a bad secret.
func TestServerMergeRequestLoop(t *testing.T) {
	motoserver.Shared(t)
	needTerraform(t)
	gl := fakegitlab.New()
	t.Cleanup(gl.Close)
	bucket, table := "loop-state", "loop-locks"
	if r := runStrata(t, nil, "setup", "aws", "--table", table, "--bucket", bucket); r.code != 0 {
		t.Fatalf("setup aws: %s", r.stderr)
	}
	rem := newRemote(t, map[string]string{"strata.yaml": strings.Replace(s3Backend(bucket, table), "version: 1\n", "version: 1\napply_on: approval\n", 1)})
	const repo = "acme/infra"
	gl.AddProject(fakegitlab.Project{Path: repo, CloneURL: rem.url()})
	locksURL := "dynamodb://" + table
	srv := startServer(t, gl, t.TempDir(), "--locks", locksURL, "--store", "s3://"+bucket+"/strata")

	// Open: one note with the plan, and a successful plan status.
	sha1 := rem.branch("flow-logs", map[string]string{"live/prod/network/flow_logs.tf": flowLogs})
	gl.AddMergeRequest(repo, fakegitlab.MergeRequest{IID: 1, SourceBranch: "flow-logs", SHA: sha1})
	if code := srv.deliver(gl.MergeRequestHook(repo, 1, "open", "alice")); code != http.StatusAccepted {
		t.Fatalf("open: HTTP %d, want 202", code)
	}
	srv.eventually("the plan of !1", func() bool {
		return statusIs(gl, repo, sha1, "strata/plan", "success") && noteContains(gl, repo, 1, "`live/prod/network`", "terraform_data.flow_logs")
	})
	first, _ := mainNote(gl, repo, 1)
	if n := len(botNotes(gl, repo, 1)); n != 1 {
		t.Fatalf("%d notes after the first plan, want 1", n)
	}

	// Push: the same note, edited in place.
	sha2 := rem.branch("flow-logs", map[string]string{"live/prod/network/flow_logs.tf": strings.Replace(flowLogs, `"on"`, `"all"`, 1)})
	gl.UpdateMergeRequest(repo, 1, func(mr *fakegitlab.MergeRequest) { mr.SHA = sha2 })
	push := gl.MergeRequestHook(repo, 1, "update", "alice")
	push.OldRev = sha1
	srv.deliver(push)
	srv.eventually("the plan of the new commit", func() bool {
		return statusIs(gl, repo, sha2, "strata/plan", "success") && noteContains(gl, repo, 1, sha2[:8])
	})
	if notes := botNotes(gl, repo, 1); len(notes) != 1 || notes[0].ID != first.ID {
		t.Fatalf("after a push: %d notes, want the first one (id %d) edited in place", len(notes), first.ID)
	}

	// A second merge request on the same stack is told who holds it.
	sha3 := rem.branch("dns", map[string]string{"live/prod/network/dns.tf": `resource "terraform_data" "dns" {}`})
	gl.AddMergeRequest(repo, fakegitlab.MergeRequest{IID: 2, SourceBranch: "dns", SHA: sha3, Author: "carol"})
	srv.deliver(gl.MergeRequestHook(repo, 2, "open", "carol"))
	srv.eventually("!2 told that !1 holds the stack", func() bool { return noteContains(gl, repo, 2, "locked by !1") })

	// strata apply before approval: refused, with the reason.
	srv.deliver(gl.Comment(repo, 1, "bob", "strata apply"))
	srv.eventually("the apply refused for want of approval", func() bool {
		return statusIs(gl, repo, sha2, "strata/apply", "failed") && noteContains(gl, repo, 1, "Apply refused", "**approved**")
	})
	if s3Object(t, bucket, "live/prod/network/terraform.tfstate") != "" {
		t.Fatal("state written by a refused apply")
	}

	// Approval applies the reviewed plan: state in S3, note and status.
	gl.Approve(repo, 1, "bob")
	srv.deliver(gl.MergeRequestHook(repo, 1, "approved", "bob"))
	srv.eventually("the apply on approval", func() bool { return statusIs(gl, repo, sha2, "strata/apply", "success") })
	if state := s3Object(t, bucket, "live/prod/network/terraform.tfstate"); !strings.Contains(state, "flow_logs") {
		t.Fatalf("no applied state in S3:\n%s", state)
	}
	if !noteContains(gl, repo, 1, "applied") {
		n, _ := mainNote(gl, repo, 1)
		t.Fatalf("note does not report the apply:\n%s", n.Body)
	}

	// Close: the locks go, and !2 can plan its stack.
	if keys := locksOf(t, locksURL, "gitlab/acme/infra!1"); len(keys) == 0 {
		t.Fatal("!1 holds no lock before it is closed")
	}
	gl.UpdateMergeRequest(repo, 1, func(mr *fakegitlab.MergeRequest) { mr.State = "closed" })
	srv.deliver(gl.MergeRequestHook(repo, 1, "close", "alice"))
	srv.eventually("!1's locks released", func() bool { return len(locksOf(t, locksURL, "gitlab/acme/infra!1")) == 0 })
	srv.deliver(gl.Comment(repo, 2, "carol", "strata plan"))
	srv.eventually("!2 planned once the lock is free", func() bool {
		return statusIs(gl, repo, sha3, "strata/plan", "success") && noteContains(gl, repo, 2, "terraform_data.dns")
	})

	// A bad secret: 401 and nothing queued.
	before := srv.metric(`strata_events_total{action="opened",forge="gitlab",result="accepted"}`)
	if code := srv.deliverWith("not-the-secret", gl.MergeRequestHook(repo, 2, "open", "mallory")); code != http.StatusUnauthorized {
		t.Fatalf("bad secret: HTTP %d, want 401", code)
	}
	if got := srv.metric(`strata_events_total{action="",forge="gitlab",result="unauthorized"}`); got != "1" {
		t.Errorf("unauthorized deliveries counted %q, want 1", got)
	}
	if after := srv.metric(`strata_events_total{action="opened",forge="gitlab",result="accepted"}`); after != before {
		t.Errorf("accepted events went from %s to %s after a bad secret", before, after)
	}
}

// TestServerApplyOnMerge: with apply_on: merge, merging applies the
// reviewed plans at the merge commit and releases the locks.
func TestServerApplyOnMerge(t *testing.T) {
	needTerraform(t)
	gl := fakegitlab.New()
	t.Cleanup(gl.Close)
	rem := newRemote(t, nil)
	const repo = "acme/platform"
	gl.AddProject(fakegitlab.Project{Path: repo, CloneURL: rem.url()})
	data := t.TempDir()
	srv := startServer(t, gl, data)

	sha := rem.branch("flow-logs", map[string]string{"live/staging/network/flow_logs.tf": flowLogs})
	gl.AddMergeRequest(repo, fakegitlab.MergeRequest{IID: 7, SourceBranch: "flow-logs", SHA: sha, ApprovedBy: []string{"bob"}})
	srv.deliver(gl.MergeRequestHook(repo, 7, "open", "alice"))
	srv.eventually("the plan", func() bool { return statusIs(gl, repo, sha, "strata/plan", "success") })

	merge := rem.merge("flow-logs")
	gl.UpdateMergeRequest(repo, 7, func(mr *fakegitlab.MergeRequest) { mr.State, mr.MergeCommitSHA = "merged", merge })
	srv.deliver(gl.MergeRequestHook(repo, 7, "merge", "bob"))
	// The status turns green before the note is edited: wait for both.
	srv.eventually("the apply on merge, on the status and the note", func() bool {
		return statusIs(gl, repo, sha, "strata/apply", "success") && noteContains(gl, repo, 7, "applied")
	})
	srv.eventually("locks released after the merge", func() bool {
		return len(locksOf(t, "bolt://"+data+"/locks.db", "gitlab/acme/platform!7")) == 0
	})
}

// TestServerSurvivesSIGKILL: an event accepted (202) just before the server
// is killed is processed by the next server started on the same data dir.
func TestServerSurvivesSIGKILL(t *testing.T) {
	needTerraform(t)
	gl := fakegitlab.New()
	t.Cleanup(gl.Close)
	rem := newRemote(t, nil)
	const repo = "acme/edge"
	gl.AddProject(fakegitlab.Project{Path: repo, CloneURL: rem.url()})
	data := t.TempDir()
	srv := startServer(t, gl, data)

	sha := rem.branch("cdn", map[string]string{"live/prod/app/cdn.tf": `resource "terraform_data" "cdn" {}`})
	gl.AddMergeRequest(repo, fakegitlab.MergeRequest{IID: 3, SourceBranch: "cdn", SHA: sha})
	if code := srv.deliver(gl.MergeRequestHook(repo, 3, "open", "alice")); code != http.StatusAccepted {
		t.Fatalf("HTTP %d, want 202", code)
	}
	srv.kill()
	if statusIs(gl, repo, sha, "strata/plan", "success") {
		t.Fatal("the plan finished within milliseconds of the 202, before the kill: the test no longer exercises recovery")
	}
	srv.start()
	srv.eventually("the event planned after the restart", func() bool {
		return statusIs(gl, repo, sha, "strata/plan", "success") && noteContains(gl, repo, 3, "terraform_data.cdn")
	})
	if n := len(botNotes(gl, repo, 3)); n != 1 {
		t.Errorf("%d notes, want 1", n)
	}
}

// TestServerFinishesRunsOnSIGTERM: a run in flight when SIGTERM arrives is
// finished before the server exits, so no status is left pending.
func TestServerFinishesRunsOnSIGTERM(t *testing.T) {
	needTerraform(t)
	gl := fakegitlab.New()
	t.Cleanup(gl.Close)
	rem := newRemote(t, nil)
	const repo = "acme/term"
	gl.AddProject(fakegitlab.Project{Path: repo, CloneURL: rem.url()})
	srv := startServer(t, gl, t.TempDir())

	sha := rem.branch("cdn", map[string]string{"live/prod/app/cdn.tf": `resource "terraform_data" "cdn" {}`})
	gl.AddMergeRequest(repo, fakegitlab.MergeRequest{IID: 4, SourceBranch: "cdn", SHA: sha})
	srv.deliver(gl.MergeRequestHook(repo, 4, "open", "alice"))
	srv.eventually("the run to start", func() bool {
		return statusIs(gl, repo, sha, "strata/plan", "pending") || statusIs(gl, repo, sha, "strata/plan", "success")
	})
	srv.stop()
	if !statusIs(gl, repo, sha, "strata/plan", "success") {
		st, _ := gl.LatestStatus(repo, sha, "strata/plan")
		t.Fatalf("after SIGTERM the plan status is %q, want the run finished (success)\n%s", st.State, srv.log())
	}
	if !strings.Contains(srv.log(), "strata server stopped") {
		t.Errorf("no clean stop in the log:\n%s", srv.log())
	}
}

// TestServerSweepReleasesLocks: a merge request closed without its webhook
// reaching strata loses its locks at the next sweep.
func TestServerSweepReleasesLocks(t *testing.T) {
	needTerraform(t)
	gl := fakegitlab.New()
	t.Cleanup(gl.Close)
	rem := newRemote(t, nil)
	const repo = "acme/sweep"
	gl.AddProject(fakegitlab.Project{Path: repo, CloneURL: rem.url()})
	data := t.TempDir()
	srv := startServer(t, gl, data, "--sweep-interval", "1s")

	sha := rem.branch("cdn", map[string]string{"live/prod/app/cdn.tf": `resource "terraform_data" "cdn" {}`})
	gl.AddMergeRequest(repo, fakegitlab.MergeRequest{IID: 5, SourceBranch: "cdn", SHA: sha})
	srv.deliver(gl.MergeRequestHook(repo, 5, "open", "alice"))
	srv.eventually("the plan", func() bool { return statusIs(gl, repo, sha, "strata/plan", "success") })
	locksURL := "bolt://" + data + "/locks.db"
	if len(locksOf(t, locksURL, "gitlab/acme/sweep!5")) == 0 {
		t.Fatal("no lock taken by the plan")
	}
	gl.UpdateMergeRequest(repo, 5, func(mr *fakegitlab.MergeRequest) { mr.State = "closed" })
	srv.eventually("the sweep to release the locks", func() bool { return len(locksOf(t, locksURL, "gitlab/acme/sweep!5")) == 0 })
}

// TestServerRefusesForks: a merge request from a fork is not planned
// (its code would run with the server's credentials) and the note says
// why.
func TestServerRefusesForks(t *testing.T) {
	gl := fakegitlab.New()
	t.Cleanup(gl.Close)
	rem := newRemote(t, nil)
	const repo = "acme/open"
	gl.AddProject(fakegitlab.Project{Path: repo, CloneURL: rem.url()})
	fork := gl.AddProject(fakegitlab.Project{Path: "mallory/open"})
	srv := startServer(t, gl, t.TempDir())

	sha := rem.branch("evil", map[string]string{"live/prod/app/evil.tf": `resource "terraform_data" "evil" {}`})
	gl.AddMergeRequest(repo, fakegitlab.MergeRequest{IID: 6, SourceBranch: "evil", SHA: sha, SourceProjectID: fork.ID, Author: "mallory"})
	srv.deliver(gl.MergeRequestHook(repo, 6, "open", "mallory"))
	srv.eventually("the fork refused", func() bool {
		return statusIs(gl, repo, sha, "strata/plan", "failed") && noteContains(gl, repo, 6, "does not plan merge requests from forks")
	})
	if strings.Contains(srv.log(), `"msg":"run started"`) {
		t.Error("a run started for a fork")
	}
}

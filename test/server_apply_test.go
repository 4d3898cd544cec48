package test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/strata-iac/strata/internal/fakegitlab"
	"github.com/strata-iac/strata/internal/motoserver"
)

// TestServerAppliesOnceAfterCrash: strata is killed (kill -9) right after
// strata/apply turned green, before the approval's queue item is done (the
// note update is held at the fake GitLab). The restarted server, handed
// the approval again, finds the apply recorded and answers "already
// applied" without running terraform: no status turns to failed, and the
// note shows the apply.
func TestServerAppliesOnceAfterCrash(t *testing.T) {
	needTerraform(t)
	gl := fakegitlab.New()
	t.Cleanup(gl.Close)
	rem := newRemote(t, map[string]string{"strata.yaml": "version: 1\napply_on: approval\n"})
	const repo = "acme/once"
	gl.AddProject(fakegitlab.Project{Path: repo, CloneURL: rem.url()})
	data := t.TempDir()
	srv := startServer(t, gl, data)

	sha := rem.branch("flow-logs", map[string]string{"live/prod/network/flow_logs.tf": flowLogs})
	gl.AddMergeRequest(repo, fakegitlab.MergeRequest{IID: 1, SourceBranch: "flow-logs", SHA: sha})
	srv.deliver(gl.MergeRequestHook(repo, 1, "open", "alice"))
	srv.eventually("the plan", func() bool { return statusIs(gl, repo, sha, "strata/plan", "success") })

	release := gl.Hold("GET /projects/:id/merge_requests/:iid/notes")
	defer release()
	gl.Approve(repo, 1, "bob")
	if code := srv.deliver(gl.MergeRequestHook(repo, 1, "approved", "bob")); code != http.StatusAccepted {
		t.Fatalf("approval: HTTP %d", code)
	}
	srv.eventually("the apply to succeed", func() bool { return statusIs(gl, repo, sha, "strata/apply", "success") })
	srv.kill()
	release()

	srv.start()
	srv.eventually("the redelivered approval answered", func() bool {
		return strings.Contains(srv.log(), `"msg":"already applied; nothing to do"`) &&
			noteContains(gl, repo, 1, "Applied. Merge this merge request to release its locks.")
	})
	for _, st := range gl.Statuses(repo, sha) {
		if st.Name == "strata/apply" && st.State == "failed" {
			t.Errorf("strata/apply turned failed after the crash: %q", st.Description)
		}
	}
	if !statusIs(gl, repo, sha, "strata/apply", "success") {
		t.Error("strata/apply is no longer success")
	}
	applies := 0
	for _, line := range strings.Split(srv.log(), "\n") {
		if strings.Contains(line, `"msg":"run started"`) && strings.Contains(line, `"operation":"apply"`) {
			applies++
		}
	}
	if applies != 1 {
		t.Errorf("%d apply runs, want the one before the crash:\n%s", applies, srv.log())
	}
	states, _ := filepath.Glob(filepath.Join(data, "state", "*", "*", "*", "live", "prod", "network", "terraform.tfstate"))
	if len(states) != 1 {
		t.Fatalf("state files %v, want one", states)
	}
	if state, _ := os.ReadFile(states[0]); strings.Count(string(state), `"name": "flow_logs"`) != 1 {
		t.Errorf("state after the crash:\n%s", state)
	}
}

// TestServerInterruptedApplyCanBeRetried: strata is killed (kill -9) in
// the middle of an apply whose state and lock live in S3 and DynamoDB. The
// restarted server does not run the apply again: the note says the apply
// was interrupted, what terraform left and that the plans must be made
// again; the state lock the killed terraform held is gone, so
// `strata plan` and then `strata apply` succeed.
func TestServerInterruptedApplyCanBeRetried(t *testing.T) {
	motoserver.Shared(t)
	needTerraform(t)
	gl := fakegitlab.New()
	t.Cleanup(gl.Close)
	bucket, table := "interrupted-state", "interrupted-locks"
	if r := runStrata(t, nil, "setup", "aws", "--table", table, "--bucket", bucket); r.code != 0 {
		t.Fatalf("setup aws: %s", r.stderr)
	}
	rem := newRemote(t, map[string]string{"strata.yaml": strings.Replace(s3Backend(bucket, table), "version: 1\n", "version: 1\napply_on: approval\n", 1)})
	const repo = "acme/interrupted"
	gl.AddProject(fakegitlab.Project{Path: repo, CloneURL: rem.url()})
	data := t.TempDir()
	srv := startServer(t, gl, data, "--locks", "dynamodb://"+table, "--store", "s3://"+bucket+"/strata")

	// The first apply sleeps in its provisioner, the retry does not. The
	// provisioner asks the test over loopback (the sandbox shares the
	// host's network, not its files) whether it is the first.
	var calls atomic.Int32
	gate := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if calls.Add(1) > 1 {
			io.WriteString(w, "go")
		}
	}))
	t.Cleanup(gate.Close)
	slow := `resource "terraform_data" "slow" {
  provisioner "local-exec" {
    command = "curl -s ` + gate.URL + ` | grep -q go || sleep 60"
  }
}
`
	sha := rem.branch("slow", map[string]string{"live/prod/network/slow.tf": slow})
	gl.AddMergeRequest(repo, fakegitlab.MergeRequest{IID: 1, SourceBranch: "slow", SHA: sha})
	srv.deliver(gl.MergeRequestHook(repo, 1, "open", "alice"))
	srv.eventually("the plan", func() bool { return statusIs(gl, repo, sha, "strata/plan", "success") })
	gl.Approve(repo, 1, "bob")
	srv.deliver(gl.MergeRequestHook(repo, 1, "approved", "bob"))
	srv.eventually("terraform to be applying", func() bool { return calls.Load() > 0 })
	time.Sleep(time.Second) // terraform has taken the state lock and is in the provisioner
	srv.kill()

	srv.start()
	srv.eventually("the note to tell of the interrupted apply", func() bool {
		return statusIs(gl, repo, sha, "strata/apply", "failed") &&
			noteContains(gl, repo, 1, "was interrupted", "live/prod/network", "Comment `strata plan` to plan again")
	})
	n, _ := mainNote(gl, repo, 1)
	if !strings.Contains(n.Body, "is released") && !strings.Contains(n.Body, "the state is not locked") {
		t.Errorf("the note does not say what became of the state lock:\n%s", n.Body)
	}

	srv.deliver(gl.Comment(repo, 1, "alice", "strata plan"))
	srv.eventually("a new plan", func() bool {
		n, _ := mainNote(gl, repo, 1)
		return statusIs(gl, repo, sha, "strata/plan", "success") &&
			noteContains(gl, repo, 1, "strata plan", "terraform_data.slow") && !strings.Contains(n.Body, "was interrupted")
	})
	srv.deliver(gl.Comment(repo, 1, "bob", "strata apply"))
	srv.eventually("the new plan applied", func() bool { return statusIs(gl, repo, sha, "strata/apply", "success") })
}

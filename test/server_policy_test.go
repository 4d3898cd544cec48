package test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/strata-iac/strata/internal/fakegitlab"
)

const forbiddenPolicy = `package main

import rego.v1

deny contains msg if {
	some rc in input.resource_changes
	rc.type == "terraform_data"
	rc.name == "forbidden"
	"create" in rc.change.actions
	msg := sprintf("%s may not be created", [rc.address])
}
`

// replies counts strata's notes on a merge request that contain text.
func replies(gl *fakegitlab.Server, project string, iid int64, text string) int {
	n := 0
	for _, note := range botNotes(gl, project, iid) {
		if strings.Contains(note.Body, text) {
			n++
		}
	}
	return n
}

// TestServerPolicyApprovals: a failing policy shows in the note and blocks
// the apply; a non-owner's `strata approve-policies` does nothing, a policy
// owner's (through a GitLab group) unblocks it, and a new push needs a new
// approval.
func TestServerPolicyApprovals(t *testing.T) {
	needTerraform(t)
	gl := fakegitlab.New()
	t.Cleanup(gl.Close)
	rem := newRemote(t, map[string]string{
		"strata.yaml":           "version: 1\napply_on: comment\npolicy:\n  paths: [policy/]\n  owners: [alice, team:platform]\n",
		"policy/forbidden.rego": forbiddenPolicy,
	})
	const repo = "acme/policy"
	gl.AddProject(fakegitlab.Project{Path: repo, CloneURL: rem.url()})
	gl.AddGroupMember("platform", "carol", 30)
	srv := startServer(t, gl, t.TempDir())

	sha1 := rem.branch("forbidden", map[string]string{"live/prod/network/forbidden.tf": `resource "terraform_data" "forbidden" {}`})
	gl.AddMergeRequest(repo, fakegitlab.MergeRequest{IID: 1, SourceBranch: "forbidden", SHA: sha1, Author: "dave"})
	if code := srv.deliver(gl.MergeRequestHook(repo, 1, "open", "dave")); code != http.StatusAccepted {
		t.Fatalf("HTTP %d", code)
	}
	srv.eventually("the failing policy in the note", func() bool {
		return noteContains(gl, repo, 1, "terraform\\_data.forbidden may not be created", "strata approve-policies")
	})
	gl.Approve(repo, 1, "bob")

	srv.deliver(gl.Comment(repo, 1, "mallory", "strata approve-policies"))
	srv.deliver(gl.Comment(repo, 1, "bob", "strata apply"))
	srv.eventually("the apply refused for the policy", func() bool {
		return replies(gl, repo, 1, "only policy owners") == 1 &&
			statusIs(gl, repo, sha1, "strata/apply", "failed") && noteContains(gl, repo, 1, "**policies**")
	})

	srv.deliver(gl.Comment(repo, 1, "carol", "strata approve-policies"))
	srv.eventually("carol's approval", func() bool { return replies(gl, repo, 1, "are approved") == 1 })

	// A new commit: the approval lapses.
	sha2 := rem.branch("forbidden", map[string]string{"live/prod/network/forbidden.tf": `resource "terraform_data" "forbidden" { input = 2 }`})
	gl.UpdateMergeRequest(repo, 1, func(mr *fakegitlab.MergeRequest) { mr.SHA = sha2 })
	push := gl.MergeRequestHook(repo, 1, "update", "dave")
	push.OldRev = sha1
	srv.deliver(push)
	srv.deliver(gl.Comment(repo, 1, "bob", "strata apply"))
	srv.eventually("the apply refused again after the push", func() bool {
		return statusIs(gl, repo, sha2, "strata/apply", "failed") && noteContains(gl, repo, 1, sha2[:8], "**policies**")
	})

	srv.deliver(gl.Comment(repo, 1, "carol", "strata approve-policies"))
	srv.deliver(gl.Comment(repo, 1, "bob", "strata apply"))
	srv.eventually("the apply once the owner approved the new commit", func() bool {
		return statusIs(gl, repo, sha2, "strata/apply", "success")
	})
}

// TestServerAutomerge: with automerge, a clean apply on approval merges the
// merge request through the API, at the reviewed head.
func TestServerAutomerge(t *testing.T) {
	needTerraform(t)
	gl := fakegitlab.New()
	t.Cleanup(gl.Close)
	rem := newRemote(t, map[string]string{"strata.yaml": "version: 1\napply_on: approval\nautomerge: true\n"})
	const repo = "acme/auto"
	gl.AddProject(fakegitlab.Project{Path: repo, CloneURL: rem.url()})
	srv := startServer(t, gl, t.TempDir())

	sha := rem.branch("flow-logs", map[string]string{"live/prod/network/flow_logs.tf": flowLogs})
	gl.AddMergeRequest(repo, fakegitlab.MergeRequest{IID: 9, SourceBranch: "flow-logs", SHA: sha})
	srv.deliver(gl.MergeRequestHook(repo, 9, "open", "alice"))
	srv.eventually("the plan", func() bool { return statusIs(gl, repo, sha, "strata/plan", "success") })
	gl.Approve(repo, 9, "bob")
	srv.deliver(gl.MergeRequestHook(repo, 9, "approved", "bob"))
	srv.eventually("the merge after the apply", func() bool {
		mr, _ := gl.MergeRequest(repo, 9)
		return statusIs(gl, repo, sha, "strata/apply", "success") && mr.State == "merged"
	})
	merges := gl.CallsTo("PUT /projects/:id/merge_requests/:iid/merge")
	if len(merges) != 1 || !strings.Contains(string(merges[0].Body)+merges[0].Query.Encode(), sha) {
		t.Errorf("merge calls %+v, want one at the reviewed head %s", merges, sha)
	}
}

package test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strata-iac/strata/internal/fakegitlab"
	"github.com/strata-iac/strata/internal/motoserver"
	"github.com/strata-iac/strata/planner/comment"
)

// gitlabPipeline runs the jobs of examples/ci/.gitlab-ci.yml against a
// fake GitLab, each in a fresh clone with a clean environment holding the
// variables GitLab would set.
type gitlabPipeline struct {
	t       testing.TB
	gl      *fakegitlab.Server
	rem     *remote
	ci      gitlabCI
	runner  ciRunner
	project map[string]string // the project's CI/CD variables
	jobs    int
}

const ciProject = "acme/infra"

func newGitLabPipeline(t testing.TB, strataYAML string, project map[string]string) *gitlabPipeline {
	t.Helper()
	gl := fakegitlab.New()
	t.Cleanup(gl.Close)
	rem := newRemote(t, map[string]string{"strata.yaml": strataYAML})
	gl.AddProject(fakegitlab.Project{ID: 4321, Path: ciProject, CloneURL: rem.url()})
	project["STRATA_GITLAB_TOKEN"] = gl.Token
	return &gitlabPipeline{t: t, gl: gl, rem: rem, ci: loadGitLabCI(t), runner: ciRunner{t: t, remote: rem.url()}, project: project}
}

// predefined are the variables GitLab gives every job of the project.
func (p *gitlabPipeline) predefined(sha, dir string) map[string]string {
	p.jobs++
	return map[string]string{
		"GITLAB_CI": "true", "CI_SERVER_URL": p.gl.URL, "CI_API_V4_URL": p.gl.URL + "/api/v4",
		"CI_PROJECT_ID": "4321", "CI_PROJECT_PATH": ciProject, "CI_PROJECT_DIR": dir, "CI_DEFAULT_BRANCH": "main",
		"CI_COMMIT_SHA": sha, "CI_JOB_ID": fmt.Sprint(1000 + p.jobs),
		"CI_JOB_URL": fmt.Sprintf("%s/%s/-/jobs/%d", p.gl.URL, ciProject, 1000+p.jobs), "CI_JOB_TOKEN": "job-token",
		"GITLAB_USER_LOGIN": "alice",
	}
}

// depth is how deep GitLab fetches: GIT_DEPTH, else its default of 20.
func depth(env map[string]string) int {
	if d, ok := env["GIT_DEPTH"]; ok {
		var n int
		fmt.Sscan(d, &n)
		return n
	}
	return 20
}

// mrJob runs the job that runs command in the pipeline of merge request
// iid; it returns the job's clone and environment, for running again.
func (p *gitlabPipeline) mrJob(command string, iid int64) (result, string, map[string]string) {
	p.t.Helper()
	mr, _ := p.gl.MergeRequest(ciProject, iid)
	return p.job(command, mr.SHA, p.mrVars(iid))
}

// mrVars are GitLab's variables in a job of merge request iid's pipeline.
func (p *gitlabPipeline) mrVars(iid int64) map[string]string {
	mr, _ := p.gl.MergeRequest(ciProject, iid)
	base := p.rem.work.Git("merge-base", "main", mr.SHA)
	predef := p.predefined(mr.SHA, "")
	for k, v := range map[string]string{
		"CI_PIPELINE_SOURCE": "merge_request_event", "CI_COMMIT_REF_NAME": mr.SourceBranch,
		"CI_MERGE_REQUEST_IID": fmt.Sprint(iid), "CI_MERGE_REQUEST_PROJECT_ID": "4321", "CI_MERGE_REQUEST_SOURCE_PROJECT_ID": "4321",
		"CI_MERGE_REQUEST_PROJECT_PATH": ciProject, "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": mr.SourceBranch,
		"CI_MERGE_REQUEST_TARGET_BRANCH_NAME": mr.TargetBranch, "CI_MERGE_REQUEST_DIFF_BASE_SHA": base,
		"CI_MERGE_REQUEST_EVENT_TYPE": "detached",
	} {
		predef[k] = v
	}
	return predef
}

// branchJob runs the job that runs command in main's pipeline at sha.
func (p *gitlabPipeline) branchJob(command, sha string) result {
	p.t.Helper()
	predef := p.predefined(sha, "")
	predef["CI_PIPELINE_SOURCE"], predef["CI_COMMIT_BRANCH"], predef["CI_COMMIT_REF_NAME"] = "push", "main", "main"
	r, _, _ := p.job(command, sha, predef)
	return r
}

func (p *gitlabPipeline) job(command, sha string, predef map[string]string) (result, string, map[string]string) {
	p.t.Helper()
	j := p.ci.jobFor(p.t, command)
	env := p.runner.env(p.ci.env(j, predef, p.project))
	if !j.runs(p.t, env) {
		p.t.Fatalf("the job running %q does not run in this pipeline (rules %+v)", command, j.Rules)
	}
	// GitLab fetches the pipeline's commit (refs/pipelines/ID), no branch.
	dir := p.runner.clone(sha, depth(env), false)
	env["CI_PROJECT_DIR"] = dir
	return p.runner.run(dir, env, []string{"sh", "-ec"}, strings.Join(j.Script, "\n")), dir, env
}

// TestCIGitLabPipeline runs examples/ci/.gitlab-ci.yml's jobs through a
// merge request's life, with the real binary and terraform, locks in
// DynamoDB and plans and state in S3 (moto): the plan job writes one note
// and a valid Terraform report; a retried job edits the same note; a
// second merge request on the stack is told it is locked; after the
// merge, main's job applies the stored plan, state lands in S3 and the
// locks go; a plan made stale by main is refused with its state
// untouched; main's job for a commit that merged nothing fails; and a
// shallow clone fails saying how to fetch the history.
func TestCIGitLabPipeline(t *testing.T) {
	motoserver.Shared(t)
	needTerraform(t)
	bucket, table := "ci-gitlab-state", "ci-gitlab-locks"
	if r := runStrata(t, nil, "setup", "aws", "--table", table, "--bucket", bucket); r.code != 0 {
		t.Fatalf("setup aws: %s", r.stderr)
	}
	p := newGitLabPipeline(t, s3Backend(bucket, table), map[string]string{
		"STRATA_LOCKS": "dynamodb://" + table, "STRATA_STORE": "s3://" + bucket + "/strata",
	})
	plan, apply := p.ci.jobFor(t, "strata ci plan"), p.ci.jobFor(t, "strata ci apply")
	if env := p.ci.env(plan, nil, nil); env["GIT_DEPTH"] != "0" {
		t.Errorf("the plan job fetches GIT_DEPTH=%q, want the full history (0)", env["GIT_DEPTH"])
	}
	if apply.ResourceGroup == "" {
		t.Error("the apply job has no resource_group: two applies could overlap")
	}

	// The plan job: one note with the plan and a link to the job, the
	// report GitLab's widget reads, the status, the lock.
	sha1 := p.rem.branch("flow-logs", map[string]string{"live/prod/network/flow_logs.tf": flowLogs})
	p.gl.AddMergeRequest(ciProject, fakegitlab.MergeRequest{IID: 1, SourceBranch: "flow-logs", SHA: sha1, ApprovedBy: []string{"bob"}})
	r, dir, env := p.mrJob("strata ci plan", 1)
	if r.code != 0 || !strings.Contains(r.stdout, "live/prod/network") {
		t.Fatalf("plan job: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	note, ok := mainNote(p.gl, ciProject, 1)
	if !ok || !strings.Contains(note.Body, "terraform_data.flow_logs") || !strings.Contains(note.Body, "/acme/infra/-/jobs/1001") {
		t.Fatalf("note after the plan job:\n%s", note.Body)
	}
	report, err := os.ReadFile(filepath.Join(dir, plan.Artifacts.Reports.Terraform))
	if err != nil {
		t.Fatalf("the report artifacts:reports:terraform names: %v", err)
	}
	// The stack's state is empty: the plan creates all of it, flow logs
	// included, as the job's table says.
	var counts map[string]int
	var create, update, del, replace int
	if _, err := fmt.Sscanf(fieldsAfter(r.stdout, "live/prod/network"), "changes +%d ~%d -%d ±%d", &create, &update, &del, &replace); err != nil {
		t.Fatalf("plan job's table: %v\n%s", err, r.stdout)
	}
	if err := json.Unmarshal(report, &counts); err != nil || len(counts) != 3 || create < 2 ||
		counts["create"] != create+replace || counts["update"] != update || counts["delete"] != del+replace {
		t.Errorf("Terraform report %s (%v), want the plan's +%d ~%d -%d ±%d", report, err, create, update, del, replace)
	}
	if !statusIs(p.gl, ciProject, sha1, "strata/plan", "success") {
		t.Error("strata/plan is not success")
	}
	if keys := locksOf(t, "dynamodb://"+table, "gitlab/acme/infra!1"); len(keys) == 0 {
		t.Error("the plan took no lock")
	}

	// The job retried: the same note, edited; strata itself exits 2.
	again := p.runner.run(dir, env, []string{"sh", "-c"}, "strata ci plan")
	if again.code != 2 {
		t.Errorf("strata ci plan of a change: exit %d, want 2\n%s", again.code, again.stderr)
	}
	if notes := botNotes(p.gl, ciProject, 1); len(notes) != 1 || notes[0].ID != note.ID {
		t.Fatalf("after a retry: %d notes, want note %d edited", len(notes), note.ID)
	}

	// A second merge request on the same stack: told it is locked; the job fails.
	sha2 := p.rem.branch("dns", map[string]string{"live/prod/network/dns.tf": `resource "terraform_data" "dns" {}`})
	p.gl.AddMergeRequest(ciProject, fakegitlab.MergeRequest{IID: 2, SourceBranch: "dns", SHA: sha2})
	if r, _, _ := p.mrJob("strata ci plan", 2); r.code != 1 || !strings.Contains(r.stderr, "live/prod/network (locked by !1)") {
		t.Errorf("plan of !2: exit %d, want 1 naming the lock\n%s", r.code, r.stderr)
	}
	if !noteContains(p.gl, ciProject, 2, "locked by !1") {
		t.Error("!2's note does not say !1 holds the stack")
	}

	// Merge !1: main's apply job applies the stored plan.
	merge1 := p.rem.merge("flow-logs")
	p.gl.UpdateMergeRequest(ciProject, 1, func(mr *fakegitlab.MergeRequest) { mr.State, mr.MergeCommitSHA = "merged", merge1 })
	if r := p.branchJob("strata ci apply", merge1); r.code != 0 {
		t.Fatalf("apply job: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	if state := s3Object(t, bucket, "live/prod/network/terraform.tfstate"); !strings.Contains(state, "flow_logs") {
		t.Fatalf("no applied state in S3:\n%s", state)
	}
	if keys := locksOf(t, "dynamodb://"+table, "gitlab/acme/infra!1"); len(keys) != 0 {
		t.Errorf("!1 still holds %v after its apply", keys)
	}
	if !statusIs(p.gl, ciProject, sha1, "strata/apply", "success") || !noteContains(p.gl, ciProject, 1, "applied") {
		n, _ := mainNote(p.gl, ciProject, 1)
		t.Errorf("the apply is not reported on !1:\n%s", n.Body)
	}

	// !3 is planned; then main changes the stack's inputs: after the merge
	// its plan is refused and the stack's state untouched.
	sha3 := p.rem.branch("cdn", map[string]string{"live/prod/app/cdn.tf": `resource "terraform_data" "cdn" {}`})
	p.gl.AddMergeRequest(ciProject, fakegitlab.MergeRequest{IID: 3, SourceBranch: "cdn", SHA: sha3, ApprovedBy: []string{"bob"}})
	if r, _, _ := p.mrJob("strata ci plan", 3); r.code != 0 {
		t.Fatalf("plan of !3: exit %d\n%s", r.code, r.stderr)
	}
	p.rem.work.Write(map[string]string{"live/prod/app/main.tf": "# changed on main\n" + readFile(t, filepath.Join(p.rem.work.Dir, "live/prod/app/main.tf"))})
	pushed := p.rem.work.Commit("hotfix on main")
	p.rem.work.Git("push", "-q", "origin", "main")

	// main's job for that push: it merged nothing.
	if r := p.branchJob("strata ci apply", pushed); r.code != 1 || !strings.Contains(r.stderr, "merged no merge request") || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
		t.Errorf("apply of a direct push: exit %d, want 1 with one line\n%s", r.code, r.stderr)
	}

	merge3 := p.rem.merge("cdn")
	p.gl.UpdateMergeRequest(ciProject, 3, func(mr *fakegitlab.MergeRequest) { mr.State, mr.MergeCommitSHA = "merged", merge3 })
	r = p.branchJob("strata ci apply", merge3)
	if r.code != 1 || !strings.Contains(r.stdout, "inputs changed since the plan") {
		t.Errorf("apply of a stale plan: exit %d, want 1 refusing live/prod/app\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	if state := s3Object(t, bucket, "live/prod/app/terraform.tfstate"); state != "" {
		t.Errorf("a refused stack's state was written:\n%s", state)
	}
	if !noteContains(p.gl, ciProject, 3, "inputs changed since the plan") {
		n, _ := mainNote(p.gl, ciProject, 3)
		t.Errorf("!3's note does not say why:\n%s", n.Body)
	}
	if keys := locksOf(t, "dynamodb://"+table, "gitlab/acme/infra!3"); len(keys) != 0 {
		t.Errorf("!3 still holds %v after its merge", keys)
	}

	// A project that overrides GIT_DEPTH gets a shallow clone: the job
	// fails, saying how to fetch the history, on the merge request too.
	p.project["GIT_DEPTH"] = "1"
	sha4 := p.rem.branch("shallow", map[string]string{"live/staging/app/x.tf": `resource "terraform_data" "x" {}`})
	p.gl.AddMergeRequest(ciProject, fakegitlab.MergeRequest{IID: 4, SourceBranch: "shallow", SHA: sha4})
	if r, _, _ := p.mrJob("strata ci plan", 4); r.code != 1 || !strings.Contains(r.stderr, "shallow clone") || !strings.Contains(r.stderr, "GIT_DEPTH: 0") {
		t.Errorf("plan in a shallow clone: exit %d, want 1 saying to fetch the history\n%s", r.code, r.stderr)
	}
	if !noteContains(p.gl, ciProject, 4, comment.Inert("GIT_DEPTH: 0")) || !statusIs(p.gl, ciProject, sha4, "strata/plan", "failed") {
		n, _ := mainNote(p.gl, ciProject, 4)
		t.Errorf("!4 is not told to fetch the history:\n%s", n.Body)
	}
}

// fieldsAfter is the rest of the line of a table that starts with name,
// its columns joined by single spaces.
func fieldsAfter(table, name string) string {
	for _, line := range strings.Split(table, "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == name {
			return strings.Join(f[1:], " ")
		}
	}
	return ""
}

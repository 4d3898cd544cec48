package test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/strata-iac/strata/internal/fakegithub"
	"github.com/strata-iac/strata/internal/motoserver"
)

// githubWorkflow runs the jobs of examples/ci/.github/workflows/strata.yml
// against a fake GitHub, each in a fresh clone with a clean environment
// holding what GitHub Actions would set.
type githubWorkflow struct {
	t      *testing.T
	gh     *fakegithub.Server
	rem    *remote
	wf     workflow
	runner ciRunner
	// secrets and vars are the repository's; token is the GITHUB_TOKEN
	// GitHub gives every job.
	secrets, vars map[string]string
	runs          int
}

// run runs the step with id of the job that runs on event, with the event
// payload hook and GITHUB_SHA sha.
func (w *githubWorkflow) run(event, id string, hook fakegithub.Hook, sha, ref string, expr map[string]string) result {
	w.t.Helper()
	w.runs++
	for _, job := range w.wf.Jobs {
		var st *step
		for i := range job.Steps {
			if job.Steps[i].ID == id {
				st = &job.Steps[i]
			}
		}
		if st == nil {
			continue
		}
		if !runsOn(w.t, job.If, event) {
			w.t.Fatalf("the job of step %q does not run on %s (if: %s)", id, event, job.If)
		}
		ctx := map[string]string{"github.event_name": event}
		for k, v := range expr {
			ctx[k] = v
		}
		for k, v := range w.secrets {
			ctx["secrets."+k] = v
		}
		for k, v := range w.vars {
			ctx["vars."+k] = v
		}
		checkout := map[string]string{}
		for _, s := range job.Steps {
			if strings.HasPrefix(s.Uses, "actions/checkout@") {
				checkout = s.With
			}
		}
		// actions/checkout: the ref asked for (else GITHUB_SHA), one commit
		// deep unless fetch-depth says otherwise; 0 fetches every branch.
		at := sha
		if ref := expressions(w.t, checkout["ref"], ctx); ref != "" {
			at = ref
		}
		depth := 1
		if d, ok := checkout["fetch-depth"]; ok {
			depth, _ = strconv.Atoi(d)
		}
		dir := w.runner.clone(at, depth, depth == 0)
		eventPath := filepath.Join(w.t.TempDir(), "event.json")
		if err := os.WriteFile(eventPath, hook.Payload(), 0o600); err != nil {
			w.t.Fatal(err)
		}
		vars := map[string]string{
			"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": event, "GITHUB_EVENT_PATH": eventPath,
			"GITHUB_REPOSITORY": ciProject, "GITHUB_API_URL": w.gh.URL, "GITHUB_SERVER_URL": w.gh.URL,
			"GITHUB_SHA": sha, "GITHUB_REF": ref, "GITHUB_RUN_ID": fmt.Sprint(5000 + w.runs),
			"GITHUB_ACTOR": "alice", "GITHUB_WORKSPACE": dir, "RUNNER_TEMP": w.t.TempDir(),
		}
		for _, m := range []map[string]string{w.wf.Env, job.Env, st.Env} {
			for k, v := range m {
				vars[k] = expressions(w.t, v, ctx)
			}
		}
		return w.runner.run(dir, w.runner.env(vars), []string{"bash", "--noprofile", "--norc", "-eo", "pipefail", "-c"}, expressions(w.t, st.Run, ctx))
	}
	w.t.Fatalf("no step %q in the workflow", id)
	return result{}
}

// TestCIGitHubWorkflow runs examples/ci/.github/workflows/strata.yml's
// plan and apply steps through a pull request's life, with the job's
// GITHUB_TOKEN (which GitHub does not tell whom it acts as): the plan
// comments once as github-actions[bot] and sets the status; after the
// merge, the push to main applies the stored plan, state lands in S3 and
// the locks go.
func TestCIGitHubWorkflow(t *testing.T) {
	motoserver.Shared(t)
	needTerraform(t)
	bucket, table := "ci-github-state", "ci-github-locks"
	if r := runStrata(t, nil, "setup", "aws", "--table", table, "--bucket", bucket); r.code != 0 {
		t.Fatalf("setup aws: %s", r.stderr)
	}
	gh := fakegithub.New()
	t.Cleanup(gh.Close)
	rem := newRemote(t, map[string]string{"strata.yaml": s3Backend(bucket, table)})
	repo := gh.AddRepo(fakegithub.Repo{FullName: ciProject, CloneURL: rem.url()})
	w := &githubWorkflow{t: t, gh: gh, rem: rem, wf: loadWorkflow(t), runner: ciRunner{t: t, remote: rem.url()},
		secrets: map[string]string{"GITHUB_TOKEN": gh.ActionsToken(ciProject), "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/strata"},
		vars:    map[string]string{"STRATA_LOCKS": "dynamodb://" + table, "STRATA_STORE": "s3://" + bucket + "/strata", "AWS_REGION": motoserver.Region}}
	for _, perm := range []string{"pull-requests", "statuses"} {
		if w.wf.Permissions[perm] != "write" {
			t.Errorf("the workflow gives GITHUB_TOKEN %s: %q, want write", perm, w.wf.Permissions[perm])
		}
	}
	for name, job := range w.wf.Jobs {
		if name == "apply" && (job.Concurrency.Group == "" || job.Concurrency.CancelInProgress) {
			t.Errorf("the apply job's concurrency %+v: two applies could overlap, or one be cancelled half-way", job.Concurrency)
		}
	}

	// The plan job of the pull request.
	base := rem.work.Git("rev-parse", "main")
	head := rem.branch("flow-logs", map[string]string{"live/prod/network/flow_logs.tf": flowLogs})
	gh.AddPullRequest(ciProject, fakegithub.PullRequest{Number: 1, HeadRef: "flow-logs", HeadSHA: head})
	hook := gh.PullRequestHook(ciProject, 1, "opened", "alice")
	hook.BaseSHA = base
	pr := map[string]string{"github.event.pull_request.head.sha": head, "github.event.pull_request.number": "1"}
	// GITHUB_SHA of a pull_request run is GitHub's merge of the head, which
	// strata must not plan (nor need).
	r := w.run("pull_request", "plan", hook, fakegithub.SHA("refs/pull/1/merge"), "refs/pull/1/merge", pr)
	if r.code != 0 || !strings.Contains(r.stdout, "live/prod/network") {
		t.Fatalf("plan step: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	if cs := botComments(gh, ciProject, 1, fakegithub.ActionsBot); len(cs) != 1 ||
		!strings.Contains(cs[0].Body, "terraform_data.flow_logs") || !strings.Contains(cs[0].Body, "/acme/infra/actions/runs/5001") {
		t.Fatalf("comments of github-actions[bot]: %+v", cs)
	}
	if !ghStatusIs(gh, ciProject, head, "strata/plan", "success") {
		t.Error("strata/plan is not success")
	}
	if keys := locksOf(t, "dynamodb://"+table, "github/acme/infra!1"); len(keys) == 0 {
		t.Error("the plan took no lock")
	}
	if len(gh.CallsTo("GET /user")) != 0 {
		t.Error("strata asked GitHub whom GITHUB_TOKEN acts as")
	}

	// Approved and merged: the push to main applies the stored plan.
	gh.AddReview(ciProject, 1, "bob", "APPROVED")
	merge := rem.merge("flow-logs")
	gh.UpdatePullRequest(ciProject, 1, func(p *fakegithub.PullRequest) { p.State, p.Merged, p.MergeCommitSHA = "closed", true, merge })
	push := fakegithub.PushHook{Repo: repo, Ref: "refs/heads/main", Before: base, After: merge, User: "bob"}
	if r := w.run("push", "apply", push, merge, "refs/heads/main", nil); r.code != 0 {
		t.Fatalf("apply step: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	if state := s3Object(t, bucket, "live/prod/network/terraform.tfstate"); !strings.Contains(state, "flow_logs") {
		t.Fatalf("no applied state in S3:\n%s", state)
	}
	if keys := locksOf(t, "dynamodb://"+table, "github/acme/infra!1"); len(keys) != 0 {
		t.Errorf("#1 still holds %v after its apply", keys)
	}
	if !ghStatusIs(gh, ciProject, head, "strata/apply", "success") || !commentContains(gh, ciProject, 1, fakegithub.ActionsBot, "applied") {
		c, _ := mainComment(gh, ciProject, 1, fakegithub.ActionsBot)
		t.Errorf("the apply is not reported on #1:\n%s", c.Body)
	}
	if n := len(botComments(gh, ciProject, 1, fakegithub.ActionsBot)); n != 1 {
		t.Errorf("%d comments on #1, want the one, edited", n)
	}
}

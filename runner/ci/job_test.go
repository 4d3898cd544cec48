package ci

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strata-iac/strata/internal/fakegithub"
)

// env is a set of variables, as a CI system sets them.
type env map[string]string

func (e env) get(name string) (string, bool) { v, ok := e[name]; return v, ok }

func (e env) with(kv ...string) env {
	out := env{}
	for k, v := range e {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(out, kv[i])
		} else {
			out[kv[i]] = kv[i+1]
		}
	}
	return out
}

const (
	head = "1c9d1a0d5b9f1f0ad6b95f6fb8f2c0a1cd7f8e21"
	base = "b7e3c2aa43d06dcfbcf5c70dc85e5ba0c2fd8b10"
)

// gitlabMRPipeline is what a GitLab job of a merge request pipeline sees
// (the variables strata reads, with GitLab's values and formats).
var gitlabMRPipeline = env{
	"CI": "true", "GITLAB_CI": "true", "CI_SERVER_URL": "https://gitlab.example.com",
	"CI_API_V4_URL": "https://gitlab.example.com/api/v4", "CI_PROJECT_ID": "4321", "CI_PROJECT_PATH": "acme/infra/live",
	"CI_PROJECT_DIR": "/builds/acme/infra/live", "CI_COMMIT_SHA": head, "CI_COMMIT_REF_NAME": "grow-vpc",
	"CI_JOB_ID": "987654", "CI_JOB_URL": "https://gitlab.example.com/acme/infra/live/-/jobs/987654",
	"CI_PIPELINE_SOURCE": "merge_request_event", "CI_DEFAULT_BRANCH": "main", "GITLAB_USER_LOGIN": "alice",
	"CI_JOB_TOKEN":         "job-token-that-cannot-comment",
	"CI_MERGE_REQUEST_IID": "42", "CI_MERGE_REQUEST_ID": "88001", "CI_MERGE_REQUEST_PROJECT_ID": "4321",
	"CI_MERGE_REQUEST_PROJECT_PATH": "acme/infra/live", "CI_MERGE_REQUEST_SOURCE_PROJECT_ID": "4321",
	"CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "grow-vpc", "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
	"CI_MERGE_REQUEST_DIFF_BASE_SHA": base, "CI_MERGE_REQUEST_EVENT_TYPE": "detached",
	"STRATA_GITLAB_TOKEN": "glpat-0123456789abcdefghij",
}

// gitlabBranchPipeline is a pipeline of main after a merge.
var gitlabBranchPipeline = env{
	"CI": "true", "GITLAB_CI": "true", "CI_API_V4_URL": "https://gitlab.example.com/api/v4", "CI_PROJECT_ID": "4321",
	"CI_PROJECT_PATH": "acme/infra/live", "CI_COMMIT_SHA": head, "CI_COMMIT_BRANCH": "main", "CI_COMMIT_REF_NAME": "main",
	"CI_DEFAULT_BRANCH": "main", "CI_PIPELINE_SOURCE": "push", "CI_JOB_ID": "987655",
	"CI_JOB_URL": "https://gitlab.example.com/acme/infra/live/-/jobs/987655", "GITLAB_USER_LOGIN": "bob",
	"STRATA_GITLAB_TOKEN": "glpat-0123456789abcdefghij",
}

func TestDetectGitLab(t *testing.T) {
	j, err := Detect(gitlabMRPipeline.get)
	if err != nil {
		t.Fatal(err)
	}
	if j.Forge != "gitlab" || j.Repo != "acme/infra/live" || j.ProjectID != 4321 || j.API != "https://gitlab.example.com/api/v4" ||
		j.Commit != head || j.Token != "glpat-0123456789abcdefghij" || j.TokenVar != "STRATA_GITLAB_TOKEN" || j.BotLogin != "" ||
		j.User != "alice" || j.URL != "https://gitlab.example.com/acme/infra/live/-/jobs/987654" || j.Name() != "GitLab CI job 987654" ||
		j.Branch != "" || j.DefaultBranch != "main" {
		t.Errorf("job = %+v", j)
	}
	want := MergeRequest{Number: 42, Head: head, SourceBranch: "grow-vpc", TargetBranch: "main", TargetSHA: base}
	if j.MR == nil || *j.MR != want {
		t.Errorf("merge request = %+v, want %+v", j.MR, want)
	}

	// A merged-results pipeline runs for the merge of the head: the head
	// is what is planned.
	merged := "3b18e512dba79e4c8300dd08aeb37f8e728b8dad"
	j, err = Detect(gitlabMRPipeline.with("CI_COMMIT_SHA", merged, "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA", head,
		"CI_MERGE_REQUEST_TARGET_BRANCH_SHA", base, "CI_MERGE_REQUEST_EVENT_TYPE", "merged_result").get)
	if err != nil || j.Commit != merged || j.MR.Head != head {
		t.Errorf("merged results: %+v, %v; want the head %s planned", j, err, head[:8])
	}

	// A fork's merge request, run in the parent project.
	j, err = Detect(gitlabMRPipeline.with("CI_MERGE_REQUEST_SOURCE_PROJECT_ID", "999").get)
	if err != nil || !j.MR.Fork {
		t.Errorf("fork: %+v, %v", j.MR, err)
	}

	j, err = Detect(gitlabBranchPipeline.get)
	if err != nil || j.MR != nil || j.Branch != "main" || j.Commit != head {
		t.Errorf("branch pipeline: %+v, %v", j, err)
	}
}

func TestDetectGitLabErrors(t *testing.T) {
	for _, tc := range []struct {
		env  env
		want []string
	}{
		{gitlabMRPipeline.with("STRATA_GITLAB_TOKEN", ""), []string{"STRATA_GITLAB_TOKEN is not set", "project access token", "CI_JOB_TOKEN cannot write merge request notes"}},
		{gitlabMRPipeline.with("CI_MERGE_REQUEST_DIFF_BASE_SHA", ""), []string{"CI_MERGE_REQUEST_DIFF_BASE_SHA not set"}},
		{gitlabMRPipeline.with("CI_COMMIT_SHA", "1c9d1a0"), []string{`CI_COMMIT_SHA="1c9d1a0" is not a 40-digit commit SHA`}},
		{gitlabMRPipeline.with("CI_API_V4_URL", "gitlab.example.com"), []string{"CI_API_V4_URL is not an http(s) URL"}},
		{gitlabMRPipeline.with("CI_MERGE_REQUEST_IID", "x"), []string{`CI_MERGE_REQUEST_IID="x" is not a positive number`}},
		{gitlabBranchPipeline.with("CI_PROJECT_PATH", "", "CI_JOB_ID", ""), []string{"CI_PROJECT_PATH, CI_JOB_ID not set"}},
		{env{"CI": "true"}, []string{"GITLAB_CI=true", "GITHUB_ACTIONS=true", "strata plan"}},
	} {
		_, err := Detect(tc.env.get)
		for _, w := range tc.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("error %v, want it to say %q", err, w)
			}
		}
		if err != nil && strings.Contains(err.Error(), "glpat-") {
			t.Errorf("the error shows the token: %v", err)
		}
	}
}

// githubJobEnv is what a GitHub Actions step sees, with event the name of
// one of GitHub's own event payloads, written where GITHUB_EVENT_PATH
// points.
func githubJobEnv(t *testing.T, event, sample string) env {
	t.Helper()
	path := filepath.Join(t.TempDir(), "event.json")
	if err := os.WriteFile(path, fakegithub.Sample(sample), 0o600); err != nil {
		t.Fatal(err)
	}
	return env{
		"CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": event, "GITHUB_EVENT_PATH": path,
		"GITHUB_REPOSITORY": "Codertocat/Hello-World", "GITHUB_API_URL": "https://api.github.com",
		"GITHUB_SERVER_URL": "https://github.com", "GITHUB_SHA": "3b18e512dba79e4c8300dd08aeb37f8e728b8dad",
		"GITHUB_REF": "refs/pull/2/merge", "GITHUB_RUN_ID": "1658821493", "GITHUB_ACTOR": "Codertocat",
		"GITHUB_WORKSPACE": "/home/runner/work/Hello-World/Hello-World", "GITHUB_TOKEN": "ghs_jobtoken",
	}
}

func TestDetectGitHub(t *testing.T) {
	j, err := Detect(githubJobEnv(t, "pull_request", "pull_request_opened").get)
	if err != nil {
		t.Fatal(err)
	}
	if j.Forge != "github" || j.Repo != "Codertocat/Hello-World" || j.API != "https://api.github.com" ||
		j.Token != "ghs_jobtoken" || j.TokenVar != "GITHUB_TOKEN" || j.BotLogin != "github-actions[bot]" ||
		j.URL != "https://github.com/Codertocat/Hello-World/actions/runs/1658821493" || j.Name() != "GitHub Actions run 1658821493" ||
		j.User != "Codertocat" || j.DefaultBranch != "master" || j.ProjectID != 186853002 {
		t.Errorf("job = %+v", j)
	}
	// The sample's head and base, not GITHUB_SHA (the merge actions/checkout checks out).
	want := MergeRequest{Number: 2, Head: "ec26c3e57ca3a959ca5aad62de7213c562f8c821", SourceBranch: "changes",
		TargetBranch: "master", TargetSHA: "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"}
	if j.MR == nil || *j.MR != want {
		t.Errorf("pull request = %+v, want %+v", j.MR, want)
	}

	// A review's event carries the pull request too.
	if j, err := Detect(githubJobEnv(t, "pull_request_review", "pull_request_review_submitted").get); err != nil || j.MR == nil || j.MR.Number != 2 {
		t.Errorf("pull_request_review: %+v, %v", j, err)
	}

	// A bot user's token wins over the job's, and GitHub is asked whom it is.
	own := githubJobEnv(t, "pull_request", "pull_request_opened").with("STRATA_GITHUB_TOKEN", "ghp_bot")
	if j, err := Detect(own.get); err != nil || j.Token != "ghp_bot" || j.TokenVar != "STRATA_GITHUB_TOKEN" || j.BotLogin != "" {
		t.Errorf("STRATA_GITHUB_TOKEN: %+v, %v", j, err)
	}
	// The job's token given as STRATA_GITHUB_TOKEN is still the job's.
	same := githubJobEnv(t, "pull_request", "pull_request_opened").with("STRATA_GITHUB_TOKEN", "ghs_jobtoken")
	if j, err := Detect(same.get); err != nil || j.BotLogin != "github-actions[bot]" {
		t.Errorf("GITHUB_TOKEN as STRATA_GITHUB_TOKEN: %+v, %v", j, err)
	}

	push := githubJobEnv(t, "push", "push").with("GITHUB_REF", "refs/heads/master", "GITHUB_SHA", "6113728f27ae82c7b1a177c8d03f9e96e0adf246")
	if j, err := Detect(push.get); err != nil || j.MR != nil || j.Branch != "master" || j.Commit != "6113728f27ae82c7b1a177c8d03f9e96e0adf246" {
		t.Errorf("push: %+v, %v", j, err)
	}
}

func TestDetectGitHubErrors(t *testing.T) {
	for _, tc := range []struct {
		env  env
		want string
	}{
		{githubJobEnv(t, "pull_request", "pull_request_opened").with("GITHUB_TOKEN", ""), "GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}"},
		{githubJobEnv(t, "pull_request_target", "pull_request_opened"), "use on: pull_request"},
		{githubJobEnv(t, "pull_request", "push"), "has no pull_request"},
		{githubJobEnv(t, "pull_request", "pull_request_opened").with("GITHUB_EVENT_PATH", "/nonexistent/event.json"), "read the event (GITHUB_EVENT_PATH)"},
		{githubJobEnv(t, "push", "push").with("GITHUB_RUN_ID", ""), "GITHUB_RUN_ID not set"},
	} {
		if _, err := Detect(tc.env.get); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want it to say %q", err, tc.want)
		}
	}
}

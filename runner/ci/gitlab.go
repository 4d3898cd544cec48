package ci

import (
	"errors"
	"net/url"

	"github.com/strata-iac/strata/runner/forge/gitlab"
)

// gitlabTokenHelp says which token GitLab CI jobs need, and why not the
// job's own.
const gitlabTokenHelp = "STRATA_GITLAB_TOKEN is not set: give the job a project access token " +
	"(scope api, role Developer) as a masked CI/CD variable STRATA_GITLAB_TOKEN; " +
	"CI_JOB_TOKEN cannot write merge request notes or commit statuses"

// gitlabJob reads a GitLab CI job's predefined variables.
func gitlabJob(v vars) (*Job, error) {
	const system = "GitLab CI"
	got, err := v.need(system, "CI_PROJECT_PATH", "CI_API_V4_URL", "CI_COMMIT_SHA", "CI_JOB_ID")
	if err != nil {
		return nil, err
	}
	j := &Job{
		System: system, Forge: gitlab.Name, Repo: got[0], API: got[1], Commit: got[2], ID: got[3],
		URL: v.get("CI_JOB_URL"), User: v.get("GITLAB_USER_LOGIN"),
		Branch: v.get("CI_COMMIT_BRANCH"), DefaultBranch: v.get("CI_DEFAULT_BRANCH"),
		Token: v.get("STRATA_GITLAB_TOKEN"), TokenVar: "STRATA_GITLAB_TOKEN",
	}
	if err := sha("CI_COMMIT_SHA", j.Commit); err != nil {
		return nil, err
	}
	if u, err := url.Parse(j.API); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, errors.New("GitLab CI: CI_API_V4_URL is not an http(s) URL")
	}
	if j.Token == "" {
		return nil, errors.New(gitlabTokenHelp)
	}
	if id := v.get("CI_PROJECT_ID"); id != "" {
		if j.ProjectID, err = number("CI_PROJECT_ID", id); err != nil {
			return nil, err
		}
	}
	if v.get("CI_MERGE_REQUEST_IID") == "" {
		return j, nil
	}
	return j, gitlabMR(v, j)
}

// gitlabMR reads the merge request of a merge request pipeline. The
// merge request lives in CI_MERGE_REQUEST_PROJECT_PATH, which differs
// from CI_PROJECT_PATH when a fork's merge request runs in the fork.
func gitlabMR(v vars, j *Job) error {
	got, err := v.need("GitLab CI", "CI_MERGE_REQUEST_IID", "CI_MERGE_REQUEST_TARGET_BRANCH_NAME", "CI_MERGE_REQUEST_DIFF_BASE_SHA")
	if err != nil {
		return err
	}
	mr := &MergeRequest{TargetBranch: got[1], TargetSHA: got[2], Head: j.Commit,
		SourceBranch: v.get("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME"), Draft: v.get("CI_MERGE_REQUEST_DRAFT") == "true"}
	if mr.Number, err = number("CI_MERGE_REQUEST_IID", got[0]); err != nil {
		return err
	}
	if err := sha("CI_MERGE_REQUEST_DIFF_BASE_SHA", mr.TargetSHA); err != nil {
		return err
	}
	// A merged-results pipeline runs for a merge of the head into the
	// target; the head is what was pushed, and what is reviewed.
	if head := v.get("CI_MERGE_REQUEST_SOURCE_BRANCH_SHA"); head != "" {
		if err := sha("CI_MERGE_REQUEST_SOURCE_BRANCH_SHA", head); err != nil {
			return err
		}
		mr.Head = head
	}
	if p := v.get("CI_MERGE_REQUEST_PROJECT_PATH"); p != "" {
		j.Repo = p
	}
	if id := v.get("CI_MERGE_REQUEST_PROJECT_ID"); id != "" {
		if j.ProjectID, err = number("CI_MERGE_REQUEST_PROJECT_ID", id); err != nil {
			return err
		}
	}
	src, dst := v.get("CI_MERGE_REQUEST_SOURCE_PROJECT_ID"), v.get("CI_MERGE_REQUEST_PROJECT_ID")
	mr.Fork = src != "" && dst != "" && src != dst
	j.MR = mr
	return nil
}

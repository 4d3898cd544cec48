package ci

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Job is what a CI job's variables say about the work at hand: which
// forge and repository, which commit, and, in a merge request pipeline,
// which merge request.
type Job struct {
	// System names the CI system for messages: "GitLab CI", "GitHub Actions".
	System string
	// Forge is the forge's name, as in lock keys: "gitlab" or "github".
	Forge string
	// API is the forge's API base URL.
	API string
	// Token is strata's forge token; TokenVar the variable it came from,
	// which terraform does not inherit.
	Token, TokenVar string
	// BotLogin is the login Token acts as when the forge cannot say
	// (GitHub Actions' GITHUB_TOKEN); empty means ask the forge.
	BotLogin string
	// Repo is the project path: "group/sub/project" or "owner/name".
	Repo      string
	ProjectID int64
	// Commit is the commit the pipeline runs for.
	Commit string
	// Branch is the branch a branch pipeline runs for; empty in a merge
	// request pipeline and for tags.
	Branch        string
	DefaultBranch string
	// ID and URL are the job's (GitLab) or the workflow run's (GitHub).
	ID, URL string
	// User is who started the pipeline.
	User string
	// MR is the merge request of a merge request pipeline; nil otherwise.
	MR *MergeRequest
}

// MergeRequest is the merge request a pipeline runs for.
type MergeRequest struct {
	Number int64
	// Head is the merge request's head commit: what is planned, and where
	// the statuses go (in a merged-results pipeline, not Job.Commit).
	Head         string
	SourceBranch string
	TargetBranch string
	// TargetSHA is a commit of the target branch the CI system names,
	// which the job's clone holds: GitLab's diff base, GitHub's base.sha.
	TargetSHA string
	Fork      bool
	Draft     bool
}

// Name is how the note names the job: "GitLab CI job 4242".
func (j *Job) Name() string {
	if j.Forge == "github" {
		return "GitHub Actions run " + j.ID
	}
	return "GitLab CI job " + j.ID
}

// Getenv reads a variable, as os.LookupEnv does.
type Getenv func(name string) (string, bool)

// Detect reads the job from the environment: GitLab CI when
// GITLAB_CI=true, GitHub Actions when GITHUB_ACTIONS=true.
func Detect(env Getenv) (*Job, error) {
	v := vars{env}
	switch {
	case v.get("GITLAB_CI") == "true":
		return gitlabJob(v)
	case v.get("GITHUB_ACTIONS") == "true":
		return githubJob(v)
	}
	return nil, errors.New("not in a CI job: strata ci runs in GitLab CI (GITLAB_CI=true) or GitHub Actions (GITHUB_ACTIONS=true), and neither is set; elsewhere, use strata plan and strata apply")
}

// vars reads CI variables.
type vars struct{ env Getenv }

func (v vars) get(name string) string {
	s, _ := v.env(name)
	return strings.TrimSpace(s)
}

// need returns the variables named, or an error naming those missing.
func (v vars) need(system string, names ...string) ([]string, error) {
	out := make([]string, len(names))
	var missing []string
	for i, n := range names {
		if out[i] = v.get(n); out[i] == "" {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s: %s not set; is this a %s job?", system, strings.Join(missing, ", "), system)
	}
	return out, nil
}

// sha checks that name holds a full commit SHA.
func sha(name, value string) error {
	if len(value) != 40 || strings.Trim(value, "0123456789abcdef") != "" {
		return fmt.Errorf("%s=%q is not a 40-digit commit SHA", name, value)
	}
	return nil
}

// number reads a positive number.
func number(name, value string) (int64, error) {
	n, err := strconv.ParseInt(value, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%s=%q is not a positive number", name, value)
	}
	return n, nil
}

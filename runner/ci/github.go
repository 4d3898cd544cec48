package ci

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/strata-iac/strata/runner/forge/github"
)

// actionsBot is the login GitHub Actions' GITHUB_TOKEN acts as.
const actionsBot = "github-actions[bot]"

// githubTokenHelp says which tokens GitHub Actions jobs can use.
const githubTokenHelp = "no GitHub token: give the step the job's token as GITHUB_TOKEN " +
	"(env: GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}, with permissions pull-requests: write and statuses: write), " +
	"or a bot user's token as STRATA_GITHUB_TOKEN"

// githubEvent is what strata reads of the event in GITHUB_EVENT_PATH.
type githubEvent struct {
	PullRequest *struct {
		Number int64 `json:"number"`
		Draft  bool  `json:"draft"`
		Head   ghRef `json:"head"`
		Base   ghRef `json:"base"`
	} `json:"pull_request"`
	Repository struct {
		ID            int64  `json:"id"`
		FullName      string `json:"full_name"`
		DefaultBranch string `json:"default_branch"`
	} `json:"repository"`
}

type ghRef struct {
	Ref  string `json:"ref"`
	SHA  string `json:"sha"`
	Repo *struct {
		FullName string `json:"full_name"`
	} `json:"repo"`
}

// githubJob reads a GitHub Actions job's variables and its event.
func githubJob(v vars) (*Job, error) {
	const system = "GitHub Actions"
	got, err := v.need(system, "GITHUB_REPOSITORY", "GITHUB_API_URL", "GITHUB_SHA", "GITHUB_EVENT_NAME", "GITHUB_EVENT_PATH", "GITHUB_RUN_ID")
	if err != nil {
		return nil, err
	}
	j := &Job{System: system, Forge: github.Name, Repo: got[0], API: got[1], Commit: got[2], ID: got[5],
		User: v.get("GITHUB_ACTOR")}
	if err := sha("GITHUB_SHA", j.Commit); err != nil {
		return nil, err
	}
	if server := strings.TrimSuffix(v.get("GITHUB_SERVER_URL"), "/"); server != "" {
		j.URL = fmt.Sprintf("%s/%s/actions/runs/%s", server, j.Repo, j.ID)
	}
	if err := githubToken(v, j); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(got[4])
	if err != nil {
		return nil, fmt.Errorf("GitHub Actions: read the event (GITHUB_EVENT_PATH): %w", err)
	}
	var ev githubEvent
	if err := json.Unmarshal(data, &ev); err != nil {
		return nil, fmt.Errorf("GitHub Actions: the event in %s is not JSON: %w", got[4], err)
	}
	j.ProjectID, j.DefaultBranch = ev.Repository.ID, ev.Repository.DefaultBranch
	switch name := got[3]; name {
	case "pull_request", "pull_request_review":
		return j, githubPR(j, ev, name)
	case "pull_request_target":
		return nil, errors.New("GitHub Actions: strata ci does not run on pull_request_target, which gives the pull request's code the base repository's secrets: use on: pull_request")
	}
	if branch, ok := strings.CutPrefix(v.get("GITHUB_REF"), "refs/heads/"); ok {
		j.Branch = branch
	}
	return j, nil
}

// githubToken picks strata's token: STRATA_GITHUB_TOKEN, else the job's
// GITHUB_TOKEN, which acts as github-actions[bot].
func githubToken(v vars, j *Job) error {
	actions := v.get("GITHUB_TOKEN")
	switch own := v.get("STRATA_GITHUB_TOKEN"); {
	case own != "":
		j.Token, j.TokenVar = own, "STRATA_GITHUB_TOKEN"
		if own == actions {
			j.BotLogin = actionsBot
		}
	case actions != "":
		j.Token, j.TokenVar, j.BotLogin = actions, "GITHUB_TOKEN", actionsBot
	default:
		return errors.New(githubTokenHelp)
	}
	return nil
}

// githubPR reads the pull request of a pull_request or
// pull_request_review event. Its head is planned, whatever commit the
// job checked out (GITHUB_SHA is the merge of head into base).
func githubPR(j *Job, ev githubEvent, name string) error {
	pr := ev.PullRequest
	if pr == nil {
		return fmt.Errorf("GitHub Actions: the %s event in GITHUB_EVENT_PATH has no pull_request", name)
	}
	if pr.Number <= 0 {
		return fmt.Errorf("GitHub Actions: the %s event names no pull request number", name)
	}
	if err := sha("pull_request.head.sha", pr.Head.SHA); err != nil {
		return err
	}
	if err := sha("pull_request.base.sha", pr.Base.SHA); err != nil {
		return err
	}
	if pr.Base.Ref == "" {
		return errors.New("GitHub Actions: the event names no base branch (pull_request.base.ref)")
	}
	fork := pr.Head.Repo == nil || !strings.EqualFold(pr.Head.Repo.FullName, j.Repo)
	j.MR = &MergeRequest{Number: pr.Number, Head: pr.Head.SHA, SourceBranch: pr.Head.Ref,
		TargetBranch: pr.Base.Ref, TargetSHA: pr.Base.SHA, Fork: fork, Draft: pr.Draft}
	return nil
}

package github

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	gh "github.com/google/go-github/v88/github"

	"github.com/strata-iac/strata/runner/forge"
)

// FindNote implements forge.Notes: it reads the pull request's comments
// oldest first, a hundred a page, and returns the first by strata's own
// user that holds marker.
func (c *Client) FindNote(ctx context.Context, repo string, number int64, marker string) (forge.Note, bool, error) {
	op := fmt.Sprintf("find comment on pull request %s#%d", repo, number)
	if marker == "" {
		return forge.Note{}, false, &forge.APIError{Op: "github: " + op, Message: "empty marker"}
	}
	owner, name, err := splitRepo(repo)
	if err != nil {
		return forge.Note{}, false, err
	}
	bot, err := c.BotUsername(ctx)
	if err != nil {
		return forge.Note{}, false, err
	}
	api, err := c.repoAPI(ctx, repo)
	if err != nil {
		return forge.Note{}, false, err
	}
	opt := &gh.IssueListCommentsOptions{ListOptions: gh.ListOptions{PerPage: perPage}}
	for {
		comments, resp, err := api.Issues.ListComments(ctx, owner, name, int(number), opt)
		if err != nil {
			return forge.Note{}, false, c.fail(op, resp, err)
		}
		for _, cm := range comments {
			if strings.EqualFold(cm.GetUser().GetLogin(), bot) && strings.Contains(cm.GetBody(), marker) {
				return toNote(cm), true, nil
			}
		}
		if resp.NextPage == 0 {
			return forge.Note{}, false, nil
		}
		opt.Page = resp.NextPage
	}
}

// CreateNote implements forge.Notes.
func (c *Client) CreateNote(ctx context.Context, repo string, number int64, body string) (forge.Note, error) {
	op := fmt.Sprintf("comment on pull request %s#%d", repo, number)
	if err := checkLength(op, body); err != nil {
		return forge.Note{}, err
	}
	owner, name, err := splitRepo(repo)
	if err != nil {
		return forge.Note{}, err
	}
	api, err := c.repoAPI(ctx, repo)
	if err != nil {
		return forge.Note{}, err
	}
	cm, resp, err := api.Issues.CreateComment(ctx, owner, name, int(number), &gh.IssueComment{Body: gh.Ptr(body)})
	if err != nil {
		return forge.Note{}, c.fail(op, resp, err)
	}
	return toNote(cm), nil
}

// UpdateNote implements forge.Notes.
func (c *Client) UpdateNote(ctx context.Context, repo string, number, id int64, body string) (forge.Note, error) {
	op := fmt.Sprintf("update comment %d on pull request %s#%d", id, repo, number)
	if err := checkLength(op, body); err != nil {
		return forge.Note{}, err
	}
	owner, name, err := splitRepo(repo)
	if err != nil {
		return forge.Note{}, err
	}
	api, err := c.repoAPI(ctx, repo)
	if err != nil {
		return forge.Note{}, err
	}
	cm, resp, err := api.Issues.EditComment(ctx, owner, name, id, &gh.IssueComment{Body: gh.Ptr(body)})
	if err != nil {
		return forge.Note{}, c.fail(op, resp, err)
	}
	return toNote(cm), nil
}

func checkLength(op, body string) error {
	if n := utf8.RuneCountInString(body); n > CommentLimit {
		return &forge.APIError{Op: "github: " + op, Kind: forge.ErrTooLong,
			Message: fmt.Sprintf("%d characters, GitHub accepts %d", n, CommentLimit)}
	}
	return nil
}

func toNote(cm *gh.IssueComment) forge.Note {
	return forge.Note{ID: cm.GetID(), Author: cm.GetUser().GetLogin(), Body: cm.GetBody(), URL: cm.GetHTMLURL()}
}

// maxDescription is the longest commit status description GitHub takes;
// maxSummary the longest check run summary.
const (
	maxDescription = 140
	maxSummary     = 65_535
)

// statusStates maps strata's states to GitHub's commit status states,
// which have no "running".
var statusStates = map[forge.StatusState]string{
	forge.StatusPending: "pending",
	forge.StatusRunning: "pending",
	forge.StatusSuccess: "success",
	forge.StatusFailed:  "failure",
}

// SetStatus implements forge.Statuses: a commit status with a token, a
// check run of the App otherwise (an App's statuses show as check runs,
// with the summary table as their output and a link to the comment).
func (c *Client) SetStatus(ctx context.Context, repo, sha string, st forge.Status) error {
	op := fmt.Sprintf("set status %s=%s on %s@%s", st.Name, st.State, repo, sha)
	state, ok := statusStates[st.State]
	switch {
	case !ok:
		return &forge.APIError{Op: "github: " + op, Message: fmt.Sprintf("unknown status state %q", st.State)}
	case st.Name == "":
		return &forge.APIError{Op: "github: " + op, Message: "status without a name"}
	}
	owner, name, err := splitRepo(repo)
	if err != nil {
		return err
	}
	api, err := c.repoAPI(ctx, repo)
	if err != nil {
		return err
	}
	if c.token == nil {
		return c.setCheckRun(ctx, api, op, owner, name, sha, st)
	}
	status := gh.RepoStatus{State: gh.Ptr(state), Context: gh.Ptr(st.Name)}
	if st.Description != "" {
		status.Description = gh.Ptr(truncate(st.Description, maxDescription))
	}
	if st.TargetURL != "" {
		status.TargetURL = gh.Ptr(st.TargetURL)
	}
	_, resp, err := api.Repositories.CreateStatus(ctx, owner, name, sha, status)
	if err != nil {
		return c.fail(op, resp, err)
	}
	return nil
}

// setCheckRun updates the App's latest check run of that name on sha, or
// creates one.
func (c *Client) setCheckRun(ctx context.Context, api *gh.Client, op, owner, name, sha string, st forge.Status) error {
	runs, resp, err := api.Checks.ListCheckRunsForRef(ctx, owner, name, sha, &gh.ListCheckRunsOptions{
		CheckName: gh.Ptr(st.Name), AppID: gh.Ptr(c.opts.AppID), Filter: gh.Ptr("latest"),
	})
	if err != nil {
		return c.fail(op, resp, err)
	}
	status, conclusion := "completed", ""
	switch st.State {
	case forge.StatusPending:
		status = "queued"
	case forge.StatusRunning:
		status = "in_progress"
	case forge.StatusSuccess:
		conclusion = "success"
	case forge.StatusFailed:
		conclusion = "failure"
	}
	title := truncate(cmp.Or(st.Description, st.Name), 255)
	output := &gh.CheckRunOutput{Title: gh.Ptr(title), Summary: gh.Ptr(truncate(cmp.Or(st.Summary, title), maxSummary))}
	var details *string
	if st.TargetURL != "" {
		details = gh.Ptr(st.TargetURL)
	}
	var conc *string
	if conclusion != "" {
		conc = gh.Ptr(conclusion)
	}
	for _, run := range runs.CheckRuns {
		if run.GetApp().GetID() == c.opts.AppID {
			_, resp, err = api.Checks.UpdateCheckRun(ctx, owner, name, run.GetID(), gh.UpdateCheckRunOptions{
				Name: st.Name, Status: gh.Ptr(status), Conclusion: conc, Output: output, DetailsURL: details,
			})
			if err != nil {
				return c.fail(op, resp, err)
			}
			return nil
		}
	}
	_, resp, err = api.Checks.CreateCheckRun(ctx, owner, name, gh.CreateCheckRunOptions{
		Name: st.Name, HeadSHA: sha, Status: gh.Ptr(status), Conclusion: conc, Output: output, DetailsURL: details,
	})
	if err != nil {
		return c.fail(op, resp, err)
	}
	return nil
}

// truncate shortens s to n characters, ending with an ellipsis.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	gh "github.com/google/go-github/v88/github"

	"github.com/strata-iac/strata/runner/forge"
)

// perPage is the page size for every list call: GitHub's maximum.
const perPage = 100

// MergeRequest implements forge.MergeRequests. GitHub computes whether an
// open pull request can be merged in the background after a change and
// answers mergeable null meanwhile: MergeRequest reads it again, up to
// Options.MergeablePolls times, Options.MergeableWait apart.
func (c *Client) MergeRequest(ctx context.Context, repo string, number int64) (forge.MergeRequest, error) {
	op := fmt.Sprintf("get pull request %s#%d", repo, number)
	owner, name, err := splitRepo(repo)
	if err != nil {
		return forge.MergeRequest{}, err
	}
	api, err := c.repoAPI(ctx, repo)
	if err != nil {
		return forge.MergeRequest{}, err
	}
	for poll := 0; ; poll++ {
		pr, resp, err := api.PullRequests.Get(ctx, owner, name, int(number))
		if err != nil {
			return forge.MergeRequest{}, c.fail(op, resp, err)
		}
		if pr.GetState() != "open" || pr.Mergeable != nil || poll >= c.opts.MergeablePolls {
			return toMergeRequest(repo, pr), nil
		}
		if err := sleep(ctx, c.opts.MergeableWait); err != nil {
			return forge.MergeRequest{}, &forge.APIError{Op: "github: " + op, Kind: err}
		}
	}
}

// MergedBy implements forge.MergeRequests with GitHub's
// GET /repos/{owner}/{repo}/commits/{sha}/pulls, which lists the pull
// requests associated with the commit: the one that merged sha is merged
// (merged_at set; the list leaves out "merged") with sha as its
// merge_commit_sha, which is the merge commit, the squash commit or the
// last rebased commit, as the pull request was merged.
func (c *Client) MergedBy(ctx context.Context, repo, sha string) (forge.MergeRequest, bool, error) {
	op := fmt.Sprintf("list the pull requests of commit %s in %s", sha, repo)
	owner, name, err := splitRepo(repo)
	if err != nil {
		return forge.MergeRequest{}, false, err
	}
	api, err := c.repoAPI(ctx, repo)
	if err != nil {
		return forge.MergeRequest{}, false, err
	}
	pulls, resp, err := api.PullRequests.ListPullRequestsWithCommit(ctx, owner, name, sha, &gh.ListOptions{PerPage: perPage})
	if err != nil {
		return forge.MergeRequest{}, false, c.fail(op, resp, err)
	}
	for _, pr := range pulls {
		if pr.MergedAt != nil && pr.GetMergeCommitSHA() == sha {
			mr, err := c.MergeRequest(ctx, repo, int64(pr.GetNumber()))
			return mr, err == nil, err
		}
	}
	return forge.MergeRequest{}, false, nil
}

// mergeableStates are the mergeable_state values in which strata counts a
// pull request mergeable: branch protection decides the rest (unstable:
// failing checks that are not required; has_hooks: pre-receive hooks).
var mergeableStates = map[string]bool{"clean": true, "has_hooks": true, "unstable": true}

func toMergeRequest(repo string, pr *gh.PullRequest) forge.MergeRequest {
	state := pr.GetMergeableState()
	out := forge.MergeRequest{
		Repo: repo, Number: int64(pr.GetNumber()), Title: pr.GetTitle(), URL: pr.GetHTMLURL(),
		Author: pr.GetUser().GetLogin(), State: pullState(pr.GetState(), pr.GetMerged()), Draft: pr.GetDraft(),
		SourceBranch: pr.GetHead().GetRef(), TargetBranch: pr.GetBase().GetRef(), HeadSHA: pr.GetHead().GetSHA(),
		Fork:      isFork(pr),
		Conflicts: pr.Mergeable != nil && !*pr.Mergeable || state == "dirty",
		Mergeable: mergeableStates[state], MergeStatus: state,
	}
	if out.State == forge.StateMerged {
		out.MergedSHA = pr.GetMergeCommitSHA()
	}
	if out.State != forge.StateOpened || out.Draft || out.Conflicts {
		return out
	}
	base := "`" + out.TargetBranch + "`"
	switch state {
	case "blocked":
		out.Blocked = "GitHub blocks merging it: the branch protection rules of " + base +
			" are not met yet (required reviews or checks). Meet them, then try again."
	case "behind":
		out.Blocked = "the head branch is behind " + base + ", whose branch protection requires it to be up to date. " +
			"Update the branch, and strata plans the new commit."
	case "unknown", "":
		out.Blocked = "GitHub has not finished computing whether it can be merged. Try again in a moment."
	}
	return out
}

// Approvals implements forge.MergeRequests from the pull request's
// reviews: each reviewer's latest review that is an approval, a request
// for changes or a dismissal counts (comments do not). The pull request is
// approved when someone approved and nobody's latest asks for changes.
// Branch protection's required number of approvals is GitHub's to
// enforce, so Required and Left stay 0.
func (c *Client) Approvals(ctx context.Context, repo string, number int64) (forge.Approvals, error) {
	op := fmt.Sprintf("list the reviews of pull request %s#%d", repo, number)
	owner, name, err := splitRepo(repo)
	if err != nil {
		return forge.Approvals{}, err
	}
	api, err := c.repoAPI(ctx, repo)
	if err != nil {
		return forge.Approvals{}, err
	}
	var order []string
	latest := map[string]string{}
	opt := &gh.ListOptions{PerPage: perPage}
	for {
		reviews, resp, err := api.PullRequests.ListReviews(ctx, owner, name, int(number), opt)
		if err != nil {
			return forge.Approvals{}, c.fail(op, resp, err)
		}
		for _, rv := range reviews {
			login, state := rv.GetUser().GetLogin(), strings.ToUpper(rv.GetState())
			if login == "" || state != "APPROVED" && state != "CHANGES_REQUESTED" && state != "DISMISSED" {
				continue
			}
			if _, seen := latest[login]; !seen {
				order = append(order, login)
			}
			latest[login] = state
		}
		if resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	out := forge.Approvals{ApprovedBy: []string{}}
	for _, login := range order {
		switch latest[login] {
		case "APPROVED":
			out.ApprovedBy = append(out.ApprovedBy, login)
		case "CHANGES_REQUESTED":
			out.ChangesRequestedBy = append(out.ChangesRequestedBy, login)
		}
	}
	out.Approved = len(out.ApprovedBy) > 0 && len(out.ChangesRequestedBy) == 0
	return out, nil
}

// Merge implements forge.MergeRequests with GitHub's merge API, which
// takes the expected head as sha: 409 when the head moved, 405 (or 422)
// when GitHub will not merge. When a refusal follows a merge that did
// happen (a retried request whose first answer was lost), Merge reads the
// pull request and reports success.
func (c *Client) Merge(ctx context.Context, repo string, number int64, opts forge.MergeOptions) (forge.MergeRequest, error) {
	op := fmt.Sprintf("merge %s#%d at %s", repo, number, opts.SHA)
	switch {
	case opts.SHA == "":
		return forge.MergeRequest{}, &forge.APIError{Op: "github: " + op, Message: "no head SHA given; strata merges only the commit it reviewed"}
	case opts.RemoveSourceBranch:
		return forge.MergeRequest{}, &forge.APIError{Op: "github: " + op,
			Message: "GitHub's merge API does not delete the head branch: turn on the repository's \"Automatically delete head branches\" setting instead"}
	}
	owner, name, err := splitRepo(repo)
	if err != nil {
		return forge.MergeRequest{}, err
	}
	api, err := c.repoAPI(ctx, repo)
	if err != nil {
		return forge.MergeRequest{}, err
	}
	_, resp, err := api.PullRequests.Merge(ctx, owner, name, int(number), opts.Message, &gh.PullRequestOptions{SHA: opts.SHA})
	if err == nil {
		return c.MergeRequest(ctx, repo, number)
	}
	failure := c.fail(op, resp, err)
	var ae *forge.APIError
	if !errors.As(failure, &ae) {
		return forge.MergeRequest{}, failure
	}
	switch ae.Status {
	case http.StatusConflict:
		ae.Kind = forge.ErrHeadMoved
	case http.StatusMethodNotAllowed, http.StatusUnprocessableEntity:
		ae.Kind = forge.ErrNotMergeable
		if now, err := c.MergeRequest(ctx, repo, number); err == nil {
			if now.State == forge.StateMerged && now.HeadSHA == opts.SHA {
				return now, nil
			}
			ae.Message = strings.TrimSpace(ae.Message + " (state " + string(now.State) + ", mergeable state " + now.MergeStatus + ")")
		}
	}
	return forge.MergeRequest{}, ae
}

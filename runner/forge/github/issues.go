package github

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	gh "github.com/google/go-github/v88/github"

	"github.com/strata-iac/strata/internal/fault"
	"github.com/strata-iac/strata/runner/forge"
)

// FindIssue implements forge.Issues. GitHub filters by state and labels;
// the author and the marker are checked here, page after page, and pull
// requests (which GitHub's issues API lists too) are skipped.
func (c *Client) FindIssue(ctx context.Context, repo string, q forge.IssueQuery) (forge.Issue, bool, error) {
	op := fmt.Sprintf("find issue in %s", repo)
	if q.Marker == "" && len(q.Labels) == 0 {
		return forge.Issue{}, false, &forge.APIError{Op: "github: " + op, Message: "neither a marker nor labels to look for"}
	}
	owner, name, err := splitRepo(repo)
	if err != nil {
		return forge.Issue{}, false, err
	}
	bot, err := c.BotUsername(ctx)
	if err != nil {
		return forge.Issue{}, false, err
	}
	api, err := c.repoAPI(ctx, repo)
	if err != nil {
		return forge.Issue{}, false, err
	}
	opt := &gh.IssueListByRepoOptions{State: "open", Labels: q.Labels, Sort: "created", Direction: "asc",
		ListOptions: gh.ListOptions{PerPage: perPage}}
	for {
		issues, resp, err := api.Issues.ListByRepo(ctx, owner, name, opt)
		if err != nil {
			return forge.Issue{}, false, c.fail(op, resp, err)
		}
		for _, is := range issues {
			if !is.IsPullRequest() && strings.EqualFold(is.GetUser().GetLogin(), bot) && is.GetState() == "open" &&
				hasAll(labels(is), q.Labels) && strings.Contains(is.GetBody(), q.Marker) {
				return toIssue(is), true, nil
			}
		}
		if resp.NextPage == 0 {
			return forge.Issue{}, false, nil
		}
		opt.ListOptions.Page = resp.NextPage
	}
}

// CreateIssue implements forge.Issues.
func (c *Client) CreateIssue(ctx context.Context, repo string, ni forge.NewIssue) (forge.Issue, error) {
	op := fmt.Sprintf("create issue %q in %s", ni.Title, repo)
	if ni.Title == "" {
		return forge.Issue{}, &forge.APIError{Op: "github: " + op, Message: "an issue needs a title"}
	}
	req := &gh.IssueRequest{Title: gh.Ptr(ni.Title), Body: gh.Ptr(ni.Body)}
	if len(ni.Labels) > 0 {
		req.Labels = &ni.Labels
	}
	return c.editIssue(ctx, op, repo, 0, req)
}

// UpdateIssue implements forge.Issues.
func (c *Client) UpdateIssue(ctx context.Context, repo string, number int64, title, body string) (forge.Issue, error) {
	op := fmt.Sprintf("update issue %s#%d", repo, number)
	if title == "" {
		return forge.Issue{}, &forge.APIError{Op: "github: " + op, Message: "an issue needs a title"}
	}
	return c.editIssue(ctx, op, repo, number, &gh.IssueRequest{Title: gh.Ptr(title), Body: gh.Ptr(body)})
}

// CloseIssue implements forge.Issues.
func (c *Client) CloseIssue(ctx context.Context, repo string, number int64) error {
	_, err := c.editIssue(ctx, fmt.Sprintf("close issue %s#%d", repo, number), repo, number,
		&gh.IssueRequest{State: gh.Ptr("closed")})
	return err
}

// editIssue creates an issue (number 0) or edits one.
func (c *Client) editIssue(ctx context.Context, op, repo string, number int64, req *gh.IssueRequest) (forge.Issue, error) {
	if err := checkLength(op, req.GetBody()); err != nil {
		return forge.Issue{}, err
	}
	owner, name, err := splitRepo(repo)
	if err != nil {
		return forge.Issue{}, err
	}
	api, err := c.repoAPI(ctx, repo)
	if err != nil {
		return forge.Issue{}, err
	}
	var is *gh.Issue
	var resp *gh.Response
	if number == 0 {
		is, resp, err = api.Issues.Create(ctx, owner, name, req)
	} else {
		is, resp, err = api.Issues.Edit(ctx, owner, name, int(number), req)
	}
	if err != nil {
		return forge.Issue{}, c.fail(op, resp, err)
	}
	return toIssue(is), nil
}

func toIssue(is *gh.Issue) forge.Issue {
	state := "opened"
	if is.GetState() == "closed" {
		state = "closed"
	}
	return forge.Issue{
		Number: int64(is.GetNumber()), Title: is.GetTitle(), Body: is.GetBody(), URL: is.GetHTMLURL(),
		State: state, Author: is.GetUser().GetLogin(), Labels: labels(is),
	}
}

func labels(is *gh.Issue) []string {
	out := []string{}
	for _, l := range is.Labels {
		out = append(out, l.GetName())
	}
	return out
}

func hasAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

// IsMember implements forge.Teams: group is a team as "org/slug" (from
// team:org/slug in policy.owners or --appliers). Only an active
// membership counts; an invitation not yet accepted does not. GitHub
// answers 404 alike for an unknown team and a non-member, so both are "not
// a member". A group that is not org/slug is a mistake in the
// configuration, reported as a permanent error naming it.
func (c *Client) IsMember(ctx context.Context, group, username string) (bool, error) {
	op := fmt.Sprintf("check whether %s is a member of team %s", username, group)
	org, slug, ok := strings.Cut(strings.TrimPrefix(group, "@"), "/")
	switch {
	case username == "":
		return false, &forge.APIError{Op: "github: " + op, Message: "empty username"}
	case !ok || !validSegment(org) || !validSegment(slug):
		return false, fault.Permanent(fmt.Errorf("team %q: GitHub teams are named by organisation and slug, as team:ORG/SLUG (e.g. team:acme/platform)", group))
	}
	api, err := c.orgAPI(ctx, org)
	if err != nil {
		return false, err
	}
	m, resp, err := api.Teams.GetTeamMembershipBySlug(ctx, org, slug, username)
	if err != nil {
		failure := c.fail(op, resp, err)
		if errors.Is(failure, forge.ErrNotFound) {
			return false, nil
		}
		return false, failure
	}
	return m.GetState() == "active", nil
}

package gitlab

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	gl "gitlab.com/gitlab-org/api/client-go"

	"github.com/strata-iac/strata/runner/forge"
)

// FindIssue implements forge.Issues. GitLab filters by state, labels and
// author; the marker is looked for here, page after page.
func (c *Client) FindIssue(ctx context.Context, repo string, q forge.IssueQuery) (forge.Issue, bool, error) {
	op := fmt.Sprintf("find issue in %s", repo)
	if q.Marker == "" && len(q.Labels) == 0 {
		return forge.Issue{}, false, &forge.APIError{Op: "gitlab: " + op, Message: "neither a marker nor labels to look for"}
	}
	me, err := c.self(ctx)
	if err != nil {
		return forge.Issue{}, false, err
	}
	opt := &gl.ListProjectIssuesOptions{
		ListOptions: gl.ListOptions{Page: 1, PerPage: perPage},
		State:       gl.Ptr("opened"),
		AuthorID:    gl.Ptr(me.ID),
		OrderBy:     gl.Ptr("created_at"),
		Sort:        gl.Ptr("asc"),
	}
	if len(q.Labels) > 0 {
		opt.Labels = (*gl.LabelOptions)(&q.Labels)
	}
	for {
		issues, resp, err := c.api.Issues.ListProjectIssues(repo, opt, gl.WithContext(ctx))
		if err != nil {
			return forge.Issue{}, false, c.fail(op, resp, err)
		}
		for _, is := range issues {
			if is.Author != nil && is.Author.ID == me.ID && is.State == "opened" &&
				hasAll(is.Labels, q.Labels) && strings.Contains(is.Description, q.Marker) {
				return toIssue(is), true, nil
			}
		}
		if resp.NextPage == 0 {
			return forge.Issue{}, false, nil
		}
		opt.Page = resp.NextPage
	}
}

// CreateIssue implements forge.Issues.
func (c *Client) CreateIssue(ctx context.Context, repo string, ni forge.NewIssue) (forge.Issue, error) {
	op := fmt.Sprintf("create issue %q in %s", ni.Title, repo)
	if ni.Title == "" {
		return forge.Issue{}, &forge.APIError{Op: "gitlab: " + op, Message: "an issue needs a title"}
	}
	opt := &gl.CreateIssueOptions{Title: gl.Ptr(ni.Title), Description: gl.Ptr(ni.Body)}
	if len(ni.Labels) > 0 {
		opt.Labels = (*gl.LabelOptions)(&ni.Labels)
	}
	is, resp, err := c.api.Issues.CreateIssue(repo, opt, gl.WithContext(ctx))
	if err != nil {
		return forge.Issue{}, c.fail(op, resp, err)
	}
	return toIssue(is), nil
}

// UpdateIssue implements forge.Issues.
func (c *Client) UpdateIssue(ctx context.Context, repo string, number int64, title, body string) (forge.Issue, error) {
	op := fmt.Sprintf("update issue %s#%d", repo, number)
	if title == "" {
		return forge.Issue{}, &forge.APIError{Op: "gitlab: " + op, Message: "an issue needs a title"}
	}
	is, resp, err := c.api.Issues.UpdateIssue(repo, number,
		&gl.UpdateIssueOptions{Title: gl.Ptr(title), Description: gl.Ptr(body)}, gl.WithContext(ctx))
	if err != nil {
		return forge.Issue{}, c.fail(op, resp, err)
	}
	return toIssue(is), nil
}

// CloseIssue implements forge.Issues.
func (c *Client) CloseIssue(ctx context.Context, repo string, number int64) error {
	_, resp, err := c.api.Issues.UpdateIssue(repo, number,
		&gl.UpdateIssueOptions{StateEvent: gl.Ptr("close")}, gl.WithContext(ctx))
	if err != nil {
		return c.fail(fmt.Sprintf("close issue %s#%d", repo, number), resp, err)
	}
	return nil
}

func toIssue(is *gl.Issue) forge.Issue {
	out := forge.Issue{
		Number: is.IID,
		Title:  is.Title,
		Body:   is.Description,
		URL:    is.WebURL,
		State:  is.State,
		Labels: append([]string{}, is.Labels...),
	}
	if is.Author != nil {
		out.Author = is.Author.Username
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

// IsMember implements forge.Teams: group is a group's full path (e.g.
// "acme/platform") or ID. Membership inherited from a parent group counts;
// blocked users and members with only minimal access do not. GitLab
// answers 404 alike for an unknown group and a non-member, so both are
// "not a member".
func (c *Client) IsMember(ctx context.Context, group, username string) (bool, error) {
	op := fmt.Sprintf("check whether %s is a member of group %s", username, group)
	if group == "" || username == "" {
		return false, &forge.APIError{Op: "gitlab: " + op, Message: "empty group or username"}
	}
	users, resp, err := c.api.Users.ListUsers(&gl.ListUsersOptions{Username: gl.Ptr(username)}, gl.WithContext(ctx))
	if err != nil {
		return false, c.fail(op, resp, err)
	}
	idx := slices.IndexFunc(users, func(u *gl.User) bool { return strings.EqualFold(u.Username, username) })
	if idx < 0 || users[idx].State != "active" {
		return false, nil
	}
	m, resp, err := c.api.GroupMembers.GetInheritedGroupMember(group, users[idx].ID, gl.WithContext(ctx))
	if err != nil {
		failure := c.fail(op, resp, err)
		if errors.Is(failure, forge.ErrNotFound) {
			return false, nil
		}
		return false, failure
	}
	return m.AccessLevel >= gl.GuestPermissions && (m.State == "" || m.State == "active"), nil
}

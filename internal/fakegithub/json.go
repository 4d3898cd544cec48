package fakegithub

import (
	"cmp"
	"fmt"
	"path"
	"strings"
)

// The renderers below produce GitHub's REST API shapes (the fields
// go-github reads, and the common ones around them). Callers hold s.mu.

func (s *Server) userJSON(login string) map[string]any {
	u := s.user(login)
	return map[string]any{
		"login": u.Login, "id": u.ID, "node_id": fmt.Sprintf("U_%d", u.ID), "type": u.Type,
		"site_admin": false, "html_url": s.URL + "/" + u.Login, "url": s.URL + "/users/" + u.Login,
	}
}

// repoJSON renders a repository; fullName may name one the fake does not
// hold (a fork), which is then rendered from its name alone.
func (s *Server) repoJSON(fullName string) map[string]any {
	r := s.repos[strings.ToLower(fullName)]
	if r == nil {
		r = &repo{Repo: Repo{ID: int64(len(fullName)) * 1_000_003, FullName: fullName, DefaultBranch: "main",
			CloneURL: s.URL + "/" + fullName + ".git"}}
	}
	owner := path.Dir(r.FullName)
	return map[string]any{
		"id": r.ID, "node_id": fmt.Sprintf("R_%d", r.ID), "name": path.Base(r.FullName), "full_name": r.FullName,
		"private": true, "owner": s.userJSON(owner), "html_url": s.URL + "/" + r.FullName,
		"url": s.URL + "/repos/" + r.FullName, "clone_url": r.CloneURL, "git_url": "git://example.invalid/" + r.FullName + ".git",
		"ssh_url": "git@example.invalid:" + r.FullName + ".git", "default_branch": r.DefaultBranch,
		"fork": false, "visibility": "private",
	}
}

func (s *Server) pullJSON(r *repo, pr *PullRequest) map[string]any {
	head := cmp.Or(pr.HeadRepo, r.FullName)
	state := mergeableState(pr)
	var mergeable any
	switch state {
	case "unknown":
	case "dirty":
		mergeable = false
	default:
		mergeable = true
	}
	var mergeSHA, mergedAt any
	if pr.MergeCommitSHA != "" {
		mergeSHA = pr.MergeCommitSHA
	}
	if pr.Merged {
		mergedAt = githubTime(cmp.Or(pr.MergedAt, s.clock))
	}
	return map[string]any{
		"id": pr.ID, "node_id": fmt.Sprintf("PR_%d", pr.ID), "number": pr.Number, "title": pr.Title, "body": "",
		"state": pr.State, "locked": false, "draft": pr.Draft, "merged": pr.Merged,
		"mergeable": mergeable, "mergeable_state": state, "merge_commit_sha": mergeSHA, "merged_at": mergedAt,
		"user":     s.userJSON(pr.Author),
		"html_url": fmt.Sprintf("%s/%s/pull/%d", s.URL, r.FullName, pr.Number),
		"url":      fmt.Sprintf("%s/repos/%s/pulls/%d", s.URL, r.FullName, pr.Number),
		"head": map[string]any{"label": path.Dir(head) + ":" + pr.HeadRef, "ref": pr.HeadRef, "sha": pr.HeadSHA,
			"user": s.userJSON(path.Dir(head)), "repo": s.repoJSON(head)},
		"base": map[string]any{"label": path.Dir(r.FullName) + ":" + pr.BaseRef, "ref": pr.BaseRef,
			"sha": SHA(r.FullName + "@" + pr.BaseRef), "user": s.userJSON(path.Dir(r.FullName)), "repo": s.repoJSON(r.FullName)},
		"author_association": "MEMBER", "comments": len(r.comments[pr.Number]), "commits": 1,
	}
}

// pullIssueJSON is a pull request as the issues API lists it.
func (s *Server) pullIssueJSON(r *repo, pr *PullRequest) map[string]any {
	m := s.issueJSON(r, &Issue{Number: pr.Number, ID: pr.ID, Title: pr.Title, State: pr.State, User: pr.Author})
	pull := fmt.Sprintf("%s/%s/pull/%d", s.URL, r.FullName, pr.Number)
	m["html_url"] = pull
	m["draft"] = pr.Draft
	m["pull_request"] = map[string]any{
		"url": fmt.Sprintf("%s/repos/%s/pulls/%d", s.URL, r.FullName, pr.Number), "html_url": pull,
		"diff_url": pull + ".diff", "patch_url": pull + ".patch", "merged_at": nil,
	}
	return m
}

func (s *Server) issueJSON(r *repo, is *Issue) map[string]any {
	labels := []map[string]any{}
	for _, l := range is.Labels {
		labels = append(labels, map[string]any{"name": l, "color": "ededed", "default": false})
	}
	return map[string]any{
		"id": is.ID, "node_id": fmt.Sprintf("I_%d", is.ID), "number": is.Number, "title": is.Title, "body": is.Body,
		"state": is.State, "locked": false, "user": s.userJSON(is.User), "labels": labels,
		"html_url": fmt.Sprintf("%s/%s/issues/%d", s.URL, r.FullName, is.Number),
		"url":      fmt.Sprintf("%s/repos/%s/issues/%d", s.URL, r.FullName, is.Number),
		"comments": len(r.comments[is.Number]), "author_association": "MEMBER",
	}
}

func (s *Server) commentJSON(r *repo, number int64, c *Comment) map[string]any {
	kind := "issues"
	if r.pulls[number] != nil {
		kind = "pull"
	}
	return map[string]any{
		"id": c.ID, "node_id": fmt.Sprintf("IC_%d", c.ID), "body": c.Body, "user": s.userJSON(c.User),
		"html_url":   fmt.Sprintf("%s/%s/%s/%d#issuecomment-%d", s.URL, r.FullName, kind, number, c.ID),
		"url":        fmt.Sprintf("%s/repos/%s/issues/comments/%d", s.URL, r.FullName, c.ID),
		"issue_url":  fmt.Sprintf("%s/repos/%s/issues/%d", s.URL, r.FullName, number),
		"created_at": githubTime(c.CreatedAt), "updated_at": githubTime(c.UpdatedAt),
		"author_association": "MEMBER",
	}
}

func (s *Server) checkJSON(r *repo, c *CheckRun) map[string]any {
	var conclusion any
	if c.Conclusion != "" {
		conclusion = c.Conclusion
	}
	return map[string]any{
		"id": c.ID, "head_sha": c.HeadSHA, "name": c.Name, "status": c.Status, "conclusion": conclusion,
		"details_url": c.DetailsURL, "html_url": fmt.Sprintf("%s/%s/runs/%d", s.URL, r.FullName, c.ID),
		"output": map[string]any{"title": c.Title, "summary": c.Summary, "text": nil},
		"app":    map[string]any{"id": c.AppID, "slug": s.app.Slug},
	}
}

package fakegithub

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// bodyLimit is GitHub's maximum comment, issue and check summary length,
// in characters.
const bodyLimit = 65_536

// handler answers one endpoint. It runs with s.mu held.
type handler func(s *Server, r *request) response

// routes are the endpoints the fake serves.
var routes = []struct {
	method, pattern string
	h               handler
}{
	{"GET", "user", (*Server).currentUser},
	{"GET", "app", (*Server).getApp},
	{"POST", "app/installations/:id/access_tokens", (*Server).createInstallationToken},
	{"GET", "repos/:owner/:repo/installation", (*Server).getRepoInstallation},
	{"GET", "orgs/:org/installation", (*Server).getOrgInstallation},
	{"GET", "repos/:owner/:repo/pulls/:number", (*Server).getPull},
	{"GET", "repos/:owner/:repo/pulls/:number/reviews", (*Server).listReviews},
	{"PUT", "repos/:owner/:repo/pulls/:number/merge", (*Server).merge},
	{"GET", "repos/:owner/:repo/issues/:number/comments", (*Server).listComments},
	{"POST", "repos/:owner/:repo/issues/:number/comments", (*Server).createComment},
	{"PATCH", "repos/:owner/:repo/issues/comments/:id", (*Server).editComment},
	{"POST", "repos/:owner/:repo/statuses/:sha", (*Server).createStatus},
	{"POST", "repos/:owner/:repo/check-runs", (*Server).createCheckRun},
	{"PATCH", "repos/:owner/:repo/check-runs/:id", (*Server).updateCheckRun},
	{"GET", "repos/:owner/:repo/commits/:ref/check-runs", (*Server).listCheckRuns},
	{"GET", "repos/:owner/:repo/commits/:ref/pulls", (*Server).commitPulls},
	{"GET", "repos/:owner/:repo/issues", (*Server).listIssues},
	{"POST", "repos/:owner/:repo/issues", (*Server).createIssue},
	{"PATCH", "repos/:owner/:repo/issues/:number", (*Server).editIssue},
	{"GET", "orgs/:org/teams/:slug/memberships/:username", (*Server).teamMembership},
}

// findRoute finds the handler for method and path segments, and names
// the route for Call.Route.
func findRoute(method string, seg []string) (handler, string) {
	for _, rt := range routes {
		pat := strings.Split(rt.pattern, "/")
		if rt.method != method || len(pat) != len(seg) {
			continue
		}
		match := true
		for i, p := range pat {
			if !strings.HasPrefix(p, ":") && p != seg[i] {
				match = false
				break
			}
		}
		if match {
			return rt.h, method + " /" + rt.pattern
		}
	}
	return nil, ""
}

func routeOf(method string, seg []string) string { _, r := findRoute(method, seg); return r }

// repo resolves :owner/:repo.
func (s *Server) repo(r *request) *repo { return s.repos[strings.ToLower(r.seg[1]+"/"+r.seg[2])] }

// pull resolves :owner/:repo and :number.
func (s *Server) pull(r *request) (*repo, *PullRequest) {
	rp := s.repo(r)
	if rp == nil {
		return nil, nil
	}
	n, _ := strconv.ParseInt(r.seg[4], 10, 64)
	return rp, rp.pulls[n]
}

func (s *Server) currentUser(r *request) response {
	if r.installation != 0 || r.actions {
		return message(http.StatusForbidden, "Resource not accessible by integration")
	}
	return reply(http.StatusOK, s.userJSON(r.login))
}

func (s *Server) getPull(r *request) response {
	rp, pr := s.pull(r)
	if pr == nil {
		return notFound()
	}
	out := s.pullJSON(rp, pr)
	if pr.UnknownFor > 0 {
		pr.UnknownFor--
		out["mergeable"], out["mergeable_state"] = nil, "unknown"
	}
	return reply(http.StatusOK, out)
}

func (s *Server) listReviews(r *request) response {
	rp, pr := s.pull(r)
	if pr == nil {
		return notFound()
	}
	out := []map[string]any{}
	for _, rv := range rp.reviews[pr.Number] {
		out = append(out, map[string]any{
			"id": rv.ID, "node_id": fmt.Sprintf("PRR_%d", rv.ID), "user": s.userJSON(rv.User), "body": "",
			"state": rv.State, "commit_id": rv.CommitID, "submitted_at": githubTime(rv.At),
			"html_url":           fmt.Sprintf("%s/%s/pull/%d#pullrequestreview-%d", s.URL, rp.FullName, pr.Number, rv.ID),
			"author_association": "MEMBER",
		})
	}
	return paginate(r, out)
}

// merge follows GitHub: 405 when the pull request is closed, a draft or
// not mergeable (conflicts, branch protection), 409 when sha is not the
// head, 422 for an unknown merge method.
func (s *Server) merge(r *request) response {
	rp, pr := s.pull(r)
	if pr == nil {
		return notFound()
	}
	state := mergeableState(pr)
	switch {
	case pr.State != "open":
		return message(http.StatusMethodNotAllowed, "Pull Request is not mergeable")
	case r.has("sha") && r.str("sha") != pr.HeadSHA:
		return message(http.StatusConflict, "Head branch was modified. Review and try the merge again.")
	case pr.Draft:
		return message(http.StatusMethodNotAllowed, "Pull Request is still a draft")
	case state == "dirty":
		return message(http.StatusMethodNotAllowed, "Pull Request is not mergeable")
	case state == "blocked" || state == "behind":
		return message(http.StatusMethodNotAllowed, "Repository rule violations found\n\nAt least 1 approving review is required by reviewers with write access.")
	case !slices.Contains([]string{"", "merge", "squash", "rebase"}, r.str("merge_method")):
		return invalid("PullRequest", "merge_method", "merge_method must be one of merge, squash, rebase")
	}
	sha := SHA(fmt.Sprintf("merge %s#%d %s", rp.FullName, pr.Number, pr.HeadSHA))
	if s.onMerge != nil {
		got, err := s.onMerge(rp.FullName, *pr)
		if err != nil {
			return message(http.StatusMethodNotAllowed, "Pull Request is not mergeable: "+err.Error())
		}
		sha = got
	}
	pr.State, pr.Merged, pr.MergeCommitSHA, pr.MergedAt = "closed", true, sha, s.now()
	return reply(http.StatusOK, map[string]any{"sha": sha, "merged": true, "message": "Pull Request successfully merged"})
}

// mergeableState is GitHub's mergeable_state for pr.
func mergeableState(pr *PullRequest) string {
	switch {
	case pr.MergeableState != "":
		return pr.MergeableState
	case pr.State != "open":
		return "unknown"
	case pr.Draft:
		return "draft"
	}
	return "clean"
}

// number resolves :number to an issue or pull request of the repository.
func (s *Server) number(r *request) (*repo, int64, bool) {
	rp := s.repo(r)
	if rp == nil {
		return nil, 0, false
	}
	n, _ := strconv.ParseInt(r.seg[4], 10, 64)
	return rp, n, rp.pulls[n] != nil || rp.issues[n] != nil
}

func (s *Server) listComments(r *request) response {
	rp, n, ok := s.number(r)
	if !ok {
		return notFound()
	}
	out := []map[string]any{}
	for _, c := range rp.comments[n] {
		out = append(out, s.commentJSON(rp, n, c))
	}
	return paginate(r, out)
}

// checkBody applies GitHub's validation of a comment or issue body.
func checkBody(resource string, body string) *response {
	if utf8.RuneCountInString(body) > bodyLimit {
		res := invalid(resource, "body", fmt.Sprintf("body is too long (maximum is %d characters)", bodyLimit))
		return &res
	}
	return nil
}

func (s *Server) createComment(r *request) response {
	rp, n, ok := s.number(r)
	if !ok {
		return notFound()
	}
	if strings.TrimSpace(r.str("body")) == "" {
		return invalid("IssueComment", "body", "body can't be blank")
	}
	if res := checkBody("IssueComment", r.str("body")); res != nil {
		return *res
	}
	c := s.addComment(rp, n, r.login, r.str("body"))
	return reply(http.StatusCreated, s.commentJSON(rp, n, c))
}

func (s *Server) editComment(r *request) response {
	rp := s.repo(r)
	if rp == nil {
		return notFound()
	}
	id, _ := strconv.ParseInt(r.seg[5], 10, 64)
	for n, cs := range rp.comments {
		for _, c := range cs {
			if c.ID != id {
				continue
			}
			if !strings.EqualFold(c.User, r.login) {
				return message(http.StatusForbidden, "You cannot edit a comment someone else wrote")
			}
			if res := checkBody("IssueComment", r.str("body")); res != nil {
				return *res
			}
			c.Body, c.UpdatedAt = r.str("body"), s.now()
			return reply(http.StatusOK, s.commentJSON(rp, n, c))
		}
	}
	return notFound()
}

// createStatus follows GitHub: every call adds a status; the newest of a
// context is the commit's.
func (s *Server) createStatus(r *request) response {
	rp := s.repo(r)
	if rp == nil {
		return notFound()
	}
	state := r.str("state")
	switch {
	case !slices.Contains([]string{"error", "failure", "pending", "success"}, state):
		return invalid("Status", "state", "state is not included in the list")
	case utf8.RuneCountInString(r.str("description")) > 140:
		return invalid("Status", "description", "description is too long (maximum is 140 characters)")
	case r.str("target_url") != "" && !strings.HasPrefix(r.str("target_url"), "http://") && !strings.HasPrefix(r.str("target_url"), "https://"):
		return invalid("Status", "target_url", "target_url must use http(s) scheme")
	}
	st := &Status{ID: s.id(), SHA: r.seg[4], Context: cmp.Or(r.str("context"), "default"), State: state,
		Description: r.str("description"), TargetURL: r.str("target_url"), Creator: r.login}
	rp.statuses[st.SHA] = append(rp.statuses[st.SHA], st)
	return reply(http.StatusCreated, map[string]any{
		"id": st.ID, "state": st.State, "context": st.Context, "description": st.Description,
		"target_url": st.TargetURL, "creator": s.userJSON(st.Creator),
	})
}

// setCheck applies a check run's fields from a request, as GitHub
// validates them.
func setCheck(c *CheckRun, r *request) *response {
	fail := func(field, msg string) *response { res := invalid("CheckRun", field, msg); return &res }
	if r.has("status") {
		c.Status = r.str("status")
	}
	if r.has("conclusion") {
		c.Conclusion = r.str("conclusion")
	}
	if r.has("details_url") {
		c.DetailsURL = r.str("details_url")
	}
	if out := r.obj("output"); out != nil {
		title, _ := out["title"].(string)
		summary, _ := out["summary"].(string)
		if title == "" || summary == "" {
			return fail("output", "output needs a title and a summary")
		}
		if utf8.RuneCountInString(summary) > bodyLimit-1 {
			return fail("output", "summary is too long (maximum is 65535 characters)")
		}
		c.Title, c.Summary = title, summary
	}
	switch {
	case !slices.Contains([]string{"queued", "in_progress", "completed"}, c.Status):
		return fail("status", "status is not included in the list")
	case c.Status == "completed" && !slices.Contains([]string{"success", "failure", "neutral", "cancelled", "skipped", "timed_out", "action_required"}, c.Conclusion):
		return fail("conclusion", "conclusion is required when the status is completed")
	case c.Status != "completed":
		c.Conclusion = ""
	}
	return nil
}

func (s *Server) createCheckRun(r *request) response {
	rp := s.repo(r)
	switch {
	case rp == nil:
		return notFound()
	case r.installation == 0:
		return message(http.StatusForbidden, "You must authenticate via a GitHub App.")
	case r.str("name") == "" || len(r.str("head_sha")) != 40:
		return invalid("CheckRun", "head_sha", "name and head_sha are required")
	}
	c := &CheckRun{ID: s.id(), Name: r.str("name"), HeadSHA: r.str("head_sha"), Status: "queued", AppID: s.app.ID}
	if res := setCheck(c, r); res != nil {
		return *res
	}
	rp.checks = append(rp.checks, c)
	return reply(http.StatusCreated, s.checkJSON(rp, c))
}

func (s *Server) updateCheckRun(r *request) response {
	rp := s.repo(r)
	if rp == nil || r.installation == 0 {
		return notFound()
	}
	id, _ := strconv.ParseInt(r.seg[4], 10, 64)
	for _, c := range rp.checks {
		if c.ID == id {
			next := *c
			if res := setCheck(&next, r); res != nil {
				return *res
			}
			*c = next
			return reply(http.StatusOK, s.checkJSON(rp, c))
		}
	}
	return notFound()
}

// listCheckRuns lists the check runs of a commit, newest first, filtered
// by check_name and app_id; filter=latest (the default) keeps the newest
// of each name.
func (s *Server) listCheckRuns(r *request) response {
	rp := s.repo(r)
	if rp == nil {
		return notFound()
	}
	out := []map[string]any{}
	seen := map[string]bool{}
	for i := len(rp.checks) - 1; i >= 0; i-- {
		c := rp.checks[i]
		switch {
		case c.HeadSHA != r.seg[4]:
		case r.has("check_name") && c.Name != r.str("check_name"):
		case r.has("app_id") && strconv.FormatInt(c.AppID, 10) != r.str("app_id"):
		case r.str("filter") != "all" && seen[c.Name]:
		default:
			seen[c.Name] = true
			out = append(out, s.checkJSON(rp, c))
		}
	}
	return reply(http.StatusOK, map[string]any{"total_count": len(out), "check_runs": out})
}

// commitPulls follows GitHub's "pull requests associated with a commit":
// those whose head or merge commit it is, in the list's shape (no merged,
// mergeable or mergeable_state; merged_at says whether it was merged).
func (s *Server) commitPulls(r *request) response {
	rp := s.repo(r)
	if rp == nil {
		return notFound()
	}
	sha := r.seg[4]
	var prs []*PullRequest
	for _, pr := range rp.pulls {
		if pr.HeadSHA == sha || pr.MergeCommitSHA == sha {
			prs = append(prs, pr)
		}
	}
	slices.SortFunc(prs, func(a, b *PullRequest) int { return cmp.Compare(a.Number, b.Number) })
	out := []map[string]any{}
	for _, pr := range prs {
		m := s.pullJSON(rp, pr)
		for _, k := range []string{"merged", "mergeable", "mergeable_state", "comments", "commits"} {
			delete(m, k)
		}
		out = append(out, m)
	}
	return paginate(r, out)
}

package fakegitlab

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

func (s *Server) listIssues(r *request) response {
	p := s.project(r.seg[1])
	if p == nil {
		return notFound("Project")
	}
	state := cmp.Or(r.str("state"), "all")
	labels := r.list("labels")
	var out []*Issue
	for _, is := range p.issues {
		switch {
		case state != "all" && is.State != state:
		case r.has("author_id") && strconv.FormatInt(s.user(is.Author).ID, 10) != r.str("author_id"):
		case r.has("author_username") && !strings.EqualFold(is.Author, r.str("author_username")):
		case r.has("search") && !strings.Contains(is.Title+"\n"+is.Description, r.str("search")):
		case !containsAll(is.Labels, labels):
		default:
			out = append(out, is)
		}
	}
	slices.SortStableFunc(out, func(a, b *Issue) int {
		c := cmp.Compare(a.ID, b.ID)
		if r.str("sort") == "asc" {
			return c
		}
		return -c
	})
	page := make([]map[string]any, 0, len(out))
	for _, is := range out {
		page = append(page, s.issueJSON(p, is))
	}
	return paginate(r, page)
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

func (s *Server) createIssue(r *request) response {
	p := s.project(r.seg[1])
	if p == nil {
		return notFound("Project")
	}
	if strings.TrimSpace(r.str("title")) == "" {
		return reply(http.StatusBadRequest, map[string]any{"error": "title is missing"})
	}
	is := s.addIssue(p, Issue{Title: r.str("title"), Description: r.str("description"),
		Labels: r.list("labels"), Author: r.user.Username})
	return reply(http.StatusCreated, s.issueJSON(p, is))
}

func (s *Server) issue(r *request) (*project, *Issue, *response) {
	p := s.project(r.seg[1])
	if p == nil {
		res := notFound("Project")
		return nil, nil, &res
	}
	iid, _ := strconv.ParseInt(r.seg[3], 10, 64)
	for _, is := range p.issues {
		if is.IID == iid {
			return p, is, nil
		}
	}
	res := notFound("Issue")
	return nil, nil, &res
}

func (s *Server) getIssue(r *request) response {
	p, is, res := s.issue(r)
	if res != nil {
		return *res
	}
	return reply(http.StatusOK, s.issueJSON(p, is))
}

func (s *Server) updateIssue(r *request) response {
	p, is, res := s.issue(r)
	if res != nil {
		return *res
	}
	if r.has("title") {
		if strings.TrimSpace(r.str("title")) == "" {
			return message(http.StatusBadRequest, "400 Bad request - Title can't be blank")
		}
		is.Title = r.str("title")
	}
	if r.has("description") {
		is.Description = r.str("description")
	}
	if r.has("labels") {
		is.Labels = r.list("labels")
	}
	switch r.str("state_event") {
	case "close":
		is.State = "closed"
	case "reopen":
		is.State = "opened"
	}
	return reply(http.StatusOK, s.issueJSON(p, is))
}

// getGroupMember answers GET /groups/:id/members/all/:user_id: a member of
// the group or of any parent group, with the highest access level.
func (s *Server) getGroupMember(r *request) response {
	var g *group
	for _, c := range s.groups {
		if c.path == r.seg[1] || strconv.FormatInt(c.id, 10) == r.seg[1] {
			g = c
		}
	}
	if g == nil {
		return notFound("Group")
	}
	var user *User
	for _, u := range s.users {
		if strconv.FormatInt(u.ID, 10) == r.seg[4] {
			user = u
		}
	}
	level := 0
	if user != nil {
		parts := strings.Split(g.path, "/")
		for i := range parts {
			if anc, ok := s.groups[strings.Join(parts[:i+1], "/")]; ok {
				level = max(level, anc.members[strings.ToLower(user.Username)])
			}
		}
	}
	if level == 0 {
		return message(http.StatusNotFound, "404 Not found")
	}
	m := s.userJSON(user.Username)
	m["access_level"] = level
	m["expires_at"] = nil
	m["membership_state"] = "active"
	return reply(http.StatusOK, m)
}

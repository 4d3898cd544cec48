package fakegithub

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// listIssues follows GitHub: pull requests are issues too, and carry a
// pull_request key; state defaults to open, direction to desc.
func (s *Server) listIssues(r *request) response {
	rp := s.repo(r)
	if rp == nil {
		return notFound()
	}
	state := r.str("state")
	if state == "" {
		state = "open"
	}
	labels := r.strings("labels")
	var out []map[string]any
	for n := int64(1); n <= rp.next; n++ {
		var m map[string]any
		var st, by string
		var has []string
		switch {
		case rp.issues[n] != nil:
			is := rp.issues[n]
			m, st, by, has = s.issueJSON(rp, is), is.State, is.User, is.Labels
		case rp.pulls[n] != nil:
			pr := rp.pulls[n]
			m, st, by = s.pullIssueJSON(rp, pr), pr.State, pr.Author
		default:
			continue
		}
		switch {
		case state != "all" && st != state:
		case r.has("creator") && !strings.EqualFold(by, r.str("creator")):
		case !containsAll(has, labels):
		default:
			out = append(out, m)
		}
	}
	if r.str("direction") != "asc" {
		slices.Reverse(out)
	}
	if out == nil {
		out = []map[string]any{}
	}
	return paginate(r, out)
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
	rp := s.repo(r)
	if rp == nil {
		return notFound()
	}
	if strings.TrimSpace(r.str("title")) == "" {
		return invalid("Issue", "title", "title can't be blank")
	}
	if res := checkBody("Issue", r.str("body")); res != nil {
		return *res
	}
	is := s.addIssue(rp, Issue{Title: r.str("title"), Body: r.str("body"), Labels: r.strings("labels"), User: r.login})
	return reply(http.StatusCreated, s.issueJSON(rp, is))
}

func (s *Server) editIssue(r *request) response {
	rp := s.repo(r)
	if rp == nil {
		return notFound()
	}
	n, _ := strconv.ParseInt(r.seg[4], 10, 64)
	is := rp.issues[n]
	if is == nil {
		return notFound()
	}
	if r.has("title") && strings.TrimSpace(r.str("title")) == "" {
		return invalid("Issue", "title", "title can't be blank")
	}
	if res := checkBody("Issue", r.str("body")); res != nil {
		return *res
	}
	if st := r.str("state"); st != "" && st != "open" && st != "closed" {
		return invalid("Issue", "state", "state is not included in the list")
	}
	if r.has("title") {
		is.Title = r.str("title")
	}
	if r.has("body") {
		is.Body = r.str("body")
	}
	if r.has("state") {
		is.State = r.str("state")
	}
	if r.has("labels") {
		is.Labels = r.strings("labels")
	}
	return reply(http.StatusOK, s.issueJSON(rp, is))
}

// teamMembership answers GET /orgs/:org/teams/:slug/memberships/:username:
// 404 for an unknown team or a non-member, else the membership with its
// state (active, or pending for an invitation not accepted).
func (s *Server) teamMembership(r *request) response {
	team := s.teams[strings.ToLower(r.seg[1]+"/"+r.seg[3])]
	state, ok := team[strings.ToLower(r.seg[5])]
	if !ok {
		return notFound()
	}
	return reply(http.StatusOK, map[string]any{
		"url":  s.URL + "/orgs/" + r.seg[1] + "/teams/" + r.seg[3] + "/memberships/" + r.seg[5],
		"role": "member", "state": state,
	})
}

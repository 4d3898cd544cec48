package fakegitlab

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// noteLimit is GitLab's maximum note length, in characters.
const noteLimit = 1_000_000

// handler answers one endpoint. It runs with s.mu held.
type handler func(s *Server, r *request) response

// routes are the endpoints the fake serves, relative to /api/v4.
var routes = []struct {
	method, pattern string
	h               handler
}{
	{"GET", "user", (*Server).currentUser},
	{"GET", "users", (*Server).listUsers},
	{"GET", "projects/:id/merge_requests/:iid", (*Server).getMergeRequest},
	{"GET", "projects/:id/merge_requests/:iid/approvals", (*Server).getApprovals},
	{"PUT", "projects/:id/merge_requests/:iid/merge", (*Server).merge},
	{"GET", "projects/:id/merge_requests/:iid/notes", (*Server).listNotes},
	{"POST", "projects/:id/merge_requests/:iid/notes", (*Server).createNote},
	{"GET", "projects/:id/merge_requests/:iid/notes/:note_id", (*Server).getNote},
	{"PUT", "projects/:id/merge_requests/:iid/notes/:note_id", (*Server).updateNote},
	{"POST", "projects/:id/statuses/:sha", (*Server).setStatus},
	{"GET", "projects/:id/repository/commits/:sha/statuses", (*Server).listStatuses},
	{"GET", "projects/:id/repository/commits/:sha/merge_requests", (*Server).commitMergeRequests},
	{"GET", "projects/:id/issues", (*Server).listIssues},
	{"POST", "projects/:id/issues", (*Server).createIssue},
	{"GET", "projects/:id/issues/:issue_iid", (*Server).getIssue},
	{"PUT", "projects/:id/issues/:issue_iid", (*Server).updateIssue},
	{"GET", "groups/:id/members/all/:user_id", (*Server).getGroupMember},
}

// route finds the handler for method and path segments, and names the
// route for Call.Route.
func (s *Server) route(method string, seg []string) (handler, string) {
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

// mergeRequest resolves :id and :iid.
func (s *Server) mergeRequest(r *request) (*project, *MergeRequest, *response) {
	p := s.project(r.seg[1])
	if p == nil {
		res := notFound("Project")
		return nil, nil, &res
	}
	iid, _ := strconv.ParseInt(r.seg[3], 10, 64)
	mr := p.mrs[iid]
	if mr == nil {
		res := notFound("Merge Request")
		return nil, nil, &res
	}
	return p, mr, nil
}

func (s *Server) currentUser(r *request) response {
	return reply(http.StatusOK, s.userJSON(r.user.Username))
}

func (s *Server) listUsers(r *request) response {
	var out []map[string]any
	if u, ok := s.users[strings.ToLower(r.str("username"))]; ok {
		out = append(out, s.userJSON(u.Username))
	}
	return paginate(r, out)
}

func (s *Server) getMergeRequest(r *request) response {
	p, mr, res := s.mergeRequest(r)
	if res != nil {
		return *res
	}
	return reply(http.StatusOK, s.mrJSON(p, mr))
}

func (s *Server) getApprovals(r *request) response {
	p, mr, res := s.mergeRequest(r)
	if res != nil {
		return *res
	}
	var by []map[string]any
	for _, u := range mr.ApprovedBy {
		by = append(by, map[string]any{"user": s.userJSON(u)})
	}
	if by == nil {
		by = []map[string]any{}
	}
	return reply(http.StatusOK, map[string]any{
		"id": mr.ID, "iid": mr.IID, "project_id": p.ID, "title": mr.Title, "state": mr.State,
		"merge_status":       legacyMergeStatus(mr),
		"approved":           approved(mr),
		"approvals_required": mr.ApprovalsRequired,
		"approvals_left":     max(mr.ApprovalsRequired-len(mr.ApprovedBy), 0),
		"approved_by":        by,
		"user_has_approved":  slices.Contains(mr.ApprovedBy, r.user.Username),
		"user_can_approve":   true,
	})
}

// approved follows GitLab Premium: the rules are met when enough people
// approved, which is at once true when no approval is required.
func approved(mr *MergeRequest) bool { return len(mr.ApprovedBy) >= mr.ApprovalsRequired }

// detailedStatus derives GitLab's detailed_merge_status.
func detailedStatus(mr *MergeRequest) string {
	switch {
	case mr.DetailedMergeStatus != "":
		return mr.DetailedMergeStatus
	case mr.State != "opened":
		return "not_open"
	case mr.Draft:
		return "draft_status"
	case mr.HasConflicts:
		return "conflict"
	case !approved(mr):
		return "not_approved"
	}
	return "mergeable"
}

func legacyMergeStatus(mr *MergeRequest) string {
	if mr.HasConflicts {
		return "cannot_be_merged"
	}
	return "can_be_merged"
}

// merge follows GitLab's checks in order: 405 when the merge request is
// not open or not in a mergeable state, 422 when the branch cannot be
// merged, 409 when the sha parameter is not the head.
func (s *Server) merge(r *request) response {
	p, mr, res := s.mergeRequest(r)
	if res != nil {
		return *res
	}
	status := detailedStatus(mr)
	switch {
	case mr.State != "opened" || (status != "mergeable" && status != "conflict"):
		return message(http.StatusMethodNotAllowed, "405 Method Not Allowed")
	case mr.HasConflicts:
		return message(http.StatusUnprocessableEntity, "Branch cannot be merged")
	case r.has("sha") && r.str("sha") != mr.SHA:
		return message(http.StatusConflict, "SHA does not match HEAD of source branch: "+mr.SHA)
	}
	sha := SHA(fmt.Sprintf("merge %s!%d %s", p.Path, mr.IID, mr.SHA))
	if s.onMerge != nil {
		got, err := s.onMerge(p.Path, *mr)
		if err != nil {
			return message(http.StatusUnprocessableEntity, "Branch cannot be merged: "+err.Error())
		}
		sha = got
	}
	mr.State, mr.MergeCommitSHA = "merged", sha
	return reply(http.StatusOK, s.mrJSON(p, mr))
}

func (s *Server) listNotes(r *request) response {
	p, mr, res := s.mergeRequest(r)
	if res != nil {
		return *res
	}
	notes := slices.Clone(p.notes[mr.IID])
	slices.SortStableFunc(notes, func(a, b *Note) int {
		ta, tb := a.CreatedAt, b.CreatedAt
		if r.str("order_by") == "updated_at" {
			ta, tb = a.UpdatedAt, b.UpdatedAt
		}
		c := cmp.Or(ta.Compare(tb), cmp.Compare(a.ID, b.ID))
		if r.str("sort") == "asc" {
			return c
		}
		return -c
	})
	out := make([]map[string]any, 0, len(notes))
	for _, n := range notes {
		out = append(out, s.noteJSON(p, mr, n))
	}
	return paginate(r, out)
}

func (s *Server) findNote(r *request) (*project, *MergeRequest, *Note, *response) {
	p, mr, res := s.mergeRequest(r)
	if res != nil {
		return nil, nil, nil, res
	}
	id, _ := strconv.ParseInt(r.seg[5], 10, 64)
	for _, n := range p.notes[mr.IID] {
		if n.ID == id {
			return p, mr, n, nil
		}
	}
	nf := notFound("Note")
	return nil, nil, nil, &nf
}

func (s *Server) getNote(r *request) response {
	p, mr, n, res := s.findNote(r)
	if res != nil {
		return *res
	}
	return reply(http.StatusOK, s.noteJSON(p, mr, n))
}

// checkNoteBody applies GitLab's validation of a note body.
func checkNoteBody(r *request) *response {
	body := r.str("body")
	var res response
	switch {
	case strings.TrimSpace(body) == "":
		res = message(http.StatusBadRequest, "400 Bad request - Note {:note=>[\"can't be blank\"]}")
	case utf8.RuneCountInString(body) > noteLimit:
		res = message(http.StatusBadRequest, fmt.Sprintf("400 Bad request - Note {:note=>[\"is too long (maximum is %d characters)\"]}", noteLimit))
	default:
		return nil
	}
	return &res
}

func (s *Server) createNote(r *request) response {
	p, mr, res := s.mergeRequest(r)
	if res != nil {
		return *res
	}
	if res := checkNoteBody(r); res != nil {
		return *res
	}
	n := s.addNote(p, mr.IID, r.user.Username, r.str("body"))
	return reply(http.StatusCreated, s.noteJSON(p, mr, n))
}

func (s *Server) updateNote(r *request) response {
	p, mr, n, res := s.findNote(r)
	if res != nil {
		return *res
	}
	if n.Author != r.user.Username {
		return message(http.StatusForbidden, "403 Forbidden")
	}
	if res := checkNoteBody(r); res != nil {
		return *res
	}
	n.Body, n.UpdatedAt = r.str("body"), s.now()
	return reply(http.StatusOK, s.noteJSON(p, mr, n))
}

// statusEvents are the state machine events GitLab names in its
// "Cannot transition status" errors.
var statusEvents = map[string]string{
	"pending": "enqueue", "running": "run", "success": "success",
	"failed": "drop", "canceled": "cancel", "skipped": "skip",
}

// setStatus follows GitLab: a status still pending or running with the
// same name is moved to the new state in place, and moving it to the
// state it has is refused with 400; a finished one is followed by a new
// status.
func (s *Server) setStatus(r *request) response {
	p := s.project(r.seg[1])
	if p == nil {
		return notFound("Project")
	}
	sha, state := r.seg[3], r.str("state")
	event, ok := statusEvents[state]
	if !ok {
		return reply(http.StatusBadRequest, map[string]any{"error": "state does not have a valid value"})
	}
	if u := r.str("target_url"); u != "" && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		return message(http.StatusBadRequest, "400 Bad request - target_url is blocked: Only allowed schemes are http, https")
	}
	name := cmp.Or(r.str("name"), r.str("context"), "default")
	var cur *Status
	for _, st := range p.statuses[sha] {
		if st.Name == name {
			cur = st
		}
	}
	if cur == nil || (cur.State != "pending" && cur.State != "running") {
		s.ids.status++
		cur = &Status{ID: s.ids.status, SHA: sha, Name: name, Author: r.user.Username, CreatedAt: s.now()}
		p.statuses[sha] = append(p.statuses[sha], cur)
	} else if cur.State == state || (cur.State == "running" && state == "pending") {
		return message(http.StatusBadRequest, fmt.Sprintf(
			"Cannot transition status via :%s from :%s (Reason(s): Status cannot transition via \"%s\")", event, cur.State, event))
	}
	cur.State = state
	if r.has("description") {
		cur.Description = r.str("description")
	}
	if r.has("target_url") {
		cur.TargetURL = r.str("target_url")
	}
	return reply(http.StatusCreated, s.statusJSON(cur))
}

func (s *Server) listStatuses(r *request) response {
	p := s.project(r.seg[1])
	if p == nil {
		return notFound("Project")
	}
	out := []map[string]any{}
	for _, st := range p.statuses[r.seg[4]] {
		out = append(out, s.statusJSON(st))
	}
	return paginate(r, out)
}

// commitMergeRequests follows GitLab's "merge requests related to a
// commit": those whose head is the commit (the fake knows no other commits
// of a merge request) and those it is the merge commit of, oldest first.
func (s *Server) commitMergeRequests(r *request) response {
	p := s.project(r.seg[1])
	if p == nil {
		return notFound("Project")
	}
	sha := r.seg[4]
	var mrs []*MergeRequest
	for _, mr := range p.mrs {
		if mr.SHA == sha || mr.MergeCommitSHA == sha {
			mrs = append(mrs, mr)
		}
	}
	slices.SortFunc(mrs, func(a, b *MergeRequest) int { return cmp.Compare(a.IID, b.IID) })
	out := []map[string]any{}
	for _, mr := range mrs {
		out = append(out, s.mrJSON(p, mr))
	}
	return reply(http.StatusOK, out)
}

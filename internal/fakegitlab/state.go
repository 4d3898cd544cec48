package fakegitlab

import (
	"cmp"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Access levels GitLab uses for memberships.
const (
	Guest      = 10
	Reporter   = 20
	Developer  = 30
	Maintainer = 40
	Owner      = 50
)

// User is a GitLab user. State is "active" or "blocked".
type User struct {
	ID       int64
	Username string
	State    string
}

// Project is a GitLab project.
type Project struct {
	ID            int64
	Path          string // path_with_namespace, e.g. "acme/infra/live"
	DefaultBranch string // "main" when empty
	// CloneURL is the git_http_url put in webhooks; the server URL plus
	// Path + ".git" when empty. Tests set it to a file:// repository.
	CloneURL string
}

// MergeRequest is a merge request's state in the fake.
type MergeRequest struct {
	IID          int64
	ID           int64 // global ID, assigned
	Title        string
	Author       string
	State        string // opened, closed, merged, locked
	SourceBranch string
	TargetBranch string
	SHA          string // head commit
	// SourceProjectID is the project the source branch lives in; 0 means
	// the merge request's own project (not a fork).
	SourceProjectID int64
	Draft           bool
	HasConflicts    bool
	// DetailedMergeStatus overrides the status the fake derives (draft,
	// conflicts, approvals, state) when set, e.g. "ci_still_running".
	DetailedMergeStatus string
	ApprovalsRequired   int
	ApprovedBy          []string
	MergeCommitSHA      string
	Labels              []string
}

// Note is a comment on a merge request.
type Note struct {
	ID        int64
	Author    string
	Body      string
	System    bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Status is one commit status.
type Status struct {
	ID          int64
	SHA         string
	Name        string
	State       string
	Description string
	TargetURL   string
	Author      string
	CreatedAt   time.Time
}

// Issue is a project issue.
type Issue struct {
	IID         int64
	ID          int64
	Title       string
	Description string
	State       string // opened or closed
	Labels      []string
	Author      string
	CreatedAt   time.Time
}

// project is a Project with everything in it.
type project struct {
	Project
	mrs      map[int64]*MergeRequest
	notes    map[int64][]*Note
	statuses map[string][]*Status
	issues   []*Issue
	nextMR   int64
	nextIss  int64
}

type group struct {
	id      int64
	path    string
	members map[string]int
}

// SHA returns a stable fake commit SHA (40 hex digits) for seed.
func SHA(seed string) string {
	sum := sha1.Sum([]byte(seed))
	return hex.EncodeToString(sum[:])
}

// AddUser adds a user (or returns the existing one).
func (s *Server) AddUser(username string) User {
	s.mu.Lock()
	defer s.mu.Unlock()
	return *s.user(username)
}

// BlockUser marks a user blocked.
func (s *Server) BlockUser(username string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.user(username).State = "blocked"
}

// user returns the user named username, creating it. Callers hold s.mu.
func (s *Server) user(username string) *User {
	if u, ok := s.users[strings.ToLower(username)]; ok {
		return u
	}
	s.ids.user++
	u := &User{ID: s.ids.user, Username: username, State: "active"}
	s.users[strings.ToLower(username)] = u
	return u
}

// AddProject adds a project and returns it with its ID (and defaults)
// filled in.
func (s *Server) AddProject(p Project) Project {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.Path == "" {
		panic("fakegitlab: AddProject needs a Path")
	}
	if p.ID == 0 {
		s.ids.project++
		p.ID = s.ids.project
	}
	if p.DefaultBranch == "" {
		p.DefaultBranch = "main"
	}
	if p.CloneURL == "" {
		p.CloneURL = s.URL + "/" + p.Path + ".git"
	}
	s.projects[p.ID] = &project{Project: p, mrs: map[int64]*MergeRequest{},
		notes: map[int64][]*Note{}, statuses: map[string][]*Status{}}
	return p
}

// Project returns the project at path (or numeric ID).
func (s *Server) Project(path string) (Project, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.project(path); p != nil {
		return p.Project, true
	}
	return Project{}, false
}

// project finds a project by numeric ID or path. Callers hold s.mu.
func (s *Server) project(id string) *project {
	for _, p := range s.projects {
		if fmt.Sprint(p.ID) == id || p.Path == id {
			return p
		}
	}
	return nil
}

// mustProject is project for the seeding methods, which panic on a
// missing project: that is a bug in the test.
func (s *Server) mustProject(path string) *project {
	p := s.project(path)
	if p == nil {
		panic("fakegitlab: no project " + path)
	}
	return p
}

// AddMergeRequest adds a merge request to the project at path. Zero
// fields get defaults: the next IID, state "opened", author "alice",
// source branch "feature-IID", the project's default branch as target and
// a fake head SHA.
func (s *Server) AddMergeRequest(path string, mr MergeRequest) MergeRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.mustProject(path)
	if mr.IID == 0 {
		mr.IID = p.nextMR + 1
	}
	p.nextMR = max(p.nextMR, mr.IID)
	s.ids.mr++
	mr.ID = s.ids.mr
	mr.State = cmp.Or(mr.State, "opened")
	mr.Author = cmp.Or(mr.Author, "alice")
	mr.Title = cmp.Or(mr.Title, fmt.Sprintf("Change %d", mr.IID))
	mr.SourceBranch = cmp.Or(mr.SourceBranch, fmt.Sprintf("feature-%d", mr.IID))
	mr.TargetBranch = cmp.Or(mr.TargetBranch, p.DefaultBranch)
	mr.SHA = cmp.Or(mr.SHA, SHA(fmt.Sprintf("%s!%d", path, mr.IID)))
	s.user(mr.Author)
	for _, a := range mr.ApprovedBy {
		s.user(a)
	}
	mr.ApprovedBy = slices.Clone(mr.ApprovedBy)
	mr.Labels = slices.Clone(mr.Labels)
	p.mrs[mr.IID] = &mr
	return mr
}

// MergeRequest returns a merge request's current state.
func (s *Server) MergeRequest(path string, iid int64) (MergeRequest, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.project(path)
	if p == nil || p.mrs[iid] == nil {
		return MergeRequest{}, false
	}
	mr := *p.mrs[iid]
	mr.ApprovedBy = slices.Clone(mr.ApprovedBy)
	mr.Labels = slices.Clone(mr.Labels)
	return mr, true
}

// UpdateMergeRequest changes a merge request with fn (push a commit, mark
// draft, add conflicts, close...).
func (s *Server) UpdateMergeRequest(path string, iid int64, fn func(*MergeRequest)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	mr := s.mustProject(path).mrs[iid]
	if mr == nil {
		panic(fmt.Sprintf("fakegitlab: no merge request %s!%d", path, iid))
	}
	fn(mr)
}

// Approve records username's approval.
func (s *Server) Approve(path string, iid int64, username string) {
	s.UpdateMergeRequest(path, iid, func(mr *MergeRequest) {
		if !slices.Contains(mr.ApprovedBy, username) {
			mr.ApprovedBy = append(mr.ApprovedBy, username)
		}
	})
	s.AddUser(username)
}

// AddNote adds a note to a merge request, as GitLab would on a comment.
func (s *Server) AddNote(path string, iid int64, author, body string) Note {
	s.mu.Lock()
	defer s.mu.Unlock()
	return *s.addNote(s.mustProject(path), iid, author, body)
}

// addNote appends a note. Callers hold s.mu.
func (s *Server) addNote(p *project, iid int64, author, body string) *Note {
	s.user(author)
	s.ids.note++
	now := s.now()
	n := &Note{ID: s.ids.note, Author: author, Body: body, CreatedAt: now, UpdatedAt: now}
	p.notes[iid] = append(p.notes[iid], n)
	return n
}

// Notes returns a merge request's notes, oldest first.
func (s *Server) Notes(path string, iid int64) []Note {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Note
	for _, n := range s.mustProject(path).notes[iid] {
		out = append(out, *n)
	}
	return out
}

// Statuses returns every status set on sha, oldest first.
func (s *Server) Statuses(path, sha string) []Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Status
	for _, st := range s.mustProject(path).statuses[sha] {
		out = append(out, *st)
	}
	return out
}

// LatestStatus returns the newest status called name on sha.
func (s *Server) LatestStatus(path, sha, name string) (Status, bool) {
	all := s.Statuses(path, sha)
	for i := len(all) - 1; i >= 0; i-- {
		if all[i].Name == name {
			return all[i], true
		}
	}
	return Status{}, false
}

// AddIssue adds an issue; zero fields get defaults (next IID, "opened",
// author: the bot).
func (s *Server) AddIssue(path string, is Issue) Issue {
	s.mu.Lock()
	defer s.mu.Unlock()
	return *s.addIssue(s.mustProject(path), is)
}

// addIssue stores an issue. Callers hold s.mu.
func (s *Server) addIssue(p *project, is Issue) *Issue {
	p.nextIss++
	is.IID = p.nextIss
	s.ids.issue++
	is.ID = s.ids.issue
	is.State = cmp.Or(is.State, "opened")
	is.Author = cmp.Or(is.Author, s.Bot)
	is.Labels = slices.Clone(is.Labels)
	is.CreatedAt = s.now()
	s.user(is.Author)
	p.issues = append(p.issues, &is)
	return &is
}

// Issues returns a project's issues, oldest first.
func (s *Server) Issues(path string) []Issue {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Issue
	for _, is := range s.mustProject(path).issues {
		c := *is
		c.Labels = slices.Clone(is.Labels)
		out = append(out, c)
	}
	return out
}

// AddGroup adds a group by full path ("acme/platform").
func (s *Server) AddGroup(path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addGroup(path)
}

func (s *Server) addGroup(path string) *group {
	if g, ok := s.groups[path]; ok {
		return g
	}
	s.ids.group++
	g := &group{id: s.ids.group, path: path, members: map[string]int{}}
	s.groups[path] = g
	return g
}

// AddGroupMember makes username a member of group (created if needed)
// with an access level such as Developer.
func (s *Server) AddGroupMember(group, username string, level int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.user(username)
	s.addGroup(group).members[strings.ToLower(username)] = level
}

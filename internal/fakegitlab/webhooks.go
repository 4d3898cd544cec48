package fakegitlab

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"embed"
	"encoding/json"
	"fmt"
	"net/http"
	"path"
	"strings"
)

//go:embed testdata/*.json
var samples embed.FS

// Sample returns one of GitLab's sample webhook payloads, as client-go
// ships them: "merge_request", "note_merge_request", "service_merge_request"
// (an update with oldrev), "group_merge_request", "push", "note_issue",
// "note_commit", "note_snippet", "pipeline", "emoji_merge_request".
func Sample(name string) []byte {
	b, err := samples.ReadFile("testdata/" + name + ".json")
	if err != nil {
		panic("fakegitlab: no sample " + name)
	}
	return b
}

// Event header values of the hooks built here.
const (
	MergeRequestHookEvent = "Merge Request Hook"
	NoteHookEvent         = "Note Hook"
)

// Hook is a webhook payload ready to send.
type Hook interface {
	Event() string   // the X-Gitlab-Event header
	Payload() []byte // the JSON body
}

// MergeRequestHook is a Merge Request Hook: GitLab's sample payload with
// these fields put in. Zero fields keep the sample's value, except where
// noted.
type MergeRequestHook struct {
	Project Project
	IID     int64
	// Action is GitLab's object_attributes.action: open, reopen, update,
	// close, merge, approved, unapproved, approval, unapproval.
	Action string
	// OldRev is the previous head on an update with new commits; empty
	// removes the field, as GitLab does for other updates.
	OldRev       string
	HeadSHA      string
	SourceBranch string
	TargetBranch string
	// PreviousTargetBranch makes the update a retarget (changes.target_branch).
	PreviousTargetBranch string
	Title                string
	Description          string
	State                string
	Draft                bool // always put in
	User                 string
	// SourceProject is the fork the source branch lives in; zero means
	// Project (not a fork).
	SourceProject  Project
	MergeCommitSHA string
}

// Event implements Hook.
func (h MergeRequestHook) Event() string { return MergeRequestHookEvent }

// Payload implements Hook.
func (h MergeRequestHook) Payload() []byte {
	m := load("merge_request")
	setUser(m, h.User)
	setProject(m, h.Project)
	attrs := m["object_attributes"].(map[string]any)
	source := h.SourceProject
	if source.ID == 0 {
		source = h.Project
	}
	setIf(attrs, "iid", h.IID)
	setIf(attrs, "id", h.IID+1000)
	setIf(attrs, "action", h.Action)
	setIf(attrs, "title", h.Title)
	setIf(attrs, "description", h.Description)
	setIf(attrs, "state", h.State)
	setIf(attrs, "source_branch", h.SourceBranch)
	setIf(attrs, "target_branch", h.TargetBranch)
	setIf(attrs, "merge_commit_sha", h.MergeCommitSHA)
	attrs["draft"], attrs["work_in_progress"] = h.Draft, h.Draft
	if h.Project.ID != 0 {
		attrs["target_project_id"], attrs["source_project_id"] = h.Project.ID, source.ID
		attrs["target"], attrs["source"] = projectJSON(h.Project), projectJSON(source)
		attrs["url"] = fmt.Sprintf("%s/-/merge_requests/%d", webURL(h.Project), cmp.Or(h.IID, 1))
	}
	delete(attrs, "oldrev")
	setIf(attrs, "oldrev", h.OldRev)
	if h.HeadSHA != "" {
		c := attrs["last_commit"].(map[string]any)
		c["id"] = h.HeadSHA
		c["url"] = fmt.Sprintf("%s/-/commit/%s", webURL(source), h.HeadSHA)
	}
	if h.PreviousTargetBranch != "" {
		m["changes"] = map[string]any{"target_branch": map[string]any{
			"previous": h.PreviousTargetBranch, "current": attrs["target_branch"]}}
	}
	return marshal(m)
}

// NoteHook is a Note Hook on a merge request: GitLab's sample payload with
// these fields put in. Zero fields keep the sample's value.
type NoteHook struct {
	Project Project
	IID     int64
	NoteID  int64
	Body    string
	User    string
	// Action is "create" (a new comment) or "update" (an edit).
	Action        string
	System        bool
	HeadSHA       string
	SourceBranch  string
	TargetBranch  string
	Title         string
	State         string
	SourceProject Project // the fork, if any
}

// Event implements Hook.
func (h NoteHook) Event() string { return NoteHookEvent }

// Payload implements Hook.
func (h NoteHook) Payload() []byte {
	m := load("note_merge_request")
	setUser(m, h.User)
	setProject(m, h.Project)
	setIf(m, "project_id", h.Project.ID)
	attrs := m["object_attributes"].(map[string]any)
	setIf(attrs, "id", h.NoteID)
	setIf(attrs, "note", h.Body)
	setIf(attrs, "action", h.Action)
	setIf(attrs, "project_id", h.Project.ID)
	attrs["system"] = h.System
	mr := m["merge_request"].(map[string]any)
	source := h.SourceProject
	if source.ID == 0 {
		source = h.Project
	}
	setIf(mr, "iid", h.IID)
	setIf(mr, "id", h.IID+1000)
	setIf(attrs, "noteable_id", h.IID+1000)
	setIf(mr, "title", h.Title)
	setIf(mr, "state", h.State)
	setIf(mr, "source_branch", h.SourceBranch)
	setIf(mr, "target_branch", h.TargetBranch)
	if h.Project.ID != 0 {
		mr["target_project_id"], mr["source_project_id"] = h.Project.ID, source.ID
		mr["target"], mr["source"] = projectJSON(h.Project), projectJSON(source)
		mrURL := fmt.Sprintf("%s/-/merge_requests/%d", webURL(h.Project), cmp.Or(h.IID, 1))
		mr["url"] = mrURL
		attrs["url"] = fmt.Sprintf("%s#note_%d", mrURL, h.NoteID)
	}
	if h.HeadSHA != "" {
		mr["last_commit"].(map[string]any)["id"] = h.HeadSHA
	}
	return marshal(m)
}

// MergeRequestHook builds the hook GitLab would send for action on a
// merge request of the fake, from its current state.
func (s *Server) MergeRequestHook(projectPath string, iid int64, action, user string) MergeRequestHook {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.mustProject(projectPath)
	mr := p.mrs[iid]
	if mr == nil {
		panic(fmt.Sprintf("fakegitlab: no merge request %s!%d", projectPath, iid))
	}
	h := MergeRequestHook{Project: p.Project, IID: iid, Action: action, HeadSHA: mr.SHA,
		SourceBranch: mr.SourceBranch, TargetBranch: mr.TargetBranch, Title: mr.Title,
		State: mr.State, Draft: mr.Draft, User: user, MergeCommitSHA: mr.MergeCommitSHA}
	if mr.SourceProjectID != 0 && mr.SourceProjectID != p.ID {
		if src, ok := s.projects[mr.SourceProjectID]; ok {
			h.SourceProject = src.Project
		} else {
			h.SourceProject = Project{ID: mr.SourceProjectID, Path: "fork/" + path.Base(p.Path)}
		}
	}
	return h
}

// Comment adds user's comment to a merge request of the fake and returns
// the Note Hook GitLab would send for it.
func (s *Server) Comment(projectPath string, iid int64, user, body string) NoteHook {
	mh := s.MergeRequestHook(projectPath, iid, "", user)
	n := s.AddNote(projectPath, iid, user, body)
	return NoteHook{Project: mh.Project, IID: iid, NoteID: n.ID, Body: body, User: user,
		Action: "create", HeadSHA: mh.HeadSHA, SourceBranch: mh.SourceBranch,
		TargetBranch: mh.TargetBranch, Title: mh.Title, State: mh.State, SourceProject: mh.SourceProject}
}

// NewRequest builds the POST GitLab sends to url for h: X-Gitlab-Event,
// X-Gitlab-Token (secret), a fresh X-Gitlab-Event-UUID and the
// Idempotency-Key key (a fresh one when empty; GitLab keeps it on retries).
func NewRequest(ctx context.Context, url, secret string, h Hook, key string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(h.Payload()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "GitLab/18.0.0")
	req.Header.Set("X-Gitlab-Event", h.Event())
	req.Header.Set("X-Gitlab-Event-UUID", rand.Text())
	req.Header.Set("X-Gitlab-Instance", "https://gitlab.example.com")
	if secret != "" {
		req.Header.Set("X-Gitlab-Token", secret)
	}
	req.Header.Set("Idempotency-Key", cmp.Or(key, rand.Text()))
	return req, nil
}

// Deliver sends h to url as GitLab would, as a new event.
func Deliver(ctx context.Context, url, secret string, h Hook) (*http.Response, error) {
	req, err := NewRequest(ctx, url, secret, h, "")
	if err != nil {
		return nil, err
	}
	return http.DefaultClient.Do(req)
}

// load decodes a sample into a generic map.
func load(name string) map[string]any {
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(Sample(name)))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		panic("fakegitlab: sample " + name + ": " + err.Error())
	}
	return m
}

func marshal(m map[string]any) []byte {
	b, err := json.Marshal(m)
	if err != nil {
		panic("fakegitlab: " + err.Error())
	}
	return b
}

// setIf sets m[key] unless v is the zero value.
func setIf[T comparable](m map[string]any, key string, v T) {
	var zero T
	if v != zero {
		m[key] = v
	}
}

func setUser(m map[string]any, username string) {
	if username == "" {
		return
	}
	u := m["user"].(map[string]any)
	u["username"], u["name"] = username, username
	u["email"] = username + "@example.com"
}

func setProject(m map[string]any, p Project) {
	if p.ID == 0 {
		return
	}
	m["project"] = projectJSON(p)
	m["repository"] = map[string]any{"name": path.Base(p.Path), "url": cloneURL(p),
		"description": "", "homepage": webURL(p)}
}

// projectJSON is a project as webhooks show it.
func projectJSON(p Project) map[string]any {
	ns := p.Path
	if i := strings.LastIndex(ns, "/"); i >= 0 {
		ns = ns[:i]
	}
	return map[string]any{
		"id": p.ID, "name": path.Base(p.Path), "description": "", "avatar_url": nil,
		"web_url": webURL(p), "git_http_url": cloneURL(p), "http_url": cloneURL(p), "url": cloneURL(p),
		"git_ssh_url": "git@gitlab.example.com:" + p.Path + ".git", "ssh_url": "git@gitlab.example.com:" + p.Path + ".git",
		"namespace": ns, "visibility_level": 0, "path_with_namespace": p.Path,
		"default_branch": cmp.Or(p.DefaultBranch, "main"), "ci_config_path": "", "homepage": webURL(p),
	}
}

func cloneURL(p Project) string {
	return cmp.Or(p.CloneURL, "https://gitlab.example.com/"+p.Path+".git")
}

// webURL derives the project page from the clone URL when it is HTTP.
func webURL(p Project) string {
	u := cloneURL(p)
	if strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://") {
		return strings.TrimSuffix(u, ".git")
	}
	return "https://gitlab.example.com/" + p.Path
}

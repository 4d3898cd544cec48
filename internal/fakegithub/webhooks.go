package fakegithub

import (
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"path"
	"strings"
)

//go:embed testdata/*.json
var samples embed.FS

// Sample returns one of GitHub's example webhook payloads, as
// @octokit/webhooks-examples ships them: "pull_request_opened",
// "pull_request_synchronize", "pull_request_closed",
// "pull_request_reopened", "pull_request_ready_for_review",
// "pull_request_labeled", "issue_comment_created", "issue_comment_edited",
// "pull_request_review_submitted", "pull_request_review_dismissed",
// "push", "ping".
func Sample(name string) []byte {
	b, err := samples.ReadFile("testdata/" + name + ".json")
	if err != nil {
		panic("fakegithub: no sample " + name)
	}
	return b
}

// sampleRepo is the repository every sample is about.
const sampleRepo = "Codertocat/Hello-World"

// Hook is a webhook payload ready to send.
type Hook interface {
	Event() string   // the X-GitHub-Event header
	Payload() []byte // the JSON body
}

// PullRequestHook is a pull_request event: the example payload of its
// action (pull_request_labeled's for actions without one) with these
// fields put in. Zero fields keep the sample's value, except where noted.
type PullRequestHook struct {
	Repo   Repo
	Number int64
	// Action: opened, synchronize, reopened, closed, ready_for_review,
	// edited, converted_to_draft, labeled, ...
	Action string
	// Before is the previous head of a synchronize.
	Before  string
	HeadSHA string
	HeadRef string
	BaseRef string
	// BaseSHA is the base branch's head when the event was sent.
	BaseSHA string
	Title   string
	State   string // open or closed
	Draft   bool   // always put in
	Merged  bool   // always put in
	// MergeCommitSHA is put in when set, else null.
	MergeCommitSHA string
	Author         string // pull_request.user
	User           string // sender: who acted
	// HeadRepo is the full name of the fork the head lives in; empty
	// means Repo (not a fork).
	HeadRepo string
	// PreviousBase makes an edited event a change of base branch.
	PreviousBase string
}

// Event implements Hook.
func (h PullRequestHook) Event() string { return "pull_request" }

// Payload implements Hook.
func (h PullRequestHook) Payload() []byte {
	name := "pull_request_" + h.Action
	if _, err := samples.Open("testdata/" + name + ".json"); err != nil {
		name = "pull_request_labeled"
	}
	m := load(name, h.Repo)
	setIf(m, "action", h.Action)
	setIf(m, "number", h.Number)
	setPull(m["pull_request"].(map[string]any), h.Repo, pullFields{h.Number, h.Title, h.State, h.HeadSHA,
		h.HeadRef, h.BaseRef, h.Author, h.HeadRepo, h.Draft})
	pr := m["pull_request"].(map[string]any)
	setIf(pr["base"].(map[string]any), "sha", h.BaseSHA)
	pr["merged"] = h.Merged
	pr["merge_commit_sha"] = nil
	setIf(pr, "merge_commit_sha", h.MergeCommitSHA)
	if h.Action == "synchronize" {
		setIf(m, "before", h.Before)
		setIf(m, "after", h.HeadSHA)
	}
	if h.PreviousBase != "" {
		m["changes"] = map[string]any{"base": map[string]any{
			"ref": map[string]any{"from": h.PreviousBase}, "sha": map[string]any{"from": SHA(h.PreviousBase)}}}
	}
	setSender(m, h.User)
	return marshal(m)
}

// pullFields are what a pull_request object gets from a hook.
type pullFields struct {
	number                                  int64
	title, state, headSHA, headRef, baseRef string
	author, headRepo                        string
	draft                                   bool
}

// setPull puts f into a payload's pull_request object.
func setPull(pr map[string]any, r Repo, f pullFields) {
	setIf(pr, "number", f.number)
	setIf(pr, "id", f.number+1000)
	setIf(pr, "title", f.title)
	setIf(pr, "state", f.state)
	pr["draft"] = f.draft
	if f.number != 0 {
		pr["html_url"] = fmt.Sprintf("%s/pull/%d", webURL(r), f.number)
	}
	setLogin(pr["user"], f.author)
	head, base := pr["head"].(map[string]any), pr["base"].(map[string]any)
	setIf(head, "sha", f.headSHA)
	setIf(head, "ref", f.headRef)
	setIf(base, "ref", f.baseRef)
	if r.FullName != "" {
		base["repo"] = repoPayload(base["repo"].(map[string]any), r, false)
		head["repo"] = repoPayload(head["repo"].(map[string]any), r, false)
	}
	if f.headRepo != "" {
		fork := Repo{ID: r.ID + 7_000_000, FullName: f.headRepo, CloneURL: "https://github.com/" + f.headRepo + ".git"}
		head["repo"] = repoPayload(head["repo"].(map[string]any), fork, true)
	}
	head["label"] = fmt.Sprintf("%s:%s", path.Dir(fmt.Sprint(head["repo"].(map[string]any)["full_name"])), head["ref"])
}

// IssueCommentHook is an issue_comment event: the example payload with
// these fields put in. Zero fields keep the sample's value.
type IssueCommentHook struct {
	Repo   Repo
	Number int64
	// PullRequest makes it a comment on a pull request: GitHub then adds
	// issue.pull_request, which the sample (a comment on an issue) lacks.
	PullRequest bool
	CommentID   int64
	Body        string
	User        string
	// Action is created (the default), edited or deleted.
	Action string
	Title  string
	State  string // open or closed
}

// Event implements Hook.
func (h IssueCommentHook) Event() string { return "issue_comment" }

// Payload implements Hook.
func (h IssueCommentHook) Payload() []byte {
	name := "issue_comment_created"
	if h.Action == "edited" {
		name = "issue_comment_edited"
	}
	m := load(name, h.Repo)
	setIf(m, "action", h.Action)
	is := m["issue"].(map[string]any)
	setIf(is, "number", h.Number)
	setIf(is, "title", h.Title)
	setIf(is, "state", h.State)
	if h.PullRequest {
		pull := fmt.Sprintf("%s/pull/%d", webURL(h.Repo), cmp.Or(h.Number, 1))
		is["html_url"] = pull
		is["pull_request"] = map[string]any{"url": strings.Replace(pull, "/pull/", "/pulls/", 1),
			"html_url": pull, "diff_url": pull + ".diff", "patch_url": pull + ".patch", "merged_at": nil}
	}
	c := m["comment"].(map[string]any)
	setIf(c, "id", h.CommentID)
	setIf(c, "body", h.Body)
	setLogin(c["user"], h.User)
	setSender(m, h.User)
	return marshal(m)
}

// ReviewHook is a pull_request_review event: the example payload of its
// action with these fields put in. Zero fields keep the sample's value.
type ReviewHook struct {
	Repo     Repo
	Number   int64
	Action   string // submitted or dismissed
	State    string // approved, changes_requested, commented, dismissed
	ReviewID int64
	User     string
	HeadSHA  string
	HeadRef  string
	BaseRef  string
	Title    string
	Author   string
	HeadRepo string
}

// Event implements Hook.
func (h ReviewHook) Event() string { return "pull_request_review" }

// Payload implements Hook.
func (h ReviewHook) Payload() []byte {
	m := load("pull_request_review_"+cmp.Or(h.Action, "submitted"), h.Repo)
	setIf(m, "action", h.Action)
	rv := m["review"].(map[string]any)
	setIf(rv, "id", h.ReviewID)
	setIf(rv, "state", h.State)
	setIf(rv, "commit_id", h.HeadSHA)
	setLogin(rv["user"], h.User)
	setPull(m["pull_request"].(map[string]any), h.Repo, pullFields{h.Number, h.Title, "open", h.HeadSHA,
		h.HeadRef, h.BaseRef, h.Author, h.HeadRepo, false})
	setSender(m, h.User)
	return marshal(m)
}

// PushHook is a push event: the example payload (a push to the default
// branch) with these fields put in.
type PushHook struct {
	Repo    Repo
	Ref     string // e.g. refs/heads/main
	Before  string
	After   string
	User    string
	Deleted bool // always put in
}

// Event implements Hook.
func (h PushHook) Event() string { return "push" }

// Payload implements Hook.
func (h PushHook) Payload() []byte {
	m := load("push", h.Repo)
	setIf(m, "ref", h.Ref)
	setIf(m, "before", h.Before)
	setIf(m, "after", h.After)
	m["deleted"] = h.Deleted
	if h.User != "" {
		m["pusher"] = map[string]any{"name": h.User, "email": h.User + "@example.com"}
	}
	setSender(m, h.User)
	return marshal(m)
}

// PingHook is the ping GitHub sends when a webhook is created.
type PingHook struct{ Repo Repo }

// Event implements Hook.
func (h PingHook) Event() string { return "ping" }

// Payload implements Hook.
func (h PingHook) Payload() []byte { return marshal(load("ping", h.Repo)) }

// PullRequestHook builds the pull_request event GitHub would send for
// action on a pull request of the fake, from its current state.
func (s *Server) PullRequestHook(fullName string, number int64, action, user string) PullRequestHook {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.mustRepo(fullName)
	pr := r.pulls[number]
	if pr == nil {
		panic(fmt.Sprintf("fakegithub: no pull request %s#%d", fullName, number))
	}
	return PullRequestHook{Repo: r.Repo, Number: number, Action: action, HeadSHA: pr.HeadSHA, HeadRef: pr.HeadRef,
		BaseRef: pr.BaseRef, Title: pr.Title, State: pr.State, Draft: pr.Draft, Merged: pr.Merged,
		MergeCommitSHA: pr.MergeCommitSHA, Author: pr.Author, User: user, HeadRepo: pr.HeadRepo}
}

// Comment adds user's comment to a pull request of the fake and returns
// the issue_comment event GitHub would send for it.
func (s *Server) Comment(fullName string, number int64, user, body string) IssueCommentHook {
	h := s.PullRequestHook(fullName, number, "", user)
	c := s.AddComment(fullName, number, user, body)
	return IssueCommentHook{Repo: h.Repo, Number: number, PullRequest: true, CommentID: c.ID, Body: body,
		User: user, Title: h.Title, State: h.State}
}

// Review adds user's review (APPROVED, CHANGES_REQUESTED, COMMENTED) of
// a pull request of the fake and returns the submitted event.
func (s *Server) Review(fullName string, number int64, user, state string) ReviewHook {
	h := s.PullRequestHook(fullName, number, "", user)
	rv := s.AddReview(fullName, number, user, state)
	return ReviewHook{Repo: h.Repo, Number: number, Action: "submitted", State: strings.ToLower(state),
		ReviewID: rv.ID, User: user, HeadSHA: h.HeadSHA, HeadRef: h.HeadRef, BaseRef: h.BaseRef,
		Title: h.Title, Author: h.Author, HeadRepo: h.HeadRepo}
}

// Signature is X-Hub-Signature-256 of body: HMAC-SHA256 with secret.
func Signature(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// NewRequest builds the POST GitHub sends to url for h: X-GitHub-Event,
// X-GitHub-Delivery (a fresh GUID when delivery is empty; GitHub keeps it
// on redeliveries), X-Hub-Signature-256 and the legacy X-Hub-Signature
// with secret (none when secret is empty).
func NewRequest(ctx context.Context, url, secret string, h Hook, delivery string) (*http.Request, error) {
	body := h.Payload()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "GitHub-Hookshot/8e03811")
	req.Header.Set("X-GitHub-Event", h.Event())
	req.Header.Set("X-GitHub-Delivery", cmp.Or(delivery, guid()))
	req.Header.Set("X-GitHub-Hook-ID", "292430182")
	req.Header.Set("X-GitHub-Hook-Installation-Target-Type", "repository")
	if secret != "" {
		req.Header.Set("X-Hub-Signature-256", Signature(secret, body))
		m := hmac.New(sha1.New, []byte(secret))
		m.Write(body)
		req.Header.Set("X-Hub-Signature", "sha1="+hex.EncodeToString(m.Sum(nil)))
	}
	return req, nil
}

// Deliver sends h to url as GitHub would, as a new event.
func Deliver(ctx context.Context, url, secret string, h Hook) (*http.Response, error) {
	req, err := NewRequest(ctx, url, secret, h, "")
	if err != nil {
		return nil, err
	}
	return http.DefaultClient.Do(req)
}

// guid is a random delivery ID in GitHub's form.
func guid() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	x := hex.EncodeToString(b)
	return x[:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:]
}

// load decodes a sample about repository r: the sample's repository name
// is replaced everywhere (so every URL names r), and its repository and
// installation objects are r's.
func load(name string, r Repo) map[string]any {
	raw := Sample(name)
	if r.FullName != "" {
		raw = bytes.ReplaceAll(raw, []byte(sampleRepo), []byte(r.FullName))
	}
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		panic("fakegithub: sample " + name + ": " + err.Error())
	}
	if repo, ok := m["repository"].(map[string]any); ok && r.FullName != "" {
		m["repository"] = repoPayload(repo, r, false)
	}
	delete(m, "installation")
	if r.Installation != 0 {
		m["installation"] = map[string]any{"id": r.Installation, "node_id": fmt.Sprintf("MDIz%d", r.Installation)}
	}
	return m
}

// repoPayload is a sample's repository object made r's.
func repoPayload(sample map[string]any, r Repo, fork bool) map[string]any {
	out := maps.Clone(sample)
	owner := path.Dir(r.FullName)
	out["id"] = r.ID
	out["node_id"] = fmt.Sprintf("R_%d", r.ID)
	out["name"] = path.Base(r.FullName)
	out["full_name"] = r.FullName
	out["html_url"] = webURL(r)
	out["clone_url"] = cloneURL(r)
	out["default_branch"] = cmp.Or(r.DefaultBranch, "main")
	out["fork"] = fork
	if o, ok := out["owner"].(map[string]any); ok {
		o = maps.Clone(o)
		o["login"], o["name"] = owner, owner
		out["owner"] = o
	}
	return out
}

func cloneURL(r Repo) string { return cmp.Or(r.CloneURL, "https://github.com/"+r.FullName+".git") }

// webURL derives the repository page from the clone URL when it is HTTP.
func webURL(r Repo) string {
	u := cloneURL(r)
	if strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://") {
		return strings.TrimSuffix(u, ".git")
	}
	return "https://github.com/" + r.FullName
}

func marshal(m map[string]any) []byte {
	b, err := json.Marshal(m)
	if err != nil {
		panic("fakegithub: " + err.Error())
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

func setLogin(u any, login string) {
	if m, ok := u.(map[string]any); ok && login != "" {
		m["login"] = login
		m["type"] = "User"
		if strings.HasSuffix(login, "[bot]") {
			m["type"] = "Bot"
		}
	}
}

func setSender(m map[string]any, login string) { setLogin(m["sender"], login) }

package fakegithub

import (
	"cmp"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"
)

// Repo is a GitHub repository.
type Repo struct {
	ID       int64
	FullName string // "owner/name"
	// DefaultBranch is "main" when empty.
	DefaultBranch string
	// CloneURL is the clone_url put in webhooks; the server URL plus
	// FullName + ".git" when empty. Tests set it to a file:// repository.
	CloneURL string
	// Installation is the ID of the App installation that covers the
	// repository (see EnableApp); 0 for none.
	Installation int64
}

// PullRequest is a pull request's state in the fake.
type PullRequest struct {
	Number  int64
	ID      int64 // global ID, assigned
	Title   string
	Author  string
	State   string // open or closed
	Merged  bool
	Draft   bool
	HeadRef string // the head branch
	HeadSHA string
	// HeadRepo is the full name of the repository the head branch lives
	// in; empty means the pull request's own repository (not a fork).
	HeadRepo string
	BaseRef  string
	// MergeableState overrides the state the fake derives (draft, clean)
	// when set: clean, dirty, blocked, behind, unstable, has_hooks.
	MergeableState string
	// UnknownFor makes the next UnknownFor reads answer mergeable null and
	// mergeable_state "unknown", as while GitHub computes them.
	UnknownFor     int
	MergeCommitSHA string
	// MergedAt is when it was merged; a merged pull request without one
	// reports the fake's clock.
	MergedAt time.Time
}

// Review is a pull request review.
type Review struct {
	ID       int64
	User     string
	State    string // APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED
	CommitID string
	At       time.Time
}

// Comment is an issue (or pull request) comment.
type Comment struct {
	ID        int64
	User      string
	Body      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Status is one commit status.
type Status struct {
	ID          int64
	SHA         string
	Context     string
	State       string // error, failure, pending, success
	Description string
	TargetURL   string
	Creator     string
}

// CheckRun is one check run of an App.
type CheckRun struct {
	ID         int64
	HeadSHA    string
	Name       string
	Status     string // queued, in_progress, completed
	Conclusion string // when completed: success, failure, ...
	Title      string
	Summary    string
	DetailsURL string
	AppID      int64
}

// Issue is a repository issue (pull requests share its numbers).
type Issue struct {
	Number int64
	ID     int64
	Title  string
	Body   string
	State  string // open or closed
	User   string
	Labels []string
}

type user struct {
	ID    int64
	Login string
	Type  string // User or Bot
}

// repo is a Repo with everything in it.
type repo struct {
	Repo
	pulls    map[int64]*PullRequest
	reviews  map[int64][]*Review
	comments map[int64][]*Comment
	issues   map[int64]*Issue
	statuses map[string][]*Status
	checks   []*CheckRun
	next     int64 // the last issue or pull request number
}

// SHA returns a stable fake commit SHA (40 hex digits) for seed.
func SHA(seed string) string {
	sum := sha1.Sum([]byte(seed))
	return hex.EncodeToString(sum[:])
}

// user returns the user called login, creating it. Callers hold s.mu.
func (s *Server) user(login string) *user {
	if u, ok := s.users[strings.ToLower(login)]; ok {
		return u
	}
	u := &user{ID: s.id(), Login: login, Type: "User"}
	if strings.HasSuffix(login, "[bot]") {
		u.Type = "Bot"
	}
	s.users[strings.ToLower(login)] = u
	return u
}

// AddRepo adds a repository and returns it with its defaults filled in.
func (s *Server) AddRepo(r Repo) Repo {
	s.mu.Lock()
	defer s.mu.Unlock()
	if strings.Count(r.FullName, "/") != 1 {
		panic("fakegithub: AddRepo needs a FullName owner/name")
	}
	if r.ID == 0 {
		r.ID = s.id()
	}
	r.DefaultBranch = cmp.Or(r.DefaultBranch, "main")
	r.CloneURL = cmp.Or(r.CloneURL, s.URL+"/"+r.FullName+".git")
	s.user(path.Dir(r.FullName))
	s.repos[strings.ToLower(r.FullName)] = &repo{Repo: r, pulls: map[int64]*PullRequest{},
		reviews: map[int64][]*Review{}, comments: map[int64][]*Comment{},
		issues: map[int64]*Issue{}, statuses: map[string][]*Status{}}
	return r
}

// Repo returns the repository called fullName.
func (s *Server) Repo(fullName string) (Repo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.repos[strings.ToLower(fullName)]; r != nil {
		return r.Repo, true
	}
	return Repo{}, false
}

// mustRepo finds a repository for the seeding methods, which panic on a
// missing one: that is a bug in the test. Callers hold s.mu.
func (s *Server) mustRepo(fullName string) *repo {
	r := s.repos[strings.ToLower(fullName)]
	if r == nil {
		panic("fakegithub: no repository " + fullName)
	}
	return r
}

// AddPullRequest adds a pull request to a repository. Zero fields get
// defaults: the next number, state "open", author "alice", head branch
// "feature-N", the default branch as base and a fake head SHA.
func (s *Server) AddPullRequest(fullName string, pr PullRequest) PullRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.mustRepo(fullName)
	if pr.Number == 0 {
		pr.Number = r.next + 1
	}
	r.next = max(r.next, pr.Number)
	pr.ID = s.id()
	pr.State = cmp.Or(pr.State, "open")
	pr.Author = cmp.Or(pr.Author, "alice")
	pr.Title = cmp.Or(pr.Title, fmt.Sprintf("Change %d", pr.Number))
	pr.HeadRef = cmp.Or(pr.HeadRef, fmt.Sprintf("feature-%d", pr.Number))
	pr.BaseRef = cmp.Or(pr.BaseRef, r.DefaultBranch)
	pr.HeadSHA = cmp.Or(pr.HeadSHA, SHA(fmt.Sprintf("%s#%d", fullName, pr.Number)))
	s.user(pr.Author)
	r.pulls[pr.Number] = &pr
	return pr
}

// PullRequest returns a pull request's current state.
func (s *Server) PullRequest(fullName string, number int64) (PullRequest, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repos[strings.ToLower(fullName)]
	if r == nil || r.pulls[number] == nil {
		return PullRequest{}, false
	}
	return *r.pulls[number], true
}

// UpdatePullRequest changes a pull request with fn (push a commit, mark
// it a draft, close it...).
func (s *Server) UpdatePullRequest(fullName string, number int64, fn func(*PullRequest)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pr := s.mustRepo(fullName).pulls[number]
	if pr == nil {
		panic(fmt.Sprintf("fakegithub: no pull request %s#%d", fullName, number))
	}
	fn(pr)
}

// AddReview records a review of the pull request's current head; state
// is APPROVED, CHANGES_REQUESTED, COMMENTED or DISMISSED.
func (s *Server) AddReview(fullName string, number int64, login, state string) Review {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.mustRepo(fullName)
	pr := r.pulls[number]
	if pr == nil {
		panic(fmt.Sprintf("fakegithub: no pull request %s#%d", fullName, number))
	}
	s.user(login)
	rv := &Review{ID: s.id(), User: login, State: state, CommitID: pr.HeadSHA, At: s.now()}
	r.reviews[number] = append(r.reviews[number], rv)
	return *rv
}

// DismissReview marks a review dismissed, as GitHub does when a reviewer
// or an admin dismisses it.
func (s *Server) DismissReview(fullName string, number, id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rv := range s.mustRepo(fullName).reviews[number] {
		if rv.ID == id {
			rv.State = "DISMISSED"
		}
	}
}

// AddComment adds a comment to an issue or pull request, as GitHub does
// when someone comments.
func (s *Server) AddComment(fullName string, number int64, login, body string) Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	return *s.addComment(s.mustRepo(fullName), number, login, body)
}

// addComment appends a comment. Callers hold s.mu.
func (s *Server) addComment(r *repo, number int64, login, body string) *Comment {
	s.user(login)
	now := s.now()
	c := &Comment{ID: s.id(), User: login, Body: body, CreatedAt: now, UpdatedAt: now}
	r.comments[number] = append(r.comments[number], c)
	return c
}

// Comments returns the comments on an issue or pull request, oldest
// first.
func (s *Server) Comments(fullName string, number int64) []Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Comment
	for _, c := range s.mustRepo(fullName).comments[number] {
		out = append(out, *c)
	}
	return out
}

// Statuses returns every commit status set on sha, oldest first.
func (s *Server) Statuses(fullName, sha string) []Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Status
	for _, st := range s.mustRepo(fullName).statuses[sha] {
		out = append(out, *st)
	}
	return out
}

// LatestStatus returns the newest status with context name on sha.
func (s *Server) LatestStatus(fullName, sha, name string) (Status, bool) {
	all := s.Statuses(fullName, sha)
	for i := len(all) - 1; i >= 0; i-- {
		if all[i].Context == name {
			return all[i], true
		}
	}
	return Status{}, false
}

// CheckRuns returns the check runs on sha, oldest first.
func (s *Server) CheckRuns(fullName, sha string) []CheckRun {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []CheckRun
	for _, c := range s.mustRepo(fullName).checks {
		if c.HeadSHA == sha {
			out = append(out, *c)
		}
	}
	return out
}

// AddIssue adds an issue; zero fields get defaults (next number, "open",
// author: the bot).
func (s *Server) AddIssue(fullName string, is Issue) Issue {
	s.mu.Lock()
	defer s.mu.Unlock()
	return *s.addIssue(s.mustRepo(fullName), is)
}

// addIssue stores an issue. Callers hold s.mu.
func (s *Server) addIssue(r *repo, is Issue) *Issue {
	r.next++
	is.Number = r.next
	is.ID = s.id()
	is.State = cmp.Or(is.State, "open")
	is.User = cmp.Or(is.User, s.Bot)
	is.Labels = slices.Clone(is.Labels)
	s.user(is.User)
	r.issues[is.Number] = &is
	return &is
}

// Issues returns a repository's issues (not its pull requests), oldest
// first.
func (s *Server) Issues(fullName string) []Issue {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.mustRepo(fullName)
	var out []Issue
	for n := int64(1); n <= r.next; n++ {
		if is := r.issues[n]; is != nil {
			c := *is
			c.Labels = slices.Clone(is.Labels)
			out = append(out, c)
		}
	}
	return out
}

// AddTeamMember makes login a member of the team "org/slug" with state
// "active" or "pending" (an invitation not accepted yet).
func (s *Server) AddTeamMember(team, login, state string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.user(login)
	key := strings.ToLower(team)
	if s.teams[key] == nil {
		s.teams[key] = map[string]string{}
	}
	s.teams[key][strings.ToLower(login)] = state
}

package forge

import (
	"context"
	"net/http"

	"github.com/go-git/go-git/v5/plumbing/transport"
)

// Forge is everything the server needs from one code forge. Every method
// that talks to the forge takes a context and is safe for concurrent use.
//
// repo is the project path as the event reported it (Event.Repo, e.g.
// "group/sub/project"); number is the merge request or issue number as
// people see it (GitLab's IID, GitHub's number).
type Forge interface {
	// Name is the forge's short name: "gitlab" or "github". It prefixes
	// lock keys and appears in Event.Forge.
	Name() string
	// CommentLimit is the largest note body the forge accepts, in
	// characters. The renderer shortens the comment to fit it.
	CommentLimit() int

	Webhooks
	MergeRequests
	Notes
	Statuses
	Issues
	Teams
	Cloner
}

// Webhooks turns webhook deliveries into events.
type Webhooks interface {
	// ParseWebhook checks the request's secret (in constant time, before
	// reading the body), then reads and parses the body. Errors are
	// *WebhookError values; WebhookStatus maps them to an HTTP status.
	ParseWebhook(r *http.Request) (Event, error)
}

// MergeRequests reads and merges merge requests.
type MergeRequests interface {
	// MergeRequest returns the merge request as the forge sees it now.
	MergeRequest(ctx context.Context, repo string, number int64) (MergeRequest, error)
	// Approvals returns who approved the merge request and whether the
	// forge's approval rules are met.
	Approvals(ctx context.Context, repo string, number int64) (Approvals, error)
	// Merge merges the merge request if its head is still opts.SHA. A moved
	// head gives an error matching ErrHeadMoved; a merge request the forge
	// refuses to merge (conflicts, draft, closed, rules) one matching
	// ErrNotMergeable. It returns the merge request after the merge.
	Merge(ctx context.Context, repo string, number int64, opts MergeOptions) (MergeRequest, error)
	// MergedBy returns the merged merge request whose merge put commit sha
	// on its target branch: sha is its merge commit, its squash commit or,
	// for a fast-forward, its head. ok is false when no merge request
	// merged sha (a commit pushed to the branch directly).
	MergedBy(ctx context.Context, repo, sha string) (mr MergeRequest, ok bool, err error)
}

// Notes reads and writes comments on merge requests.
type Notes interface {
	// FindNote returns the oldest note on the merge request written by
	// strata's own user whose body contains marker, reading every page.
	// ok is false when there is none. Notes by other users are never
	// returned, so a pasted marker cannot capture strata's comment.
	FindNote(ctx context.Context, repo string, number int64, marker string) (n Note, ok bool, err error)
	// CreateNote posts a new note. A body longer than CommentLimit is an
	// error matching ErrTooLong and nothing is posted.
	CreateNote(ctx context.Context, repo string, number int64, body string) (Note, error)
	// UpdateNote replaces the body of note id, in place.
	UpdateNote(ctx context.Context, repo string, number, id int64, body string) (Note, error)
	// BotUsername is the user strata acts as (the token's owner). The
	// server ignores notes written by this user.
	BotUsername(ctx context.Context) (string, error)
}

// Statuses sets commit statuses.
type Statuses interface {
	// SetStatus sets the status named st.Name on commit sha. Setting a
	// status to the state it already has is not an error.
	SetStatus(ctx context.Context, repo, sha string, st Status) error
}

// Issues keeps drift reports as issues.
type Issues interface {
	// FindIssue returns the oldest open issue written by strata's own user
	// that carries every label in q.Labels and whose body contains
	// q.Marker (when set). ok is false when there is none.
	FindIssue(ctx context.Context, repo string, q IssueQuery) (is Issue, ok bool, err error)
	CreateIssue(ctx context.Context, repo string, is NewIssue) (Issue, error)
	// UpdateIssue replaces the title and body of an issue.
	UpdateIssue(ctx context.Context, repo string, number int64, title, body string) (Issue, error)
	// CloseIssue closes an issue; closing a closed issue is not an error.
	CloseIssue(ctx context.Context, repo string, number int64) error
}

// Teams answers policy questions about people ("team:platform" owners).
type Teams interface {
	// IsMember reports whether username is an active member of group,
	// directly or through a parent group (GitLab) or team (GitHub). An
	// unknown user or group is not an error: the answer is false.
	IsMember(ctx context.Context, group, username string) (bool, error)
}

// Cloner makes a payload's clone URL usable for fetching.
type Cloner interface {
	// CloneAuth returns the URL to fetch from (without credentials in it)
	// and the go-git auth to fetch with. It refuses a URL on another host
	// than the forge's, so the token is never sent elsewhere. auth may be
	// nil (file:// remotes in tests). The auth's String() never shows the
	// token.
	CloneAuth(cloneURL string) (url string, auth transport.AuthMethod, err error)
}

// Commit status names strata sets.
const (
	StatusPlan  = "strata/plan"
	StatusApply = "strata/apply"
)

// Action is what happened in an event.
type Action string

// Actions of merge request events and comments. A forge action with no
// entry here makes ParseWebhook return ErrIgnored.
const (
	ActionOpened   Action = "opened"
	ActionReopened Action = "reopened"
	// ActionUpdated: the code under review changed: new commits on the
	// source branch (OldHeadSHA is set) or a new target branch (OldHeadSHA
	// is empty). Both need a new plan.
	ActionUpdated Action = "updated"
	// ActionEdited: anything else changed (title, labels, description,
	// draft, assignees). The change set is the same.
	ActionEdited Action = "edited"
	// ActionApproved and ActionUnapproved: an approval was given or
	// withdrawn. Forges may send several for one click; the server asks
	// Approvals for the truth.
	ActionApproved   Action = "approved"
	ActionUnapproved Action = "unapproved"
	ActionMerged     Action = "merged"
	ActionClosed     Action = "closed"
	// ActionCommented: a new comment; Body holds it.
	ActionCommented Action = "commented"
	// ActionPushed: commits pushed to the default branch (Number is 0).
	// The server only records the repository for drift scans.
	ActionPushed Action = "pushed"
)

// MRState is the state of a merge request.
type MRState string

// Merge request states, named as GitLab names them.
const (
	StateOpened MRState = "opened"
	StateMerged MRState = "merged"
	StateClosed MRState = "closed"
	StateLocked MRState = "locked"
)

// Event is one webhook delivery, reduced to what strata acts on. It is
// plain data (JSON-encodable) so the server can queue it durably.
type Event struct {
	Forge string `json:"forge"`
	// DeliveryID identifies the delivery for deduplication: the same
	// event delivered twice has the same DeliveryID.
	DeliveryID string `json:"delivery_id"`
	Action     Action `json:"action"`

	Repo      string `json:"repo"`       // project path, e.g. "group/sub/project"
	ProjectID int64  `json:"project_id"` // the forge's stable numeric ID of Repo
	// CloneURL is the HTTP(S) clone URL of Repo from the payload; pass it
	// to CloneAuth before fetching.
	CloneURL      string `json:"clone_url"`
	DefaultBranch string `json:"default_branch"`

	Number       int64   `json:"number"` // merge request IID / PR number
	Title        string  `json:"title"`  // at most MaxTitleLen bytes
	URL          string  `json:"url"`
	State        MRState `json:"state"`
	Draft        bool    `json:"draft"`
	SourceBranch string  `json:"source_branch"`
	TargetBranch string  `json:"target_branch"`
	// HeadSHA is the merge request's head commit when the event was sent.
	HeadSHA string `json:"head_sha"`
	// OldHeadSHA is the previous head for ActionUpdated with new commits.
	OldHeadSHA string `json:"old_head_sha,omitempty"`
	// HeadRef is a ref in Repo that holds HeadSHA, also for forks, e.g.
	// "refs/merge-requests/12/head"; fetch it rather than SourceBranch.
	HeadRef string `json:"head_ref"`
	// MergeCommitSHA is set on ActionMerged when the forge reports it.
	MergeCommitSHA string `json:"merge_commit_sha,omitempty"`
	// TargetSHA, when set, is the commit of the target branch to read it
	// at (its strata.yaml and policies, the base of the change set), in
	// place of the branch's head: a CI job's checkout may not hold the
	// branch, only commits the CI system names. Webhooks leave it empty.
	TargetSHA string `json:"target_sha,omitempty"`
	// Fork is true when the source branch lives in another project than
	// Repo. Its code is untrusted: running Terraform on it runs the
	// author's providers and external data sources with strata's
	// credentials.
	Fork bool `json:"fork"`

	// User is who caused the event: the comment's author, the approver,
	// the user who pushed, merged or closed.
	User string `json:"user"`
	// NoteID and Body are set for ActionCommented. Body is the comment's
	// first line, where commands are, at most MaxBodyLen bytes: an event
	// is queued whole, so it holds no more of the payload than strata
	// reads.
	NoteID int64  `json:"note_id,omitempty"`
	Body   string `json:"body,omitempty"`
}

// MergeRequest is a merge request as the forge reports it now.
type MergeRequest struct {
	Repo         string  `json:"repo"`
	Number       int64   `json:"number"`
	Title        string  `json:"title"`
	URL          string  `json:"url"`
	Author       string  `json:"author"`
	State        MRState `json:"state"`
	Draft        bool    `json:"draft"`
	SourceBranch string  `json:"source_branch"`
	TargetBranch string  `json:"target_branch"`
	HeadSHA      string  `json:"head_sha"`
	Fork         bool    `json:"fork"`
	// Conflicts is true when the source branch does not merge cleanly.
	Conflicts bool `json:"conflicts"`
	// MergeStatus is the forge's own word for mergeability (GitLab's
	// detailed_merge_status, e.g. "mergeable", "ci_still_running",
	// "not_approved", "conflict"), for messages.
	MergeStatus string `json:"merge_status"`
	// Mergeable is true when the forge would merge it now. strata's own
	// pending status can hold it false when the project requires
	// pipelines or checks to pass.
	Mergeable bool `json:"mergeable"`
	// Blocked, when set, says in a sentence for the note why the forge
	// will not merge it although it is neither a draft nor conflicting
	// (GitHub's mergeable_state "blocked" or "behind", or a state GitHub
	// is still computing). strata's mergeable requirement fails on it.
	// GitLab leaves it empty: its merge status also counts strata's own
	// pending status and approvals, which strata judges by itself.
	Blocked string `json:"blocked,omitempty"`
	// MergedSHA is the commit on the target branch that holds the merged
	// change: the merge commit, the squash commit or, for fast-forward
	// merges, the head. Empty unless State is StateMerged.
	MergedSHA string `json:"merged_sha,omitempty"`
}

// Approvals is the approval state of a merge request.
type Approvals struct {
	// Approved is the forge's verdict that its approval rules are met. On
	// GitLab with no approval rule this is true before anyone approved:
	// use Satisfied for strata's "approved" requirement.
	Approved   bool     `json:"approved"`
	ApprovedBy []string `json:"approved_by"`
	// ChangesRequestedBy are the reviewers whose latest review asks for
	// changes (GitHub), which withholds the approval.
	ChangesRequestedBy []string `json:"changes_requested_by,omitempty"`
	Required           int      `json:"required"`
	Left               int      `json:"left"`
}

// Satisfied reports whether the forge's rules are met and at least one
// person approved.
func (a Approvals) Satisfied() bool { return a.Approved && len(a.ApprovedBy) > 0 }

// MergeOptions controls Merge.
type MergeOptions struct {
	// SHA is the head the caller reviewed; the merge fails if the head
	// moved. Required.
	SHA string
	// Message replaces the forge's default merge commit message when set.
	Message string
	// RemoveSourceBranch deletes the source branch after the merge.
	RemoveSourceBranch bool
}

// Note is a comment on a merge request.
type Note struct {
	ID     int64  `json:"id"`
	Author string `json:"author"`
	Body   string `json:"body"`
	// URL is the note's web page, when the forge reports one (GitHub).
	URL string `json:"url,omitempty"`
}

// StatusState is the state of a commit status.
type StatusState string

// Commit status states. A forge without "running" (GitHub) shows pending.
const (
	StatusPending StatusState = "pending"
	StatusRunning StatusState = "running"
	StatusSuccess StatusState = "success"
	StatusFailed  StatusState = "failed"
)

// Status is one commit status.
type Status struct {
	Name        string // StatusPlan or StatusApply
	State       StatusState
	Description string // shortened by the forge adapter to what the forge accepts
	TargetURL   string // optional link to the run or its comment
	// Summary is an optional Markdown report (the run's summary table)
	// for forges that show one with the status (GitHub check runs).
	Summary string
}

// IssueQuery selects the issue FindIssue looks for. At least one of Marker
// and Labels must be set.
type IssueQuery struct {
	Marker string
	Labels []string
}

// NewIssue is an issue to create.
type NewIssue struct {
	Title  string
	Body   string
	Labels []string
}

// Issue is an issue as the forge reports it.
type Issue struct {
	Number int64    `json:"number"`
	Title  string   `json:"title"`
	Body   string   `json:"body"`
	URL    string   `json:"url"`
	State  string   `json:"state"` // "opened" or "closed"
	Author string   `json:"author"`
	Labels []string `json:"labels"`
}

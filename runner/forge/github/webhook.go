package github

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	gh "github.com/google/go-github/v88/github"

	"github.com/strata-iac/strata/runner/forge"
)

// Webhook headers GitHub sends.
const (
	HeaderEvent     = "X-GitHub-Event"
	HeaderDelivery  = "X-GitHub-Delivery"
	HeaderSignature = "X-Hub-Signature-256"
)

// maxDeliveryID bounds X-GitHub-Delivery (GitHub sends a 36-character
// GUID).
const maxDeliveryID = 64

// ParseWebhook implements forge.Webhooks. See the package documentation
// for which events become forge.Events.
func (c *Client) ParseWebhook(r *http.Request) (forge.Event, error) {
	if c.opts.WebhookSecret == "" {
		return forge.Event{}, unauthorized("no webhook secret is configured, so every delivery is refused")
	}
	sig, err := signature(r.Header.Values(HeaderSignature))
	if err != nil {
		return forge.Event{}, err
	}
	delivery := r.Header.Get(HeaderDelivery)
	if !validDelivery(delivery) {
		return forge.Event{}, bad("%s must be at most %d letters, digits and dashes", HeaderDelivery, maxDeliveryID)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, c.opts.MaxWebhookBytes+1))
	if err != nil {
		return forge.Event{}, bad("reading the body: %v", err)
	}
	if int64(len(body)) > c.opts.MaxWebhookBytes {
		return forge.Event{}, &forge.WebhookError{Kind: forge.ErrTooLarge, Forge: Name,
			Reason: fmt.Sprintf("the body is larger than %d bytes", c.opts.MaxWebhookBytes)}
	}
	mac := hmac.New(sha256.New, []byte(c.opts.WebhookSecret))
	mac.Write(body)
	if !hmac.Equal(mac.Sum(nil), sig) {
		return forge.Event{}, unauthorized("%s does not match the body signed with the configured webhook secret", HeaderSignature)
	}

	kind := r.Header.Get(HeaderEvent)
	var ev forge.Event
	var inst int64
	switch kind {
	case "pull_request":
		ev, inst, err = c.parsePull(body)
	case "issue_comment":
		ev, inst, err = c.parseComment(body)
	case "pull_request_review":
		ev, inst, err = c.parseReview(body)
	case "push":
		ev, inst, err = c.parsePush(body)
	case "ping":
		return forge.Event{}, ignored("ping: the webhook reaches strata and its secret matches")
	case "":
		return forge.Event{}, bad("the request has no %s header", HeaderEvent)
	default:
		return forge.Event{}, ignored("%s %q is not an event strata acts on", HeaderEvent, kind)
	}
	if err != nil {
		return forge.Event{}, err
	}
	if err := c.check(ev); err != nil {
		return forge.Event{}, err
	}
	ev.Forge = Name
	ev.DeliveryID = deliveryID(delivery, kind, body)
	if ev.Number > 0 {
		ev.HeadRef = fmt.Sprintf("refs/pull/%d/head", ev.Number)
	}
	c.rememberInstallation(ev.Repo, inst)
	return ev, nil
}

// signature reads X-Hub-Signature-256 ("sha256=" and 64 hex digits).
func signature(values []string) ([]byte, error) {
	if len(values) == 0 {
		return nil, unauthorized("the request has no %s header: set the webhook's secret on GitHub", HeaderSignature)
	}
	hexSum, ok := strings.CutPrefix(values[0], "sha256=")
	sum, err := hex.DecodeString(hexSum)
	if len(values) > 1 || !ok || err != nil || len(sum) != sha256.Size {
		return nil, unauthorized("%s is not one sha256=<64 hex digits>", HeaderSignature)
	}
	return sum, nil
}

func validDelivery(id string) bool {
	if len(id) > maxDeliveryID {
		return false
	}
	for _, r := range id {
		if !(r == '-' || '0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') {
			return false
		}
	}
	return true
}

// deliveryID is GitHub's X-GitHub-Delivery, which stays the same when a
// delivery is redelivered. Without one, the hash of the event kind and
// body identifies the delivery, since a redelivery sends the same bytes.
func deliveryID(delivery, kind string, body []byte) string {
	if delivery != "" {
		return "github-delivery:" + delivery
	}
	h := sha256.New()
	h.Write([]byte(kind))
	h.Write([]byte{0})
	h.Write(body)
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// parsePull reads a pull_request event.
func (c *Client) parsePull(body []byte) (forge.Event, int64, error) {
	var e gh.PullRequestEvent
	if err := json.Unmarshal(body, &e); err != nil {
		return forge.Event{}, 0, bad("the body is not a pull_request event: %v", err)
	}
	if e.PullRequest == nil || e.Repo == nil {
		return forge.Event{}, 0, bad("pull_request event without pull_request or repository")
	}
	pr := e.PullRequest
	var action forge.Action
	switch a := e.GetAction(); {
	case a == "opened", a == "ready_for_review":
		action = forge.ActionOpened
	case a == "reopened":
		action = forge.ActionReopened
	case a == "synchronize":
		action = forge.ActionUpdated
	case a == "edited" && e.GetChanges().GetBase() != nil:
		action = forge.ActionUpdated
	case a == "closed" && pr.GetMerged():
		action = forge.ActionMerged
	case a == "closed":
		action = forge.ActionClosed
	default:
		return forge.Event{}, 0, ignored("pull request action %q is not one strata acts on", a)
	}
	if pr.GetDraft() && !c.opts.PlanDrafts && action != forge.ActionMerged && action != forge.ActionClosed {
		return forge.Event{}, 0, ignored("draft pull requests are not planned until they are marked ready for review (the server plans them with --github-plan-drafts)")
	}
	ev := pullEvent(e.Repo, pr, e.GetSender())
	ev.Action = action
	if e.GetAction() == "synchronize" {
		ev.OldHeadSHA = e.GetBefore()
	}
	if action == forge.ActionMerged {
		ev.MergeCommitSHA = pr.GetMergeCommitSHA()
	}
	return ev, e.GetInstallation().GetID(), nil
}

// pullEvent is what a pull request in a payload says.
func pullEvent(repo *gh.Repository, pr *gh.PullRequest, sender *gh.User) forge.Event {
	return forge.Event{
		Repo: repo.GetFullName(), ProjectID: repo.GetID(), CloneURL: repo.GetCloneURL(),
		DefaultBranch: repo.GetDefaultBranch(),
		Number:        int64(pr.GetNumber()), Title: pr.GetTitle(), URL: pr.GetHTMLURL(),
		State: pullState(pr.GetState(), pr.GetMerged()), Draft: pr.GetDraft(),
		SourceBranch: pr.GetHead().GetRef(), TargetBranch: pr.GetBase().GetRef(),
		HeadSHA: pr.GetHead().GetSHA(), Fork: isFork(pr), User: sender.GetLogin(),
	}
}

// parseComment reads an issue_comment event: a new comment on a pull
// request is a command; edits, deletions and comments on issues are not.
func (c *Client) parseComment(body []byte) (forge.Event, int64, error) {
	var e gh.IssueCommentEvent
	if err := json.Unmarshal(body, &e); err != nil {
		return forge.Event{}, 0, bad("the body is not an issue_comment event: %v", err)
	}
	if e.Issue == nil || e.Comment == nil || e.Repo == nil {
		return forge.Event{}, 0, bad("issue_comment event without issue, comment or repository")
	}
	if a := e.GetAction(); a != "created" {
		return forge.Event{}, 0, ignored("comment action %q: only new comments are commands, edits never re-run one", a)
	}
	if !e.Issue.IsPullRequest() {
		return forge.Event{}, 0, ignored("comments on issues are not commands; only pull request comments are")
	}
	is := e.Issue
	ev := forge.Event{
		Action: forge.ActionCommented,
		Repo:   e.Repo.GetFullName(), ProjectID: e.Repo.GetID(), CloneURL: e.Repo.GetCloneURL(),
		DefaultBranch: e.Repo.GetDefaultBranch(),
		Number:        int64(is.GetNumber()), Title: is.GetTitle(), URL: is.GetHTMLURL(),
		State: pullState(is.GetState(), false), Draft: is.GetDraft(),
		User: e.Comment.GetUser().GetLogin(), NoteID: e.Comment.GetID(), Body: e.Comment.GetBody(),
	}
	if ev.User == "" {
		return forge.Event{}, 0, bad("issue_comment event without comment.user.login")
	}
	return ev, e.GetInstallation().GetID(), nil
}

// parseReview reads a pull_request_review event: an approval, a request
// for changes or a dismissal makes the server ask for the approvals
// again.
func (c *Client) parseReview(body []byte) (forge.Event, int64, error) {
	var e gh.PullRequestReviewEvent
	if err := json.Unmarshal(body, &e); err != nil {
		return forge.Event{}, 0, bad("the body is not a pull_request_review event: %v", err)
	}
	if e.PullRequest == nil || e.Review == nil || e.Repo == nil {
		return forge.Event{}, 0, bad("pull_request_review event without pull_request, review or repository")
	}
	var action forge.Action
	switch a, st := e.GetAction(), strings.ToLower(e.Review.GetState()); {
	case a == "submitted" && st == "approved":
		action = forge.ActionApproved
	case a == "submitted" && st == "changes_requested", a == "dismissed":
		action = forge.ActionUnapproved
	default:
		return forge.Event{}, 0, ignored("review %s (%s) does not change the approval", a, st)
	}
	ev := pullEvent(e.Repo, e.PullRequest, e.GetSender())
	ev.Action = action
	if login := e.Review.GetUser().GetLogin(); login != "" && action == forge.ActionApproved {
		ev.User = login
	}
	return ev, e.GetInstallation().GetID(), nil
}

// parsePush reads a push event: one to the default branch records the
// repository for drift scans; the others are ignored.
func (c *Client) parsePush(body []byte) (forge.Event, int64, error) {
	var e gh.PushEvent
	if err := json.Unmarshal(body, &e); err != nil {
		return forge.Event{}, 0, bad("the body is not a push event: %v", err)
	}
	if e.Repo == nil {
		return forge.Event{}, 0, bad("push event without repository")
	}
	branch := e.Repo.GetDefaultBranch()
	if e.GetDeleted() || branch == "" || e.GetRef() != "refs/heads/"+branch {
		return forge.Event{}, 0, ignored("a push to %s: only pushes to the default branch matter, for drift scans", e.GetRef())
	}
	ev := forge.Event{
		Action: forge.ActionPushed,
		Repo:   e.Repo.GetFullName(), ProjectID: e.Repo.GetID(), CloneURL: e.Repo.GetCloneURL(),
		DefaultBranch: branch, HeadSHA: e.GetAfter(), User: e.GetSender().GetLogin(),
	}
	return ev, e.GetInstallation().GetID(), nil
}

// pullState maps GitHub's state to strata's.
func pullState(state string, merged bool) forge.MRState {
	switch {
	case merged:
		return forge.StateMerged
	case state == "closed":
		return forge.StateClosed
	}
	return forge.StateOpened
}

// isFork reports whether a pull request's head lives in another
// repository than its base; a head repository that is gone (a deleted
// fork) counts as another.
func isFork(pr *gh.PullRequest) bool {
	head, base := pr.GetHead().GetRepo(), pr.GetBase().GetRepo()
	return head == nil || head.GetID() != base.GetID()
}

func unauthorized(format string, args ...any) error {
	return &forge.WebhookError{Kind: forge.ErrUnauthorized, Forge: Name, Reason: fmt.Sprintf(format, args...)}
}

func bad(format string, args ...any) error {
	return &forge.WebhookError{Kind: forge.ErrBadPayload, Forge: Name, Reason: fmt.Sprintf(format, args...)}
}

func ignored(format string, args ...any) error {
	return &forge.WebhookError{Kind: forge.ErrIgnored, Forge: Name, Reason: fmt.Sprintf(format, args...)}
}

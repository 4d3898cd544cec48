package gitlab

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	gl "gitlab.com/gitlab-org/api/client-go"

	"github.com/strata-iac/strata/runner/forge"
)

// Webhook headers GitLab sends.
const (
	HeaderToken          = "X-Gitlab-Token"
	HeaderEvent          = "X-Gitlab-Event"
	HeaderEventUUID      = "X-Gitlab-Event-UUID"
	HeaderIdempotencyKey = "Idempotency-Key"
)

// maxIdempotencyKeyLen bounds the Idempotency-Key header, a UUID when
// GitLab sends it; the key becomes part of the queue key.
const maxIdempotencyKeyLen = 255

// ParseWebhook implements forge.Webhooks. See the package documentation
// for which events become forge.Events.
func (c *Client) ParseWebhook(r *http.Request) (forge.Event, error) {
	if err := c.verify(r.Header.Values(HeaderToken)); err != nil {
		return forge.Event{}, err
	}
	kind := gl.HookEventType(r)
	switch kind {
	case gl.EventTypeMergeRequest, gl.EventTypeNote:
	case "":
		return forge.Event{}, bad("the request has no %s header", HeaderEvent)
	case gl.EventConfidentialNote:
		return forge.Event{}, ignored("internal (confidential) notes are not commands; comment publicly so the run is on record")
	default:
		return forge.Event{}, ignored("%s %q is not an event strata acts on", HeaderEvent, kind)
	}

	if r.ContentLength > c.opts.MaxWebhookBytes {
		return forge.Event{}, tooLarge(c.opts.MaxWebhookBytes)
	}
	key := r.Header.Get(HeaderIdempotencyKey)
	if len(key) > maxIdempotencyKeyLen {
		return forge.Event{}, bad("the %s header is %d bytes long; at most %d are accepted", HeaderIdempotencyKey, len(key), maxIdempotencyKeyLen)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, c.opts.MaxWebhookBytes+1))
	if err != nil {
		return forge.Event{}, bad("reading the body: %v", err)
	}
	if int64(len(body)) > c.opts.MaxWebhookBytes {
		return forge.Event{}, tooLarge(c.opts.MaxWebhookBytes)
	}

	var ev forge.Event
	switch kind {
	case gl.EventTypeMergeRequest:
		ev, err = parseMergeEvent(body)
	default:
		ev, err = parseNoteEvent(body)
	}
	if err != nil {
		return forge.Event{}, err
	}
	ev.Forge = Name
	ev.DeliveryID = deliveryID(key, kind, body)
	return ev, nil
}

// verify compares the X-Gitlab-Token header with the configured secret in
// constant time. Both sides are hashed first so that the comparison takes
// the same time whatever the lengths.
func (c *Client) verify(got []string) error {
	if c.opts.WebhookSecret == "" {
		return unauthorized("no webhook secret is configured, so every delivery is refused")
	}
	if len(got) == 0 {
		return unauthorized("the request has no %s header", HeaderToken)
	}
	sum := sha256.Sum256([]byte(got[0]))
	if len(got) > 1 || subtle.ConstantTimeCompare(sum[:], c.secretSum[:]) != 1 {
		return unauthorized("%s does not match the configured webhook secret", HeaderToken)
	}
	return nil
}

// deliveryID is GitLab's Idempotency-Key, which stays the same when a
// delivery is retried. Older GitLab versions send none; then the hash of
// the event kind and body identifies the delivery, since a retry sends the
// same bytes. X-Gitlab-Event-UUID is not used: GitLab gives it to every
// hook triggered by one recursive chain, so distinct events can share it.
func deliveryID(idempotencyKey string, kind gl.EventType, body []byte) string {
	if idempotencyKey != "" {
		return "gitlab-idempotency:" + idempotencyKey
	}
	h := sha256.New()
	h.Write([]byte(kind))
	h.Write([]byte{0})
	h.Write(body)
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// mergeActions maps object_attributes.action of a Merge Request Hook.
// "update" is resolved by parseMergeEvent.
var mergeActions = map[string]forge.Action{
	"open":       forge.ActionOpened,
	"reopen":     forge.ActionReopened,
	"close":      forge.ActionClosed,
	"merge":      forge.ActionMerged,
	"approved":   forge.ActionApproved,
	"approval":   forge.ActionApproved,
	"unapproved": forge.ActionUnapproved,
	"unapproval": forge.ActionUnapproved,
}

func parseMergeEvent(body []byte) (forge.Event, error) {
	var head struct {
		ObjectKind string `json:"object_kind"`
	}
	if err := json.Unmarshal(body, &head); err != nil {
		return forge.Event{}, bad("the body is not JSON: %v", err)
	}
	if head.ObjectKind != "merge_request" {
		return forge.Event{}, bad("a Merge Request Hook with object_kind %q", head.ObjectKind)
	}
	parsed, err := gl.ParseWebhook(gl.EventTypeMergeRequest, body)
	if err != nil {
		return forge.Event{}, bad("the body is not a Merge Request Hook: %v", err)
	}
	e := parsed.(*gl.MergeEvent)
	a := e.ObjectAttributes

	action, ok := mergeActions[a.Action]
	tb := e.Changes.TargetBranch
	retargeted := tb.Previous != "" && tb.Previous != tb.Current
	switch {
	case a.Action == "update" && (a.OldRev != "" || retargeted):
		action = forge.ActionUpdated
	case a.Action == "update":
		action = forge.ActionEdited
	case !ok:
		return forge.Event{}, ignored("merge request action %q is not one strata acts on", a.Action)
	}

	ev := forge.Event{
		Action:         action,
		Repo:           e.Project.PathWithNamespace,
		ProjectID:      e.Project.ID,
		CloneURL:       e.Project.GitHTTPURL,
		DefaultBranch:  e.Project.DefaultBranch,
		Number:         a.IID,
		Title:          forge.Clip(a.Title, forge.MaxTitleLen),
		URL:            a.URL,
		State:          forge.MRState(a.State),
		Draft:          a.Draft || a.WorkInProgress,
		SourceBranch:   a.SourceBranch,
		TargetBranch:   a.TargetBranch,
		HeadSHA:        a.LastCommit.ID,
		OldHeadSHA:     a.OldRev,
		MergeCommitSHA: a.MergeCommitSHA,
		Fork:           isFork(a.SourceProjectID, a.TargetProjectID),
	}
	if e.User != nil {
		ev.User = e.User.Username
	}
	if ev.HeadSHA == "" {
		return forge.Event{}, bad("merge request event without object_attributes.last_commit.id")
	}
	return finish(ev)
}

func parseNoteEvent(body []byte) (forge.Event, error) {
	var head struct {
		ObjectKind       string `json:"object_kind"`
		ObjectAttributes struct {
			NoteableType string `json:"noteable_type"`
		} `json:"object_attributes"`
	}
	if err := json.Unmarshal(body, &head); err != nil {
		return forge.Event{}, bad("the body is not JSON: %v", err)
	}
	if head.ObjectKind != "note" {
		return forge.Event{}, bad("a Note Hook with object_kind %q", head.ObjectKind)
	}
	if t := head.ObjectAttributes.NoteableType; t != "MergeRequest" {
		return forge.Event{}, ignored("comments on a %s are not commands; only merge request comments are", t)
	}
	parsed, err := gl.ParseWebhook(gl.EventTypeNote, body)
	if err != nil {
		return forge.Event{}, bad("the body is not a Note Hook: %v", err)
	}
	e := parsed.(*gl.MergeCommentEvent)
	a, mr := e.ObjectAttributes, e.MergeRequest
	if a.System {
		return forge.Event{}, ignored("system notes are not commands")
	}
	if a.Action != "" && a.Action != gl.CommentEventActionCreate {
		return forge.Event{}, ignored("note action %q: only new comments are commands, edits never re-run one", a.Action)
	}

	ev := forge.Event{
		Action:        forge.ActionCommented,
		Repo:          e.Project.PathWithNamespace,
		ProjectID:     e.Project.ID,
		CloneURL:      e.Project.GitHTTPURL,
		DefaultBranch: e.Project.DefaultBranch,
		Number:        mr.IID,
		Title:         forge.Clip(mr.Title, forge.MaxTitleLen),
		URL:           mr.URL,
		State:         forge.MRState(mr.State),
		Draft:         mr.WorkInProgress,
		SourceBranch:  mr.SourceBranch,
		TargetBranch:  mr.TargetBranch,
		HeadSHA:       mr.LastCommit.ID,
		Fork:          isFork(mr.SourceProjectID, mr.TargetProjectID),
		NoteID:        a.ID,
		Body:          forge.FirstLine(a.Note),
	}
	if e.User != nil {
		ev.User = e.User.Username
	}
	if ev.User == "" {
		return forge.Event{}, bad("note event without user.username")
	}
	return finish(ev)
}

// finish checks the fields every event needs and fills HeadRef.
func finish(ev forge.Event) (forge.Event, error) {
	switch {
	case ev.ProjectID == 0:
		return forge.Event{}, bad("event without project.id")
	case ev.Repo == "":
		return forge.Event{}, bad("event without project.path_with_namespace")
	case ev.CloneURL == "":
		return forge.Event{}, bad("event without project.git_http_url")
	case ev.Number == 0:
		return forge.Event{}, bad("event without a merge request iid")
	case ev.Number < 0:
		return forge.Event{}, bad("merge request iid %d: want a positive number", ev.Number)
	}
	ev.HeadRef = fmt.Sprintf("refs/merge-requests/%d/head", ev.Number)
	return ev, nil
}

// isFork reports whether a merge request comes from another project. Old
// payloads without the IDs count as not forked.
func isFork(source, target int64) bool {
	return source != 0 && target != 0 && source != target
}

func tooLarge(limit int64) error {
	return &forge.WebhookError{Kind: forge.ErrTooLarge, Forge: Name, Reason: fmt.Sprintf("the body is larger than %d bytes", limit)}
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

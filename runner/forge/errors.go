package forge

import (
	"errors"
	"fmt"
	"net/http"
)

// Kinds of webhook failure. A *WebhookError matches exactly one of them
// with errors.Is.
var (
	// ErrUnauthorized: the secret is missing or wrong, or none is
	// configured. The body was not read.
	ErrUnauthorized = errors.New("webhook secret does not match")
	// ErrBadPayload: the body is not a well-formed event of its kind.
	ErrBadPayload = errors.New("malformed webhook payload")
	// ErrTooLarge: the body is larger than the server accepts.
	ErrTooLarge = errors.New("webhook payload too large")
	// ErrIgnored: a genuine event strata does not act on (push, pipeline,
	// issue comments, edited comments, ...). Not a failure.
	ErrIgnored = errors.New("event ignored")
)

// WebhookError says why a webhook delivery yields no event.
type WebhookError struct {
	Kind   error  // ErrUnauthorized, ErrBadPayload, ErrTooLarge or ErrIgnored
	Forge  string // "gitlab", "github"
	Reason string // one line naming the input, never a secret
}

func (e *WebhookError) Error() string {
	return fmt.Sprintf("%s webhook: %s: %s", e.Forge, e.Kind, e.Reason)
}

func (e *WebhookError) Unwrap() error { return e.Kind }

// WebhookStatus is the HTTP status the server answers a failed delivery
// with: 401 for a bad secret (so the forge's webhook page shows it), 400
// for a malformed body, 413 for an oversized one, 200 for an ignored event
// (a 4xx would make the forge count failures and eventually disable the
// hook), and 500 for anything else.
func WebhookStatus(err error) int {
	switch {
	case errors.Is(err, ErrUnauthorized):
		return http.StatusUnauthorized
	case errors.Is(err, ErrBadPayload):
		return http.StatusBadRequest
	case errors.Is(err, ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrIgnored):
		return http.StatusOK
	default:
		return http.StatusInternalServerError
	}
}

// Kinds of API failure. An *APIError matches at most one of them.
var (
	ErrNotFound = errors.New("not found")
	// ErrPermission: the token may not do this (HTTP 401 or 403).
	ErrPermission = errors.New("permission denied")
	// ErrHeadMoved: the merge request's head is not the SHA given to Merge.
	ErrHeadMoved = errors.New("merge request head moved")
	// ErrNotMergeable: the forge refused to merge (conflicts, draft, not
	// open, rules not met).
	ErrNotMergeable = errors.New("merge request cannot be merged")
	// ErrTooLong: a note body is longer than the forge's CommentLimit.
	ErrTooLong = errors.New("comment too long")
)

// APIError is a failed forge API call. Its message never holds a token.
type APIError struct {
	Op      string // what was attempted, e.g. "get merge request acme/infra!12"
	Status  int    // HTTP status of the last attempt; 0 when none came back
	Message string // the forge's message or the transport error, redacted
	// Kind is ErrNotFound, ErrPermission, ErrHeadMoved, ErrNotMergeable,
	// ErrTooLong, context.Canceled, context.DeadlineExceeded or nil.
	Kind error
}

func (e *APIError) Error() string {
	msg := e.Op
	if e.Status != 0 {
		msg += fmt.Sprintf(": HTTP %d", e.Status)
	}
	if e.Kind != nil {
		msg += ": " + e.Kind.Error()
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

func (e *APIError) Unwrap() error { return e.Kind }

// Package gitlab implements forge.Forge for GitLab (gitlab.com or
// self-managed, REST API v4) with gitlab.com/gitlab-org/api/client-go,
// including its webhook parsing.
//
// Webhooks. The X-Gitlab-Token header is compared with the configured
// secret in constant time (both hashed with SHA-256, then
// crypto/subtle), before the body is read; with no secret configured every
// delivery is refused. Handled: "Merge Request Hook" (open, reopen,
// update, approved/approval, unapproved/unapproval, merge, close) and
// "Note Hook" for new, non-system comments on merge requests. Ignored
// (forge.ErrIgnored, answered 200): every other X-Gitlab-Event, comments
// on issues, commits and snippets, edited comments (an edit must never
// re-run a command), system notes, internal ("Confidential Note Hook")
// comments (commands are public, so the run is on record), and unknown
// actions. An update is forge.ActionUpdated when it carries
// object_attributes.oldrev (new commits) or changes.target_branch, and
// forge.ActionEdited otherwise.
//
// Bodies. A Content-Length over Options.MaxWebhookBytes is refused (413)
// before anything is read, a longer body once the limit is passed. Of a
// note strata keeps the first line, where commands are.
//
// Delivery ID. GitLab's Idempotency-Key header (at most 255 bytes, a UUID
// when GitLab sends it), which stays the same when
// GitLab retries a delivery; older versions without it get the SHA-256 of
// the event kind and body, equal for a retry too. X-Gitlab-Event-UUID is
// not used: every hook of one recursive chain shares it.
//
// Forks. A merge request whose source_project_id differs from its
// target_project_id is reported as a fork; Event.HeadRef
// (refs/merge-requests/IID/head) lets the server fetch its head from the
// target project without touching the fork. Whether to plan it is the
// server's call.
//
// API calls. Each attempt is bounded by Options.Timeout; 429, 5xx (but
// 501) and connection failures are retried Options.Retries times, waiting
// what Retry-After or RateLimit-Reset asks (capped) or an exponential
// backoff with jitter. Every method takes a context. Errors are
// *forge.APIError values with the token removed from every message.
// Commit statuses: GitLab refuses to set a pending or running status to
// the state it already has; SetStatus treats that as done.
//
// Clones. CloneAuth accepts only clone URLs on the configured GitLab's
// scheme and host, strips credentials from them, and returns go-git basic
// auth (user "oauth2", password the token), sent as a header: the token
// is never part of a URL, a remote config or a log line.
package gitlab

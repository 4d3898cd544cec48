// Package forge defines what strata needs from a code forge (GitLab,
// GitHub): webhook events, merge requests, notes, commit statuses,
// approvals, issues and group membership. Implementations live in
// sub-packages; this package holds the interface and the types shared by
// them, and imports no forge client.
//
// Decisions the implementations share:
//
//   - Webhooks: ParseWebhook checks the secret in constant time before it
//     reads the body. Failures are *WebhookError values of four kinds,
//     mapped to HTTP by WebhookStatus: ErrUnauthorized → 401, ErrBadPayload
//     → 400, ErrTooLarge → 413, ErrIgnored → 200. Ignored events (pushes,
//     pipelines, comments on issues or commits, edited comments, system
//     notes, unknown actions) are answered 2xx because a forge counts any
//     other answer as a failure and eventually disables the hook.
//   - Validation: Event.Validate checks, before an event is queued, all
//     that needs no forge: the project path (no empty, "." or ".."
//     segment, so the allowlist and the store's keys see one clean path),
//     SHAs, numbers, branch and user names, the delivery ID's length. A
//     value no retry could fix is a 4xx at once, never a 202 followed by
//     retries and a dead letter.
//   - Size: an Event holds only what strata reads (a title of at most
//     MaxTitleLen bytes, a comment's first line), since it is queued whole.
//   - Deduplication: Event.DeliveryID is the same for every delivery of
//     one event (the forge's retry-stable delivery key, else a hash of the
//     body), so the server can drop repeats.
//   - Updates: ActionUpdated means the code changed (new commits, with
//     OldHeadSHA, or a new target branch); ActionEdited means only metadata
//     changed, so the server need not plan again.
//   - Forks: Event.Fork and MergeRequest.Fork report a source branch in
//     another project. This package does not decide what to do with them;
//     the server owns that policy (planning a fork runs its author's code
//     with strata's credentials, so it should be refused unless an
//     operator flag allows it). Event.HeadRef names a ref of the target
//     project that holds the head, forks included.
//   - Identity: FindNote and FindIssue only return what strata's own user
//     wrote, so a marker pasted by someone else is never taken over.
//   - Secrets: no error or String() of this package or its implementations
//     contains a token or webhook secret. Redacted wraps a Forge so that
//     every text strata sends it (notes, statuses, issues, merge messages)
//     has the secrets strata knows masked, whatever rendered it.
package forge

// Package fakegitlab is an in-memory GitLab for end-to-end tests: an
// httptest server speaking the REST API v4 JSON shapes of exactly the
// endpoints strata's GitLab adapter calls (current user, user lookup,
// merge requests (also by commit), approvals, merge, notes, commit
// statuses, issues, group membership), with GitLab's own validation and
// errors where strata's behaviour depends on them (merge 405/422/409,
// note length, status transitions, pagination headers).
//
// Tests seed state (AddProject, AddMergeRequest, Approve, AddGroupMember,
// ...), inspect what strata did (Notes, Statuses, Issues, Calls), and
// inject failures (FailNext, Fail) such as 429 with Retry-After, or hold
// requests to a route unanswered (Hold) to stop strata at a known point.
// Requests
// must carry the token as PRIVATE-TOKEN or a Bearer token.
//
// Webhooks are built from GitLab's sample payloads (testdata/, copied from
// client-go; see testdata/NOTICE) with fields replaced, so they have
// exactly GitLab's shape: MergeRequestHook, NoteHook, or from the fake's
// state with Server.MergeRequestHook and Server.Comment. Deliver and
// NewRequest post them with GitLab's headers.
//
// This package is test support: it must not be imported by strata's
// binary.
package fakegitlab

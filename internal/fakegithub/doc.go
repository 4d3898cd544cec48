// Package fakegithub is an in-memory GitHub for tests: an httptest server
// speaking the REST API JSON shapes (as go-github reads them) of exactly
// the endpoints strata's GitHub adapter calls — the token's user, the App
// and its installation tokens, pull requests (also by commit), reviews,
// merge, issue comments, commit statuses, check runs, issues and team
// membership —
// with GitHub's own validation and errors where strata's behaviour
// depends on them (merge 405/409, comment length, mergeable computed
// lazily, issues listing pull requests, Link pagination, rate limits).
//
// Tests seed state (AddRepo, AddPullRequest, AddReview, AddTeamMember,
// EnableApp, ...), inspect what strata did (Comments, Statuses,
// CheckRuns, Issues, Calls), and inject failures (Fail, FailNext) such as
// a 403 with X-RateLimit-Remaining: 0 or a secondary rate limit with
// Retry-After. Requests carry the personal token (Bearer or "token"), an
// App's JWT (RS256, verified with the App's public key), an
// installation token the fake issued, or a GitHub Actions GITHUB_TOKEN
// (ActionsToken).
//
// Webhooks are built from GitHub's example payloads (testdata/, from the
// @octokit/webhooks-examples npm package; see testdata/NOTICE) with
// fields replaced, so they have exactly GitHub's shape: PullRequestHook,
// IssueCommentHook, ReviewHook, PushHook, PingHook, or from the fake's
// state with Server.PullRequestHook, Server.Comment and Server.Review.
// NewRequest and Deliver post them with GitHub's headers, signed with
// X-Hub-Signature-256.
//
// This package is test support: it must not be imported by strata's
// binary.
package fakegithub

// Package github implements forge.Forge for GitHub (github.com or GitHub
// Enterprise Server, REST API v3) with github.com/google/go-github (v88:
// the version github.com/bradleyfalzon/ghinstallation/v2 is built on, so
// the binary holds one go-github).
//
// Webhooks. No event is believed before its X-Hub-Signature-256 is: the
// header must be present and well formed before the body is read (with a
// size cap), the HMAC-SHA256 of the body with the secret is compared with
// it in constant time (crypto/hmac.Equal), and only then is the body
// parsed. With no secret configured every delivery is refused. Handled:
// pull_request opened, reopened, synchronize (new commits, with the old
// head), ready_for_review (planned as if opened), edited with a new base
// branch, and closed (merged or not); issue_comment created on a pull
// request (the comment commands); pull_request_review submitted as an
// approval (forge.ActionApproved) or a request for changes, and
// dismissed (forge.ActionUnapproved), so apply_on: approval is
// re-evaluated; push to the default branch (forge.ActionPushed: the
// repository is recorded for drift scans). Ignored (forge.ErrIgnored,
// answered 200): ping, every other event and action, comments on issues,
// edited or deleted comments (an edit must never re-run a command),
// reviews that only comment, pushes to other branches.
//
// Drafts. The opened, reopened and synchronize events of a draft pull
// request are ignored unless Options.PlanDrafts (the server's
// --github-plan-drafts): a draft says "not ready", and planning it would
// take the stacks' locks from pull requests that are. Marking it ready
// for review plans it. A comment command on a draft is still obeyed: it is
// an explicit request. It is a server flag rather than a strata.yaml key
// because the decision is taken when the webhook arrives, before any
// repository is read.
//
// Validation before the 202. The payload must name a clean owner/name
// repository with an ID, a clone URL of that repository on the scheme and
// host of the configured GitHub (the API host without "api.": github.com
// for api.github.com; the Enterprise Server host, which serves both;
// file:// only with AllowFileRemotes),
// positive numbers and 40-digit commit SHAs; X-GitHub-Delivery is at most
// 64 letters, digits and dashes.
//
// Delivery ID. X-GitHub-Delivery, the same for every redelivery of an
// event; without one, the SHA-256 of the event kind and body.
//
// Forks. A pull request whose head repository is not its base repository
// (or is gone) is a fork; Event.HeadRef (refs/pull/N/head) lets the
// server fetch its head from the base repository. Comment payloads do not
// say; the server asks MergeRequest.
//
// Authentication. A token (Options.Token) is sent as a bearer token and is
// the clone password; BotUsername is its user. A GitHub App (AppID,
// AppKey) authenticates with JWTs signed by ghinstallation (never by hand)
// to find installations, and with installation tokens for everything
// else: the installation of a repository is the one its last webhook
// named, else the one GET /repos/{owner}/{repo}/installation names; each
// installation's token is cached until a minute before it expires.
// BotUsername is "<slug>[bot]". Every identity check (FindNote,
// FindIssue) compares logins with it. GitHub Actions' GITHUB_TOKEN is an
// installation token GET /user refuses; Options.BotLogin names the login
// it acts as (github-actions[bot]).
//
// Statuses. With a token, commit statuses strata/plan and strata/apply
// (running shows as pending; descriptions cut to 140 characters). With an
// App, check runs of those names, updated in place (the App's latest run
// of that name on the commit), whose output is the status's summary table
// and whose details link is strata's comment.
//
// Mergeable. mergeable_state clean, has_hooks or unstable is mergeable;
// dirty is a conflict; blocked and behind set MergeRequest.Blocked with
// what to do. While GitHub computes it (mergeable null) MergeRequest
// reads the pull request again, a few times, a second apart.
//
// Approvals. Each reviewer's latest review that approves, requests
// changes or was dismissed counts; comments do not. Approved means at
// least one approval and no request for changes. Required approvals are
// branch protection's to enforce.
//
// API calls. Each attempt is bounded by Options.Timeout and retried
// Options.Retries times after a 5xx (but 501), a connection failure or a
// rate limit, waiting what GitHub asks: X-RateLimit-Reset for the primary
// limit (X-RateLimit-Remaining 0), Retry-After (else a minute) for the
// secondary one, an exponential backoff with jitter otherwise. A wait
// longer than RetryWaitMax fails the call at once with the limit's reset
// time, and the server's queue retries the event later. go-github's own
// rate-limit bookkeeping is off, so this is the only one. Errors are
// *forge.APIError values with the token removed from every message.
//
// Merging uses the merge API with the reviewed head as sha: 409 is
// forge.ErrHeadMoved, 405 and 422 forge.ErrNotMergeable. GitHub's API
// does not delete head branches, so MergeOptions.RemoveSourceBranch is
// refused with what to do instead.
//
// Clones. CloneAuth accepts only clone URLs of a repository on the
// configured GitHub's scheme and host, strips credentials from them, and
// returns go-git basic auth (user x-access-token, the token or a current
// installation token as password), sent as a header: no token is ever
// part of a URL, a remote config or a log line.
//
// Teams. team:ORG/SLUG in policy.owners and --appliers is checked with
// GET /orgs/{org}/teams/{slug}/memberships/{username}: only an active
// membership counts.
package github

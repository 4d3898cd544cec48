// Package ci is strata's CI mode: `strata ci plan` and `strata ci apply`
// inside a GitLab CI or GitHub Actions job, doing once, with no server,
// the merge request work the server does on webhooks. It owns reading
// the CI system's variables (Detect: which forge, repository, commit and
// merge request), the driver that turns a job into the review engine's
// steps (Driver), and GitLab's Terraform report.
//
// It is a driver of runner/review, not a copy: the locks, plans, note,
// statuses and apply rules are the server's. The forge clients are the
// server's too (OpenForge), and workspace.Checkout opens the job's own
// clone instead of a mirror.
//
// Decisions:
//   - What is planned is the merge request's head: GitLab's
//     CI_MERGE_REQUEST_SOURCE_BRANCH_SHA in merged-results pipelines, else
//     CI_COMMIT_SHA; GitHub's pull_request.head.sha, not GITHUB_SHA (the
//     merge of head into base that actions/checkout checks out).
//   - The target branch is read at a commit the CI system names, which a
//     full clone holds even when it has no branch of that name: GitLab's
//     CI_MERGE_REQUEST_DIFF_BASE_SHA, GitHub's pull_request.base.sha. Both
//     are on the target branch, so a merge request still cannot rewrite
//     the settings and policies that judge it. After a merge, the target
//     branch is read at the merge commit the pipeline runs for.
//   - Forks are planned: in CI the CI system has already decided which
//     merge requests run jobs with which secrets (GitHub gives forks'
//     pull_request jobs none). pull_request_target, which gives a pull
//     request's code the base repository's secrets, is refused.
//   - Tokens: STRATA_GITLAB_TOKEN (a project access token; CI_JOB_TOKEN
//     cannot write notes or statuses); STRATA_GITHUB_TOKEN, else the job's
//     GITHUB_TOKEN, which GitHub does not tell whom it acts as: strata
//     takes github-actions[bot]. The variable the token came from is kept
//     from terraform (STRATA_* never reaches it anyway).
//   - The trust boundary is the server's: terraform runs in the sandbox
//     the caller gives (Config.Sandbox; `strata ci` defaults to --sandbox
//     auto, as the CLI does), with the per-operation environment, and the
//     forge (OpenForge) and the store mask the token and every
//     secret-looking value of the job's environment.
//   - `ci apply` in a branch's pipeline applies the plans of the merge
//     request the commit merged (forge.MergeRequests.MergedBy), which must
//     target that branch; a commit that merged none is an error. In a
//     merge request pipeline it applies when apply_on is approval or
//     comment and the requirements hold, read from the forge's API.
//   - No server sweeps for CI mode: before planning, `ci plan` releases
//     the locks of the repository's merge requests closed unmerged. A
//     merged one keeps its locks until its apply job runs.
//   - GitLab keys Terraform reports by job (one report per job shows in
//     the widget), so --gitlab-report holds one {"create","update",
//     "delete"} object summed over the stacks, exactly those three keys.
//   - Locks and store must be shared between jobs; a local path (bolt://,
//     file://, a directory) works on a single runner only, and Unshared
//     says so.
package ci

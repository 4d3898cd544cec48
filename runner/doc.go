// Package runner is strata's server: it takes webhook events from a forge,
// queues them durably, and turns them into plans, applies and comments,
// holding a lock per stack for the merge request that planned it. It also
// sweeps stale locks and schedules drift scans.
//
// Drift (drift*.go): the server knows repositories only from webhooks, so
// it records each under repos/ in the store. Every replica queues a scan
// per repository and tick of drift.schedule; ticks are computed alike on
// every replica, the queue ID names repository and tick, and the
// repository's drift lock plus the last tick recorded in the store let
// one scan run per tick. Scans report through issues (one per drifted
// stack, found again by a hidden marker), an optional notify webhook and
// metrics read back from the store. Nothing is applied from a drift scan:
// fixes go through merge requests.
//
// The runner owns orchestration only. Terraform runs through package
// planner, repository analysis through package stacks, and the forge, the
// queue, the locks, the store and the mirrors sit behind their own
// packages.
//
// Decisions:
//   - Nothing that matters lives in memory. A merge request's plans, locks
//     and policy approval are recorded in the Store (mr/<forge>/<repo>/<n>/),
//     runs in run records (runs/<forge>/<repo>/<id>.json, and runs/active/
//     while in progress), so any replica can continue another's work.
//   - Events of one merge request form one queue group: they are handled
//     one at a time, in order. The lock sweep queues a check per merge
//     request in that group instead of releasing directly, so a merge still
//     waiting to be applied keeps its locks until it is.
//   - What gates an apply (apply_on, automerge, requirements, policy paths
//     and owners) is read from the target branch, never from the merge
//     request under review. The change set and the plans come from its
//     head.
//   - A handler returns an error only for failures that may pass (forge,
//     store or fetch trouble, shutdown); the item is then retried with
//     backoff. What the author must fix is reported on the merge request.
//   - `strata apply` as a comment is refused with apply_on: merge: the
//     repository chose merge-then-apply.
//   - Merge requests from forks are not planned unless AllowForks.
package runner

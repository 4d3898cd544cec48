// Package review is a merge request's life in strata: plan it when it
// opens or changes, lock the stacks it touches, keep one note up to date,
// apply exactly the reviewed plans once every requirement holds, release
// the locks when it is merged, closed or unlocked, and answer the comment
// commands (plan, apply, unlock, approve-policies, help).
//
// It depends only on what it uses: the forge's role interfaces (Forge),
// a lock.Locker, a store.Store, a workspace.Opener and a run Recorder, so
// its decisions are tested in process against fakes of those
// (review_test.go) and end to end against the real server (package test).
//
// Decisions:
//   - Nothing that matters lives in memory. A merge request's plans, locks
//     and policy approval are recorded in the store (records.MRStateKey),
//     so any replica can continue another's work.
//   - What gates an apply (apply_on, automerge, requirements, policy paths
//     and owners) is read from the target branch, never from the merge
//     request under review. The change set and the plans come from its
//     head.
//   - A handler returns an error only for failures that may pass (forge,
//     store or fetch trouble, shutdown); the queue retries it. Permanent
//     failures (package internal/fault: a broken strata.yaml, an unknown
//     stack) are reported on the merge request, and the event is done.
//   - `strata apply` as a comment is refused with apply_on: merge: the
//     repository chose merge-then-apply.
//   - Merge requests from forks are not planned unless AllowForks. A
//     comment's payload may not say whether its merge request comes from
//     a fork (GitHub's does not), so commands go by the forge's answer.
//   - Commit statuses link to strata's note and carry the run's summary
//     table (forge.Status.Summary) for forges that show it, such as
//     GitHub's check runs.
//   - The lock sweep (Sweep) releases the locks of a merge request that is
//     no longer open; it runs in the merge request's queue group, after
//     any event still queued, so a merge waiting to be applied keeps its
//     locks until it is.
//   - CI mode drives the same engine without webhooks (pipeline.go): Plan,
//     Apply and ApplyMerged do what the handlers do and return the run, so
//     a job can exit with its outcome. An outcome already on the merge
//     request (a refusal, a failure told in the note) is "settled": the
//     handlers are done with it, CI mode exits 1 with its message.
//     SweepClosed keeps a merged merge request's locks, which only its
//     apply job releases; Config.Job puts a link to the job on the note.
//   - The target branch is read at Event.TargetSHA when the caller names
//     one (a CI job's checkout need not hold the branch, only commits the
//     CI system names, which are on the branch), else at its head.
package review

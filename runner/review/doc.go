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
//   - The state is read with its version and written over that version
//     only (store.PutIf; state.go). Two replicas handle one merge request
//     at once only when one lost its queue lease; the one whose view is
//     stale is refused and makes its change again to the state as it now
//     stands: locks merge as a set, and when a newer plan set landed in
//     the meantime, it and what belongs to it stay while the stale
//     replica's changes to the old plans are dropped.
//   - An apply is claimed in the state, with a conditional write, before
//     terraform starts, by the delivery asking for it (once.go); it is
//     marked done, with AppliedAt, before the event is acknowledged. The
//     same delivery handled again is answered "already applied" and
//     touches nothing. An apply whose replica died mid-way (its run
//     record's heartbeat stopped) is closed as interrupted and never
//     started again by anyone: what terraform did is unknown, and the
//     merge request is told to plan again. A claim of another replica
//     still running makes the event wait (a transient error, retried).
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
//   - Every apply is verified (feedback.go): the applied stacks are
//     planned again in the same run, and the note says "verified: no
//     changes" or "not converged" with the addresses; the run record
//     keeps the verdict (records.Verification) and the metric counts
//     it. A verification that fails never fails the apply.
//   - Each run's terraform output streams into its run log
//     (records.RunLog); with Config.PublicURL, the note links each stack
//     to its section of the run's page.
//   - The lock sweep (Sweep) releases the locks of a merge request that is
//     no longer open; it runs in the merge request's queue group, after
//     any event still queued, so a merge waiting to be applied keeps its
//     locks until it is.
package review

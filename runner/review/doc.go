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
//   - The apply in progress (state.Applying) is claimed with a conditional
//     write before terraform starts (once.go): of the replicas that try,
//     one wins, and the others' events go back to the queue. An event that
//     finds a claim asks the run records whether its replica is alive: while
//     it renews the run, the event waits (a transient error, retried); once
//     it stopped, its run is closed as interrupted, and the event settles
//     what the apply left (applied.go). Either way the plans are never
//     applied twice.
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
//   - A plan is applied once (applied.go). The state records an apply in
//     progress before terraform starts, and each stack applied as soon as
//     terraform reports it, before any status, note or queue
//     acknowledgement. An event that finds the plans applied (a
//     redelivery after a crash, a second approval) runs nothing, sets the
//     status and note the apply left, and tells a comment when it was
//     applied. One that finds an apply still in progress knows a crash cut
//     it short: it does not apply again, but has each stack checked for
//     what terraform left (tainted resources, its state lock, released
//     when it is the interrupted apply's own) and says to plan again.
//   - Replies and notes render every string a user, strata.yaml or
//     terraform supplied inert (comment.Inert, comment.Code). A reply
//     still starts with @author, on purpose: it answers that person, whose
//     name the intake checked.
//   - A panic while handling an event fails its run (record, status, note
//     say so, with the cause) and is returned as a permanent
//     fault.PanicError: the worker logs it and gives the event up.
//   - Merge requests from forks are not planned unless AllowForks. A
//     comment's payload may not say whether its merge request comes from
//     a fork (GitHub's does not), so commands go by the forge's answer.
//   - Commit statuses link to strata's note and carry the run's summary
//     table (forge.Status.Summary) for forges that show it, such as
//     GitHub's check runs.
//   - Merge requests from forks are not planned unless AllowForks.
//   - Stack instances are keyed by name (DIR, or DIR@WORKSPACE) in the
//     plan set, the locks and the note; `-s DIR` names every instance of
//     DIR.
//   - A partial plan (`strata plan -s DIR -- -target=ADDR`; only -target
//     may follow `--`) replaces the stack's plan in the plan set and is
//     applied only by a `strata apply -s` that names it, from someone
//     allowed to apply: never on merge or approval. With apply_on: merge
//     such a comment is accepted for partial plans only, since otherwise
//     nothing could ever apply them.
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

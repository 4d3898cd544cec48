// Package runner is strata's server, its lifecycle only: the webhook
// intake (POST /events/<forge>, GET /healthz, GET /metrics), the durable
// queue's worker pool, the periodic lock sweep, the metrics, and the table
// from a queue item's kind to its handler. The work itself is done by its
// sub-packages:
//
//	runner/review     a merge request's plan, apply, locks, commands and note
//	runner/drift      scheduled drift scans, their issues and notifications
//	runner/records    run records and the store's key layout
//	runner/workspace  fetching a repository and opening a planner session on it
//	runner/forge      the forge interface; gitlab/ and github/ implement it
//	runner/queue, runner/lock, runner/store, runner/mirror
//
// Decisions:
//   - An accepted webhook is on the durable queue before the 202 goes out;
//     the events of one merge request form one queue group, handled one at
//     a time, in order. A push to the default branch (forge.ActionPushed)
//     is not queued: it only records the repository for drift scans, and
//     is answered 200.
//   - What a handler's error is decides what happens to its item (package
//     internal/fault): nil acks it; a transient error puts it back for a
//     retry with backoff (after the queue's MaxAttempts it goes to the dead
//     letters); a permanent one — an unreadable payload, an unknown kind —
//     moves it to the dead letters at once, with the reason and a log
//     line. Handlers report to users what users must fix and return nil.
//   - Intake: the secret is checked before the body is read, and a refused
//     delivery's connection is closed, so net/http does not read a
//     trickled body before the answer. A webhook request must arrive
//     whole within BodyTimeout, and at most MaxBodies bodies are read at
//     once (the others wait their turn, then 503), which with the forge's
//     size limit bounds the intake's memory. Event.Validate and the
//     forge's CloneAuth run before the 202.
//   - A panic in a handler fails its item for good (fault.PanicError) and
//     never the process; settle logs its stack trace once.
//   - At start the server closes the runs this replica left unfinished
//     (their records say interrupted, their commit statuses fail with the
//     reason) and sweeps the workspaces a crash left; the queue hands their
//     events out again.
//   - Replicas die under names that never come back, so every replica also
//     closes the runs whose heartbeats stopped (records.Recorder.Abandon):
//     the worker those of an item it takes again, before handling it, and a
//     loop every ReplicaLease the rest.
//   - On SIGTERM runs in flight may finish for ShutdownGrace, then are
//     interrupted and recorded as such.
package runner

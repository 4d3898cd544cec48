// Package records keeps the server's durable account of its work: a run
// record for every plan, apply and drift scan (who, which commit, which
// stacks, results, timings), and, in keys.go, the one definition of the
// store's key layout that every workload writes under:
//
//	mr/<forge>/<repo>/<n>/state.json          a merge request's state
//	mr/<forge>/<repo>/<n>/plans/<sha>/        its plans, in the --out layout
//	mr/<forge>/<repo>/<n>/applied/<sha>.json  what the applies of those plans did
//	runs/<forge>/<repo>/<id>.json             run records
//	runs/<forge>/<repo>/<id>.log              their logs (terraform's output)
//	runs/active/<id>.json                     runs in progress
//	runs/active/<id>.log                      their logs so far
//	drift/<forge>/<repo>/state.json           the last drift scan's verdicts
//	drift/<forge>/<repo>/scans/<id>/          a scan's plans and drift.json
//	repos/<forge>/<repo>.json                 the repositories strata knows
//	audit/<id>.json                           force-unlocks from the web page
//
// Decisions:
//   - A run is written under runs/active/ when it starts and moved to its
//     repository's record when it ends, so a replica that restarts after a
//     crash finds the runs it left unfinished (Recorder.Interrupted) and
//     closes them as interrupted instead of leaving them running forever.
//   - A run in progress has a heartbeat: its replica renews the active
//     record every third of Recorder.Lease, with conditional writes. Any
//     replica closes a run whose heartbeat is two thirds of the lease old
//     as interrupted (Abandon), after claiming it with a conditional write
//     so that one replica does it; replicas come and go under new names
//     (pods), so waiting for the same one to restart would leave it open.
//     The queue's lease is the same length and renewed as often, so a dead
//     replica's record is stale before its queue item reappears: the
//     replica that takes the item again closes the dead run first
//     (matching Record.Item, from WithItem), and its commit status turns
//     failed before the new run sets it again, never after.
//   - A record is written even when the run's context ended: a run cut
//     short by shutdown still gets its end recorded.
//   - A run's log is terraform's output, line by line, each line with its
//     time and its stack, redacted (package internal/redact) as a whole
//     every time it is written, so a secret split over lines is masked
//     too. While the run goes on it is rewritten whole every LogEvery
//     when it grew (stores hold objects, not appendable files); its run
//     page polls it. It keeps at most 16 MiB and says how much it left
//     out. A run closed by another replica keeps what its log streamed.
//   - Failing to write a record is logged, never fatal: the run's result
//     is on the merge request either way.
//
// This package must not know forges' APIs, locks or Terraform; it stores
// what its callers tell it.
package records

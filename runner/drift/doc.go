// Package drift schedules and runs the server's drift scans: every
// repository strata has had a webhook from is planned at the head of its
// default branch on drift.schedule (or --drift-schedule), and what drifted
// is reported through one issue per stack, an optional notify webhook and
// metrics.
//
// Decisions:
//   - The server knows repositories only from webhooks, so Remember
//     records each under repos/ in the store, where every replica finds it.
//   - Every replica queues a scan per repository and tick; ticks are
//     computed alike on every replica ("@every D" aligned on multiples of
//     D), the queue ID names repository and tick, and the repository's
//     drift lock plus the last tick recorded in the store let one scan run
//     per tick. A scan not started before the next tick is due is skipped.
//   - Issues are found again by a hidden marker naming the repository and
//     the stack, among the issues strata's own user wrote with the
//     strata-drift label. A stack that cannot be planned keeps its issue
//     and its last verdict.
//   - The metrics are set from the store's record of each repository's
//     last scan, whichever replica made it, so every replica reports the
//     same.
//   - Schedules are read as strata.yaml's are checked
//     (stacks.ParseSchedule: no panic, none that never fires); a schedule
//     that runs out of ticks is dropped rather than fired again at once.
//   - Nothing is applied from a drift scan: fixes go through merge
//     requests.
package drift

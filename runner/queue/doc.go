// Package queue is the server's durable work queue: webhook events go in
// before the server answers 202, workers take them out. Queue is the
// contract; Bolt implements it in a bbolt file under the data directory,
// owned by one process, and package runner/queue/sqs on an SQS FIFO queue
// shared by replicas. Open picks the implementation from a URL, with the
// same scheme registry as lock.Open and store.Open. Package
// runner/queue/queuetest is the conformance suite both pass.
//
// The package owns storage, ordering, deduplication, retries and dead
// letters. It must not interpret payloads (they are opaque bytes, tagged
// by Kind), decide what a retry means for a run, or log payloads.
//
// Semantics, shared by every implementation (SQS's differences are in
// its package doc: whole-second retry delays, order within a group only):
//
//   - Put returns only once the item is durable (Bolt: committed and
//     fsync'd). A duplicate ID within the deduplication window is dropped
//     with accepted=false and no error, also after the first copy was
//     acked, so a redelivered webhook is answered 2xx and not run twice.
//   - Items are handed out in put order, except that an item whose group
//     has an item in flight, or whose group's head waits for a retry, is
//     skipped: one group (a merge request) is worked on by one worker at a
//     time, in order, while other groups proceed. This is SQS FIFO's
//     MessageGroupId rule.
//   - A Lease is settled once, by Ack (done), Release (retry later, at
//     its place in its group) or Fail (dead letters now). Each delivery
//     counts as an attempt; a Release after MaxAttempts deliveries moves
//     the item to the dead letters, which Dead lists and DeadLen counts.
//     A worker that is still running still owns its item: Bolt's leases
//     never time out, and a queue whose leases do (SQS) renews them for
//     as long as they are held.
//   - Leases held when the process stops (crash or Close) are delivered
//     again, in their places, the stopped delivery counted (Bolt: when the
//     queue is next opened; SQS: to any replica, at once after Close and
//     after the lease timeout after a crash); an item whose last attempt
//     was in flight goes to the dead letters, so an event that crashes the
//     server cannot crash it forever.
//
// Decisions in Bolt:
//
//   - All writes (Put, each delivery, Ack, Release, pruning) go through one
//     writer goroutine that commits whatever is waiting in one
//     transaction: group commit without added delay. bbolt's own db.Batch
//     was measured and rejected: it holds a lone write up to MaxBatchDelay
//     (10 ms), which alone breaks the webhook's 10 ms p99 budget
//     (BenchmarkPut compares the two).
//   - Which items are in flight lives in memory; the file records, per
//     item, its attempts, whether a delivery is in flight and its retry
//     time. The in-memory index (groups and their pending items, no
//     payloads) is rebuilt from the file on open.
//   - Take waits on a channel that is closed whenever an item may have
//     become ready, and on a timer for the earliest retry: no polling.
//   - Deduplication records are kept by ID and by age; a janitor deletes
//     those older than the window every PruneInterval, in bounded chunks.
//     Put ignores expired records even before they are pruned.
package queue

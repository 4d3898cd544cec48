// Package queuetest is the conformance suite every queue.Queue passes:
// the same tests run against the bbolt file and SQS (on moto), so the
// implementations cannot drift apart in semantics. Where SQS is coarser
// the suite asks only what both promise: retry delays in whole seconds,
// put order within a group (SQS FIFO orders groups, not the queue), and
// several queues open on one storage only where the backend is shared.
//
// It is test support only: no production code may import it.
package queuetest

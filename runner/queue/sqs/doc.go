// Package sqs is the server's work queue on an SQS FIFO queue, for any
// number of replicas. Importing it registers sqs://QUEUE.fifo with
// queue.Open. The queue and its dead-letter queue must exist (EnsureQueue,
// behind `strata setup aws --queue`, makes them).
//
// How queue.Queue maps onto SQS:
//
//   - Put sends the item (JSON, at most 256 KiB) with MessageGroupId = its
//     Group, so one merge request's events are received one at a time and
//     in order, whoever receives them; a group SQS would refuse (over 128
//     characters, or outside its alphabet) is hashed, and an item without
//     one gets a group of its own. MessageDeduplicationId is the SHA-256 of
//     the item ID (SQS allows 128 characters).
//   - SQS drops a repeated deduplication ID for five minutes, silently: it
//     cannot say "duplicate". So the webhook's "duplicate" answer, and
//     deduplication past five minutes (a forge redelivering an hour later,
//     or after the first copy was handled), come from Options.Dedup, which
//     the server sets to the lock table in DynamoDB (package
//     runner/lock/dynamodb): Put checks it before sending and records the
//     ID after. Two copies racing within five minutes are both "accepted"
//     and SQS keeps one.
//   - Take long-polls (20 s) for one message, received with a visibility
//     timeout of Options.Lease (whole seconds, default 1 minute), and
//     renews that visibility every third of it until the lease is settled.
//     A replica that dies stops renewing: its message reappears after the
//     timeout and another replica takes it, as its next attempt (SQS's
//     ApproximateReceiveCount). A renewal SQS refuses (another consumer has
//     it now) is logged; the worker's run goes on, and the conditional
//     writes of the state it shares keep the two from interleaving.
//   - Ack deletes the message. Release changes its visibility to the retry
//     delay, rounded up to whole seconds; its group waits meanwhile, as
//     SQS FIFO holds a group while a message of it is invisible.
//   - Attempts: the redrive policy's maxReceiveCount is the queue's
//     MaxAttempts (Options.MaxAttempts is ignored). A Release of the last
//     attempt, and a Fail, bury the item themselves: they send it to the
//     dead-letter queue with the reason and delete it, and log it. strata
//     does not leave that to the redrive policy, which would move it only
//     at the next receive, without a reason or a log line. The redrive
//     policy still catches an item whose replicas died on every attempt;
//     Take logs the last attempt before that happens. Either way
//     strata_queue_dead_letters (DeadLen) counts it.
//   - Close makes the messages still held visible at once, so another
//     replica takes them without waiting for the timeout.
//   - Len and DeadLen sum SQS's approximate counts (visible, in flight,
//     delayed). Dead receives the dead-letter queue's messages and makes
//     them visible again: buried items are each in a group of their own;
//     those SQS moved keep their group and show ten per group at most.
//
// Configuration comes only from the AWS SDK's default chain (package
// internal/awsconfig); the endpoint from AWS_ENDPOINT_URL or
// AWS_ENDPOINT_URL_SQS. The package must not hard-code regions, endpoints
// or credentials.
package sqs

// Package dynamodb keeps strata's locks in a DynamoDB table, for servers
// that run as several replicas. Importing it registers dynamodb://TABLE
// with lock.Open.
//
// Table layout: one item per lock, partition key LockID (S) and nothing
// else in the key schema: the schema of Terraform's S3-backend lock table,
// so one table can serve both. strata's items use LockID "strata:KEY";
// Terraform's are "BUCKET/PATH" and "BUCKET/PATH-md5", and bucket names
// cannot contain ":", so the two never collide, and List shows only
// strata's items. Attributes: owner, head, user (S), acquired_at (S,
// RFC 3339 UTC), and expires_at (N, epoch seconds) when the lock has a
// lease. expires_at is the table's TTL attribute: DynamoDB deletes expired
// items eventually, and until it does every operation treats them as free.
// Leases compare against the client's clock, so replicas need synchronised
// clocks (NTP) and leases far longer than their skew.
//
// The table also remembers webhook deliveries for the SQS queue (Dedup,
// the queue's long deduplication window): items with LockID
// "strata-seen:ID", expires_at the end of the window, seen_at. They do
// not start with "strata:", so List never shows them, and TTL deletes
// them.
//
// Every change is one conditional write, never read-then-write:
//   - Acquire puts the item if it is absent or expired. When that fails and
//     the item (returned by the failed write itself) belongs to the same
//     owner, an UpdateItem conditional on the owner refreshes head, user and
//     the lease and keeps acquired_at; otherwise it reports the holder.
//     Together the two writes implement "attribute_not_exists(LockID) OR
//     owner = :me OR expired" while keeping the original acquired_at.
//   - Release deletes on condition that the owner matches and the lease is
//     running; ForceRelease deletes unconditionally.
//   - Get and List read consistently and skip expired items.
//
// Configuration comes only from the AWS SDK's default chain (package
// internal/awsconfig). The package must not hard-code regions, endpoints or
// credentials.
package dynamodb

// Package lock holds the claims that merge requests make on stacks: one
// owner per key, taken and released atomically, so that two merge requests
// can never plan or apply the same stack at once.
//
// Implementations: an embedded bbolt file (the default, no cloud needed) and
// DynamoDB (package lock/dynamodb, for many replicas). Open chooses one from
// a URL: bolt://PATH, file://PATH or a plain PATH for bbolt,
// dynamodb://TABLE for DynamoDB. Implementations outside this package
// register their scheme with Register from an init function (as
// database/sql drivers do), because they import this package for its types;
// a program links DynamoDB support by importing lock/dynamodb.
//
// Decisions every implementation shares, checked by package locktest:
//   - Keys are any non-empty string; the server builds them with Key.
//   - Re-acquiring by the holder keeps AcquiredAt and refreshes Head, User
//     and the lease. Release by anyone else fails with a *NotHolderError and
//     leaves the lock alone; ForceRelease frees it whoever holds it.
//   - Leases (Options.Lease, 0 = never expire) count whole seconds, rounded
//     up, as DynamoDB's TTL does. A lock whose lease has ended is free:
//     Acquire takes it over, Get and List leave it out, and its former holder
//     can no longer Release it.
//
// The bbolt file stores one JSON record per key in bucket "locks". It is
// opened for each operation and closed right after, so CLI processes and a
// running server can share it. A file lock on PATH.lock (package
// internal/flock) orders goroutines and processes, cancellably, before
// bbolt takes its own.
// An operation gives up when the file stays busy for 15 s.
//
// This package must not know forges, merge requests or Terraform: owners
// and keys are opaque strings to it.
package lock

// Package lock holds the claims that merge requests make on stacks: one
// owner per key, taken and released atomically, so that two merge requests
// can never plan or apply the same stack at once.
//
// Implementations: an embedded bbolt file (the default, no cloud needed) and
// DynamoDB (for many replicas). Open chooses one from a URL.
package lock

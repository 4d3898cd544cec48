// Package locktest is the conformance suite every lock.Locker passes: the
// same tests and benchmark run against the bbolt file and DynamoDB, so the
// implementations cannot drift apart in semantics.
//
// It is test support only: no production code may import it.
package locktest

// Package storetest is the conformance suite every store.Store passes, run
// against the local directory and S3 alike.
//
// It is test support only: no production code may import it.
package storetest

// Package store keeps bytes under keys with their SHA-256 recorded at write
// time and verified at every read: plan artifacts, comments, run records.
//
// Implementations: a local directory (the default) and S3. Open chooses one
// from a URL.
package store

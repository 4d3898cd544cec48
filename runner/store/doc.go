// Package store keeps bytes under keys with their SHA-256 recorded at write
// time and verified at every read: plan artifacts, comments, run records.
//
// Implementations: a local directory (Dir, the default) and S3 (package
// store/s3). Open chooses one from a URL: file://PATH or a plain PATH for a
// directory, s3://BUCKET/PREFIX for S3. Implementations outside this
// package register their scheme with Register from an init function; a
// program links S3 support by importing store/s3.
//
// Keys are relative, slash-separated paths, checked by CheckKey in every
// implementation: no leading or trailing "/", no empty, "." or ".."
// segments (so no key escapes a directory root), no backslash or NUL, and
// no segment beginning with ".strata", which stores keep for themselves.
//
// Dir layout, for a root R (it doubles as `strata plan --out DIR`, whose
// files must stay plain):
//
//	R/KEY                 the bytes, a plain file
//	R/.strata/sha256/KEY  the hex SHA-256 of R/KEY and a newline
//	R/.strata/lock        lock file ordering writers against readers
//	.strata-tmp-*         temporary files, beside their final name
//
// A Put writes both files to temporary names in their final directories
// (fsynced), then renames the checksum and then the data into place while
// holding R/.strata/lock exclusively, and fsyncs the directories; a Get
// reads the checksum and opens the data under the shared lock. So a reader
// sees a whole old or a whole new object; a crash between the renames
// leaves a new key absent or an old key failing its checksum, never a
// partial object that reads as complete. A file without a recorded
// checksum (copied in by hand, or copied without .strata/) is refused with
// ErrChecksum rather than trusted. List skips .strata and temporary files.
// Directories are created 0700 and files 0600: plan files can hold
// secrets. The lock is package internal/flock's (flock(2) on Unix,
// LockFileEx on Windows, which builds but is not tested); waiting for it
// honours the context.
//
// Redacted wraps a Store so that what is written has the secrets strata
// knows masked (package internal/redact), but under the keys its caller
// keeps as they are (plan files, binary and checksummed).
// Conditional writes: GetTagged returns an object with its entity tag and
// PutIf writes only while the tag is unchanged (or, with no tag, only
// while the key is absent), failing with ErrPreconditionFailed otherwise.
// They are how replicas share a read-modify-write record (a merge
// request's state, a run's heartbeat) without a lock: the writer whose
// view is stale is refused and reads again. A Dir's tag is the recorded
// SHA-256, compared and replaced under the exclusive lock; S3's is the
// object's ETag, with If-Match / If-None-Match.
//
// This package must not know what the bytes mean: it never parses plans,
// comments or records.
package store

// Package fault says what kind of failure an error is, so that whoever
// handles it decides by what the error is rather than by where it was
// wrapped:
//
//   - permanent: retrying cannot help; the person who can fix it must be
//     told (a broken strata.yaml, an unknown stack, a constraint no
//     terraform satisfies);
//   - transient: it may pass (a forge, a store or a download that failed);
//     retry it, with backoff.
//
// An error is permanent when it, or an error it wraps, has a method
// Permanent() bool that returns true: Permanent adds one, and packages
// with their own error types (stacks' config errors) implement it. Every
// other error counts as transient, since an unknown failure is better
// retried a bounded number of times than dropped.
//
// A panic recovered while handling one piece of work becomes a PanicError
// (Panicked), which is permanent: the same input would panic again, so the
// work is reported and given up, and the process carries on.
package fault

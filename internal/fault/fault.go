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
package fault

import "errors"

// Permanent marks err as one that retrying cannot fix. It returns nil for
// a nil err.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &kinded{err: err, permanent: true}
}

// Transient marks err as one that may pass, also when something it wraps
// is permanent: a download of the right release that failed is worth
// another try. It returns nil for a nil err.
func Transient(err error) error {
	if err == nil {
		return nil
	}
	return &kinded{err: err}
}

// IsPermanent reports whether err is permanent: the first error in its
// chain that says what it is decides.
func IsPermanent(err error) bool {
	var k interface{ Permanent() bool }
	return errors.As(err, &k) && k.Permanent()
}

type kinded struct {
	err       error
	permanent bool
}

func (k *kinded) Error() string   { return k.err.Error() }
func (k *kinded) Unwrap() error   { return k.err }
func (k *kinded) Permanent() bool { return k.permanent }

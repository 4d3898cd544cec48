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

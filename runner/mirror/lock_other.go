//go:build !unix

package mirror

import "context"

// lockFile is a no-op where flock does not exist: there, only the
// in-process lock serialises fetches, so one process must own Dir.
func lockFile(context.Context, string) (func(), error) { return func() {}, nil }

//go:build unix

package store

import (
	"os"
	"syscall"
)

// lockFile blocks until it holds flock(2) on f, shared or exclusive.
func lockFile(f *os.File, exclusive bool) error {
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	return syscall.Flock(int(f.Fd()), how)
}

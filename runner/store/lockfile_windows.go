//go:build windows

package store

import (
	"os"

	"golang.org/x/sys/windows"
)

// lockFile blocks until it holds a LockFileEx lock on f, shared or
// exclusive.
func lockFile(f *os.File, exclusive bool) error {
	var flags uint32
	if exclusive {
		flags = windows.LOCKFILE_EXCLUSIVE_LOCK
	}
	return windows.LockFileEx(windows.Handle(f.Fd()), flags, 0, 1, 0, &windows.Overlapped{})
}

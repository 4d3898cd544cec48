//go:build unix

package mirror

import (
	"context"
	"errors"
	"os"
	"syscall"
	"time"
)

// lockPoll is how often a fetch waiting on another process's lock tries
// again. flock cannot wait on a context, so the wait is a non-blocking
// attempt per tick; waits within one process use a channel instead.
const lockPoll = 50 * time.Millisecond

// lockFile takes an exclusive flock on path, creating the file. The lock
// dies with the process, so a crash never leaves it held.
func lockFile(ctx context.Context, path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	fd := int(f.Fd())
	for {
		err := syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				syscall.Flock(fd, syscall.LOCK_UN)
				f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, &os.PathError{Op: "flock", Path: path, Err: err}
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(lockPoll):
		}
	}
}

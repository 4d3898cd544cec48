package planner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// fileLock is an exclusive lock shared by every goroutine and every process
// that uses the same lock file: flock(2) locks belong to an open file
// description, so two opens of the file conflict even within one process,
// and the kernel drops the lock when its holder dies, so a crashed strata
// never leaves the cache locked. Within a process a channel queues the
// waiters, so only one of them polls the file at a time.
type fileLock struct {
	path string
	turn chan struct{}
}

func newFileLock(path string) *fileLock {
	return &fileLock{path: path, turn: make(chan struct{}, 1)}
}

// lock waits for the lock until ctx ends and returns its release.
func (l *fileLock) lock(ctx context.Context) (func(), error) {
	select {
	case l.turn <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	f, err := os.OpenFile(l.path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		<-l.turn
		return nil, fmt.Errorf("plugin cache lock: %w", err)
	}
	wait := 5 * time.Millisecond
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			<-l.turn
			return nil, fmt.Errorf("plugin cache lock %s: %w", l.path, err)
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			f.Close()
			<-l.turn
			return nil, ctx.Err()
		}
		wait = min(2*wait, 200*time.Millisecond)
	}
	return func() {
		f.Close() // closing the last descriptor releases the flock
		<-l.turn
	}, nil
}

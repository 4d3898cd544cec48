package flock

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Lock is a held lock; Unlock releases it.
type Lock struct {
	f    *os.File
	gate chan struct{}
	once sync.Once
}

// gates holds, per absolute path, the turn the exclusive waiters of this
// process take before they poll the file.
var (
	gatesMu sync.Mutex
	gates   = map[string]chan struct{}{}
)

func gate(path string) chan struct{} {
	gatesMu.Lock()
	defer gatesMu.Unlock()
	g := gates[path]
	if g == nil {
		g = make(chan struct{}, 1)
		gates[path] = g
	}
	return g
}

// Exclusive waits until it holds the exclusive lock of path, or ctx ends.
// The file is created (mode 0600, its directory 0700) when missing.
func Exclusive(ctx context.Context, path string) (*Lock, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	g := gate(abs)
	select {
	case g <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		<-g
		return nil, fmt.Errorf("lock %s: %w", abs, err)
	}
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		<-g
		return nil, fmt.Errorf("lock %s: %w", abs, err)
	}
	if err := wait(ctx, f, true); err != nil {
		f.Close()
		<-g
		return nil, err
	}
	return &Lock{f: f, gate: g}, nil
}

// Shared waits until it holds a shared lock of path, or ctx ends. Shared
// locks exclude only exclusive ones. The file must exist: an error
// matching fs.ErrNotExist says it does not.
func Shared(ctx context.Context, path string) (*Lock, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	if err := wait(ctx, f, false); err != nil {
		f.Close()
		return nil, err
	}
	return &Lock{f: f}, nil
}

// TryExclusive takes the exclusive lock of path if nobody holds it, without
// waiting; held is false when someone does. The file must exist: an error
// matching fs.ErrNotExist says it does not.
func TryExclusive(path string) (l *Lock, held bool, err error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, false, err
	}
	g := gate(abs)
	select {
	case g <- struct{}{}:
	default:
		return nil, false, nil
	}
	f, err := os.OpenFile(abs, os.O_RDWR, 0)
	if err != nil {
		<-g
		return nil, false, err
	}
	ok, err := tryLock(f, true)
	if err != nil || !ok {
		f.Close()
		<-g
		return nil, false, err
	}
	return &Lock{f: f, gate: g}, true, nil
}

// Unlock releases the lock. Calling it again does nothing.
func (l *Lock) Unlock() {
	l.once.Do(func() {
		unlock(l.f)
		l.f.Close()
		if l.gate != nil {
			<-l.gate
		}
	})
}

// wait polls the lock of f until it is held or ctx ends.
func wait(ctx context.Context, f *os.File, exclusive bool) error {
	delay := 5 * time.Millisecond
	for {
		held, err := tryLock(f, exclusive)
		if err != nil {
			return fmt.Errorf("lock %s: %w", f.Name(), err)
		}
		if held {
			return nil
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		delay = min(2*delay, 100*time.Millisecond)
	}
}

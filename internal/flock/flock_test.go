package flock

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestFileLockExcludesAcrossProcesses has several processes, and several
// goroutines of this one, take the same lock file in turns; each holder
// creates a marker file exclusively, which fails if anyone else holds the
// lock at the same time.
func TestFileLockExcludesAcrossProcesses(t *testing.T) {
	dir := t.TempDir()
	lockPath, inside := filepath.Join(dir, "plugins.lock"), filepath.Join(dir, "inside")
	var procs []*exec.Cmd
	outputs := make([]bytes.Buffer, 4)
	for i := range 4 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestFileLockHelperProcess$")
		cmd.Env = append(os.Environ(), "FLOCK_HELPER="+lockPath, "FLOCK_INSIDE="+inside)
		cmd.Stdout, cmd.Stderr = &outputs[i], &outputs[i]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		procs = append(procs, cmd)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- holdInTurns(lockPath, inside)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	for i, cmd := range procs {
		if err := cmd.Wait(); err != nil {
			t.Errorf("helper process %d: %v\n%s", i, err, outputs[i].String())
		}
	}
}

// TestFileLockHelperProcess is the other processes' side of
// TestFileLockExcludesAcrossProcesses.
func TestFileLockHelperProcess(t *testing.T) {
	lockPath := os.Getenv("FLOCK_HELPER")
	if lockPath == "" {
		t.Skip("helper process only")
	}
	if err := holdInTurns(lockPath, os.Getenv("FLOCK_INSIDE")); err != nil {
		t.Fatal(err)
	}
}

func holdInTurns(lockPath, inside string) error {
	for range 15 {
		l, err := Exclusive(context.Background(), lockPath)
		if err != nil {
			return err
		}
		unlock := l.Unlock
		f, err := os.OpenFile(inside, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err != nil {
			unlock()
			return fmt.Errorf("two holders at once: %w", err)
		}
		time.Sleep(2 * time.Millisecond)
		f.Close()
		os.Remove(inside)
		unlock()
	}
	return nil
}

func TestFileLockWaitEndsWithContext(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plugins.lock")
	l, err := Exclusive(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := Exclusive(ctx, path); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("exclusive lock held elsewhere: %v, want deadline exceeded", err)
	}
	if _, err := Shared(ctx, path); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("shared lock while an exclusive one is held: %v, want deadline exceeded", err)
	}
}

// TestSharedLocksShareAndExcludeWriters: two shared locks are held at
// once; an exclusive lock waits for both; Unlock twice is harmless.
func TestSharedLocksShareAndExcludeWriters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "index.lock")
	if _, err := Shared(context.Background(), path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("shared lock of a missing file: %v, want not exist", err)
	}
	w, err := Exclusive(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	w.Unlock()
	w.Unlock()
	a, err := Shared(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Shared(context.Background(), path)
	if err != nil {
		t.Fatalf("second shared lock: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := Exclusive(ctx, path); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("exclusive lock while shared ones are held: %v", err)
	}
	a.Unlock()
	b.Unlock()
	w, err = Exclusive(context.Background(), path)
	if err != nil {
		t.Fatalf("exclusive lock after the readers left: %v", err)
	}
	w.Unlock()
}

func TestTryExclusiveDoesNotWait(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ws.lock")
	if _, _, err := TryExclusive(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("TryExclusive of a missing file: %v", err)
	}
	l, err := Exclusive(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if _, held, err := TryExclusive(path); held || err != nil {
		t.Fatalf("TryExclusive of a held lock: held %v, %v", held, err)
	}
	l.Unlock()
	l, held, err := TryExclusive(path)
	if !held || err != nil {
		t.Fatalf("TryExclusive of a free lock: held %v, %v", held, err)
	}
	l.Unlock()
}

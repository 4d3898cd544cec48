package planner

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
		cmd.Env = append(os.Environ(), "PLANNER_LOCK_HELPER="+lockPath, "PLANNER_LOCK_INSIDE="+inside)
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
			errs <- holdInTurns(newFileLock(lockPath), inside)
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
	lockPath := os.Getenv("PLANNER_LOCK_HELPER")
	if lockPath == "" {
		t.Skip("helper process only")
	}
	if err := holdInTurns(newFileLock(lockPath), os.Getenv("PLANNER_LOCK_INSIDE")); err != nil {
		t.Fatal(err)
	}
}

func holdInTurns(l *fileLock, inside string) error {
	for range 15 {
		unlock, err := l.lock(context.Background())
		if err != nil {
			return err
		}
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
	unlock, err := newFileLock(path).lock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := newFileLock(path).lock(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("lock held elsewhere: %v, want deadline exceeded", err)
	}
}

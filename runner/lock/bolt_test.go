package lock_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/strata-iac/strata/runner/lock"
	"github.com/strata-iac/strata/runner/lock/locktest"
)

func boltBackend(t *testing.T) func(lock.Options) lock.Locker {
	path := filepath.Join(t.TempDir(), "data", "locks.db")
	return func(opts lock.Options) lock.Locker {
		l, err := lock.Open(t.Context(), "bolt://"+path, opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		return l
	}
}

func TestBoltConformance(t *testing.T) { locktest.Run(t, boltBackend) }

// TestBoltBusyFile: while another process (here: a bbolt handle opened
// behind the Locker's back) holds the file, operations wait, and give up
// when their context ends.
func TestBoltBusyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "locks.db")
	l, err := lock.Open(t.Context(), path, lock.Options{})
	if err != nil {
		t.Fatal(err)
	}
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	_, err = l.Acquire(ctx, "k", lock.Owner{ID: "alice"})
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), path) {
		t.Fatalf("Acquire on a busy file = %v, want a deadline error naming %s", err, path)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Acquire(t.Context(), "k", lock.Owner{ID: "alice"}); err != nil {
		t.Fatalf("Acquire once the file is free: %v", err)
	}
}

func BenchmarkBoltAcquireRelease(b *testing.B) {
	l, err := lock.Open(b.Context(), filepath.Join(b.TempDir(), "locks.db"), lock.Options{Lease: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	locktest.Bench(b, l)
}

package queue

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestReleasedItemKeepsDelayAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "queue.db")
	q := open(t, path, Options{})
	put(t, q, "a1", "A")
	if err := q.Release(context.Background(), take(t, q), time.Hour); err != nil {
		t.Fatal(err)
	}
	q.Close()
	q = open(t, path, Options{})
	if n := length(t, q); n != 1 {
		t.Fatalf("Len = %d", n)
	}
	expectEmpty(t, q)
}

// TestMalformedHandle: a handle Bolt never issued is an error of its own,
// not a lost lease.
func TestMalformedHandle(t *testing.T) {
	q := open(t, filepath.Join(t.TempDir(), "queue.db"), Options{})
	if err := q.Ack(context.Background(), &Lease{Handle: "junk"}); err == nil || errors.Is(err, ErrLeaseLost) {
		t.Fatalf("Ack of a junk handle = %v, want a malformed-handle error", err)
	}
}

func TestOneOwnerPerFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "queue.db")
	open(t, path, Options{})
	_, err := OpenBolt(path, Options{Logger: quiet()})
	if err == nil || !strings.Contains(err.Error(), "locked by another open queue") {
		t.Fatalf("second OpenBolt = %v, want a locked error", err)
	}
}

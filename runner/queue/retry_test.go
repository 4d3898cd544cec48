package queue

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestReleaseRetriesThenDeadLetters(t *testing.T) {
	q := open(t, filepath.Join(t.TempDir(), "queue.db"), Options{MaxAttempts: 3})
	ctx := context.Background()
	put(t, q, "bad", "A")
	put(t, q, "a2", "A")
	put(t, q, "b1", "B")

	l := take(t, q)
	if l.Item.ID != "bad" || l.Attempt != 1 {
		t.Fatalf("took %s#%d", l.Item.ID, l.Attempt)
	}
	// Released with a delay, bad keeps group A blocked; B proceeds.
	start := time.Now()
	if err := q.Release(ctx, l, 80*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if b := take(t, q); b.Item.ID != "b1" {
		t.Fatalf("took %s while bad waits, want b1", b.Item.ID)
	} else {
		ack(t, q, b)
	}
	// Nothing wakes the taker but the retry timer.
	l = take(t, q)
	if l.Item.ID != "bad" || l.Attempt != 2 || time.Since(start) < 80*time.Millisecond {
		t.Fatalf("took %s#%d after %v, want bad#2 after 80ms", l.Item.ID, l.Attempt, time.Since(start))
	}
	if err := q.Release(ctx, l, 0); err != nil {
		t.Fatal(err)
	}
	l = take(t, q)
	if l.Attempt != 3 {
		t.Fatalf("attempt %d, want 3", l.Attempt)
	}
	if err := q.Release(ctx, l, 0); err != nil {
		t.Fatal(err)
	}
	dead, err := q.Dead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(dead) != 1 || dead[0].Item.ID != "bad" || dead[0].Attempts != 3 || string(dead[0].Item.Payload) != "payload bad" ||
		dead[0].Died.IsZero() || !strings.Contains(dead[0].Reason, "3 of 3") {
		t.Fatalf("Dead = %+v", dead)
	}
	if n := length(t, q); n != 1 {
		t.Fatalf("Len = %d, want 1 (a2)", n)
	}
	if a2 := take(t, q); a2.Item.ID != "a2" {
		t.Fatalf("took %s, want a2", a2.Item.ID)
	}
}

// TestFailDeadLettersAtOnce: an item that can never be handled goes to the
// dead letters on its first attempt, with the reason, and its group goes
// on; the lease is spent.
func TestFailDeadLettersAtOnce(t *testing.T) {
	q := open(t, filepath.Join(t.TempDir(), "queue.db"), Options{MaxAttempts: 5})
	ctx := context.Background()
	put(t, q, "garbled", "A")
	put(t, q, "a2", "A")
	l := take(t, q)
	if err := q.Fail(ctx, l, "unreadable payload: invalid character"); err != nil {
		t.Fatal(err)
	}
	if err := q.Fail(ctx, l, "again"); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("second Fail of one lease: %v", err)
	}
	dead, err := q.Dead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(dead) != 1 || dead[0].Item.ID != "garbled" || dead[0].Attempts != 1 || dead[0].Reason != "unreadable payload: invalid character" {
		t.Fatalf("Dead = %+v", dead)
	}
	if next := take(t, q); next.Item.ID != "a2" {
		t.Fatalf("took %s, want a2", next.Item.ID)
	}
}

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

func TestLeaseIsSettledOnce(t *testing.T) {
	q := open(t, filepath.Join(t.TempDir(), "queue.db"), Options{})
	ctx := context.Background()
	put(t, q, "a1", "A")
	l := take(t, q)
	ack(t, q, l)
	if err := q.Ack(ctx, l); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("second Ack = %v, want ErrLeaseLost", err)
	}
	if err := q.Release(ctx, l, 0); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("Release after Ack = %v, want ErrLeaseLost", err)
	}
	if err := q.Ack(ctx, &Lease{Handle: "junk"}); err == nil || errors.Is(err, ErrLeaseLost) {
		t.Fatalf("Ack of a junk handle = %v, want a malformed-handle error", err)
	}
}

func TestTakeWaitsAndHonoursContext(t *testing.T) {
	q := open(t, filepath.Join(t.TempDir(), "queue.db"), Options{})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := q.Take(ctx)
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond)
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Take = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Take did not return after cancel")
	}

	// A blocked taker is woken by a Put.
	got := make(chan string, 1)
	go func() {
		l, err := q.Take(context.Background())
		if err != nil {
			got <- err.Error()
			return
		}
		got <- l.Item.ID
	}()
	time.Sleep(20 * time.Millisecond)
	put(t, q, "late", "")
	select {
	case id := <-got:
		if id != "late" {
			t.Fatalf("Take = %s", id)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Take was not woken by Put")
	}
}

func TestCloseStopsEverything(t *testing.T) {
	q := open(t, filepath.Join(t.TempDir(), "queue.db"), Options{})
	put(t, q, "a1", "A")
	l := take(t, q)
	errc := make(chan error, 1)
	go func() {
		_, err := q.Take(context.Background())
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond)
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Fatalf("blocked Take = %v, want ErrClosed", err)
	}
	ctx := context.Background()
	if _, err := q.Put(ctx, Item{ID: "x"}); !errors.Is(err, ErrClosed) {
		t.Errorf("Put = %v", err)
	}
	if err := q.Ack(ctx, l); !errors.Is(err, ErrClosed) {
		t.Errorf("Ack = %v", err)
	}
	if _, err := q.Len(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("Len = %v", err)
	}
	if _, err := q.Dead(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("Dead = %v", err)
	}
	if err := q.Close(); err != nil {
		t.Errorf("second Close = %v", err)
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

func TestPutRejectsItemWithoutID(t *testing.T) {
	q := open(t, filepath.Join(t.TempDir(), "queue.db"), Options{})
	if _, err := q.Put(context.Background(), Item{Group: "A"}); err == nil || !strings.Contains(err.Error(), "no ID") {
		t.Fatalf("Put without ID = %v", err)
	}
	if _, err := q.Put(context.Background(), Item{ID: strings.Repeat("x", maxIDLen+1)}); err == nil {
		t.Fatal("Put with an oversized ID was accepted")
	}
}

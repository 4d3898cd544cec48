package locktest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/strata-iac/strata/runner/lock"
)

// Backend makes fresh, empty lock storage for one test and returns a
// function that opens Lockers on it. Lockers opened on the same storage
// stand for separate processes or replicas; the backend closes them when
// the test ends.
type Backend func(t *testing.T) (open func(opts lock.Options) lock.Locker)

// Run runs the conformance suite against backend.
func Run(t *testing.T, backend Backend) {
	t.Run("AcquireRelease", func(t *testing.T) { testAcquireRelease(t, backend(t)) })
	t.Run("Race", func(t *testing.T) { testRace(t, backend(t)) })
	t.Run("Reacquire", func(t *testing.T) { testReacquire(t, backend(t)) })
	t.Run("ReleaseByNonOwner", func(t *testing.T) { testReleaseByNonOwner(t, backend(t)) })
	t.Run("ForceRelease", func(t *testing.T) { testForceRelease(t, backend(t)) })
	t.Run("LeaseExpiry", func(t *testing.T) { testLeaseExpiry(t, backend(t)) })
	t.Run("GetList", func(t *testing.T) { testGetList(t, backend(t)) })
	t.Run("ContextCancelled", func(t *testing.T) { testContextCancelled(t, backend(t)) })
	t.Run("BadArguments", func(t *testing.T) { testBadArguments(t, backend(t)) })
}

func testAcquireRelease(t *testing.T, open func(lock.Options) lock.Locker) {
	l := open(lock.Options{})
	ctx := t.Context()
	key := lock.Key("gitlab", "acme/infra", "live/prod/network", "")
	before := time.Now()
	got, err := l.Acquire(ctx, key, lock.Owner{ID: "gitlab/acme/infra!12", Head: "abc123", User: "alice"})
	if err != nil {
		t.Fatalf("Acquire free key: %v", err)
	}
	want := lock.Lock{Key: key, Owner: "gitlab/acme/infra!12", Head: "abc123", User: "alice"}
	checkLock(t, got, want, before)
	if !got.ExpiresAt.IsZero() {
		t.Errorf("ExpiresAt = %v without a lease, want zero", got.ExpiresAt)
	}
	if err := l.Release(ctx, key, "gitlab/acme/infra!12"); err != nil {
		t.Fatalf("Release by holder: %v", err)
	}
	mustBeFree(t, l, key)
}

// testRace: 50 goroutines over 5 Lockers race for one key, 20 times; each
// round has exactly one winner and every loser is told who won.
func testRace(t *testing.T, open func(lock.Options) lock.Locker) {
	const (
		racers  = 50
		lockers = 5
		rounds  = 20
	)
	ls := make([]lock.Locker, lockers)
	for i := range ls {
		ls[i] = open(lock.Options{})
	}
	ctx := t.Context()
	key := "github/acme/infra/live/prod/db/default"
	for round := range rounds {
		var (
			start   = make(chan struct{})
			wg      sync.WaitGroup
			mu      sync.Mutex
			winners []string
			held    []*lock.HeldError
			other   []error
		)
		for i := range racers {
			wg.Go(func() {
				id := fmt.Sprintf("round%d-owner%d", round, i)
				<-start
				_, err := ls[i%lockers].Acquire(ctx, key, lock.Owner{ID: id})
				mu.Lock()
				defer mu.Unlock()
				var he *lock.HeldError
				switch {
				case err == nil:
					winners = append(winners, id)
				case errors.As(err, &he) && errors.Is(err, lock.ErrHeld):
					held = append(held, he)
				default:
					other = append(other, err)
				}
			})
		}
		close(start)
		wg.Wait()
		if len(other) > 0 {
			t.Fatalf("round %d: unexpected errors: %v", round, other)
		}
		if len(winners) != 1 {
			t.Fatalf("round %d: %d winners %v, want exactly 1", round, len(winners), winners)
		}
		for _, he := range held {
			if he.Lock.Owner != winners[0] {
				t.Fatalf("round %d: loser told %q holds the lock, winner is %q", round, he.Lock.Owner, winners[0])
			}
		}
		cur, ok, err := ls[round%lockers].Get(ctx, key)
		if err != nil || !ok || cur.Owner != winners[0] {
			t.Fatalf("round %d: Get = %+v, %v, %v; want held by %s", round, cur, ok, err, winners[0])
		}
		if err := ls[(round+1)%lockers].Release(ctx, key, winners[0]); err != nil {
			t.Fatalf("round %d: winner's Release: %v", round, err)
		}
	}
	mustBeFree(t, ls[0], key)
}

func testReacquire(t *testing.T, open func(lock.Options) lock.Locker) {
	l := open(lock.Options{})
	ctx := t.Context()
	first, err := l.Acquire(ctx, "k", lock.Owner{ID: "mr!1", Head: "h1", User: "u1"})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	again, err := open(lock.Options{}).Acquire(ctx, "k", lock.Owner{ID: "mr!1", Head: "h2", User: "u2"})
	if err != nil {
		t.Fatalf("Acquire by the holder again: %v", err)
	}
	if !again.AcquiredAt.Equal(first.AcquiredAt) {
		t.Errorf("re-acquire moved AcquiredAt from %v to %v; it must keep the original", first.AcquiredAt, again.AcquiredAt)
	}
	if again.Head != "h2" || again.User != "u2" {
		t.Errorf("re-acquire returned head %q user %q, want the new h2 u2", again.Head, again.User)
	}
	cur, ok, err := l.Get(ctx, "k")
	if err != nil || !ok {
		t.Fatalf("Get = %v, %v", ok, err)
	}
	if cur.Head != "h2" || cur.User != "u2" || !cur.AcquiredAt.Equal(first.AcquiredAt) {
		t.Errorf("Get after re-acquire = %+v, want head h2, user u2, acquired at %v", cur, first.AcquiredAt)
	}
}

func testReleaseByNonOwner(t *testing.T, open func(lock.Options) lock.Locker) {
	l := open(lock.Options{})
	ctx := t.Context()
	if _, err := l.Acquire(ctx, "k", lock.Owner{ID: "alice"}); err != nil {
		t.Fatal(err)
	}
	err := l.Release(ctx, "k", "mallory")
	var nh *lock.NotHolderError
	if !errors.Is(err, lock.ErrNotHolder) || !errors.As(err, &nh) {
		t.Fatalf("Release by non-owner = %v, want a *NotHolderError", err)
	}
	if nh.Holder == nil || nh.Holder.Owner != "alice" {
		t.Errorf("NotHolderError names holder %+v, want alice", nh.Holder)
	}
	cur, ok, err := l.Get(ctx, "k")
	if err != nil || !ok || cur.Owner != "alice" {
		t.Fatalf("after a refused Release, Get = %+v, %v, %v; want still held by alice", cur, ok, err)
	}
	if err := l.Release(ctx, "k", "alice"); err != nil {
		t.Fatal(err)
	}
	err = l.Release(ctx, "k", "alice")
	if !errors.As(err, &nh) || nh.Holder != nil {
		t.Fatalf("Release of a free key = %v, want a *NotHolderError without holder", err)
	}
}

func testForceRelease(t *testing.T, open func(lock.Options) lock.Locker) {
	l := open(lock.Options{})
	ctx := t.Context()
	if _, err := l.Acquire(ctx, "k", lock.Owner{ID: "alice"}); err != nil {
		t.Fatal(err)
	}
	if err := open(lock.Options{}).ForceRelease(ctx, "k"); err != nil {
		t.Fatalf("ForceRelease: %v", err)
	}
	mustBeFree(t, l, "k")
	if err := l.ForceRelease(ctx, "k"); err != nil {
		t.Fatalf("ForceRelease of a free key: %v", err)
	}
	if _, err := l.Acquire(ctx, "k", lock.Owner{ID: "bob"}); err != nil {
		t.Fatalf("Acquire after ForceRelease: %v", err)
	}
}

func testLeaseExpiry(t *testing.T, open func(lock.Options) lock.Locker) {
	l := open(lock.Options{Lease: time.Second})
	ctx := t.Context()
	before := time.Now()
	a, err := l.Acquire(ctx, "k", lock.Owner{ID: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if a.ExpiresAt.Before(before.Add(time.Second)) || a.ExpiresAt.After(time.Now().Add(2*time.Second)) {
		t.Fatalf("ExpiresAt = %v, want 1 s (rounded up to the second) after %v", a.ExpiresAt, before)
	}
	if _, err := l.Acquire(ctx, "k", lock.Owner{ID: "bob"}); !errors.Is(err, lock.ErrHeld) {
		t.Fatalf("Acquire during alice's lease = %v, want ErrHeld", err)
	}
	time.Sleep(time.Until(a.ExpiresAt) + 50*time.Millisecond)
	mustBeFree(t, l, "k")
	b, err := open(lock.Options{Lease: time.Minute}).Acquire(ctx, "k", lock.Owner{ID: "bob"})
	if err != nil {
		t.Fatalf("Acquire after alice's lease expired: %v", err)
	}
	if !b.AcquiredAt.After(a.AcquiredAt) {
		t.Errorf("bob's AcquiredAt %v is not after alice's %v", b.AcquiredAt, a.AcquiredAt)
	}
	if err := l.Release(ctx, "k", "alice"); !errors.Is(err, lock.ErrNotHolder) {
		t.Errorf("Release by alice after expiry = %v, want ErrNotHolder", err)
	}
	refreshed, err := l.Acquire(ctx, "k", lock.Owner{ID: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	if !refreshed.AcquiredAt.Equal(b.AcquiredAt) || refreshed.ExpiresAt.After(b.ExpiresAt) {
		t.Errorf("re-acquire with a 1 s lease = %+v, want acquired_at %v kept and the lease shortened", refreshed, b.AcquiredAt)
	}
}

func testGetList(t *testing.T, open func(lock.Options) lock.Locker) {
	l := open(lock.Options{})
	ctx := t.Context()
	locks, err := l.List(ctx)
	if err != nil || len(locks) != 0 {
		t.Fatalf("List of empty storage = %v, %v; want none", locks, err)
	}
	mustBeFree(t, l, "missing")
	before := time.Now()
	keys := map[string]string{
		"gitlab/acme/infra/live/b/default":  "gitlab/acme/infra!2",
		"gitlab/acme/infra/live/a/default":  "gitlab/acme/infra!1",
		"github/acme/net/stacks/ü x/canary": "github/acme/net#7",
	}
	for k, owner := range keys {
		if _, err := l.Acquire(ctx, k, lock.Owner{ID: owner, Head: "h-" + owner}); err != nil {
			t.Fatal(err)
		}
	}
	other := open(lock.Options{})
	locks, err = other.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantKeys := []string{"github/acme/net/stacks/ü x/canary", "gitlab/acme/infra/live/a/default", "gitlab/acme/infra/live/b/default"}
	if len(locks) != len(wantKeys) {
		t.Fatalf("List = %+v, want %d locks", locks, len(wantKeys))
	}
	for i, got := range locks {
		want := lock.Lock{Key: wantKeys[i], Owner: keys[wantKeys[i]], Head: "h-" + keys[wantKeys[i]]}
		checkLock(t, got, want, before)
		g, ok, err := other.Get(ctx, want.Key)
		if err != nil || !ok {
			t.Fatalf("Get(%q) = %v, %v", want.Key, ok, err)
		}
		checkLock(t, g, want, before)
	}
}

func testContextCancelled(t *testing.T, open func(lock.Options) lock.Locker) {
	l := open(lock.Options{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := l.Acquire(ctx, "k", lock.Owner{ID: "alice"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Acquire with a cancelled context = %v, want context.Canceled", err)
	}
	mustBeFree(t, l, "k")
	if err := l.Release(ctx, "k", "alice"); !errors.Is(err, context.Canceled) {
		t.Errorf("Release with a cancelled context = %v, want context.Canceled", err)
	}
	if _, err := l.List(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("List with a cancelled context = %v, want context.Canceled", err)
	}
}

func testBadArguments(t *testing.T, open func(lock.Options) lock.Locker) {
	l := open(lock.Options{})
	ctx := t.Context()
	if _, err := l.Acquire(ctx, "", lock.Owner{ID: "alice"}); err == nil {
		t.Error("Acquire with an empty key succeeded")
	}
	if _, err := l.Acquire(ctx, "k", lock.Owner{}); err == nil {
		t.Error("Acquire with an empty owner succeeded")
	}
	if err := l.Release(ctx, "k", ""); err == nil {
		t.Error("Release with an empty owner succeeded")
	}
	mustBeFree(t, l, "k")
}

func mustBeFree(t *testing.T, l lock.Locker, key string) {
	t.Helper()
	got, ok, err := l.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	if ok {
		t.Fatalf("Get(%q) = %+v, want free", key, got)
	}
	locks, err := l.List(t.Context())
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	for _, got := range locks {
		if got.Key == key {
			t.Fatalf("List has %+v, want %q free", got, key)
		}
	}
}

// checkLock compares the identity fields and checks AcquiredAt is the
// time of the Acquire (made after before).
func checkLock(t *testing.T, got, want lock.Lock, before time.Time) {
	t.Helper()
	if got.Key != want.Key || got.Owner != want.Owner || got.Head != want.Head || got.User != want.User {
		t.Errorf("lock = %+v, want key %q owner %q head %q user %q", got, want.Key, want.Owner, want.Head, want.User)
	}
	slack := time.Second
	if got.AcquiredAt.Before(before.Add(-slack)) || got.AcquiredAt.After(time.Now().Add(slack)) {
		t.Errorf("AcquiredAt = %v, want between %v and now", got.AcquiredAt, before)
	}
}

package queuetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/strata-iac/strata/runner/queue"
)

// Backend makes fresh queue storage for one test, whose items get
// maxAttempts deliveries, and returns a function that opens a Queue on it.
// The backend closes what open returned when the test ends; closing it
// earlier is allowed.
type Backend func(t *testing.T, maxAttempts int) (open func() queue.Queue)

// Suite describes the implementation under test.
type Suite struct {
	New Backend
	// Shared is true when several Queues may be open on one storage at
	// once, as replicas of a server are (SQS, not a bbolt file).
	Shared bool
	// Settle is how long a short wait for "nothing to take" lasts: long
	// enough for the implementation to hand out what it would.
	Settle time.Duration
}

// Run runs the conformance suite.
func Run(t *testing.T, s Suite) {
	if s.Settle <= 0 {
		s.Settle = 100 * time.Millisecond
	}
	h := func(t *testing.T, max int) *harness {
		return &harness{t: t, open: s.New(t, max), settle: s.Settle}
	}
	t.Run("FieldsAndGroupOrder", func(t *testing.T) { testFieldsAndGroupOrder(h(t, 5)) })
	t.Run("GroupInFlightIsSkipped", func(t *testing.T) { testGroupInFlight(h(t, 5)) })
	t.Run("ReleaseRetriesThenDeadLetters", func(t *testing.T) { testRelease(h(t, 3)) })
	t.Run("FailDeadLettersAtOnce", func(t *testing.T) { testFail(h(t, 5)) })
	t.Run("DuplicatesAreDropped", func(t *testing.T) { testDuplicates(h(t, 5)) })
	t.Run("LeaseIsSettledOnce", func(t *testing.T) { testSettleOnce(h(t, 5)) })
	t.Run("TakeHonoursContext", func(t *testing.T) { testTakeContext(h(t, 5)) })
	t.Run("CloseStopsEverything", func(t *testing.T) { testClose(h(t, 5)) })
	t.Run("HeldLeasesReturnAfterClose", func(t *testing.T) { testReturnAfterClose(h(t, 2)) })
	t.Run("BadItems", func(t *testing.T) { testBadItems(h(t, 5)) })
	t.Run("ConcurrentTakers", func(t *testing.T) { testConcurrentTakers(h(t, 100), s.Shared) })
}

// harness opens queues and fails the test on unexpected errors.
type harness struct {
	t      *testing.T
	open   func() queue.Queue
	settle time.Duration
}

func (h *harness) put(q queue.Queue, id, group string) {
	h.t.Helper()
	ok, err := q.Put(h.t.Context(), queue.Item{ID: id, Group: group, Kind: "test", Payload: []byte("payload " + id)})
	if err != nil || !ok {
		h.t.Fatalf("Put(%s) = %v, %v; want accepted", id, ok, err)
	}
}

// take takes with a deadline, so a wrong expectation fails instead of
// hanging.
func (h *harness) take(q queue.Queue) *queue.Lease {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(h.t.Context(), 30*time.Second)
	defer cancel()
	l, err := q.Take(ctx)
	if err != nil {
		h.t.Fatalf("Take: %v", err)
	}
	return l
}

// empty checks that nothing can be taken now.
func (h *harness) empty(q queue.Queue) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(h.t.Context(), h.settle)
	defer cancel()
	if l, err := q.Take(ctx); !errors.Is(err, context.DeadlineExceeded) {
		if l != nil {
			h.t.Fatalf("took %s (attempt %d), want nothing to take", l.Item.ID, l.Attempt)
		}
		h.t.Fatalf("Take = %v, want nothing to take", err)
	}
}

func (h *harness) ack(q queue.Queue, l *queue.Lease) {
	h.t.Helper()
	if err := q.Ack(h.t.Context(), l); err != nil {
		h.t.Fatalf("Ack(%s): %v", l.Item.ID, err)
	}
}

func (h *harness) length(q queue.Queue, want int) {
	h.t.Helper()
	if n, err := q.Len(h.t.Context()); err != nil || n != want {
		h.t.Fatalf("Len = %d, %v; want %d", n, err, want)
	}
}

func (h *harness) dead(q queue.Queue) []queue.DeadItem {
	h.t.Helper()
	dead, err := q.Dead(h.t.Context())
	if err != nil {
		h.t.Fatal(err)
	}
	n, err := q.DeadLen(h.t.Context())
	if err != nil || n != len(dead) {
		h.t.Fatalf("DeadLen = %d, %v; Dead lists %d", n, err, len(dead))
	}
	return dead
}

// testFieldsAndGroupOrder: an item comes back as it was put, stamped, on
// its first attempt; one group's items come in put order.
func testFieldsAndGroupOrder(h *harness) {
	q := h.open()
	before := time.Now().Add(-time.Second)
	for _, it := range [][2]string{{"a1", "A"}, {"b1", "B"}, {"a2", "A"}, {"c1", ""}, {"b2", "B"}} {
		h.put(q, it[0], it[1])
	}
	h.length(q, 5)
	var order []string
	for range 5 {
		l := h.take(q)
		want := queue.Item{ID: l.Item.ID, Group: strings.ToUpper(l.Item.ID[:1]), Kind: "test", Payload: []byte("payload " + l.Item.ID)}
		if l.Item.ID == "c1" {
			want.Group = ""
		}
		if l.Item.Group != want.Group || l.Item.Kind != want.Kind || string(l.Item.Payload) != string(want.Payload) || l.Attempt != 1 {
			h.t.Errorf("took %+v attempt %d, want %+v attempt 1", l.Item, l.Attempt, want)
		}
		if l.Enqueued.Before(before) || l.Enqueued.After(time.Now().Add(time.Second)) {
			h.t.Errorf("%s enqueued at %v, want about now", l.Item.ID, l.Enqueued)
		}
		order = append(order, l.Item.ID)
		h.ack(q, l)
	}
	for _, pair := range [][2]string{{"a1", "a2"}, {"b1", "b2"}} {
		if slices.Index(order, pair[0]) > slices.Index(order, pair[1]) {
			h.t.Errorf("took %v: %s before %s, against put order in their group", order, pair[1], pair[0])
		}
	}
	h.length(q, 0)
	h.empty(q)
}

// testGroupInFlight: while one item of a group is leased, the group's next
// waits and other groups proceed.
func testGroupInFlight(h *harness) {
	q := h.open()
	h.put(q, "x", "")
	h.put(q, "y", "")
	x, y := h.take(q), h.take(q)
	if ids := []string{x.Item.ID, y.Item.ID}; slices.Contains(ids, "x") != slices.Contains(ids, "y") || ids[0] == ids[1] {
		h.t.Fatalf("took %v, want x and y side by side: items without a group are groups of their own", ids)
	}
	h.ack(q, x)
	h.ack(q, y)
	h.put(q, "a1", "A")
	h.put(q, "a2", "A")
	h.put(q, "b1", "B")
	first, second := h.take(q), h.take(q)
	got := []string{first.Item.ID, second.Item.ID}
	slices.Sort(got)
	if !slices.Equal(got, []string{"a1", "b1"}) {
		h.t.Fatalf("took %v, want a1 and b1 (a2 waits for a1)", got)
	}
	h.empty(q)
	h.length(q, 3)
	a1 := first
	if a1.Item.ID != "a1" {
		a1, second = second, first
	}
	h.ack(q, second)
	h.empty(q)
	h.ack(q, a1)
	if a2 := h.take(q); a2.Item.ID != "a2" {
		h.t.Fatalf("took %s, want a2", a2.Item.ID)
	}
}

// testRelease: a released item keeps its group waiting until its retry
// time, comes back as its next attempt, and after the last attempt goes to
// the dead letters; its group then goes on.
func testRelease(h *harness) {
	q := h.open()
	ctx := h.t.Context()
	h.put(q, "bad", "A")
	h.put(q, "a2", "A")
	l := h.take(q)
	if l.Item.ID != "bad" || l.Attempt != 1 {
		h.t.Fatalf("took %s#%d, want bad#1", l.Item.ID, l.Attempt)
	}
	start := time.Now()
	if err := q.Release(ctx, l, time.Second); err != nil {
		h.t.Fatal(err)
	}
	// While bad waits for its retry, its group waits; another proceeds.
	h.put(q, "b1", "B")
	if b := h.take(q); b.Item.ID != "b1" {
		h.t.Fatalf("took %s while bad waits for its retry, want b1", b.Item.ID)
	} else {
		h.ack(q, b)
	}
	l = h.take(q)
	if l.Item.ID != "bad" || l.Attempt != 2 || time.Since(start) < 900*time.Millisecond {
		h.t.Fatalf("took %s#%d after %v, want bad#2 after its retry delay of 1s", l.Item.ID, l.Attempt, time.Since(start))
	}
	if err := q.Release(ctx, l, 0); err != nil {
		h.t.Fatal(err)
	}
	if l = h.take(q); l.Item.ID != "bad" || l.Attempt != 3 {
		h.t.Fatalf("took %s#%d, want bad#3", l.Item.ID, l.Attempt)
	}
	if err := q.Release(ctx, l, 0); err != nil {
		h.t.Fatal(err)
	}
	dead := h.dead(q)
	if len(dead) != 1 || dead[0].Item.ID != "bad" || dead[0].Attempts != 3 || string(dead[0].Item.Payload) != "payload bad" ||
		dead[0].Item.Group != "A" || dead[0].Died.IsZero() || !strings.Contains(dead[0].Reason, "3 of 3") {
		h.t.Fatalf("Dead = %+v, want bad after 3 of 3 attempts", dead)
	}
	if a2 := h.take(q); a2.Item.ID != "a2" || a2.Attempt != 1 {
		h.t.Fatalf("took %s#%d, want a2#1", a2.Item.ID, a2.Attempt)
	}
}

// testFail: an item that can never be handled goes to the dead letters on
// its first attempt, with the reason, and its group goes on.
func testFail(h *harness) {
	q := h.open()
	ctx := h.t.Context()
	h.put(q, "garbled", "A")
	h.put(q, "a2", "A")
	l := h.take(q)
	if err := q.Fail(ctx, l, "unreadable payload: invalid character"); err != nil {
		h.t.Fatal(err)
	}
	if next := h.take(q); next.Item.ID != "a2" {
		h.t.Fatalf("took %s, want a2", next.Item.ID)
	}
	dead := h.dead(q)
	if len(dead) != 1 || dead[0].Item.ID != "garbled" || dead[0].Attempts != 1 || dead[0].Reason != "unreadable payload: invalid character" {
		h.t.Fatalf("Dead = %+v", dead)
	}
}

// testDuplicates: a repeated ID is dropped without an error, also once the
// first copy was acked, so a redelivered webhook never runs twice.
func testDuplicates(h *harness) {
	q := h.open()
	ctx := h.t.Context()
	h.put(q, "d1", "A")
	if ok, err := q.Put(ctx, queue.Item{ID: "d1", Group: "A"}); ok || err != nil {
		h.t.Fatalf("second Put = %v, %v; want not accepted, no error", ok, err)
	}
	h.ack(q, h.take(q))
	if ok, err := q.Put(ctx, queue.Item{ID: "d1", Group: "A"}); ok || err != nil {
		h.t.Fatalf("Put after the first copy was acked = %v, %v; want not accepted", ok, err)
	}
	h.length(q, 0)
	h.put(q, "d2", "A")
	h.length(q, 1)
}

// testSettleOnce: a lease is settled once; later settlements say so.
func testSettleOnce(h *harness) {
	q := h.open()
	ctx := h.t.Context()
	h.put(q, "a1", "A")
	l := h.take(q)
	h.ack(q, l)
	if err := q.Ack(ctx, l); !errors.Is(err, queue.ErrLeaseLost) {
		h.t.Errorf("second Ack = %v, want ErrLeaseLost", err)
	}
	if err := q.Release(ctx, l, 0); !errors.Is(err, queue.ErrLeaseLost) {
		h.t.Errorf("Release after Ack = %v, want ErrLeaseLost", err)
	}
	if err := q.Fail(ctx, l, "x"); !errors.Is(err, queue.ErrLeaseLost) {
		h.t.Errorf("Fail after Ack = %v, want ErrLeaseLost", err)
	}
	h.length(q, 0)
}

// testTakeContext: Take waits for an item and returns ctx's error when ctx
// ends first.
func testTakeContext(h *harness) {
	q := h.open()
	ctx, cancel := context.WithCancel(h.t.Context())
	got := make(chan error, 1)
	go func() {
		l, err := q.Take(ctx)
		if err == nil {
			err = fmt.Errorf("took %s from an empty queue", l.Item.ID)
		}
		got <- err
	}()
	time.Sleep(h.settle)
	cancel()
	select {
	case err := <-got:
		if !errors.Is(err, context.Canceled) {
			h.t.Fatalf("Take = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		h.t.Fatal("Take did not return after its context was cancelled")
	}
	waiting := make(chan *queue.Lease, 1)
	go func() {
		ctx, cancel := context.WithTimeout(h.t.Context(), 30*time.Second)
		defer cancel()
		l, _ := q.Take(ctx)
		waiting <- l
	}()
	time.Sleep(h.settle)
	h.put(q, "late", "A")
	if l := <-waiting; l == nil || l.Item.ID != "late" {
		h.t.Fatalf("a waiting Take got %+v, want the item put while it waited", l)
	}
}

// testClose: Close ends blocked Takes with ErrClosed, and every method
// after it.
func testClose(h *harness) {
	q := h.open()
	h.put(q, "a1", "A")
	held := h.take(q)
	got := make(chan error, 1)
	go func() {
		_, err := q.Take(context.Background())
		got <- err
	}()
	time.Sleep(h.settle)
	if err := q.Close(); err != nil {
		h.t.Fatal(err)
	}
	select {
	case err := <-got:
		if !errors.Is(err, queue.ErrClosed) {
			h.t.Fatalf("blocked Take after Close = %v, want ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		h.t.Fatal("Close did not end a blocked Take")
	}
	ctx := h.t.Context()
	if _, err := q.Put(ctx, queue.Item{ID: "x"}); !errors.Is(err, queue.ErrClosed) {
		h.t.Errorf("Put after Close = %v", err)
	}
	if _, err := q.Take(ctx); !errors.Is(err, queue.ErrClosed) {
		h.t.Errorf("Take after Close = %v", err)
	}
	if _, err := q.Len(ctx); !errors.Is(err, queue.ErrClosed) {
		h.t.Errorf("Len after Close = %v", err)
	}
	if err := q.Ack(ctx, held); !errors.Is(err, queue.ErrClosed) {
		h.t.Errorf("Ack after Close = %v", err)
	}
	if _, err := q.Dead(ctx); !errors.Is(err, queue.ErrClosed) {
		h.t.Errorf("Dead after Close = %v", err)
	}
	if err := q.Close(); err != nil {
		h.t.Errorf("second Close = %v", err)
	}
}

// testReturnAfterClose: a lease still held when its queue closes is
// delivered again, as its next attempt, by a queue opened afterwards; an
// item whose last attempt was held goes to the dead letters instead.
func testReturnAfterClose(h *harness) {
	q := h.open()
	h.put(q, "x", "A")
	if l := h.take(q); l.Attempt != 1 {
		h.t.Fatalf("attempt %d", l.Attempt)
	}
	q.Close()
	q = h.open()
	if l := h.take(q); l.Item.ID != "x" || l.Attempt != 2 {
		h.t.Fatalf("after a close took %s#%d, want x#2", l.Item.ID, l.Attempt)
	}
	q.Close()
	q = h.open()
	h.empty(q)
	if dead := h.dead(q); len(dead) != 1 || dead[0].Item.ID != "x" || dead[0].Attempts != 2 {
		h.t.Fatalf("Dead = %+v, want x after its 2 attempts", dead)
	}
}

func testBadItems(h *harness) {
	q := h.open()
	for _, it := range []queue.Item{{Group: "A"}, {ID: strings.Repeat("x", queue.MaxIDLen+1)}} {
		if _, err := q.Put(h.t.Context(), it); err == nil {
			h.t.Errorf("Put of an item with a %d-byte ID was accepted", len(it.ID))
		}
	}
	h.length(q, 0)
}

// testConcurrentTakers: takers (over several queues when the backend is
// shared, as replicas) never hold two items of a group at once, and each
// group's items complete in put order, also when some are released and
// retried.
func testConcurrentTakers(h *harness, shared bool) {
	const groups, perGroup, takers = 6, 8, 6
	queues := []queue.Queue{h.open()}
	if shared {
		queues = append(queues, h.open(), h.open())
	}
	for i := range perGroup {
		for g := range groups {
			h.put(queues[i%len(queues)], fmt.Sprintf("g%d-%02d", g, i), fmt.Sprint("g", g))
		}
	}
	var (
		mu       sync.Mutex
		inflight = map[string]int{}
		done     = map[string][]string{}
		total    int
		releases atomic.Int32
	)
	ctx, cancel := context.WithTimeout(h.t.Context(), 3*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	for w := range takers {
		q := queues[w%len(queues)]
		wg.Go(func() {
			for n := 0; ; n++ {
				l, err := q.Take(ctx)
				if err != nil {
					if ctx.Err() == nil {
						h.t.Error(err)
					}
					return
				}
				g := l.Item.Group
				mu.Lock()
				inflight[g]++
				if inflight[g] != 1 {
					h.t.Errorf("group %s has %d items in flight", g, inflight[g])
				}
				mu.Unlock()
				time.Sleep(time.Millisecond)
				retry := (w+n)%5 == 0
				mu.Lock()
				inflight[g]--
				if !retry {
					done[g] = append(done[g], l.Item.ID)
					total++
				}
				finished := total == groups*perGroup
				mu.Unlock()
				if retry {
					releases.Add(1)
					err = q.Release(ctx, l, 0)
				} else {
					err = q.Ack(ctx, l)
				}
				if err != nil && ctx.Err() == nil {
					h.t.Error(err)
				}
				if finished {
					cancel()
				}
			}
		})
	}
	wg.Wait()
	if releases.Load() == 0 {
		h.t.Fatal("no item was released; the test does not cover retries")
	}
	for g := range groups {
		name := fmt.Sprint("g", g)
		ids := done[name]
		if len(ids) != perGroup {
			h.t.Fatalf("group %s completed %d items, want %d", name, len(ids), perGroup)
		}
		for i, id := range ids {
			if want := fmt.Sprintf("g%d-%02d", g, i); id != want {
				h.t.Fatalf("group %s completed %s at position %d, want %s", name, id, i, want)
			}
		}
	}
}

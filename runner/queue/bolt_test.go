package queue

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func open(t testing.TB, path string, opts Options) *Bolt {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = quiet()
	}
	q, err := OpenBolt(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	return q
}

func put(t testing.TB, q Queue, id, group string) {
	t.Helper()
	ok, err := q.Put(context.Background(), Item{ID: id, Group: group, Kind: "test", Payload: []byte("payload " + id)})
	if err != nil || !ok {
		t.Fatalf("Put(%s) = %v, %v; want accepted", id, ok, err)
	}
}

// take takes with a deadline so a wrong expectation fails instead of
// hanging.
func take(t testing.TB, q Queue) *Lease {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	l, err := q.Take(ctx)
	if err != nil {
		t.Fatalf("Take: %v", err)
	}
	return l
}

// expectEmpty checks that nothing can be taken now.
func expectEmpty(t testing.TB, q Queue) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if l, err := q.Take(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Take = %v, %v; want nothing to take", l, err)
	}
}

func ack(t testing.TB, q Queue, l *Lease) {
	t.Helper()
	if err := q.Ack(context.Background(), l); err != nil {
		t.Fatalf("Ack(%s): %v", l.Item.ID, err)
	}
}

func length(t testing.TB, q Queue) int {
	t.Helper()
	n, err := q.Len(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestItemsSurviveReopenInOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "queue.db")
	q := open(t, path, Options{})
	for i := range 5 {
		put(t, q, fmt.Sprint("e", i), fmt.Sprint("g", i))
	}
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}

	q = open(t, path, Options{})
	if n := length(t, q); n != 5 {
		t.Fatalf("Len after reopen = %d, want 5", n)
	}
	for i := range 5 {
		l := take(t, q)
		want := fmt.Sprint("e", i)
		if l.Item.ID != want || string(l.Item.Payload) != "payload "+want || l.Item.Kind != "test" || l.Attempt != 1 {
			t.Fatalf("take %d = %+v, want %s, attempt 1", i, l, want)
		}
		if l.Enqueued.IsZero() {
			t.Error("Enqueued not set")
		}
		ack(t, q, l)
	}
	if n := length(t, q); n != 0 {
		t.Fatalf("Len after acking all = %d", n)
	}
}

// TestCrashHelper is the crashing process of TestCrashReturnsLeases: it
// takes QUEUE_CRASH_TAKE leases, says so, and waits to be killed.
func TestCrashHelper(t *testing.T) {
	path := os.Getenv("QUEUE_CRASH_PATH")
	if path == "" {
		t.Skip("helper process for TestCrashReturnsLeases")
	}
	var opts Options
	fmt.Sscan(os.Getenv("QUEUE_CRASH_MAX"), &opts.MaxAttempts)
	q, err := OpenBolt(path, opts)
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(1)
	}
	var n int
	fmt.Sscan(os.Getenv("QUEUE_CRASH_TAKE"), &n)
	for range n {
		l, err := q.Take(context.Background())
		if err != nil {
			fmt.Println("take:", err)
			os.Exit(1)
		}
		fmt.Println("taken", l.Item.ID)
	}
	fmt.Println("ready")
	time.Sleep(time.Hour)
}

// crash runs a process that opens the queue at path, takes n leases and
// is killed with SIGKILL while it holds them.
func crash(t *testing.T, path string, n, maxAttempts int) []string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$")
	cmd.Env = append(os.Environ(), "QUEUE_CRASH_PATH="+path,
		fmt.Sprint("QUEUE_CRASH_TAKE=", n), fmt.Sprint("QUEUE_CRASH_MAX=", maxAttempts))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var taken []string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		if id, ok := strings.CutPrefix(line, "taken "); ok {
			taken = append(taken, id)
			continue
		}
		if line == "ready" {
			break
		}
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("helper: %s", line)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	return taken
}

func TestCrashReturnsLeases(t *testing.T) {
	path := filepath.Join(t.TempDir(), "queue.db")
	q := open(t, path, Options{})
	put(t, q, "a1", "A")
	put(t, q, "b1", "B")
	put(t, q, "a2", "A")
	put(t, q, "c1", "C")
	q.Close()

	if got := crash(t, path, 2, 5); strings.Join(got, ",") != "a1,b1" {
		t.Fatalf("the crashed process took %v, want a1,b1", got)
	}

	q = open(t, path, Options{})
	if n := length(t, q); n != 4 {
		t.Fatalf("Len after crash = %d, want 4", n)
	}
	// The crashed leases are back in their places, their delivery counted.
	a1, b1 := take(t, q), take(t, q)
	if a1.Item.ID != "a1" || a1.Attempt != 2 || b1.Item.ID != "b1" || b1.Attempt != 2 {
		t.Fatalf("after crash took %s#%d, %s#%d; want a1#2, b1#2", a1.Item.ID, a1.Attempt, b1.Item.ID, b1.Attempt)
	}
	if c1 := take(t, q); c1.Item.ID != "c1" || c1.Attempt != 1 {
		t.Fatalf("third take = %s#%d, want c1#1 (a2 waits for a1)", c1.Item.ID, c1.Attempt)
	}
	expectEmpty(t, q)
	ack(t, q, a1)
	if a2 := take(t, q); a2.Item.ID != "a2" {
		t.Fatalf("after acking a1 took %s, want a2", a2.Item.ID)
	}
}

func TestCrashOnLastAttemptDeadLetters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "queue.db")
	q := open(t, path, Options{MaxAttempts: 1})
	put(t, q, "poison", "A")
	put(t, q, "next", "A")
	q.Close()

	crash(t, path, 1, 1)

	q = open(t, path, Options{MaxAttempts: 1})
	dead, err := q.Dead(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(dead) != 1 || dead[0].Item.ID != "poison" || dead[0].Attempts != 1 || !strings.Contains(dead[0].Reason, "stopped") {
		t.Fatalf("Dead = %+v, want poison, stopped in flight", dead)
	}
	if l := take(t, q); l.Item.ID != "next" {
		t.Fatalf("took %s, want next", l.Item.ID)
	}
}

func TestDuplicatesAreDropped(t *testing.T) {
	var now atomic.Int64
	now.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()) }
	path := filepath.Join(t.TempDir(), "queue.db")
	opts := Options{DedupWindow: time.Hour, Now: clock}
	q := open(t, path, opts)
	ctx := context.Background()

	put(t, q, "d1", "A")
	if ok, err := q.Put(ctx, Item{ID: "d1", Group: "A"}); ok || err != nil {
		t.Fatalf("second Put = %v, %v; want not accepted, no error", ok, err)
	}
	// Acking does not forget the ID: a redelivery after the work is done
	// is still a duplicate.
	ack(t, q, take(t, q))
	q.Close()
	q = open(t, path, opts)
	if ok, err := q.Put(ctx, Item{ID: "d1"}); ok || err != nil {
		t.Fatalf("Put after reopen = %v, %v; want not accepted", ok, err)
	}
	if n := length(t, q); n != 0 {
		t.Fatalf("Len = %d, want 0", n)
	}

	now.Add(int64(30 * time.Minute))
	put(t, q, "d2", "A")
	if n, err := q.Prune(ctx); err != nil || n != 0 {
		t.Fatalf("Prune inside the window = %d, %v; want 0", n, err)
	}

	// Past the window d1 is forgotten (d2 is not), and pruning deletes it.
	now.Add(int64(45 * time.Minute))
	if ok, err := q.Put(ctx, Item{ID: "d2"}); ok || err != nil {
		t.Fatalf("Put(d2) inside its window = %v, %v", ok, err)
	}
	if n, err := q.Prune(ctx); err != nil || n != 1 {
		t.Fatalf("Prune = %d, %v; want 1 (d1)", n, err)
	}
	put(t, q, "d1", "A")
	now.Add(int64(2 * time.Hour))
	if n, err := q.Prune(ctx); err != nil || n != 2 {
		t.Fatalf("Prune = %d, %v; want 2", n, err)
	}
}

func TestConcurrentDuplicatesAcceptOne(t *testing.T) {
	q := open(t, filepath.Join(t.TempDir(), "queue.db"), Options{})
	var accepted atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			ok, err := q.Put(context.Background(), Item{ID: "same", Group: "A"})
			if err != nil {
				t.Error(err)
			}
			if ok {
				accepted.Add(1)
			}
		})
	}
	wg.Wait()
	if accepted.Load() != 1 || length(t, q) != 1 {
		t.Fatalf("accepted %d of 20 copies, Len %d; want 1, 1", accepted.Load(), length(t, q))
	}
}

// TestGroupsUnderConcurrentTakers runs many takers over interleaved groups
// and checks, per group, that no two items are ever leased at once and
// that items complete in put order, also when some are released and
// retried.
func TestGroupsUnderConcurrentTakers(t *testing.T) {
	const groups, perGroup, takers = 8, 40, 16
	q := open(t, filepath.Join(t.TempDir(), "queue.db"), Options{MaxAttempts: 100})
	ctx := context.Background()
	for i := range perGroup {
		for g := range groups {
			put(t, q, fmt.Sprintf("g%d-%03d", g, i), fmt.Sprint("g", g))
		}
	}

	var (
		mu       sync.Mutex
		inflight = map[string]int{}
		done     = map[string][]string{}
		total    int
		releases atomic.Int32
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for w := range takers {
		wg.Go(func() {
			for n := 0; ; n++ {
				l, err := q.Take(ctx)
				if err != nil {
					if !errors.Is(err, context.Canceled) {
						t.Error(err)
					}
					return
				}
				g := l.Item.Group
				mu.Lock()
				inflight[g]++
				if inflight[g] != 1 {
					t.Errorf("group %s has %d items in flight", g, inflight[g])
				}
				mu.Unlock()
				time.Sleep(time.Duration(w%3) * 100 * time.Microsecond)
				retry := (w+n)%7 == 0
				mu.Lock()
				inflight[g]--
				if !retry {
					done[g] = append(done[g], l.Item.ID)
					total++
					if total == groups*perGroup {
						cancel()
					}
				}
				mu.Unlock()
				if retry {
					releases.Add(1)
					err = q.Release(ctx, l, 0)
				} else {
					err = q.Ack(ctx, l)
				}
				if err != nil && !errors.Is(err, context.Canceled) {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if releases.Load() == 0 {
		t.Fatal("no item was released; the test does not cover retries")
	}
	for g := range groups {
		name := fmt.Sprint("g", g)
		ids := done[name]
		if len(ids) != perGroup {
			t.Fatalf("group %s completed %d items, want %d", name, len(ids), perGroup)
		}
		for i, id := range ids {
			if want := fmt.Sprintf("g%d-%03d", g, i); id != want {
				t.Fatalf("group %s completed %s at position %d, want %s", name, id, i, want)
			}
		}
	}
}

package runner

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strata-iac/strata/internal/fakegitlab"
	"github.com/strata-iac/strata/internal/fault"
	"github.com/strata-iac/strata/runner/forge"
	"github.com/strata-iac/strata/runner/forge/gitlab"
	"github.com/strata-iac/strata/runner/lock"
	"github.com/strata-iac/strata/runner/queue"
	"github.com/strata-iac/strata/runner/store"
)

// newTestServer is a Server for gl's projects under acme/, with the
// webhook secret "s3cret", its queue, locks and store in a temp dir.
func newTestServer(t testing.TB, gl *fakegitlab.Server) (*Server, *queue.Bolt) {
	t.Helper()
	f, err := gitlab.New(gitlab.Options{BaseURL: gl.URL, Token: gl.Token, WebhookSecret: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	q, err := queue.OpenBolt(filepath.Join(dir, "queue.db"), queue.Options{MaxAttempts: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	locks, err := lock.Open(context.Background(), filepath.Join(dir, "locks.db"), lock.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { locks.Close() })
	st, err := store.OpenDir(filepath.Join(dir, "store"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Forges: []forge.Forge{f}, Queue: q, Locks: locks, Store: st, DataDir: dir,
		RepoAllowlist: []string{"gitlab/acme/**"}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return s, q
}

// TestSettleByKindOfError: a handled item is done; one that failed for a
// reason that may pass is retried later; one that can never be handled
// (unreadable, of no known kind, permanently failing) goes to the dead
// letters at once with its reason, and is never dropped silently.
func TestSettleByKindOfError(t *testing.T) {
	gl := fakegitlab.New()
	defer gl.Close()
	s, q := newTestServer(t, gl)
	ctx := context.Background()
	s.handlers["test"] = func(_ context.Context, payload []byte) error {
		switch string(payload) {
		case "transient":
			return errors.New("forge unreachable")
		case "permanent":
			return fault.Permanent(errors.New("strata.yaml:2: unknown key"))
		}
		return nil
	}
	for _, it := range []queue.Item{
		{ID: "ok", Kind: "test", Payload: []byte("ok")},
		{ID: "retry", Kind: "test", Payload: []byte("transient")},
		{ID: "broken", Kind: "test", Payload: []byte("permanent")},
		{ID: "garbled", Kind: kindEvent, Payload: []byte("{not json")},
		{ID: "garbled-sweep", Kind: kindSweep, Payload: []byte("[]")},
		{ID: "alien", Kind: "nope", Payload: []byte("x")},
	} {
		if _, err := q.Put(ctx, it); err != nil {
			t.Fatal(err)
		}
	}
	work := context.Background()
	for range 6 {
		l, err := q.Take(ctx)
		if err != nil {
			t.Fatal(err)
		}
		s.settle(l, s.handle(work, l.Item), work)
	}
	dead, err := q.Dead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string]string{}
	for _, d := range dead {
		reasons[d.Item.ID] = d.Reason
	}
	for id, want := range map[string]string{
		"broken": "unknown key", "garbled": "unreadable event", "garbled-sweep": "unreadable lock sweep check", "alien": `kind "nope"`,
	} {
		if !strings.Contains(reasons[id], want) {
			t.Errorf("dead letter %s: reason %q, want %q", id, reasons[id], want)
		}
	}
	if len(dead) != 4 {
		t.Errorf("dead letters %v, want 4", reasons)
	}
	if n, _ := q.Len(ctx); n != 1 {
		t.Fatalf("queue holds %d items, want the one to retry", n)
	}
	take, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if l, err := q.Take(take); err == nil {
		t.Fatalf("the transient failure was handed out again at once: %s", l.Item.ID)
	}
}

// TestPanicFailsTheItemNotTheServer: a handler that panics gives up its
// item for good, with the cause as the reason and the stack trace logged
// once, and the worker goes on with the next item.
func TestPanicFailsTheItemNotTheServer(t *testing.T) {
	gl := fakegitlab.New()
	defer gl.Close()
	s, q := newTestServer(t, gl)
	var logs strings.Builder
	s.log = slog.New(slog.NewJSONHandler(&logs, nil))
	ctx := context.Background()
	handled := 0
	s.handlers["test"] = func(_ context.Context, payload []byte) error {
		if string(payload) == "boom" {
			var fields []string
			_ = fields[len(payload)]
		}
		handled++
		return nil
	}
	for _, it := range []queue.Item{{ID: "boom", Kind: "test", Payload: []byte("boom")}, {ID: "next", Kind: "test", Payload: []byte("ok")}} {
		if _, err := q.Put(ctx, it); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		l, err := q.Take(ctx)
		if err != nil {
			t.Fatal(err)
		}
		s.settle(l, s.handle(ctx, l.Item), ctx)
	}
	if handled != 1 {
		t.Errorf("%d items handled after the panic, want the next one", handled)
	}
	dead, err := q.Dead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(dead) != 1 || dead[0].Item.ID != "boom" || !strings.Contains(dead[0].Reason, "a bug in strata") || !strings.Contains(dead[0].Reason, "index out of range") {
		t.Fatalf("dead letters %+v, want the item that panicked, with its cause", dead)
	}
	if n := strings.Count(logs.String(), `"stack":"goroutine`); n != 1 || !strings.Contains(logs.String(), "worker_test.go") {
		t.Errorf("the stack trace appears %d times in the log, want once:\n%s", n, logs.String())
	}
	if n, _ := q.Len(ctx); n != 0 {
		t.Errorf("%d items left on the queue, want none", n)
	}
}

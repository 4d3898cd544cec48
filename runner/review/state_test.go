package review

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/strata-iac/strata/internal/motoserver"
	"github.com/strata-iac/strata/runner/forge"
	"github.com/strata-iac/strata/runner/store"
	"github.com/strata-iac/strata/runner/store/s3"
)

var buckets atomic.Int64

// onStores runs test with the state in a local directory and in S3 on
// moto, whose proxy serialises requests: moto checks a PutObject's
// If-Match and then writes, not atomically as S3 does (package
// internal/motoserver).
func onStores(t *testing.T, test func(t *testing.T, h *harness)) {
	t.Run("dir", func(t *testing.T) { test(t, newHarness(t, repoFiles)) })
	t.Run("s3", func(t *testing.T) {
		motoserver.Shared(t)
		bucket := fmt.Sprintf("review-state-%d", buckets.Add(1))
		if _, err := s3.EnsureBucket(t.Context(), bucket, ""); err != nil {
			t.Fatal(err)
		}
		st, err := store.Open(t.Context(), "s3://"+bucket+"/strata")
		if err != nil {
			t.Fatal(err)
		}
		h := newHarness(t, repoFiles)
		h.rv.cfg.Store, h.store = st, st
		test(t, h)
	})
}

// replicaOf is a second Reviewer on the harness's store and locks: another
// replica of the server.
func (h *harness) replicaOf() *Reviewer {
	other := *h.rv
	return &other
}

func (h *harness) load(rv *Reviewer, ref forge.MRRef) *state {
	h.t.Helper()
	st, err := rv.loadState(context.Background(), ref)
	if err != nil {
		h.t.Fatal(err)
	}
	return st
}

// TestStaleStateCannotOverwriteANewerOne: a replica that read a merge
// request's state before another replica saved a newer plan has its write
// refused; it writes its change again over the newer state, which keeps
// the newer plan set and gains the stale replica's lock.
func TestStaleStateCannotOverwriteANewerOne(t *testing.T) { onStores(t, testStaleState) }

func testStaleState(t *testing.T, h *harness) {
	ref := forge.MRRef{RepoRef: forge.RepoRef{Forge: "gitlab", Path: project}, Number: 1}
	ctx := context.Background()
	if err := h.rv.saveState(ctx, &state{Ref: ref, Head: "h1", Plans: "plans/h1", Locks: []string{"k1"}}); err != nil {
		t.Fatal(err)
	}
	a, b := h.rv, h.replicaOf()
	stale := h.load(a, ref)
	newer := h.load(b, ref)
	newer.Head, newer.Plans, newer.Locks = "h2", "plans/h2", []string{"k1", "k2"}
	if err := b.saveState(ctx, newer); err != nil {
		t.Fatal(err)
	}

	// The stale view, written as it is, is refused.
	refused := *stale
	refused.Head = "h1b"
	if err := a.saveStrict(ctx, &refused); !errors.Is(err, store.ErrPreconditionFailed) {
		t.Fatalf("a write over a state read before the newer one = %v, want refused", err)
	}
	stale.Head, stale.Plans = "h1b", "plans/h1b"
	stale.Locks = append(stale.Locks, "k3")
	if err := a.saveState(ctx, stale); err != nil {
		t.Fatal(err)
	}
	got := h.load(b, ref)
	if got.Head != "h2" || got.Plans != "plans/h2" {
		t.Errorf("plan set after the stale write = %s %s, want the newer h2 plans/h2", got.Head, got.Plans)
	}
	if want := []string{"k1", "k2", "k3"}; !slices.Equal(got.Locks, want) {
		t.Errorf("locks = %v, want %v: the newer replica's and the stale one's", got.Locks, want)
	}
	if got.Head != stale.Head || !slices.Equal(got.Locks, stale.Locks) {
		t.Errorf("saveState left the caller with %+v, not what it wrote (%+v)", stale, got)
	}
}

// TestRebaseKeepsBothChanges: changes to different fields of the same plan
// set both land, applied stacks merge by stack, and a lock one replica
// released stays released.
func TestRebaseKeepsBothChanges(t *testing.T) {
	h := newHarness(t, repoFiles)
	ref := forge.MRRef{RepoRef: forge.RepoRef{Forge: "gitlab", Path: project}, Number: 2}
	ctx := context.Background()
	start := &state{Ref: ref, Head: "h1", Plans: "p1", Locks: []string{"k1", "k2"},
		Applied: map[string]appliedStack{"live/app": {Run: "r1", Commit: "h1"}}}
	if err := h.rv.saveState(ctx, start); err != nil {
		t.Fatal(err)
	}
	a, b := h.load(h.rv, ref), h.load(h.rv, ref)
	a.PolicyApproval = &policyApproval{Commit: "h1", By: "carol"}
	a.Locks = []string{"k2"}
	a.Applied["live/db"] = appliedStack{Run: "r2", Commit: "h1"}
	b.Interrupted = []string{"live/net"}
	b.Locks = append(b.Locks, "k3")
	b.Applied["live/net@prod"] = appliedStack{Run: "r3", Commit: "h1"}
	if err := h.rv.saveState(ctx, b); err != nil {
		t.Fatal(err)
	}
	if err := h.rv.saveState(ctx, a); err != nil {
		t.Fatal(err)
	}
	got := h.load(h.rv, ref)
	if got.PolicyApproval == nil || got.PolicyApproval.By != "carol" || !slices.Equal(got.Interrupted, []string{"live/net"}) {
		t.Errorf("policy approval %+v, interrupted %v: want both replicas' changes", got.PolicyApproval, got.Interrupted)
	}
	if !slices.Equal(got.Locks, []string{"k2", "k3"}) {
		t.Errorf("locks = %v, want k1 released, k3 added", got.Locks)
	}
	if len(got.Applied) != 3 || got.Applied["live/db"].Run != "r2" || got.Applied["live/net@prod"].Run != "r3" {
		t.Errorf("applied = %+v, want live/app, live/db and live/net@prod", got.Applied)
	}
}

// TestConcurrentSavesLoseNothing: replicas that each add a lock to one
// merge request at once all land.
func TestConcurrentSavesLoseNothing(t *testing.T) { onStores(t, testConcurrentSaves) }

func testConcurrentSaves(t *testing.T, h *harness) {
	ref := forge.MRRef{RepoRef: forge.RepoRef{Forge: "gitlab", Path: project}, Number: 3}
	const writers = 5
	var wg sync.WaitGroup
	for i := range writers {
		rv := h.replicaOf()
		wg.Go(func() {
			st, err := rv.loadState(context.Background(), ref)
			if err == nil {
				st.Locks = append(st.Locks, fmt.Sprint("k", i))
				err = rv.saveState(context.Background(), st)
			}
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := h.load(h.rv, ref); len(got.Locks) != writers {
		t.Fatalf("locks = %v, want all %d", got.Locks, writers)
	}
}

package storetest

import (
	"errors"
	"strconv"
	"sync"
	"testing"

	"github.com/strata-iac/strata/runner/store"
)

// testConditional: PutIf writes only over the version its caller read,
// and creates only what is absent; a refused write changes nothing.
func testConditional(t *testing.T, s store.Store) {
	ctx := t.Context()
	const key = "state.json"
	refused := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, store.ErrPreconditionFailed) {
			t.Errorf("%s = %v, want ErrPreconditionFailed", what, err)
		}
	}
	holds := func(want string) {
		t.Helper()
		if got, err := s.Get(ctx, key); err != nil || string(got) != want {
			t.Errorf("the object holds %q, %v; want %q", got, err, want)
		}
	}
	_, err := s.PutIf(ctx, key, []byte("v0"), `"no-such-tag"`)
	refused("PutIf on a missing key with a tag", err)
	tag1, err := s.PutIf(ctx, key, []byte("v1"), "")
	if err != nil || tag1 == "" {
		t.Fatalf("PutIf creating the key = %q, %v", tag1, err)
	}
	_, err = s.PutIf(ctx, key, []byte("v1 again"), "")
	refused("PutIf creating a key that exists", err)
	holds("v1")
	data, tag, err := s.GetTagged(ctx, key)
	if err != nil || string(data) != "v1" || tag != tag1 {
		t.Fatalf("GetTagged = %q, %q, %v; want v1 and the tag PutIf returned (%q)", data, tag, err, tag1)
	}
	tag2, err := s.PutIf(ctx, key, []byte("v2"), tag1)
	if err != nil || tag2 == tag1 {
		t.Fatalf("PutIf over the version read = %q, %v; want a new tag", tag2, err)
	}
	_, err = s.PutIf(ctx, key, []byte("stale"), tag1)
	refused("PutIf over a version that was replaced", err)
	holds("v2")
	// A plain Put moves the tag on too.
	if _, err := s.Put(ctx, key, []byte("v3")); err != nil {
		t.Fatal(err)
	}
	_, err = s.PutIf(ctx, key, []byte("stale"), tag2)
	refused("PutIf after a plain Put", err)
	holds("v3")
	_, tag3, err := s.GetTagged(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	_, err = s.PutIf(ctx, key, []byte("stale"), tag3)
	refused("PutIf over a deleted key", err)
	if _, err := s.Get(ctx, key); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a refused PutIf created the key: %v", err)
	}
	if _, err := s.PutIf(ctx, key, []byte("v4"), ""); err != nil {
		t.Errorf("PutIf creating a deleted key: %v", err)
	}
	if _, _, err := s.GetTagged(ctx, "no/such/key"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetTagged of a missing key = %v, want ErrNotFound", err)
	}
}

// testConditionalRace: writers that each read, increment and PutIf a
// counter, retrying when refused, lose no increment: exactly one of the
// writers racing over one version wins.
func testConditionalRace(t *testing.T, s store.Store) {
	ctx := t.Context()
	const (
		key     = "counter"
		writers = 6
		each    = 8
	)
	if _, err := s.PutIf(ctx, key, []byte("0"), ""); err != nil {
		t.Fatal(err)
	}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		errs     []error
		conflict int
	)
	for range writers {
		wg.Go(func() {
			for done := 0; done < each; {
				data, tag, err := s.GetTagged(ctx, key)
				if err == nil {
					var n int
					if n, err = strconv.Atoi(string(data)); err == nil {
						_, err = s.PutIf(ctx, key, []byte(strconv.Itoa(n+1)), tag)
					}
				}
				mu.Lock()
				switch {
				case err == nil:
					done++
				case errors.Is(err, store.ErrPreconditionFailed):
					conflict++
				default:
					errs = append(errs, err)
				}
				mu.Unlock()
				if err != nil && !errors.Is(err, store.ErrPreconditionFailed) {
					return
				}
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	data, err := s.Get(ctx, key)
	if err != nil || string(data) != strconv.Itoa(writers*each) {
		t.Fatalf("counter = %q, %v; want %d: a conditional write was lost", data, err, writers*each)
	}
	t.Logf("%d increments, %d refused writes retried", writers*each, conflict)
}

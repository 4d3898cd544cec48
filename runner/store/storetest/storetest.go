package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/strata-iac/strata/runner/store"
)

// Backend makes a fresh, empty store for one test. tamper replaces the
// bytes of key behind the store's back, leaving the recorded checksum as
// it was, the way corruption or an outside writer would.
type Backend func(t *testing.T) (s store.Store, tamper func(key string, data []byte))

// Run runs the conformance suite against backend.
func Run(t *testing.T, backend Backend) {
	t.Run("RoundTrip", func(t *testing.T) { s, _ := backend(t); testRoundTrip(t, s) })
	t.Run("List", func(t *testing.T) { s, _ := backend(t); testList(t, s) })
	t.Run("Missing", func(t *testing.T) { s, _ := backend(t); testMissing(t, s) })
	t.Run("Checksum", func(t *testing.T) { s, tamper := backend(t); testChecksum(t, s, tamper) })
	t.Run("BadKeys", func(t *testing.T) { s, _ := backend(t); testBadKeys(t, s) })
	t.Run("ConcurrentOverwrite", func(t *testing.T) { s, _ := backend(t); testConcurrentOverwrite(t, s) })
	t.Run("Conditional", func(t *testing.T) { s, _ := backend(t); testConditional(t, s) })
	t.Run("ConditionalRace", func(t *testing.T) { s, _ := backend(t); testConditionalRace(t, s) })
	t.Run("Prefixed", func(t *testing.T) { s, _ := backend(t); testConditional(t, store.Prefixed(s, "mr/gitlab/acme/1")) })
}

func sum(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

func testRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	if s.String() == "" {
		t.Error("String() is empty")
	}
	binary := make([]byte, 256)
	for i := range binary {
		binary[i] = byte(i)
	}
	for _, tc := range []struct {
		key  string
		data []byte
	}{
		{"live/prod/network/plan.tfplan", binary},
		{"summary.json", []byte(`{"stacks":[]}`)},
		{"empty", []byte{}},
		{"dir with space/ünïcode.txt", []byte("hello")},
	} {
		got, err := s.Put(ctx, tc.key, tc.data)
		if err != nil {
			t.Fatalf("Put(%q): %v", tc.key, err)
		}
		if got != sum(tc.data) {
			t.Errorf("Put(%q) = %s, want sha256 %s", tc.key, got, sum(tc.data))
		}
		back, err := s.Get(ctx, tc.key)
		if err != nil {
			t.Fatalf("Get(%q): %v", tc.key, err)
		}
		if !bytes.Equal(back, tc.data) {
			t.Errorf("Get(%q) = %q, want %q", tc.key, back, tc.data)
		}
	}
	if _, err := s.Put(ctx, "summary.json", []byte("v2")); err != nil {
		t.Fatal(err)
	}
	if back, err := s.Get(ctx, "summary.json"); err != nil || string(back) != "v2" {
		t.Errorf("Get after overwrite = %q, %v; want v2", back, err)
	}
}

func testList(t *testing.T, s store.Store) {
	ctx := t.Context()
	keys := []string{"runs/2/y", "runs/1/plan.tfplan", "other", "runs/10/x", "runs/1/plan.json", "runs.txt"}
	for _, k := range keys {
		if _, err := s.Put(ctx, k, []byte(k)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		prefix string
		want   []string
	}{
		{"", []string{"other", "runs.txt", "runs/1/plan.json", "runs/1/plan.tfplan", "runs/10/x", "runs/2/y"}},
		{"runs/1", []string{"runs/1/plan.json", "runs/1/plan.tfplan", "runs/10/x"}},
		{"runs/1/", []string{"runs/1/plan.json", "runs/1/plan.tfplan"}},
		{"runs/1/plan.j", []string{"runs/1/plan.json"}},
		{"runs", []string{"runs.txt", "runs/1/plan.json", "runs/1/plan.tfplan", "runs/10/x", "runs/2/y"}},
		{"nothing/", nil},
	} {
		got, err := s.List(ctx, tc.prefix)
		if err != nil {
			t.Fatalf("List(%q): %v", tc.prefix, err)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("List(%q) = %q, want %q", tc.prefix, got, tc.want)
		}
	}
}

func testMissing(t *testing.T, s store.Store) {
	ctx := t.Context()
	if _, err := s.Get(ctx, "no/such/key"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get of a missing key = %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, "no/such/key"); err != nil {
		t.Errorf("Delete of a missing key = %v, want nil", err)
	}
	if _, err := s.Put(ctx, "a/b", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "a/b"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := s.Get(ctx, "a/b"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get after Delete = %v, want ErrNotFound", err)
	}
	if keys, err := s.List(ctx, ""); err != nil || len(keys) != 0 {
		t.Errorf("List after Delete = %q, %v; want none", keys, err)
	}
}

func testChecksum(t *testing.T, s store.Store, tamper func(string, []byte)) {
	ctx := t.Context()
	want, err := s.Put(ctx, "live/app/plan.tfplan", []byte("the reviewed plan"))
	if err != nil {
		t.Fatal(err)
	}
	tamper("live/app/plan.tfplan", []byte("a different plan"))
	data, err := s.Get(ctx, "live/app/plan.tfplan")
	var ce *store.ChecksumError
	if !errors.Is(err, store.ErrChecksum) || !errors.As(err, &ce) {
		t.Fatalf("Get of a tampered object = %q, %v; want a *ChecksumError", data, err)
	}
	if ce.Key != "live/app/plan.tfplan" || ce.Want != want || ce.Got != sum([]byte("a different plan")) {
		t.Errorf("ChecksumError = %+v, want key, recorded %s and actual sums", ce, want)
	}
}

func testBadKeys(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, key := range []string{"", "../escape", "a/../../escape", "/etc/passwd", "a//b", "a/./b", "a/", ".strata/sha256/x", "x/.strata-tmp-1", `a\b`} {
		if _, err := s.Put(ctx, key, []byte("x")); err == nil {
			t.Errorf("Put(%q) succeeded, want the key refused", key)
		}
		if _, err := s.Get(ctx, key); err == nil || errors.Is(err, store.ErrNotFound) {
			t.Errorf("Get(%q) = %v, want the key refused", key, err)
		}
	}
	if keys, err := s.List(ctx, ""); err != nil || len(keys) != 0 {
		t.Errorf("List after refused Puts = %q, %v; want none", keys, err)
	}
}

// testConcurrentOverwrite: readers racing writers of one key always see a
// whole object that passes its checksum.
func testConcurrentOverwrite(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	payloads := [][]byte{bytes.Repeat([]byte("a"), 64<<10), bytes.Repeat([]byte("b"), 32<<10)}
	if _, err := s.Put(ctx, "hot", payloads[0]); err != nil {
		t.Fatal(err)
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	record := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	for w := range 3 {
		wg.Go(func() {
			for i := range 20 {
				if _, err := s.Put(ctx, "hot", payloads[(w+i)%2]); err != nil {
					record(err)
					return
				}
			}
		})
	}
	for range 3 {
		wg.Go(func() {
			for range 20 {
				data, err := s.Get(ctx, "hot")
				if err != nil {
					record(err)
					return
				}
				if !bytes.Equal(data, payloads[0]) && !bytes.Equal(data, payloads[1]) {
					record(fmt.Errorf("read %d bytes that are neither payload", len(data)))
					return
				}
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("concurrent Put/Get: %v", errs)
	}
}

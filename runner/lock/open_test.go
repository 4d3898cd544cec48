package lock_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strata-iac/strata/runner/lock"
)

func TestOpenForms(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for _, tc := range []struct{ url, file string }{
		{"bolt://" + filepath.Join(dir, "a", "locks.db"), filepath.Join(dir, "a", "locks.db")},
		{"file://" + filepath.Join(dir, "b.db"), filepath.Join(dir, "b.db")},
		{filepath.Join(dir, "c.db"), filepath.Join(dir, "c.db")},
		{"bolt://rel/d.db", filepath.Join(dir, "rel", "d.db")},
		{"e.db", filepath.Join(dir, "e.db")},
	} {
		l, err := lock.Open(t.Context(), tc.url, lock.Options{})
		if err != nil {
			t.Fatalf("Open(%q): %v", tc.url, err)
		}
		if _, err := l.Acquire(t.Context(), "k", lock.Owner{ID: "o"}); err != nil {
			t.Fatalf("Open(%q).Acquire: %v", tc.url, err)
		}
		l.Close()
		if _, err := os.Stat(tc.file); err != nil {
			t.Errorf("Open(%q) did not create %s: %v", tc.url, tc.file, err)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	notBolt := filepath.Join(t.TempDir(), "not-bolt")
	if err := os.WriteFile(notBolt, []byte("this is not a bbolt database, it is far too short and wrong"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		url  string
		opts lock.Options
		want string
	}{
		{"redis://host/0", lock.Options{}, "bolt://PATH, file://PATH or PATH"},
		{"", lock.Options{}, "empty locks URL"},
		{"bolt://", lock.Options{}, "names no file"},
		{"x.db", lock.Options{Lease: -time.Second}, "must not be negative"},
		{notBolt, lock.Options{}, notBolt},
	} {
		_, err := lock.Open(t.Context(), tc.url, tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%q) = %v, want an error containing %q", tc.url, err, tc.want)
		}
	}
}

func TestExpiresAtRoundsUp(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 100, time.UTC)
	if got := (lock.Options{}).ExpiresAt(now); !got.IsZero() {
		t.Errorf("no lease: ExpiresAt = %v, want zero", got)
	}
	want := time.Date(2026, 1, 2, 3, 4, 36, 0, time.UTC)
	if got := (lock.Options{Lease: 30 * time.Second}).ExpiresAt(now); !got.Equal(want) {
		t.Errorf("30 s lease: ExpiresAt = %v, want %v", got, want)
	}
	exact := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if got := (lock.Options{Lease: time.Minute}).ExpiresAt(exact); !got.Equal(exact.Add(time.Minute)) {
		t.Errorf("lease from a whole second: ExpiresAt = %v, want %v", got, exact.Add(time.Minute))
	}
}

func TestKey(t *testing.T) {
	if got := lock.Key("gitlab", "acme/infra", "live/prod", ""); got != "gitlab/acme/infra/live/prod/default" {
		t.Errorf("Key = %q", got)
	}
}

package store_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/strata-iac/strata/runner/store"
	"github.com/strata-iac/strata/runner/store/storetest"
)

func TestDirConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (store.Store, func(string, []byte)) {
		root := t.TempDir()
		s, err := store.Open(t.Context(), "file://"+root)
		if err != nil {
			t.Fatal(err)
		}
		return s, func(key string, data []byte) {
			if err := os.WriteFile(filepath.Join(root, filepath.FromSlash(key)), data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// TestDirLayout: the data are plain files at ROOT/KEY, as a plan's --out
// directory needs, and the store's own records stay under ROOT/.strata.
func TestDirLayout(t *testing.T) {
	root := t.TempDir()
	s, err := store.Open(t.Context(), root)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"summary.json", "comment.md", "live/prod/network/plan.tfplan"} {
		if _, err := s.Put(t.Context(), k, []byte("content of "+k)); err != nil {
			t.Fatal(err)
		}
	}
	var files []string
	err = filepath.WalkDir(root, func(p string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			rel, _ := filepath.Rel(root, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		".strata/lock",
		".strata/sha256/comment.md", ".strata/sha256/live/prod/network/plan.tfplan", ".strata/sha256/summary.json",
		"comment.md", "live/prod/network/plan.tfplan", "summary.json",
	}
	if !slices.Equal(files, want) {
		t.Errorf("files under the root = %q, want %q", files, want)
	}
	data, err := os.ReadFile(filepath.Join(root, "live/prod/network/plan.tfplan"))
	if err != nil || string(data) != "content of live/prod/network/plan.tfplan" {
		t.Errorf("plan file holds %q, %v; want the plain bytes", data, err)
	}
}

// TestDirCrashLeftovers: what a process killed mid-Put leaves behind (a
// temporary file, a recorded sum without data) is neither listed nor read
// as complete.
func TestDirCrashLeftovers(t *testing.T) {
	root := t.TempDir()
	s, err := store.Open(t.Context(), root)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(t.Context(), "runs/1/done", []byte("ok")); err != nil {
		t.Fatal(err)
	}
	write := func(rel, data string) {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("runs/1/.strata-tmp-123456", "half a pl")
	write(".strata/sha256/runs/1/half", "0000\n")
	keys, err := s.List(t.Context(), "")
	if err != nil || !slices.Equal(keys, []string{"runs/1/done"}) {
		t.Errorf("List = %q, %v; want only runs/1/done", keys, err)
	}
	if _, err := s.Get(t.Context(), "runs/1/half"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get of a key whose data never landed = %v, want ErrNotFound", err)
	}
}

// TestDirWithoutRecord: a file put in the directory by something else has
// no recorded sum and is refused, not trusted.
func TestDirWithoutRecord(t *testing.T) {
	root := t.TempDir()
	s, err := store.Open(t.Context(), root)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "foreign"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(t.Context(), "foreign"); !errors.Is(err, store.ErrChecksum) || !strings.Contains(err.Error(), "no sha256 recorded") {
		t.Errorf("Get of a file without a recorded sum = %v, want ErrChecksum explaining why", err)
	}
	if _, err := s.List(t.Context(), "../"); err == nil {
		t.Error("List with a prefix leaving the root succeeded")
	}
}

func TestOpenErrors(t *testing.T) {
	for url, want := range map[string]string{
		"gs://bucket/x": "file://PATH or PATH (local directory)",
		"":              "empty store URL",
		"file://":       "names no directory",
	} {
		if _, err := store.Open(t.Context(), url); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Open(%q) = %v, want an error containing %q", url, err, want)
		}
	}
}

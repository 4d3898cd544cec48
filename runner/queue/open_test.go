package queue

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

func TestOpenByURL(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, url := range []string{filepath.Join(dir, "a.db"), "bolt://" + filepath.Join(dir, "b.db"), "file://" + filepath.Join(dir, "c.db")} {
		q, err := Open(ctx, url, Options{Logger: quiet()})
		if err != nil {
			t.Fatalf("%s: %v", url, err)
		}
		if _, err := q.Put(ctx, Item{ID: "x"}); err != nil {
			t.Fatalf("%s: put: %v", url, err)
		}
		q.Close()
	}
	for url, want := range map[string]string{
		"":              "empty queue URL: use bolt://PATH",
		"bolt://":       "names no file",
		"nats://q/jobs": `unsupported queue URL "nats://q/jobs": use bolt://PATH, file://PATH or PATH (embedded bbolt file)`,
	} {
		if _, err := Open(ctx, url, Options{}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Open(%q) = %v, want %q", url, err, want)
		}
	}
}

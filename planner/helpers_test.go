package planner

import (
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

// writeFiles writes files (path relative to root → content) under root.
func writeFiles(t testing.TB, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// export writes files into a fresh directory, as the lead's glue exports a
// commit's tree into a throwaway workspace, and returns it.
func export(t testing.TB, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	writeFiles(t, root, files)
	return root
}

// platform is terraform's name for this OS and architecture.
func platform() string { return runtime.GOOS + "_" + runtime.GOARCH }

// syncWriter serialises writes to w.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

package mirror

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// workspacePrefix starts the name of every workspace directory; Sweep
// touches nothing else.
const workspacePrefix = "run-"

// live holds the workspaces of this process not yet cleaned up, which
// Sweep leaves alone however old they are.
var live sync.Map // path → struct{}

// Workspace is a directory of its own for one run, e.g. the tree of the
// commit Terraform runs in.
type Workspace struct {
	path string
}

// NewWorkspace creates an empty directory for run runID under root
// (DATA_DIR/work), named after the run and unique even for a repeated
// runID. root is created if missing.
func NewWorkspace(root, runID string) (*Workspace, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(root, workspacePrefix+safeName(runID)+"-")
	if err != nil {
		return nil, err
	}
	live.Store(dir, struct{}{})
	return &Workspace{path: dir}, nil
}

// Path is the workspace directory.
func (w *Workspace) Path() string { return w.path }

// Cleanup removes the workspace and everything in it, including read-only
// files and directories. Calling it again is harmless.
func (w *Workspace) Cleanup() error {
	err := removeAll(w.path)
	if err == nil {
		live.Delete(w.path)
	}
	return err
}

// Sweep removes the workspaces under root last modified more than
// olderThan ago, as a crash leaves them, and returns their paths.
// Workspaces of this process that are not cleaned up yet are kept, so a
// periodic Sweep cannot pull a directory from under a long run. Entries
// of root that are not workspaces are never touched. A missing root is
// not an error.
func Sweep(root string, olderThan time.Duration) ([]string, error) {
	entries, err := os.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	cutoff := time.Now().Add(-olderThan)
	var removed []string
	var errs []error
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), workspacePrefix) {
			continue
		}
		path := filepath.Join(root, e.Name())
		if _, ok := live.Load(path); ok {
			continue
		}
		info, err := e.Info()
		if err != nil || !info.ModTime().Before(cutoff) {
			continue
		}
		if err := removeAll(path); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, path)
	}
	return removed, errors.Join(errs...)
}

// removeAll is os.RemoveAll that also removes what sits in read-only
// directories (module caches, provider plugins copied without write
// permission), by making the directories writable first.
func removeAll(path string) error {
	if err := os.RemoveAll(path); err == nil {
		return nil
	}
	filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(p, 0o700)
		}
		return nil
	})
	return os.RemoveAll(path)
}

// safeName keeps the letters, digits, '-', '_' and '.' of a run ID,
// replacing the rest by '_', at most 64 of them.
func safeName(s string) string {
	b := []byte(s)
	if len(b) > 64 {
		b = b[:64]
	}
	for i, c := range b {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			b[i] = '_'
		}
	}
	return string(b)
}

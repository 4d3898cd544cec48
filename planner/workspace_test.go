package planner

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/strata-iac/strata/internal/gittest"
)

// TestSweepWorkspacesRemovesWhatACrashLeft: a workspace in use survives a
// sweep however old it is; what a dead process left (a workspace whose
// lock nobody holds, an old scratch directory, a stray file) goes once a
// minute old; nothing younger is touched.
func TestSweepWorkspacesRemovesWhatACrashLeft(t *testing.T) {
	repo := gittest.New(t)
	repo.Write(map[string]string{"live/app/main.tf": "# app\n"})
	sha := repo.Commit("app")
	data := t.TempDir()
	s, err := OpenSession(SessionOptions{RepoDir: repo.Dir, DataDir: data})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c, err := s.Repo().Resolve(sha)
	if err != nil {
		t.Fatal(err)
	}
	live, err := s.workspace(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	defer live.close()
	dead, err := s.workspace(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	dead.lock.Unlock() // as a process that died would leave it
	work := filepath.Join(data, workDir)
	oldRun := filepath.Join(work, "strata-run-123")
	young := filepath.Join(work, "strata-run-456")
	stray := filepath.Join(work, "leftover.tfplan")
	for _, d := range []string{oldRun, young} {
		if err := os.MkdirAll(filepath.Join(d, "data"), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(stray, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A read-only directory inside, as terraform leaves provider copies.
	if err := os.Chmod(filepath.Join(oldRun, "data"), 0o500); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	for _, p := range []string{live.dir, dead.dir, oldRun, stray} {
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
	removed, err := SweepWorkspaces(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 3 {
		t.Errorf("removed %v, want the dead workspace, the old run and the stray file", removed)
	}
	for _, gone := range []string{dead.dir, oldRun, stray} {
		if _, err := os.Stat(gone); !os.IsNotExist(err) {
			t.Errorf("%s survived the sweep: %v", gone, err)
		}
	}
	for _, kept := range []string{live.root, young} {
		if _, err := os.Stat(kept); err != nil {
			t.Errorf("%s was swept: %v", kept, err)
		}
	}
	if removed, err := SweepWorkspaces(t.TempDir()); err != nil || len(removed) != 0 {
		t.Errorf("a data dir without work/: %v, %v", removed, err)
	}
}

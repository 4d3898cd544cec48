package stacks

import (
	"os"
	"path/filepath"
	"testing"
)

func TestOpenLinkedWorktreeRoot(t *testing.T) {
	g, _ := setup(t, mono)
	wt := filepath.Join(t.TempDir(), "wt")
	g.Git("worktree", "add", "-q", "-b", "feature", wt)
	err := os.WriteFile(filepath.Join(wt, "live/prod/network/main.tf"), []byte(`module "vpc" { source = "../../../modules/vpc" } # wt`), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	g.Git("-C", wt, "commit", "-q", "-am", "in the worktree")
	head := g.Git("-C", wt, "rev-parse", "HEAD")
	for _, dir := range []string{wt, filepath.Join(wt, "live")} {
		r, err := OpenRepo(dir)
		if err != nil {
			t.Fatalf("OpenRepo(%s): %v", dir, err)
		}
		cs, err := r.Changes(t.Context(), "main", "HEAD")
		if err != nil {
			t.Fatalf("--repo %s: %v", dir, err)
		}
		if cs.Head != head {
			t.Errorf("--repo %s: head = %s, want the worktree's HEAD %s", dir, cs.Head, head)
		}
		wantDirs(t, cs, "live/prod/network")
	}
}

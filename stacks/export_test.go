package stacks

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func TestExportHoldsTheCommitNotTheWorkingCopy(t *testing.T) {
	g, r := setup(t, map[string]string{"live/a/main.tf": "# committed", "bin/run.sh": "#!/bin/sh\n"})
	if err := os.Chmod(filepath.Join(g.Dir, "bin/run.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	g.Commit("exec bit")
	g.Write(map[string]string{"live/a/main.tf": "# uncommitted edit", "live/a/new.tf": "# untracked"})
	head, err := r.Resolve("HEAD")
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "ws")
	if err := r.Export(context.Background(), head, dst); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dst, "live/a/main.tf"))
	if err != nil || string(got) != "# committed" {
		t.Errorf("main.tf = %q, %v; want the committed content", got, err)
	}
	if _, err := os.Stat(filepath.Join(dst, "live/a/new.tf")); !os.IsNotExist(err) {
		t.Errorf("untracked file exported: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(dst, "bin/run.sh")); err != nil || fi.Mode()&0o111 == 0 {
		t.Errorf("executable bit lost: %v %v", fi, err)
	}
	if _, err := os.Stat(filepath.Join(dst, ".git")); !os.IsNotExist(err) {
		t.Errorf(".git exported")
	}
}

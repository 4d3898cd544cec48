package mirror

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWorkspaceLifecycle(t *testing.T) {
	root := filepath.Join(t.TempDir(), "work")
	a, err := NewWorkspace(root, "gitlab/acme/infra!12 plan")
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewWorkspace(root, "gitlab/acme/infra!12 plan")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Cleanup() })
	if a.Path() == b.Path() {
		t.Fatal("two workspaces of one run ID share a directory")
	}
	for _, w := range []*Workspace{a, b} {
		if filepath.Dir(w.Path()) != root || !strings.HasPrefix(filepath.Base(w.Path()), "run-gitlab_acme_infra_12_plan-") {
			t.Fatalf("workspace at %s, want run-gitlab_acme_infra_12_plan-* directly under %s", w.Path(), root)
		}
	}
	escape, err := NewWorkspace(root, "../../etc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { escape.Cleanup() })
	if filepath.Dir(escape.Path()) != root {
		t.Fatalf("run ID ../../etc made %s outside %s", escape.Path(), root)
	}

	// Terraform and module caches leave read-only files and directories.
	ro := filepath.Join(a.Path(), ".terraform", "providers")
	if err := os.MkdirAll(ro, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(ro, "plugin"), []byte("x"), 0o444)
	os.Chmod(ro, 0o555)
	if err := a.Cleanup(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(a.Path()); !os.IsNotExist(err) {
		t.Fatalf("workspace still there after Cleanup: %v", err)
	}
	if err := a.Cleanup(); err != nil {
		t.Fatalf("second Cleanup = %v", err)
	}
}

func TestSweepRemovesOnlyStaleWorkspaces(t *testing.T) {
	root := t.TempDir()
	old := time.Now().Add(-2 * time.Hour)
	mk := func(name string) string {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Join(p, "sub"), 0o755); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(p, old, old)
		return p
	}
	crashed := mk("run-plan-1-123")
	notOurs := mk("keep-me")
	fresh, err := NewWorkspace(root, "fresh")
	if err != nil {
		t.Fatal(err)
	}
	// A long run of this process: its directory is old but in use.
	running, err := NewWorkspace(root, "long")
	if err != nil {
		t.Fatal(err)
	}
	os.Chtimes(running.Path(), old, old)
	t.Cleanup(func() { fresh.Cleanup(); running.Cleanup() })

	removed, err := Sweep(root, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 1 || removed[0] != crashed {
		t.Fatalf("Sweep removed %v, want only %s", removed, crashed)
	}
	for _, p := range []string{notOurs, fresh.Path(), running.Path()} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("Sweep removed %s: %v", p, err)
		}
	}
	if removed, err := Sweep(filepath.Join(root, "missing"), time.Hour); err != nil || removed != nil {
		t.Fatalf("Sweep of a missing root = %v, %v", removed, err)
	}
}

package stacks

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
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

func TestControlCharacterInPath(t *testing.T) {
	g, _ := setup(t, mono)
	cs := change(t, g, map[string]string{
		"live/prod/app/a\tb.json":           "{}",
		"live/prod/network/new\nline/x.txt": "x",
	})
	wantDirs(t, cs, "live/prod/app", "live/prod/network")
	if rs := reasonsOf(cs, "live/prod/app"); !reflect.DeepEqual(rs, []string{`changed "live/prod/app/a\tb.json"`}) {
		t.Errorf("reasons = %q, want the path quoted as git quotes it", rs)
	}
}

func TestShallowCloneHint(t *testing.T) {
	g, _ := setup(t, mono)
	g.Git("checkout", "-q", "-b", "feature")
	for i := 0; i < 3; i++ {
		g.Write(map[string]string{"live/prod/network/main.tf": `module "vpc" { source = "../../../modules/vpc" } # ` + strings.Repeat("f", i+1)})
		g.Commit("feature")
	}
	g.Git("checkout", "-q", "main")
	for i := 0; i < 3; i++ {
		g.Write(map[string]string{"live/prod/app/main.tf": `module "svc" { source = "../../../modules/service" } # ` + strings.Repeat("m", i+1)})
		g.Commit("main")
	}
	clone := filepath.Join(t.TempDir(), "clone")
	g.Git("clone", "-q", "--depth", "1", "--no-single-branch", "file://"+g.Dir, clone)
	r, err := OpenRepo(clone)
	if err != nil {
		t.Fatal(err)
	}
	hint := func(what string, err error) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), "git fetch --unshallow") || !strings.Contains(err.Error(), "GIT_DEPTH: 0") {
			t.Errorf("%s in a shallow clone: %v; want the hint to fetch the full history", what, err)
		}
	}
	_, err = r.Changes(t.Context(), "origin/main", "origin/feature")
	hint("change set", err)
	_, err = r.Resolve("origin/feature~2")
	hint("HEAD~N past the shallow boundary", err)
	tip, _ := r.Resolve("origin/main")
	head, _ := r.Resolve("origin/feature")
	_, err = r.MergeBase(tip, head)
	hint("merge base", err)

	// Deep enough to hold the merge base, a shallow clone just works.
	deeper := filepath.Join(t.TempDir(), "deeper")
	g.Git("clone", "-q", "--depth", "4", "--no-single-branch", "file://"+g.Dir, deeper)
	r, err = OpenRepo(deeper)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := r.Changes(t.Context(), "origin/main", "origin/feature")
	if err != nil {
		t.Fatalf("shallow clone holding the merge base: %v", err)
	}
	wantDirs(t, cs, "live/prod/network")
}

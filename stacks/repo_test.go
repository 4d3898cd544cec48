package stacks

import (
	"encoding/json"
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

// criss-cross builds two branches that merged each other, so they have two
// merge bases, each changing a different stack; commit dates make git
// prefer the one with the larger hash or the smaller, depending on the
// run, so the test does not pass by luck of hashes.
func TestCrissCrossMergeUsesAllBases(t *testing.T) {
	for _, newerFirst := range []bool{true, false} {
		g, _ := setup(t, mono)
		date := func(s string) {
			t.Setenv("GIT_COMMITTER_DATE", s)
			t.Setenv("GIT_AUTHOR_DATE", s)
		}
		d1, d2 := "2024-01-01T10:00:00Z", "2024-01-01T11:00:00Z"
		if !newerFirst {
			d1, d2 = d2, d1
		}
		g.Git("checkout", "-q", "-b", "feature")
		date(d1)
		g.Write(map[string]string{"live/prod/network/main.tf": `module "vpc" { source = "../../../modules/vpc" } # a1`})
		a1 := g.Commit("A1 on feature")
		g.Git("checkout", "-q", "main")
		date(d2)
		g.Write(map[string]string{"live/prod/app/main.tf": `module "svc" { source = "../../../modules/service" } # b1`})
		b1 := g.Commit("B1 on main")
		date("2024-01-02T00:00:00Z")
		g.Git("merge", "-q", "--no-ff", "-m", "merge A1 into main", a1)
		g.Git("checkout", "-q", "feature")
		g.Git("merge", "-q", "--no-ff", "-m", "merge B1 into feature", b1)
		date("2024-01-03T00:00:00Z")
		g.Write(map[string]string{"live/prod/app/jobs/main.tf": `resource "terraform_data" "job2" {}`})
		g.Commit("feature moves on")
		if bases := strings.Fields(g.Git("merge-base", "--all", "main", "feature")); len(bases) != 2 {
			t.Fatalf("merge bases = %q, want two", bases)
		}
		r, err := OpenRepo(g.Dir)
		if err != nil {
			t.Fatal(err)
		}
		cs, err := r.Changes(t.Context(), "main", "feature")
		if err != nil {
			t.Fatal(err)
		}
		// From A1, app changed; from B1, network: the union holds both.
		wantDirs(t, cs, "live/prod/app", "live/prod/app/jobs", "live/prod/network")
		if want := g.Git("merge-base", "main", "feature"); cs.Base != want {
			t.Errorf("base = %s, want git's choice %s", cs.Base, want)
		}
	}
}

func TestAttributionByHeadTree(t *testing.T) {
	files := copyMap(mono)
	files["live/prod/app/jobs/schedule.json"] = `{"every": "1h"}`
	g, _ := setup(t, files)
	// The nested stack goes; its data file stays and changes: at head it
	// belongs to live/prod/app, which must be planned.
	cs := change(t, g, map[string]string{"live/prod/app/jobs/schedule.json": `{"every": "2h"}`}, "live/prod/app/jobs/main.tf")
	wantDirs(t, cs, "live/prod/app")
	if !reflect.DeepEqual(cs.Deleted, []string{"live/prod/app/jobs"}) {
		t.Errorf("deleted = %q", cs.Deleted)
	}
}

func TestStackBecameModule(t *testing.T) {
	g, _ := setup(t, mono)
	cs := change(t, g, map[string]string{
		"live/prod/network/main.tf": `module "vpc" { source = "../../../modules/vpc" }` + "\n" + `module "jobs" { source = "../app/jobs" }`,
	})
	wantDirs(t, cs, "live/prod/network")
	var out map[string]any
	data, err := json.Marshal(cs)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out["became_module"], []any{"live/prod/app/jobs"}) || !reflect.DeepEqual(out["deleted"], []any{}) {
		t.Errorf("became_module = %v, deleted = %v; want the stack under became_module only", out["became_module"], out["deleted"])
	}
	found := false
	for _, w := range cs.Warnings {
		found = found || strings.Contains(w, "live/prod/app/jobs") && strings.Contains(w, "state")
	}
	if !found {
		t.Errorf("warnings = %q, want one saying the state of live/prod/app/jobs still exists", cs.Warnings)
	}
}

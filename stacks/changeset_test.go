package stacks

import (
	"context"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/strata-iac/strata/internal/gittest"
)

func TestMain(m *testing.M) {
	// Keep the module-call cache of every test run out of the user's home.
	dir, err := os.MkdirTemp("", "strata-cache")
	if err != nil {
		panic(err)
	}
	os.Setenv("XDG_CACHE_HOME", dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// mono is a small monorepo: two stacks calling a module chain, one nested
// stack, a module with a templates dir.
var mono = map[string]string{
	"live/prod/network/main.tf":    `module "vpc" { source = "../../../modules/vpc" }`,
	"live/prod/app/main.tf":        `module "svc" { source = "../../../modules/service" }`,
	"live/prod/app/README.md":      "# app",
	"live/prod/app/jobs/main.tf":   `resource "terraform_data" "job" {}`,
	"modules/vpc/main.tf":          `module "naming" { source = "../naming" }`,
	"modules/vpc/templates/x.json": `{}`,
	"modules/service/main.tf":      `resource "terraform_data" "svc" {}`,
	"modules/naming/main.tf":       `locals { prefix = "acme" }`,
	"shared/ranges.json":           `[]`,
	"docs/guide.md":                "# docs",
}

func setup(t *testing.T, files map[string]string) (*gittest.Repo, *Repo) {
	t.Helper()
	g := gittest.New(t)
	g.Write(files)
	g.Commit("initial")
	r, err := OpenRepo(g.Dir)
	if err != nil {
		t.Fatal(err)
	}
	return g, r
}

// change commits files on a new branch "change" and returns the change set
// of that branch against main.
func change(t *testing.T, g *gittest.Repo, files map[string]string, remove ...string) *ChangeSet {
	t.Helper()
	g.Git("checkout", "-q", "-B", "change")
	g.Write(files)
	g.Remove(remove...)
	g.Commit("change")
	r, err := OpenRepo(g.Dir)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := r.Changes(context.Background(), "main", "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func dirs(cs *ChangeSet) []string {
	var out []string
	for _, s := range cs.Stacks {
		out = append(out, s.Dir)
	}
	return out
}

func reasonsOf(cs *ChangeSet, dir string) []string {
	for _, s := range cs.Stacks {
		if s.Dir == dir {
			return s.Reasons
		}
	}
	return nil
}

func wantDirs(t *testing.T, cs *ChangeSet, want ...string) {
	t.Helper()
	if got := dirs(cs); !reflect.DeepEqual(got, want) {
		t.Errorf("affected stacks = %q, want %q\nchange set: %+v", got, want, cs.Stacks)
	}
}

func TestDiscovery(t *testing.T) {
	_, r := setup(t, mono)
	head, _ := r.Resolve("HEAD")
	a, err := r.Analyze(context.Background(), head)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range a.Stacks {
		got = append(got, s.Dir)
	}
	want := []string{"live/prod/app", "live/prod/app/jobs", "live/prod/network"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("stacks = %q, want %q", got, want)
	}
	if mods := a.Stack("live/prod/network").Modules; !reflect.DeepEqual(mods, []string{"modules/naming", "modules/vpc"}) {
		t.Errorf("network modules = %q, want the chain vpc → naming", mods)
	}
}

func TestRule1OwnFiles(t *testing.T) {
	g, _ := setup(t, mono)
	cs := change(t, g, map[string]string{"live/prod/network/main.tf": `module "vpc" { source = "../../../modules/vpc" } # edited`})
	wantDirs(t, cs, "live/prod/network")
	if r := reasonsOf(cs, "live/prod/network"); !reflect.DeepEqual(r, []string{"changed live/prod/network/main.tf"}) {
		t.Errorf("reasons = %q", r)
	}
}

func TestNestedStackOwnsItsFiles(t *testing.T) {
	g, _ := setup(t, mono)
	cs := change(t, g, map[string]string{"live/prod/app/jobs/main.tf": `resource "terraform_data" "job2" {}`})
	wantDirs(t, cs, "live/prod/app/jobs")
}

func TestIgnoredMarkdown(t *testing.T) {
	g, _ := setup(t, mono)
	cs := change(t, g, map[string]string{"live/prod/app/README.md": "# app, documented", "docs/guide.md": "new"})
	wantDirs(t, cs)
}

func TestIgnoreChangesFromConfig(t *testing.T) {
	files := copyMap(mono)
	files["strata.yaml"] = "stacks:\n  - dir: live/prod/app\n    ignore_changes: []\n  - dir: live/prod/network\n    ignore_changes: ['*.txt']\n"
	g, _ := setup(t, files)
	cs := change(t, g, map[string]string{"live/prod/app/README.md": "# now counts", "live/prod/network/notes.txt": "x"})
	wantDirs(t, cs, "live/prod/app")
}

func TestRule2ModuleChainAnyDepth(t *testing.T) {
	g, _ := setup(t, mono)
	cs := change(t, g, map[string]string{"modules/naming/main.tf": `locals { prefix = "acme2" }`})
	wantDirs(t, cs, "live/prod/network")
	if r := reasonsOf(cs, "live/prod/network"); !reflect.DeepEqual(r, []string{"module modules/naming changed (modules/naming/main.tf)"}) {
		t.Errorf("reasons = %q", r)
	}
}

func TestRule2NonTerraformFileInModule(t *testing.T) {
	g, _ := setup(t, mono)
	cs := change(t, g, map[string]string{"modules/vpc/templates/x.json": `{"a":1}`})
	wantDirs(t, cs, "live/prod/network")
}

func TestModuleCycleTolerated(t *testing.T) {
	files := copyMap(mono)
	files["modules/naming/main.tf"] = `module "back" { source = "../vpc" }`
	g, _ := setup(t, files)
	cs := change(t, g, map[string]string{"modules/vpc/main.tf": `module "naming" { source = "../naming" } # edit`})
	wantDirs(t, cs, "live/prod/network")
}

func TestRule3Watch(t *testing.T) {
	files := copyMap(mono)
	files["strata.yaml"] = "stacks:\n  - dir: live/prod/app\n    watch: ['shared/*.json']\n"
	g, _ := setup(t, files)
	cs := change(t, g, map[string]string{"shared/ranges.json": `["10.0.0.0/8"]`})
	wantDirs(t, cs, "live/prod/app")
	if r := reasonsOf(cs, "live/prod/app"); !reflect.DeepEqual(r, []string{"changed shared/ranges.json (watched)"}) {
		t.Errorf("reasons = %q", r)
	}
}

func TestRule4ConfigEntry(t *testing.T) {
	files := copyMap(mono)
	files["strata.yaml"] = "stacks:\n  - dir: live/prod/app\n  - dir: live/prod/network\n"
	g, _ := setup(t, files)
	cs := change(t, g, map[string]string{"strata.yaml": "stacks:\n  - dir: live/prod/app\n    workspace: blue\n  - dir: live/prod/network\n"})
	wantDirs(t, cs, "live/prod/app")
	if r := reasonsOf(cs, "live/prod/app"); !reflect.DeepEqual(r, []string{"strata.yaml entry changed"}) {
		t.Errorf("reasons = %q", r)
	}
}

func TestDependsOnOrder(t *testing.T) {
	files := copyMap(mono)
	files["strata.yaml"] = "stacks:\n  - dir: live/prod/app\n    depends_on: [live/prod/network]\n"
	g, _ := setup(t, files)
	cs := change(t, g, map[string]string{
		"live/prod/app/main.tf":     `module "svc" { source = "../../../modules/service" } # e`,
		"live/prod/network/main.tf": `module "vpc" { source = "../../../modules/vpc" } # e`,
	})
	// Path order would put app first; depends_on puts network first.
	wantDirs(t, cs, "live/prod/network", "live/prod/app")
}

func TestDeletedStack(t *testing.T) {
	g, _ := setup(t, mono)
	cs := change(t, g, nil, "live/prod/app/jobs")
	wantDirs(t, cs)
	if !reflect.DeepEqual(cs.Deleted, []string{"live/prod/app/jobs"}) {
		t.Errorf("deleted = %q, want the nested stack (and not its parent as changed)", cs.Deleted)
	}
}

func TestRenameCountsBothSides(t *testing.T) {
	files := copyMap(mono)
	files["live/prod/old/main.tf"] = `resource "terraform_data" "x" {}`
	g, _ := setup(t, files)
	g.Git("checkout", "-q", "-B", "change")
	g.Git("mv", "live/prod/old", "live/prod/new")
	g.Commit("rename")
	r, _ := OpenRepo(g.Dir)
	cs, err := r.Changes(context.Background(), "main", "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	wantDirs(t, cs, "live/prod/new")
	if !reflect.DeepEqual(cs.Deleted, []string{"live/prod/old"}) {
		t.Errorf("deleted = %q", cs.Deleted)
	}
}

func TestMergeBaseNotTwoDot(t *testing.T) {
	g, _ := setup(t, mono)
	g.Git("checkout", "-q", "-b", "feature")
	g.Write(map[string]string{"live/prod/network/main.tf": `module "vpc" { source = "../../../modules/vpc" } # feature`})
	g.Commit("feature")
	// main moves on after the branch point: a two-dot diff would blame
	// the feature branch for app's change too.
	g.Git("checkout", "-q", "main")
	g.Write(map[string]string{"live/prod/app/main.tf": `module "svc" { source = "../../../modules/service" } # main`})
	mainHead := g.Commit("main moves")
	r, _ := OpenRepo(g.Dir)
	cs, err := r.Changes(context.Background(), "main", "feature")
	if err != nil {
		t.Fatal(err)
	}
	wantDirs(t, cs, "live/prod/network")
	if cs.Base == mainHead {
		t.Error("base is main's head, want the merge base")
	}
}

func TestJSONSyntax(t *testing.T) {
	files := copyMap(mono)
	files["live/prod/json/main.tf.json"] = `{"module": {"vpc": {"source": "../../../modules/vpc"}}}`
	g, _ := setup(t, files)
	cs := change(t, g, map[string]string{"modules/naming/main.tf": `locals { prefix = "x" }`})
	wantDirs(t, cs, "live/prod/json", "live/prod/network")
}

func TestUnparseableModuleOverPlans(t *testing.T) {
	files := copyMap(mono)
	files["modules/broken/main.tf"] = `module "x" { source = "../naming" ` // unclosed
	files["live/prod/b/main.tf"] = `module "b" { source = "../../../modules/broken" }`
	g, _ := setup(t, files)
	cs := change(t, g, map[string]string{"modules/service/main.tf": `resource "terraform_data" "svc2" {}`})
	wantDirs(t, cs, "live/prod/app", "live/prod/b")
	if len(cs.Warnings) == 0 || !strings.Contains(cs.Warnings[0], "modules/broken/main.tf:1") {
		t.Errorf("warnings = %q, want one naming modules/broken/main.tf:1", cs.Warnings)
	}
}

func TestEscapingSourceWarns(t *testing.T) {
	files := copyMap(mono)
	files["live/prod/network/main.tf"] = `module "x" { source = "../../../../outside" }`
	_, r := setup(t, files)
	head, _ := r.Resolve("HEAD")
	a, err := r.Analyze(context.Background(), head)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Warnings) != 1 || !strings.Contains(a.Warnings[0], "leaves the repository") {
		t.Errorf("warnings = %q", a.Warnings)
	}
}

func TestNothingChanged(t *testing.T) {
	g, _ := setup(t, mono)
	cs := change(t, g, nil)
	if cs.Stacks == nil || cs.Deleted == nil || cs.Warnings == nil || len(cs.Stacks) != 0 {
		t.Errorf("empty change set must have empty, non-nil lists: %+v", cs)
	}
}

func TestResolveRefForms(t *testing.T) {
	g, r := setup(t, mono)
	first := g.Git("rev-parse", "HEAD")
	g.Git("tag", "v1")
	g.Write(map[string]string{"x.txt": "x"})
	g.Commit("second")
	bare := t.TempDir()
	g.Git("clone", "-q", "--mirror", g.Dir, bare)
	g.Git("update-ref", "refs/remotes/origin/main", first)
	for _, ref := range []string{first, first[:8], "v1", "HEAD~1", "main~1", "origin/main"} {
		c, err := r.Resolve(ref)
		if err != nil {
			t.Errorf("Resolve(%q): %v", ref, err)
			continue
		}
		if c.Hash.String() != first {
			t.Errorf("Resolve(%q) = %s, want %s", ref, c.Hash, first)
		}
	}
	mirror, err := OpenRepo(bare)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mirror.Changes(context.Background(), "v1", "main"); err != nil {
		t.Errorf("change set on a bare mirror: %v", err)
	}
}

func TestBadInput(t *testing.T) {
	g, r := setup(t, mono)
	if _, err := r.Resolve("no-such-branch"); err == nil || !strings.Contains(err.Error(), `unknown ref "no-such-branch"`) {
		t.Errorf("unknown ref: %v", err)
	}
	if _, err := OpenRepo(t.TempDir()); err == nil || !strings.Contains(err.Error(), "is not a git repository") {
		t.Errorf("not a repo: %v", err)
	}
	for name, tc := range map[string]struct{ yaml, want string }{
		"invalid yaml": {"stacks: [", "strata.yaml"},
		"unknown key":  {"version: 1\nparalel: 3\n", `strata.yaml:2: unknown key "paralel"`},
		"cycle": {"stacks:\n  - dir: live/prod/app\n    depends_on: [live/prod/network]\n  - dir: live/prod/network\n    depends_on: [live/prod/app]\n",
			"cycle: live/prod/app -> live/prod/network -> live/prod/app"},
		"missing dir":     {"stacks:\n  - dir: live/nope\n", "strata.yaml:2: stacks[0].dir: live/nope does not exist"},
		"unknown depends": {"stacks:\n  - dir: live/prod/app\n    depends_on: [modules/vpc]\n", "modules/vpc is not a stack"},
	} {
		t.Run(name, func(t *testing.T) {
			g.Git("checkout", "-q", "-B", "bad-"+strings.ReplaceAll(name, " ", "-"), "main")
			g.Write(map[string]string{"strata.yaml": tc.yaml})
			g.Commit(name)
			r, _ := OpenRepo(g.Dir)
			_, err := r.Changes(context.Background(), "main", "HEAD")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want it to contain %q", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
		})
	}
}

func copyMap(m map[string]string) map[string]string {
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

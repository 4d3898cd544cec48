package stacks

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/strata-iac/strata/internal/gittest"
)

func stackDirs(t *testing.T, r *Repo, ref string) []string {
	t.Helper()
	c, err := r.Resolve(ref)
	if err != nil {
		t.Fatal(err)
	}
	a, err := r.Analyze(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range a.Stacks {
		out = append(out, s.Dir)
	}
	return out
}

func symlink(t *testing.T, g *gittest.Repo, target, link string) {
	t.Helper()
	full := filepath.Join(g.Dir, filepath.FromSlash(link))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, full); err != nil {
		t.Fatal(err)
	}
}

func TestUnparsableModuleInChainKeepsCallers(t *testing.T) {
	g, r := setup(t, map[string]string{
		"live/app/main.tf":  `module "x" { source = "../../modules/x" }`,
		"modules/x/main.tf": "module \"y\" {\n  source = \"../y\"\n  count = \n}\n", // does not parse
		"modules/y/main.tf": `resource "terraform_data" "y" {}`,
	})
	if got := stackDirs(t, r, "HEAD"); !reflect.DeepEqual(got, []string{"live/app"}) {
		t.Errorf("stacks = %q, want only live/app: modules/y is called by modules/x, which does not parse", got)
	}
	cs := change(t, g, map[string]string{"modules/y/main.tf": `resource "terraform_data" "y2" {}`})
	wantDirs(t, cs, "live/app")
	if len(cs.Warnings) == 0 || !strings.Contains(cs.Warnings[0], "stacks using modules/x are planned whenever a local module changes") {
		t.Errorf("warnings = %q", cs.Warnings)
	}
}

func TestModuleInHiddenDirectory(t *testing.T) {
	g, r := setup(t, map[string]string{
		"live/app/main.tf":      `module "m" { source = "../../.modules/m" }`,
		".modules/m/main.tf":    `module "n" { source = "../n" }`,
		".modules/n/main.tf":    `resource "terraform_data" "n" {}`,
		".modules/n/tpl.json":   `{}`,
		".unused/stack/x.tf":    `resource "terraform_data" "x" {}`,
		"live/app/.hidden/x.tf": `resource "terraform_data" "h" {}`,
	})
	if got := stackDirs(t, r, "HEAD"); !reflect.DeepEqual(got, []string{"live/app"}) {
		t.Errorf("stacks = %q, want live/app alone (hidden directories are never stacks)", got)
	}
	cs := change(t, g, map[string]string{".modules/n/tpl.json": `{"a": 1}`})
	wantDirs(t, cs, "live/app")
	if rs := reasonsOf(cs, "live/app"); !reflect.DeepEqual(rs, []string{"module .modules/n changed (.modules/n/tpl.json)"}) {
		t.Errorf("reasons = %q", rs)
	}
	// A file in a hidden directory nobody calls belongs to the directory
	// around it, as before.
	g.Git("checkout", "-q", "main")
	cs = change(t, g, map[string]string{"live/app/.hidden/x.tf": `resource "terraform_data" "h2" {}`})
	wantDirs(t, cs, "live/app")
}

func TestSubmoduleModule(t *testing.T) {
	sub := gittest.New(t)
	sub.Write(map[string]string{"main.tf": `resource "terraform_data" "v1" {}`})
	sub.Commit("v1")
	g := gittest.New(t)
	g.Write(map[string]string{
		"live/app/main.tf":   `module "vpc" { source = "../../modules/shared/vpc" }`,
		"live/other/main.tf": `resource "terraform_data" "o" {}`,
	})
	g.Git("-c", "protocol.file.allow=always", "submodule", "add", "-q", sub.Dir, "modules/shared")
	g.Commit("initial")
	sub.Write(map[string]string{"main.tf": `resource "terraform_data" "v2" {}`})
	sub.Commit("v2")
	g.Git("checkout", "-q", "-b", "change")
	g.Git("-C", "modules/shared", "-c", "protocol.file.allow=always", "pull", "-q", "origin", "main")
	g.Commit("bump the submodule")
	r, err := OpenRepo(g.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := stackDirs(t, r, "HEAD"); !reflect.DeepEqual(got, []string{"live/app", "live/other"}) {
		t.Errorf("stacks = %q", got)
	}
	cs, err := r.Changes(t.Context(), "main", "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	wantDirs(t, cs, "live/app")
	if rs := reasonsOf(cs, "live/app"); !reflect.DeepEqual(rs, []string{"module modules/shared changed (modules/shared)"}) {
		t.Errorf("reasons = %q", rs)
	}
}

func TestModuleThroughSymlinkedDirectory(t *testing.T) {
	g := gittest.New(t)
	g.Write(map[string]string{
		"live/app/main.tf":   `module "vpc" { source = "../../modules/vpc" }`,
		"shared/vpc/main.tf": `resource "terraform_data" "vpc" {}`,
	})
	symlink(t, g, "../shared/vpc", "modules/vpc")
	g.Commit("initial")
	r, err := OpenRepo(g.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := stackDirs(t, r, "HEAD"); !reflect.DeepEqual(got, []string{"live/app"}) {
		t.Errorf("stacks = %q, want live/app alone: shared/vpc is its module, through modules/vpc", got)
	}
	cs := change(t, g, map[string]string{"shared/vpc/main.tf": `resource "terraform_data" "vpc2" {}`})
	wantDirs(t, cs, "live/app")
	// Pointing the link elsewhere changes the caller too.
	g.Write(map[string]string{"shared/vpc2/main.tf": `resource "terraform_data" "v" {}`})
	g.Remove("modules/vpc")
	symlink(t, g, "../shared/vpc2", "modules/vpc")
	g.Commit("retarget")
	r, _ = OpenRepo(g.Dir)
	cs, err = r.Changes(t.Context(), "change~1", "change")
	if err != nil {
		t.Fatal(err)
	}
	// shared/vpc, a module no more, is a stack now: it is planned too.
	wantDirs(t, cs, "live/app", "shared/vpc")
	if rs := reasonsOf(cs, "live/app"); !slices.Contains(rs, "symlink modules/vpc changed (a module source goes through it)") {
		t.Errorf("reasons = %q, want the retargeted link among them", rs)
	}
}

func TestTofuFiles(t *testing.T) {
	g, r := setup(t, map[string]string{
		"live/app/main.tofu":       `module "m" { source = "../../modules/m" }`,
		"live/json/main.tofu.json": `{"module": {"m": {"source": "../../modules/j"}}}`,
		"modules/m/main.tofu":      `resource "terraform_data" "m" {}`,
		"modules/j/main.tf":        `resource "terraform_data" "j" {}`,
		"modules/twin/main.tf":     `module "a" { source = "../a" }`,
		"modules/twin/main.tofu":   `module "b" { source = "../b" }`,
		"modules/a/main.tf":        `resource "terraform_data" "a" {}`,
		"modules/b/main.tf":        `resource "terraform_data" "b" {}`,
		"live/twin/main.tf":        `module "t" { source = "../../modules/twin" }`,
	})
	if got := stackDirs(t, r, "HEAD"); !reflect.DeepEqual(got, []string{"live/app", "live/json", "live/twin"}) {
		t.Errorf("stacks = %q", got)
	}
	cs := change(t, g, map[string]string{
		"modules/m/main.tofu": `resource "terraform_data" "m2" {}`,
		"modules/a/main.tf":   `resource "terraform_data" "a2" {}`,
		"modules/b/main.tf":   `resource "terraform_data" "b2" {}`,
	})
	wantDirs(t, cs, "live/app", "live/twin")
	want := []string{"module modules/a changed (modules/a/main.tf)", "module modules/b changed (modules/b/main.tf)"}
	if rs := reasonsOf(cs, "live/twin"); !reflect.DeepEqual(rs, want) {
		t.Errorf("reasons = %q, want %q: both twins' calls count", rs, want)
	}
}

func TestSymlinkedTerraformFile(t *testing.T) {
	g := gittest.New(t)
	g.Write(map[string]string{
		"shared/main.tf":             `module "m" { source = "./modules/m" }`,
		"live/app/x.tf":              `resource "terraform_data" "x" {}`,
		"live/app/modules/m/main.tf": `resource "terraform_data" "m" {}`,
		"shared/other.tf":            `resource "terraform_data" "o" {}`,
	})
	symlink(t, g, "../../shared/main.tf", "live/app/main.tf")
	g.Commit("initial")
	r, err := OpenRepo(g.Dir)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := r.Resolve("HEAD")
	a, err := r.Analyze(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	// The linked file's module source is relative to the link's directory.
	if s := a.Stack("live/app"); s == nil || !reflect.DeepEqual(s.Modules, []string{"live/app/modules/m"}) {
		t.Errorf("live/app = %+v, want it to call live/app/modules/m through its linked main.tf", s)
	}
	cs := change(t, g, map[string]string{"shared/main.tf": `module "m" { source = "./modules/m" } # edited`})
	wantDirs(t, cs, "live/app", "shared")
	if rs := reasonsOf(cs, "live/app"); !reflect.DeepEqual(rs, []string{"changed shared/main.tf (linked from live/app/main.tf)"}) {
		t.Errorf("reasons = %q", rs)
	}
}

func TestSymlinkLeavingRepository(t *testing.T) {
	g := gittest.New(t)
	g.Write(map[string]string{
		"live/app/x.tf":     `resource "terraform_data" "x" {}`,
		"live/other/x.tf":   `module "m" { source = "../../modules/m" }`,
		"modules/m/main.tf": `resource "terraform_data" "m" {}`,
	})
	symlink(t, g, "/etc/strata/provider.tf", "live/app/provider.tf")
	symlink(t, g, "../../../elsewhere", "live/app/templates")
	g.Commit("initial")
	r, err := OpenRepo(g.Dir)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := r.Resolve("HEAD")
	a, err := r.Analyze(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	var leaving []string
	for _, w := range a.Warnings {
		if strings.Contains(w, "leaves the repository") {
			leaving = append(leaving, w)
		}
	}
	if len(leaving) != 2 || !strings.Contains(leaving[0], "live/app/provider.tf") || !strings.Contains(leaving[1], "live/app/templates") {
		t.Errorf("warnings = %q, want one per link leaving the repository", a.Warnings)
	}
	// Its module calls are unknown: the stack is planned whenever a local
	// module changes.
	cs := change(t, g, map[string]string{"modules/m/main.tf": `resource "terraform_data" "m2" {}`})
	wantDirs(t, cs, "live/app", "live/other")
}

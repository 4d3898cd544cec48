package stacks

import (
	"context"
	"reflect"
	"strings"
	"testing"
)

// envApp is one root module planned per environment, a tfvars file each.
var envApp = map[string]string{
	"live/app/main.tf":     `variable "env" {}` + "\n" + `resource "terraform_data" "x" { input = var.env }`,
	"live/net/main.tf":     `resource "terraform_data" "net" {}`,
	"live/dns/main.tf":     `resource "terraform_data" "dns" {}`,
	"env/dev.tfvars":       `env = "dev"`,
	"env/prod.tfvars":      `env = "prod"`,
	"live/app/common.tf":   `locals { a = 1 }`,
	"live/app/extra/x.txt": "read with file()",
	"strata.yaml": `stacks:
  - dir: live/app
    workspaces: [dev, prod]
    depends_on: [live/net, live/dns@blue]
    var_files: ["env/{{ .Workspace }}.tfvars"]
    env: {TF_VAR_team: platform}
    extra_args:
      plan: ["-parallelism=3", "-var", "region={{ .Workspace }}-1"]
  - dir: live/net
    workspaces: [dev, prod]
  - dir: live/dns
    workspace: blue
`,
}

func TestInstancesOfAWorkspaceList(t *testing.T) {
	_, r := setup(t, envApp)
	head, _ := r.Resolve("HEAD")
	a, err := r.Analyze(context.Background(), head)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range a.Stacks {
		names = append(names, s.Name())
	}
	// Dependencies first; live/net@dev before live/app@dev, whose live/net
	// dependency is the instance in its own workspace.
	want := []string{"live/dns@blue", "live/net@dev", "live/app@dev", "live/net@prod", "live/app@prod"}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("instances %q, want %q", names, want)
	}
	prod := a.Instance("live/app@prod")
	if prod == nil {
		t.Fatal("no live/app@prod")
	}
	if !reflect.DeepEqual(prod.DependsOn, []string{"live/net@prod", "live/dns@blue"}) {
		t.Errorf("live/app@prod depends on %q, want its own workspace's live/net and live/dns@blue", prod.DependsOn)
	}
	if !reflect.DeepEqual(prod.VarFiles, []string{"env/prod.tfvars"}) || prod.Env["TF_VAR_team"] != "platform" {
		t.Errorf("settings of live/app@prod: var files %q, env %v", prod.VarFiles, prod.Env)
	}
	if !reflect.DeepEqual(prod.ExtraArgs.Plan, []string{"-parallelism=3", "-var=region=prod-1"}) {
		t.Errorf("plan args %q: want them rendered for prod, one flag=value each", prod.ExtraArgs.Plan)
	}
	in := a.Inputs("live/app@prod")
	if in["env/prod.tfvars"] == "" || in["live/app"] == "" || len(in) != 2 {
		t.Errorf("inputs of live/app@prod = %v, want the stack's tree and its var file's blob", in)
	}

	got, err := a.Resolve([]string{"live/app", "./live/net/@prod"})
	if err != nil || !reflect.DeepEqual(got, []string{"live/app@dev", "live/net@prod", "live/app@prod"}) {
		t.Errorf("Resolve = %q, %v; want every instance of live/app and the one of live/net", got, err)
	}
	if _, err := a.Resolve([]string{"live/app@staging"}); err == nil || !strings.Contains(err.Error(), `live/app has no workspace "staging"`) || !strings.Contains(err.Error(), "dev, prod") {
		t.Errorf("unknown workspace: %v", err)
	}
	if _, err := a.Resolve([]string{"live/nope@dev"}); err == nil || !strings.Contains(err.Error(), "live/nope is not a stack") {
		t.Errorf("unknown stack: %v", err)
	}
}

func TestVarFileChangeAffectsItsInstanceOnly(t *testing.T) {
	g, _ := setup(t, envApp)
	cs := change(t, g, map[string]string{"env/prod.tfvars": `env = "production"`})
	if len(cs.Stacks) != 1 || cs.Stacks[0].Name() != "live/app@prod" {
		t.Fatalf("affected %+v, want live/app@prod only", cs.Stacks)
	}
	if r := cs.Stacks[0].Reasons; !reflect.DeepEqual(r, []string{"changed env/prod.tfvars (var file)"}) {
		t.Errorf("reasons = %q", r)
	}
	g.Git("checkout", "-q", "main")
	cs = change(t, g, map[string]string{"live/app/common.tf": `locals { a = 2 }`})
	var names []string
	for _, s := range cs.Stacks {
		names = append(names, s.Name())
	}
	if !reflect.DeepEqual(names, []string{"live/app@dev", "live/app@prod"}) {
		t.Errorf("a change to the module itself affects %q, want both instances", names)
	}
}

func TestVarFileInsideTheStackDirAffectsItsInstanceOnly(t *testing.T) {
	files := map[string]string{
		"app/main.tf":      `variable "env" {}`,
		"app/dev.tfvars":   `env = "dev"`,
		"app/prod.tfvars":  `env = "prod"`,
		"app/auto.tfvars":  `x = 1`,
		"strata.yaml":      "stacks:\n  - dir: app\n    workspaces: [dev, prod]\n    var_files: ['{{ .Dir }}/{{ .Workspace }}.tfvars']\n",
		"other/main.tf":    `resource "terraform_data" "o" {}`,
		"other/README.md":  "x",
		"shared/notes.txt": "x",
	}
	g, _ := setup(t, files)
	cs := change(t, g, map[string]string{"app/dev.tfvars": `env = "development"`, "app/auto.tfvars": `x = 2`})
	got := map[string][]string{}
	for _, s := range cs.Stacks {
		got[s.Name()] = s.Reasons
	}
	want := map[string][]string{
		"app@dev":  {"changed app/auto.tfvars", "changed app/dev.tfvars (var file)"},
		"app@prod": {"changed app/auto.tfvars"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("reasons %q, want %q: a file of the directory that is no instance's var file affects every instance", got, want)
	}
}

func TestAddingAWorkspaceAffectsTheNewInstanceOnly(t *testing.T) {
	g, _ := setup(t, envApp)
	cs := change(t, g, map[string]string{"env/staging.tfvars": `env = "staging"`,
		"strata.yaml": strings.Replace(envApp["strata.yaml"], "workspaces: [dev, prod]\n    depends_on", "workspaces: [dev, staging]\n    depends_on", 1)})
	var names []string
	for _, s := range cs.Stacks {
		names = append(names, s.Name()+": "+strings.Join(s.Reasons, "; "))
	}
	if !reflect.DeepEqual(names, []string{"live/app@staging: changed env/staging.tfvars (var file); strata.yaml entry changed"}) {
		t.Errorf("affected %q, want only the new instance", names)
	}
	if !reflect.DeepEqual(cs.Deleted, []string{"live/app@prod"}) {
		t.Errorf("deleted = %q, want the instance taken off the list", cs.Deleted)
	}
}

// TestDroppingTheWorkspaceListPlansTheDefaultInstance: an entry removed
// from strata.yaml leaves the directory's default instance, affected, and
// its instances deleted.
func TestDroppingTheWorkspaceListPlansTheDefaultInstance(t *testing.T) {
	g, _ := setup(t, envApp)
	cs := change(t, g, map[string]string{"strata.yaml": "stacks:\n  - dir: live/net\n    workspaces: [dev, prod]\n  - dir: live/dns\n    workspace: blue\n"})
	if len(cs.Stacks) != 1 || cs.Stacks[0].Name() != "live/app" || !reflect.DeepEqual(cs.Stacks[0].Reasons, []string{"strata.yaml entry removed"}) {
		t.Errorf("affected %+v, want live/app (default workspace), its entry removed", cs.Stacks)
	}
	if !reflect.DeepEqual(cs.Deleted, []string{"live/app@dev", "live/app@prod"}) {
		t.Errorf("deleted %q, want the two instances of the list", cs.Deleted)
	}
}

func TestInstanceConfigErrors(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"stacks:\n  - dir: a\n    workspaces: [dev, 'pr/od']\n", `strata.yaml:3: stacks[0].workspaces[1]: "pr/od" is not a valid workspace name`},
		{"stacks:\n  - dir: a\n    workspaces:\n      - dev\n      - my env\n", `strata.yaml:5: stacks[0].workspaces[1]: "my env" is not a valid workspace name`},
		{"stacks:\n  - dir: a\n    workspace: a@b\n", `strata.yaml:3: stacks[0].workspace: "a@b" is not a valid workspace name here`},
		{"stacks:\n  - dir: a\n    workspaces: [dev, dev]\n", `stacks[0].workspaces[1]: "dev" is listed twice`},
		{"stacks:\n  - dir: a\n    workspace: x\n    workspaces: [dev]\n", `strata.yaml:4: stacks[0]: set workspace or workspaces, not both`},
		{"stacks:\n  - dir: a\n    workspaces: []\n", `stacks[0].workspaces: list at least one workspace`},
		{"stacks:\n  - dir: a\n    extra_args:\n      plan: [-refresh=false, -chdir=/tmp]\n", `strata.yaml:4: stacks[0].extra_args.plan[1]: -chdir is not allowed (strata allows -var, -var-file, -target, -refresh=false, -parallelism=N, -lock-timeout=D)`},
		{"stacks:\n  - dir: a\n    extra_args:\n      apply: [-target=x.y]\n", `stacks[0].extra_args.apply[0]: -target does not belong under apply: apply runs the reviewed plan file`},
		{"stacks:\n  - dir: a\n    extra_args:\n      init: [-parallelism=2]\n", `stacks[0].extra_args.init[0]: -parallelism does not belong under init`},
		{"stacks:\n  - dir: a\n    extra_args:\n      plan: [-parallelism=lots]\n", `-parallelism wants a whole number of 1 or more, got "lots"`},
		{"stacks:\n  - dir: a\n    extra_args:\n      plan: [-refresh=true]\n", `only -refresh=false is allowed`},
		{"stacks:\n  - dir: a\n    extra_args:\n      plan: [-var]\n", `-var needs a value`},
		{"stacks:\n  - dir: a\n    extra_args:\n      plan: [-var=x]\n", `-var wants NAME=VALUE, got "x"`},
		{"stacks:\n  - dir: a\n    extra_args:\n      destroy: [-var=x]\n", `unknown key "stacks[0].extra_args.destroy"`},
		{"stacks:\n  - dir: a\n    var_files: ['{{ .Workspace }']\n", `strata.yaml:3: stacks[0].var_files[0]: "{{ .Workspace }"`},
		{"stacks:\n  - dir: a\n    var_files: ['{{ .Env }}.tfvars']\n", `stacks[0].var_files[0]: "{{ .Env }}.tfvars": `},
		{"stacks:\n  - dir: a\n    var_files: ['../secrets.tfvars']\n", `stacks[0].var_files[0]: "../secrets.tfvars": want a file path relative to the repository's root`},
		{"stacks:\n  - dir: a\n    env:\n      TF_VAR_x: '1'\n      TF_DATA_DIR: /tmp\n", `strata.yaml:5: stacks[0].env: TF_DATA_DIR is set by strata for every terraform it runs`},
		{"stacks:\n  - dir: a\n    env: {STRATA_GITLAB_TOKEN: x}\n", `stacks[0].env: STRATA_GITLAB_TOKEN is set by strata`},
		{"stacks:\n  - dir: a\n    env: {TF_CLI_ARGS_plan: -chdir=x}\n", `stacks[0].env: TF_CLI_ARGS_plan is set by strata`},
		{"stacks:\n  - dir: a\n    depends_on: [b@'x y']\n", `stacks[0].depends_on[0]: "'x y'" is not a valid workspace name`},
	} {
		_, err := ParseConfig("strata.yaml", []byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q:\n got  %v\n want %s", tc.yaml, err, tc.want)
		}
	}
}

func TestDependencyOnAMissingWorkspace(t *testing.T) {
	files := copyMap(envApp)
	files["strata.yaml"] = strings.Replace(files["strata.yaml"], "live/dns@blue", "live/dns@green", 1)
	_, r := setup(t, files)
	head, _ := r.Resolve("HEAD")
	_, err := r.Analyze(context.Background(), head)
	if err == nil || !strings.Contains(err.Error(), `strata.yaml:2: stacks[0].depends_on: live/dns has no workspace "green" (its workspaces: blue)`) {
		t.Errorf("err = %v", err)
	}
}

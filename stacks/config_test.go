package stacks

import (
	"runtime"
	"strings"
	"testing"
)

func TestParseConfigFull(t *testing.T) {
	cfg, err := ParseConfig("strata.yaml", []byte(`version: 1
terraform:
  binary: tofu
  version: ">= 1.5"
parallel: 4
apply_on: approval
automerge: true
requirements: [approved, fresh]
ignore: ["examples/**"]
backend:
  s3: {bucket: acme-tfstate, region: eu-west-1, use_path_style: true, key: "{{ .Dir }}/terraform.tfstate"}
stacks:
  - dir: ./live/prod/network/
    depends_on: [live/prod/iam]
    watch: ["shared/ip-ranges.json"]
    ignore_changes: ["**/*.md"]
    workspace: blue
    requirements: [approved]
policy:
  paths: [policy/]
  owners: [alice, team:platform]
drift:
  schedule: "0 6 * * *"
`))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Terraform.Binary != "tofu" || cfg.Parallel != 4 || cfg.ApplyOn != "approval" || !cfg.Automerge {
		t.Errorf("scalars: %+v", cfg)
	}
	if s := cfg.Stack("live/prod/network"); s == nil || s.Line != 13 || s.Workspace != "blue" {
		t.Errorf("stack entry not normalised or line lost: %+v", cfg.Stacks)
	}
	if cfg.Backend.S3["use_path_style"] != true || cfg.Backend.S3["bucket"] != "acme-tfstate" {
		t.Errorf("backend pass-through lost types: %#v", cfg.Backend.S3)
	}
	if key := cfg.Backend.S3["key"]; key != "{{ .Dir }}/terraform.tfstate" {
		t.Errorf("the key template is not kept as written: %#v", key)
	}
	if got := cfg.RequirementsFor("live/prod/network"); len(got) != 1 {
		t.Errorf("stack requirements = %q", got)
	}
}

func TestConfigDefaults(t *testing.T) {
	for _, data := range []string{"", "version: 1\n", "stacks:\n"} {
		cfg, err := ParseConfig("strata.yaml", []byte(data))
		if err != nil {
			t.Fatalf("%q: %v", data, err)
		}
		if cfg.Terraform.Binary != "terraform" || cfg.ApplyOn != "merge" || cfg.Parallel != runtime.NumCPU() ||
			len(cfg.Requirements) != 3 || cfg.WorkspaceFor("x") != "default" || cfg.IgnoreChangesFor("x")[0] != "**/*.md" {
			t.Errorf("%q: defaults not applied: %+v", data, cfg)
		}
	}
}

func TestConfigErrorsNameLineAndKey(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"version: 1\nfoo: 1\n", `strata.yaml:2: unknown key "foo"`},
		{"terraform:\n  bianry: x\n", `strata.yaml:2: unknown key "terraform.bianry" in terraform (known keys: binary, version)`},
		{"parallel: four\n", `strata.yaml:1: parallel: want a whole number, got the string "four"`},
		{"automerge: yes please\n", `strata.yaml:1: automerge: want true or false`},
		{"stacks:\n  - dir: a\n    depends_on: b\n", `strata.yaml:3: stacks[0].depends_on: want a list, got the string "b"`},
		{"stacks:\n  - dir: a\n  - dir: ./a\n", `strata.yaml:3: stacks[1].dir: "a" is already listed at line 2`},
		{"stacks:\n  - dir: ../a\n", `stacks[0].dir: "../a" must be a directory inside the repository`},
		{"apply_on: friday\n", `strata.yaml:1: apply_on: "friday" is not one of merge, approval, comment`},
		{"requirements: [approved, luck]\n", `strata.yaml:1: requirements: "luck" is not one of`},
		{"ignore: ['[']\n", `strata.yaml:1: ignore: "[" is not a valid glob`},
		{"drift:\n  schedule: every day\n", `strata.yaml:2: drift.schedule: "every day" is not a cron expression`},
		{"terraform:\n  version: banana\n", `strata.yaml:2: terraform.version: "banana" is not a version constraint`},
		{"version: 2\n", `strata.yaml:1: version: 2 is not supported`},
		{"version: 1\nversion: 1\n", `strata.yaml:2: key "version" appears twice`},
		{"- a\n", `strata.yaml:1: want a mapping of keys to values, got a list`},
		{"stacks: [\n", `strata.yaml: `},
		{"backend:\n  s3: {key: '{{ .Dir'}\n", `strata.yaml:2: backend.s3.key:`},
	} {
		_, err := ParseConfig("strata.yaml", []byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error = %v\nwant it to contain %q", tc.yaml, err, tc.want)
		}
	}
}

func FuzzParseConfig(f *testing.F) {
	f.Add([]byte("version: 1\nstacks:\n  - dir: a\n    depends_on: [b]\n"))
	f.Add([]byte("backend:\n  s3: {bucket: b, key: '{{ .Dir }}'}\n"))
	f.Add([]byte("terraform: {binary: tofu, version: '>= 1.5'}\nparallel: 2\n"))
	f.Add([]byte("a: &x [1]\nb: *x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := ParseConfig("strata.yaml", data)
		if err == nil && cfg == nil {
			t.Fatal("nil config without error")
		}
		if err != nil && !strings.HasPrefix(err.Error(), "strata.yaml") {
			t.Fatalf("error does not name the file: %v", err)
		}
	})
}

func FuzzParseModuleCalls(f *testing.F) {
	f.Add("main.tf", []byte(`module "a" { source = "./a" }`))
	f.Add("main.tf", []byte(`module "a" { source = "../x/${var.y}" }`))
	f.Add("main.tf.json", []byte(`{"module": {"a": {"source": "../a"}}}`))
	f.Add("main.tf.json", []byte(`{"module": [{"a": {"source": "../a"}}]}`))
	f.Add("main.tf", []byte("module \"a\" {\n  source = \"./a\"\n"))
	f.Fuzz(func(t *testing.T, name string, src []byte) {
		fc := parseModuleCalls(name, src)
		if fc.Err != "" && fc.ErrLine < 1 {
			t.Fatalf("parse error without a line: %+v", fc)
		}
		for _, s := range fc.Sources {
			if !isLocalSource(s) {
				t.Fatalf("non-local source kept: %q", s)
			}
		}
	})
}

func TestParseModuleCalls(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      []string
		err       bool
	}{
		{"main.tf", `module "a" { source = "./a" }` + "\n" + `module "r" { source = "terraform-aws-modules/vpc/aws" }`, []string{"./a"}, false},
		{"main.tf.json", `{"module": {"a": {"source": "../a"}, "b": {"source": "git::https://x"}}}`, []string{"../a"}, false},
		{"main.tf", `resource "x" "y" {}`, nil, false},
		{"main.tf", "module \"a\" {\n  source = \"./a\"\n", []string{"./a"}, true},
		{"main.tf", "# module \"a\" { source = \"./a\" }\nmodule \"b\" {\n  x = {source = \"./c\"}\n  source = \"../b\"\n  count = \n}\n", []string{"../b"}, true},
		{"main.tf.json", `{"module": {"a": {"source": "../a",}}}`, []string{"../a"}, true},
		{"main.tf", `module "a" { source = var.x }`, nil, false},
	} {
		fc := parseModuleCalls(tc.name, []byte(tc.src))
		if strings.Join(fc.Sources, ",") != strings.Join(tc.want, ",") || (fc.Err != "") != tc.err {
			t.Errorf("%s %q: got %+v, want sources %q err=%v", tc.name, tc.src, fc, tc.want, tc.err)
		}
	}
}

func TestResolveSourceCleansLikePathJoin(t *testing.T) {
	for _, tc := range []struct{ dir, src, want string }{
		{"live/prod/app", "../../../modules/vpc", "modules/vpc"},
		{"live/app", "./mod", "live/app/mod"},
		{"live/app", ".", "live/app"},
		{"live/app", "../..", "."},
		{".", "./m", "m"},
		{".", "../m", ""},
		{"live/app", "../../..", ""},
		{"live/app", "./a//b/./c/../d/", "live/app/a/b/d"},
		{"live/app", `..\shared`, "live/shared"},
		{"a", "./../b", "b"},
	} {
		got, ok := resolveSource(tc.dir, tc.src)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("resolveSource(%q, %q) = %q, %v; want %q", tc.dir, tc.src, got, ok, tc.want)
		}
	}
}

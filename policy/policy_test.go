package policy_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/strata-iac/strata/policy"
	"github.com/strata-iac/strata/policy/policytest"
)

// applied and changed make a plan that deletes the protected
// terraform_data.db, updates terraform_data.web and creates
// module.cache.terraform_data.node.
var (
	applied = policytest.Files{
		"main.tf": `
resource "terraform_data" "db" {
  input = { tags = { protected = "true", owner = "dba" } }
}
resource "terraform_data" "web" {
  input = { tags = { owner = "web" }, size = 1 }
}
`,
	}
	changed = policytest.Files{
		"main.tf": `
resource "terraform_data" "web" {
  input = { tags = { owner = "web" }, size = 2 }
}
module "cache" {
  source = "./modules/cache"
}
`,
		"modules/cache/main.tf": `
resource "terraform_data" "node" {
  input = { tags = { team = "cache" } }
}
`,
	}
)

// plan returns the plan JSON of applied → changed, made once per test run.
func plan(t *testing.T) []byte {
	t.Helper()
	policytest.Terraform(t)
	planOnce.Do(func() { planJSON = policytest.PlanAfter(t, applied, changed) })
	if planJSON == nil {
		t.Fatal("making the plan failed in an earlier test")
	}
	return planJSON
}

var (
	planOnce sync.Once
	planJSON []byte
)

// writePolicies writes files into a new directory and returns it.
func writePolicies(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func load(t *testing.T, files map[string]string, opts policy.Options) *policy.Engine {
	t.Helper()
	dir := writePolicies(t, files)
	opts.Paths = []string{dir}
	opts.BaseDir = dir
	e, err := policy.Load(context.Background(), opts)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return e
}

const deleteRule = `package main

deny contains msg if {
	some rc in input.resource_changes
	"delete" in rc.change.actions
	msg := sprintf("%s would be destroyed", [rc.address])
}
`

func TestEvaluate(t *testing.T) {
	tests := []struct {
		name     string
		files    map[string]string
		opts     policy.Options
		outcome  policy.Outcome
		failures []policy.Message
		warnings []policy.Message
	}{
		{
			name: "pass",
			files: map[string]string{"p.rego": `package main

deny contains msg if {
	some rc in input.resource_changes
	rc.type == "aws_s3_bucket"
	msg := "no buckets"
}
`},
			outcome: policy.Pass,
		},
		{
			name: "warn only",
			files: map[string]string{"p.rego": `package main

warn contains msg if {
	some rc in input.resource_changes
	"update" in rc.change.actions
	msg := sprintf("%s changes in place", [rc.address])
}
`},
			outcome:  policy.Warn,
			warnings: []policy.Message{{Namespace: "main", Rule: "warn", File: "p.rego", Line: 3, Msg: "terraform_data.web changes in place"}},
		},
		{
			name:     "deny with a string message",
			files:    map[string]string{"dir/deny.rego": deleteRule},
			outcome:  policy.Fail,
			failures: []policy.Message{{Namespace: "main", Rule: "deny", File: "dir/deny.rego", Line: 3, Msg: "terraform_data.db would be destroyed"}},
		},
		{
			name: "violation with an object message keeps its other fields",
			files: map[string]string{"v.rego": `package main

violation_new contains {"msg": msg, "details": {"address": rc.address}} if {
	some rc in input.resource_changes
	rc.change.actions == ["create"]
	msg := "new resource"
}
`},
			outcome: policy.Fail,
			failures: []policy.Message{{Namespace: "main", Rule: "violation_new", File: "v.rego", Line: 3, Msg: "new resource",
				Metadata: map[string]any{"details": map[string]any{"address": "module.cache.terraform_data.node"}}}},
		},
		{
			name: "rego v0 syntax, suffixed rules, warnings beside failures",
			files: map[string]string{"v0.rego": `package main

deny_update[msg] {
	rc := input.resource_changes[_]
	rc.change.actions[_] == "update"
	msg := sprintf("%s: no updates on Fridays", [rc.address])
}

warn_module_resource[{"msg": "module resource"}] {
	input.resource_changes[_].module_address == "module.cache"
}
`},
			outcome:  policy.Fail,
			failures: []policy.Message{{Namespace: "main", Rule: "deny_update", File: "v0.rego", Line: 3, Msg: "terraform_data.web: no updates on Fridays"}},
			warnings: []policy.Message{{Namespace: "main", Rule: "warn_module_resource", File: "v0.rego", Line: 9, Msg: "module resource"}},
		},
		{
			name: "several files define deny; each message names its own",
			files: map[string]string{
				"a.rego": deleteRule,
				"b.rego": `package main

deny contains "module resources are frozen" if {
	some rc in input.resource_changes
	rc.module_address == "module.cache"
}

warn contains sprintf("%d denials", [count(deny)]) if count(deny) > 0
`,
			},
			outcome: policy.Fail,
			failures: []policy.Message{
				{Namespace: "main", Rule: "deny", File: "a.rego", Line: 3, Msg: "terraform_data.db would be destroyed"},
				{Namespace: "main", Rule: "deny", File: "b.rego", Line: 3, Msg: "module resources are frozen"},
			},
			warnings: []policy.Message{{Namespace: "main", Rule: "warn", File: "b.rego", Line: 8, Msg: "2 denials"}},
		},
		{
			name: "METADATA annotations read by the rule",
			files: map[string]string{"meta.rego": `# METADATA
# title: Main
package main

# METADATA
# title: No deletes
# custom:
#   severity: high
deny_delete contains {"msg": msg, "severity": rego.metadata.rule().custom.severity} if {
	some rc in input.resource_changes
	"delete" in rc.change.actions
	msg := sprintf("%s: %s (%d annotations)", [rego.metadata.rule().title, rc.address, count(rego.metadata.chain())])
}
`},
			outcome: policy.Fail,
			failures: []policy.Message{{Namespace: "main", Rule: "deny_delete", File: "meta.rego", Line: 9,
				Msg: "No deletes: terraform_data.db (2 annotations)", Metadata: map[string]any{"severity": "high"}}},
		},
		{
			name: "deny if: a boolean rule fires with its name",
			files: map[string]string{"b.rego": `package main

deny_big_plan if count(input.resource_changes) > 2
`},
			outcome:  policy.Fail,
			failures: []policy.Message{{Namespace: "main", Rule: "deny_big_plan", File: "b.rego", Line: 3, Msg: "deny_big_plan is true"}},
		},
		{
			name: "another namespace; main is not read",
			files: map[string]string{
				"main.rego": deleteRule,
				"guard.rego": `package terraform.guard

warn contains "checked" if input.format_version
`,
			},
			opts:     policy.Options{Namespaces: []string{"terraform.guard"}},
			outcome:  policy.Warn,
			warnings: []policy.Message{{Namespace: "terraform.guard", Rule: "warn", File: "guard.rego", Line: 3, Msg: "checked"}},
		},
		{
			name: "helpers in other packages, tests and hidden directories ignored",
			files: map[string]string{
				"lib/lib.rego": `package lib

destroyed contains rc.address if {
	some rc in input.resource_changes
	"delete" in rc.change.actions
}
`,
				"main.rego": `package main

import data.lib

deny contains sprintf("destroys %s", [a]) if some a in lib.destroyed
`,
				"main_test.rego":    "package main\n\nthis is not rego\n",
				".git/hooks/x.rego": "not rego either\n",
			},
			outcome:  policy.Fail,
			failures: []policy.Message{{Namespace: "main", Rule: "deny", File: "main.rego", Line: 5, Msg: "destroys terraform_data.db"}},
		},
	}
	planJSON := plan(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := load(t, tt.files, tt.opts)
			res, err := e.Evaluate(context.Background(), planJSON)
			if err != nil {
				t.Fatalf("Evaluate: %v", err)
			}
			if res.Outcome != tt.outcome {
				t.Errorf("outcome = %s, want %s", res.Outcome, tt.outcome)
			}
			if res.Rules == 0 {
				t.Error("the result counts no rule evaluated")
			}
			want := policy.Result{Outcome: tt.outcome, Failures: orEmpty(tt.failures), Warnings: orEmpty(tt.warnings), Rules: res.Rules}
			if !reflect.DeepEqual(res, want) {
				t.Errorf("result:\n got %s\nwant %s", mustJSON(t, res), mustJSON(t, want))
			}
		})
	}
}

func orEmpty(m []policy.Message) []policy.Message {
	if m == nil {
		return []policy.Message{}
	}
	return m
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestResultJSONIsStable(t *testing.T) {
	e := load(t, map[string]string{"p.rego": "package main\n\nwarn contains \"x\" if false\n"}, policy.Options{})
	res, err := e.Evaluate(context.Background(), plan(t))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := mustJSON(t, res), `{"outcome":"pass","failures":[],"warnings":[],"rules":1}`; got != want {
		t.Errorf("JSON = %s, want %s", got, want)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		opts  policy.Options
		want  []string
		is    error
	}{
		{
			name:  "syntax error names file and line",
			files: map[string]string{"ok.rego": deleteRule, "sub/bad.rego": "package main\n\ndeny contains msg if {\n\tmsg := \n}\n"},
			want:  []string{"sub/bad.rego:5", "rego_parse_error"},
		},
		{
			name:  "v0 syntax error names the v0 line",
			files: map[string]string{"bad.rego": "package main\n\ndeny[msg] {\n\tinput.x\n\tmsg := \"a\"\n}\n\nwarn[msg] {\n\tmsg := (\n}\n"},
			want:  []string{"bad.rego:10", "rego_parse_error"},
		},
		{
			name:  "compile error names file and line",
			files: map[string]string{"unsafe.rego": "package main\n\ndeny contains msg if {\n\tinput.x == 1\n}\n"},
			want:  []string{"unsafe.rego:3", "var msg is unsafe"},
		},
		{
			name:  "type error",
			files: map[string]string{"t.rego": "package main\n\ndeny contains msg if {\n\tmsg := concat(\",\", 1)\n}\n"},
			want:  []string{"t.rego:4", "rego_type_error"},
		},
		{
			name:  "network access refused",
			files: map[string]string{"net.rego": "package main\n\ndeny contains r.body if {\n\tr := http.send({\"method\": \"get\", \"url\": \"http://169.254.169.254/\"})\n}\n"},
			want:  []string{"net.rego:4", "http.send"},
		},
		{
			name:  "deny as an object (v0 habit in v1 syntax)",
			files: map[string]string{"obj.rego": "package main\n\ndeny[msg] if {\n\tmsg := \"x\"\n}\n"},
			want:  []string{"obj.rego:3", "must be sets of messages"},
		},
		{
			name:  "empty directory",
			files: map[string]string{"README.md": "no policies here"},
			want:  []string{"no .rego files"},
			is:    policy.ErrNoPolicies,
		},
		{
			name:  "only tests",
			files: map[string]string{"p_test.rego": "package main\n\ntest_x if true\n"},
			want:  []string{"no .rego files"},
			is:    policy.ErrNoPolicies,
		},
		{
			name:  "no rule in the namespace",
			files: map[string]string{"p.rego": "package terraform\n\ndeny contains \"x\" if true\n"},
			want:  []string{`namespace "main"`, "packages found: terraform"},
			is:    policy.ErrNoPolicies,
		},
		{
			name:  "one of two namespaces empty",
			files: map[string]string{"p.rego": deleteRule},
			opts:  policy.Options{Namespaces: []string{"main", "extra"}},
			want:  []string{`namespace "extra"`},
			is:    policy.ErrNoPolicies,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writePolicies(t, tt.files)
			tt.opts.Paths, tt.opts.BaseDir = []string{dir}, dir
			_, err := policy.Load(context.Background(), tt.opts)
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
		})
	}
}

func TestLoadPaths(t *testing.T) {
	dir := writePolicies(t, map[string]string{"a.rego": deleteRule, "notes.txt": "x"})
	if _, err := policy.Load(context.Background(), policy.Options{Paths: []string{filepath.Join(dir, "missing")}}); err == nil {
		t.Error("a missing path loaded")
	}
	if _, err := policy.Load(context.Background(), policy.Options{Paths: []string{filepath.Join(dir, "notes.txt")}}); err == nil {
		t.Error("a non-Rego file loaded")
	}
	// The same file reached twice is loaded once; without BaseDir messages
	// name files as given.
	file := filepath.Join(dir, "a.rego")
	e, err := policy.Load(context.Background(), policy.Options{Paths: []string{dir, file}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Evaluate(context.Background(), plan(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Failures) != 1 || res.Failures[0].Location() != filepath.ToSlash(file)+":3" {
		t.Errorf("failures = %+v, want one from %s:3", res.Failures, file)
	}
}

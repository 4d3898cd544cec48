package policy_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/tester"
	"github.com/open-policy-agent/opa/v1/util/channel"

	"github.com/strata-iac/strata/policy"
	"github.com/strata-iac/strata/policy/policytest"
)

// TestRegoUnitTests runs the *_test.rego files, as `opa test .` would.
func TestRegoUnitTests(t *testing.T) {
	modules, store, err := tester.Load([]string{"."}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := tester.NewRunner().SetStore(store).SetModules(modules).RunTests(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	results := channel.Collect(ch)
	if len(results) == 0 {
		t.Fatal("no Rego tests found")
	}
	for _, r := range results {
		name := r.Package + "." + r.Name
		switch {
		case r.Error != nil:
			t.Errorf("%s (%s): error: %v", name, r.Location, r.Error)
		case r.Fail:
			t.Errorf("%s (%s): failed", name, r.Location)
		case r.Skip:
			t.Errorf("%s: skipped", name)
		}
	}
	t.Logf("%d Rego tests", len(results))
}

// TestEveryRuleFileHasTests keeps the examples honest: each policy file
// comes with its own unit tests.
func TestEveryRuleFileHasTests(t *testing.T) {
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".rego") || strings.HasSuffix(path, "_test.rego") {
			return err
		}
		if _, err := os.Stat(strings.TrimSuffix(path, ".rego") + "_test.rego"); err != nil {
			t.Errorf("%s has no unit tests: %v", path, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

const compliantRoot = `
resource "terraform_data" "ids" {
  input = "seed"
}
resource "terraform_data" "app" {
  input = { tags = { owner = "alice", environment = terraform_data.ids.id } }
}
module "net" {
  source = "./modules/net"
}
`

var compliant = policytest.Files{
	"main.tf": compliantRoot,
	"modules/net/main.tf": `
resource "terraform_data" "vpc" {
  input = { tags = { owner = "net", environment = "dev" } }
}
module "subnet" {
  source = "../subnet"
}
`,
	"modules/subnet/main.tf": `
resource "terraform_data" "subnet" {
  input = { tags = { owner = "net", environment = "dev" }, cidr = "10.0.0.0/24" }
}
`,
}

// TestExamplesOnTerraformPlans evaluates the example policies against plans
// made by the real terraform binary.
func TestExamplesOnTerraformPlans(t *testing.T) {
	withConfig := func(config string) []string {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "config.rego"), []byte("package strata.config\n\n"+config), 0o644); err != nil {
			t.Fatal(err)
		}
		return []string{".", dir}
	}
	protectedBefore := policytest.Files{"main.tf": `
resource "terraform_data" "db" {
  input            = { tags = { protected = "true", owner = "dba", environment = "prod" } }
  triggers_replace = 1
}
resource "terraform_data" "cache" {
  input = { tags = { protected = "yes", owner = "web", environment = "prod" } }
}
resource "terraform_data" "web" {
  input = { tags = { owner = "web", environment = "prod" } }
}
`}
	protectedAfter := policytest.Files{"main.tf": `
resource "terraform_data" "db" {
  input            = { tags = { protected = "true", owner = "dba", environment = "prod" } }
  triggers_replace = 2
}
resource "terraform_data" "web" {
  input = { tags = { owner = "web", environment = "prod" } }
}
`}
	many := policytest.Files{"main.tf": `
resource "terraform_data" "node" {
  count = 12
  input = { tags = { owner = "ops", environment = "dev" } }
}
`}

	tests := []struct {
		name     string
		plan     func(t *testing.T) []byte
		paths    []string
		outcome  policy.Outcome
		failures []string
		warnings []string
	}{
		{
			name:    "compliant plan passes",
			plan:    func(t *testing.T) []byte { return policytest.Plan(t, compliant) },
			outcome: policy.Pass,
		},
		{
			name:    "protected resources destroyed or replaced",
			plan:    func(t *testing.T) []byte { return policytest.PlanAfter(t, protectedBefore, protectedAfter) },
			outcome: policy.Fail,
			failures: []string{
				"deny_protected: terraform_data.cache is tagged protected and would be destroyed",
				"deny_protected: terraform_data.db is tagged protected and would be replaced",
			},
			warnings: []string{"warn_replace: terraform_data.db will be replaced: its current object is destroyed"},
		},
		{
			name:     "too many destroys",
			plan:     func(t *testing.T) []byte { return policytest.PlanAfter(t, many, policytest.Files{"main.tf": "\n"}) },
			outcome:  policy.Fail,
			failures: []string{"deny_too_many_destroys: plan destroys 12 resources, more than the limit of 10: terraform_data.node[0], terraform_data.node[10], terraform_data.node[11], terraform_data.node[1], terraform_data.node[2], terraform_data.node[3], terraform_data.node[4], terraform_data.node[5], terraform_data.node[6], terraform_data.node[7] and 2 more"},
		},
		{
			name:    "destroy limit raised by a config document",
			plan:    func(t *testing.T) []byte { return policytest.PlanAfter(t, many, policytest.Files{"main.tf": "\n"}) },
			paths:   withConfig("max_destroys := 12\n"),
			outcome: policy.Pass,
		},
		{
			name: "missing tags and unknown tags",
			plan: func(t *testing.T) []byte {
				return policytest.Plan(t, policytest.Files{"main.tf": `
resource "terraform_data" "seed" {
  input = "x"
}
resource "terraform_data" "bucket" {
  input = { tags = { owner = "data" } }
}
resource "terraform_data" "computed" {
  input = terraform_data.seed.output
}
`})
			},
			outcome:  policy.Fail,
			failures: []string{"deny_missing_tags: terraform_data.bucket is missing required tags: environment"},
			warnings: []string{"warn_tags_unknown: terraform_data.computed: tags are only known after apply, required tags not checked"},
		},
		{
			name: "providers and nested module sources outside the allowlists",
			plan: func(t *testing.T) []byte { return policytest.Plan(t, compliant) },
			paths: withConfig(`allowed_providers := ["registry.terraform.io/hashicorp/*"]

allowed_module_sources := ["./modules/net"]
`),
			outcome: policy.Fail,
			failures: []string{
				"deny_provider_not_allowed: provider terraform.io/builtin/terraform is not allowed (allowed: registry.terraform.io/hashicorp/*)",
				`deny_module_source_not_allowed: module.net.module.subnet: module source "../subnet" is not allowed (allowed: ./modules/net)`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			paths := tt.paths
			if paths == nil {
				paths = []string{"."}
			}
			e, err := policy.Load(context.Background(), policy.Options{Paths: paths})
			if err != nil {
				t.Fatal(err)
			}
			res, err := e.Evaluate(context.Background(), tt.plan(t))
			if err != nil {
				t.Fatal(err)
			}
			if res.Outcome != tt.outcome {
				t.Errorf("outcome = %s, want %s", res.Outcome, tt.outcome)
			}
			if got := ruleMessages(res.Failures); !slices.Equal(got, slices.Sorted(slices.Values(tt.failures))) {
				t.Errorf("failures:\n got %q\nwant %q", got, tt.failures)
			}
			if got := ruleMessages(res.Warnings); !slices.Equal(got, slices.Sorted(slices.Values(tt.warnings))) {
				t.Errorf("warnings:\n got %q\nwant %q", got, tt.warnings)
			}
		})
	}
}

// ruleMessages renders messages as "rule: msg", sorted.
func ruleMessages(msgs []policy.Message) []string {
	var out []string
	for _, m := range msgs {
		if m.Namespace != "main" || !strings.HasSuffix(m.File, ".rego") || m.Line == 0 {
			out = append(out, "bad origin: "+m.String())
		}
		out = append(out, m.Rule+": "+m.Msg)
	}
	slices.Sort(out)
	return out
}

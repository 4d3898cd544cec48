//go:build unix

package policy_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/strata-iac/strata/policy"
	"github.com/strata-iac/strata/policy/policytest"
)

// BenchmarkEvaluate evaluates 50 policies against the plans of 200 stacks,
// sequentially and with one worker per CPU, as `make bench` runs it
// (-benchtime 1x). The plans are templated from a plan the real terraform
// made: every action, AWS-like attributes, 10 to 150 resources each. Besides
// wall time it reports the CPU time of the process, which other load on the
// machine does not inflate.
func BenchmarkEvaluate(b *testing.B) {
	const stacks, policies = 200, 50
	plans := benchPlans(b, stacks)
	size := 0
	for _, p := range plans {
		size += len(p)
	}
	dir := benchPolicies(b, policies)

	start := time.Now()
	e, err := policy.Load(context.Background(), policy.Options{Paths: []string{dir}})
	if err != nil {
		b.Fatal(err)
	}
	load := time.Since(start)
	if res, _ := e.Evaluate(context.Background(), plans[0]); res.Rules < policies {
		b.Fatalf("%d rules evaluated, want at least %d", res.Rules, policies)
	}

	for _, workers := range []int{1, runtime.GOMAXPROCS(0)} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			var failed int
			cpu := cpuTime(b)
			for b.Loop() {
				failed = evaluateAll(b, e, plans, workers)
			}
			cpu = cpuTime(b) - cpu
			perRun := b.Elapsed().Seconds() / float64(b.N)
			b.ReportMetric(perRun, "s/200stacks")
			b.ReportMetric(perRun/stacks*1e3, "ms/stack")
			b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/200stacks")
			b.ReportMetric(float64(size)/1e6, "MB-plan-JSON")
			b.ReportMetric(float64(failed), "failed-stacks")
			b.ReportMetric(load.Seconds()*1e3, "ms-load")
		})
	}
}

// cpuTime is the CPU time the process used so far: on a shared machine it
// says more than wall time.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func evaluateAll(b *testing.B, e *policy.Engine, plans [][]byte, workers int) int {
	var g errgroup.Group
	g.SetLimit(workers)
	results := make([]policy.Result, len(plans))
	for i, p := range plans {
		g.Go(func() error {
			var err error
			results[i], err = e.Evaluate(context.Background(), p)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		b.Fatal(err)
	}
	failed := 0
	for _, r := range results {
		if r.Outcome == policy.Fail {
			failed++
		}
	}
	return failed
}

// benchPlans makes n plan JSONs from one real plan, varying the resources.
func benchPlans(b *testing.B, n int) [][]byte {
	real := policytest.PlanAfter(b,
		policytest.Files{"main.tf": `
resource "terraform_data" "gone" {
  input = { tags = { owner = "a" } }
}
resource "terraform_data" "changed" {
  input = { tags = { owner = "a" }, size = 1 }
}
resource "terraform_data" "replaced" {
  input            = { tags = { owner = "a" } }
  triggers_replace = 1
}
resource "terraform_data" "same" {
  input = { tags = { owner = "a" } }
}
`},
		policytest.Files{"main.tf": `
resource "terraform_data" "changed" {
  input = { tags = { owner = "a" }, size = 2 }
}
resource "terraform_data" "replaced" {
  input            = { tags = { owner = "a" } }
  triggers_replace = 2
}
resource "terraform_data" "same" {
  input = { tags = { owner = "a" } }
}
resource "terraform_data" "new" {
  input = { tags = { owner = "a", environment = "dev" } }
}
module "net" {
  source = "./modules/net"
}
`, "modules/net/main.tf": `
resource "terraform_data" "vpc" {
  input = { tags = { owner = "net" } }
}
`})
	var base map[string]any
	if err := json.Unmarshal(real, &base); err != nil {
		b.Fatal(err)
	}
	templates := base["resource_changes"].([]any)

	types := []struct{ typ, provider string }{
		{"aws_s3_bucket", "registry.terraform.io/hashicorp/aws"},
		{"aws_instance", "registry.terraform.io/hashicorp/aws"},
		{"aws_iam_role", "registry.terraform.io/hashicorp/aws"},
		{"aws_security_group", "registry.terraform.io/hashicorp/aws"},
		{"aws_db_instance", "registry.terraform.io/hashicorp/aws"},
		{"aws_lambda_function", "registry.terraform.io/hashicorp/aws"},
		{"google_storage_bucket", "registry.terraform.io/hashicorp/google"},
		{"datadog_monitor", "registry.terraform.io/datadog/datadog"},
		{"terraform_data", "terraform.io/builtin/terraform"},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	plans := make([][]byte, n)
	for i := range plans {
		plan := maps.Clone(base)
		var changes, planned []any
		for j := range 10 + rng.IntN(141) {
			t := types[rng.IntN(len(types))]
			rc := deepCopy(b, templates[rng.IntN(len(templates))]).(map[string]any)
			name := fmt.Sprintf("r%d", j)
			rc["address"], rc["type"], rc["name"], rc["provider_name"] = t.typ+"."+name, t.typ, name, t.provider
			delete(rc, "module_address")
			change := rc["change"].(map[string]any)
			for _, side := range []string{"before", "after"} {
				if v, ok := change[side].(map[string]any); ok {
					change[side] = awsLike(rng, t.typ, name, v)
				}
			}
			changes = append(changes, rc)
			if after, ok := change["after"].(map[string]any); ok {
				planned = append(planned, map[string]any{
					"address": rc["address"], "mode": "managed", "type": t.typ, "name": name,
					"provider_name": t.provider, "schema_version": 0, "values": after, "sensitive_values": map[string]any{},
				})
			}
		}
		plan["resource_changes"] = changes
		plan["planned_values"] = map[string]any{"root_module": map[string]any{"resources": planned}}
		out, err := json.Marshal(plan)
		if err != nil {
			b.Fatal(err)
		}
		plans[i] = out
	}
	return plans
}

// awsLike gives values the attributes and tags of a typical AWS resource.
func awsLike(rng *rand.Rand, typ, name string, v map[string]any) map[string]any {
	tags := map[string]any{"Name": name}
	for _, t := range []string{"owner", "environment", "team", "protected"} {
		if rng.IntN(4) > 0 {
			tags[t] = fmt.Sprintf("%s-%d", t, rng.IntN(5))
		}
	}
	out := maps.Clone(v)
	out["tags"], out["tags_all"] = tags, maps.Clone(tags)
	out["arn"] = fmt.Sprintf("arn:aws:%s:eu-west-1:123456789012:%s/%s", typ, typ, name)
	for k := range 20 {
		out[fmt.Sprintf("attribute_%02d", k)] = strings.Repeat("x", rng.IntN(40))
	}
	out["nested"] = []any{map[string]any{"enabled": true, "rules": []any{"a", "b", "c"}}}
	return out
}

func deepCopy(b *testing.B, v any) any {
	bs, err := json.Marshal(v)
	if err != nil {
		b.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(bs, &out); err != nil {
		b.Fatal(err)
	}
	return out
}

// benchRules are rule templates; %[1]d is the policy's number.
var benchRules = []string{
	`deny_protected_%[1]d contains msg if {
	some rc in input.resource_changes
	"delete" in rc.change.actions
	object.get(rc.change.before, ["tags_all", "protected"], "false") == "protected-%[1]d"
	msg := sprintf("%%s is protected", [rc.address])
}`,
	`deny_destroys_%[1]d contains msg if {
	n := count([rc | some rc in input.resource_changes; "delete" in rc.change.actions])
	n > 40 + %[1]d
	msg := sprintf("%%d destroys", [n])
}`,
	`deny_tags_%[1]d contains msg if {
	some rc in input.resource_changes
	some action in rc.change.actions
	action in {"create", "update"}
	is_object(rc.change.after.tags)
	missing := {"owner", "environment"} - {k | some k, _ in rc.change.after.tags_all}
	count(missing) > 1
	msg := sprintf("%%s misses %%v", [rc.address, missing])
}`,
	`deny_provider_%[1]d contains msg if {
	some rc in input.resource_changes
	not glob.match("registry.terraform.io/hashicorp/*", ["/"], rc.provider_name)
	not rc.provider_name == "terraform.io/builtin/terraform"
	not rc.type == "datadog_monitor"
	msg := sprintf("%%s: provider %%s", [rc.address, rc.provider_name])
}`,
	`deny_modules_%[1]d contains msg if {
	walk(input.configuration.root_module, [path, call])
	count(path) >= 2
	path[count(path) - 2] == "module_calls"
	not startswith(call.source, ".")
	msg := sprintf("module source %%s", [call.source])
}`,
	`warn_replace_%[1]d contains msg if {
	some rc in input.resource_changes
	"delete" in rc.change.actions
	"create" in rc.change.actions
	endswith(rc.name, "%[1]d")
	msg := sprintf("%%s is replaced", [rc.address])
}`,
	`violation_type_%[1]d contains {"msg": msg, "address": rc.address} if {
	some rc in input.resource_changes
	rc.type == "aws_db_instance"
	rc.change.after.attribute_%02[1]d == "x"
	msg := sprintf("%%s attribute %[1]d", [rc.address])
}`,
	`warn_names_%[1]d contains msg if {
	some rc in input.resource_changes
	regex.match("^r%[1]d$", rc.name)
	msg := sprintf("%%s is named r%[1]d", [rc.address])
}`,
	`deny_public_%[1]d contains msg if {
	some rc in input.planned_values.root_module.resources
	rc.values.attribute_%02[1]d == "public-read"
	msg := sprintf("%%s is public", [rc.address])
}`,
	`warn_size_%[1]d contains msg if {
	count(input.resource_changes) > 140 + %[1]d
	msg := "large plan"
}`,
}

// benchPolicies writes n policy files, one rule each, cycling through the
// templates, and returns their directory.
func benchPolicies(b *testing.B, n int) string {
	dir := b.TempDir()
	for i := range n {
		src := fmt.Sprintf("package main\n\n"+benchRules[i%len(benchRules)]+"\n", i%20)
		src = strings.ReplaceAll(src, fmt.Sprintf("_%d contains", i%20), fmt.Sprintf("_%d contains", i))
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("p%02d.rego", i)), []byte(src), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return dir
}

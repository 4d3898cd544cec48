package comment

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strata-iac/strata/planner"
)

// Fixtures for the comment tests. The plans under testdata/comment/plans
// are verbatim `terraform show -no-color` output of Terraform 1.11.4 (built-in
// terraform_data resources); larger plans are generated here in exactly
// that format.

const (
	fixtureCommit = "3f2a1c9e7b4d8a6f0e1c2b3a4d5e6f708192a3b4"
	fixtureBase   = "9b1d2e7f00c4a5b6d7e8f90a1b2c3d4e5f607182"
	tfVersion     = "1.11.4"
)

var fixtureTime = time.Date(2025, 6, 2, 9, 41, 7, 0, time.UTC)

// capturedPlan reads a plan captured from real Terraform.
func capturedPlan(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "plans", name+".txt"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func summary(op planner.Operation, stacks ...planner.Result) planner.Summary {
	return planner.Summary{Operation: op, Base: fixtureBase, Commit: fixtureCommit, CreatedAt: fixtureTime, Stacks: stacks}
}

// stack is a Result with the fields every run has.
func stack(dir string, status planner.Status, seconds float64) planner.Result {
	return planner.Result{
		Dir: dir, Workspace: "default", Status: status, Commit: fixtureCommit,
		TerraformVersion: tfVersion, StartedAt: fixtureTime,
		Timings: planner.Timings{Total: seconds},
	}
}

func noChanges(t testing.TB, dir string, seconds float64) planner.Result {
	r := stack(dir, planner.StatusNoChanges, seconds)
	r.PlanText = capturedPlan(t, "no-changes")
	return r
}

// networkStack: a new VPC with two subnets and an imported gateway.
func networkStack(t testing.TB) planner.Result {
	r := stack("live/prod/network", planner.StatusChanges, 14.2)
	r.PlanText = capturedPlan(t, "network")
	r.Counts = planner.Counts{Create: 5, Import: 1, OutputChanges: 1}
	for _, a := range []string{"terraform_data.vpc", "module.subnet_a.terraform_data.route_table_association",
		"module.subnet_a.terraform_data.subnet", "module.subnet_b.terraform_data.route_table_association",
		"module.subnet_b.terraform_data.subnet"} {
		r.Changes = append(r.Changes, planner.ResourceChange{Address: a, Action: planner.ActionCreate})
	}
	return r
}

// ordersStack: every kind of change, from a real plan.
func ordersStack(t testing.TB) planner.Result {
	r := stack("live/prod/orders", planner.StatusChanges, 22.9)
	r.PlanText = capturedPlan(t, "app")
	r.Counts = planner.Counts{Create: 2, Update: 1, Delete: 2, Replace: 1, Move: 1, NoOp: 3, OutputChanges: 1}
	r.Changes = []planner.ResourceChange{
		{Address: "terraform_data.api_token", Action: planner.ActionCreate},
		{Address: "terraform_data.database", Action: planner.ActionReplace, Reason: "replace_because_cannot_update"},
		{Address: "terraform_data.dead_letter_queue", Action: planner.ActionCreate},
		{Address: "terraform_data.legacy_cron", Action: planner.ActionDelete, Reason: "delete_because_no_resource_config"},
		{Address: "terraform_data.queue", Action: planner.ActionUpdate},
		{Address: "terraform_data.session_cache", Action: planner.ActionNoOp, MovedFrom: "terraform_data.cache"},
		{Address: "terraform_data.worker[2]", Action: planner.ActionDelete, Reason: "delete_because_count_index"},
	}
	return r
}

// batchStack: three resources destroyed, nothing else.
func batchStack(t testing.TB) planner.Result {
	r := stack("live/prod/batch", planner.StatusChanges, 9.8)
	r.PlanText = capturedPlan(t, "destroys")
	r.Counts = planner.Counts{Delete: 3, NoOp: 2}
	r.Changes = []planner.ResourceChange{
		{Address: "terraform_data.legacy_sync_queue", Action: planner.ActionDelete, Reason: "delete_because_no_resource_config"},
		{Address: `terraform_data.schedule["cleanup"]`, Action: planner.ActionDelete, Reason: "delete_because_each_key"},
		{Address: `terraform_data.schedule["legacy-sync"]`, Action: planner.ActionDelete, Reason: "delete_because_each_key"},
	}
	return r
}

// databaseStack: a major version upgrade that replaces the database.
func databaseStack(t testing.TB) planner.Result {
	r := stack("live/prod/database", planner.StatusChanges, 31.4)
	r.PlanText = capturedPlan(t, "replace")
	r.Counts = planner.Counts{Update: 1, Replace: 2}
	r.Changes = []planner.ResourceChange{
		{Address: "terraform_data.bastion", Action: planner.ActionReplace, Reason: "replace_by_request"},
		{Address: "terraform_data.parameter_group", Action: planner.ActionUpdate},
		{Address: "terraform_data.primary", Action: planner.ActionReplace, Reason: "replace_because_cannot_update"},
	}
	return r
}

// failedStack: a plan that stops on a reference to a resource that does
// not exist, diagnostics as `terraform validate -json` reports them.
func failedStack() planner.Result {
	r := stack("live/prod/replica", planner.StatusError, 3.1)
	r.Error = "terraform plan: exit status 1"
	r.Diagnostics = []planner.Diagnostic{{
		Severity: "error",
		Summary:  "Reference to undeclared resource",
		Detail:   `A managed resource "terraform_data" "primary" has not been declared in the root module.`,
		Range:    "main.tf:3",
	}}
	return r
}

var undeclaredVariable = planner.Diagnostic{
	Severity: "warning",
	Summary:  "Value for undeclared variable",
	Detail: `The root module does not declare a variable named "region" but a value was found in file "prod.tfvars". ` +
		`If you meant to use this value, add a "variable" block to the configuration.` + "\n\n" +
		`To silence these warnings, use TF_VAR_... environment variables to provide certain "global" settings ` +
		`to all configurations in your organization. To reduce the verbosity of these warnings, use the ` +
		`-compact-warnings option.`,
}

// fakeID is a stable, UUID-shaped id like terraform_data's.
func fakeID(seed string) string {
	h := sha256.Sum256([]byte(seed))
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// fixturePlan writes plans in the exact format of `terraform show -no-color`.
type fixturePlan struct {
	b                       strings.Builder
	adds, changes, destroys int
	creates, updates, dels  bool
	outputs                 []string
}

func (p *fixturePlan) create(addr, name, input string) {
	p.adds++
	p.creates = true
	fmt.Fprintf(&p.b, "  # %s will be created\n  + resource \"terraform_data\" %q {\n"+
		"      + id     = (known after apply)\n      + input  = %s\n      + output = (known after apply)\n    }\n\n",
		addr, name, input)
}

func (p *fixturePlan) update(addr, name, from, to string) {
	p.changes++
	p.updates = true
	fmt.Fprintf(&p.b, "  # %s will be updated in-place\n  ~ resource \"terraform_data\" %q {\n"+
		"        id     = %q\n      ~ input  = %s -> %s\n      ~ output = %s -> (known after apply)\n    }\n\n",
		addr, name, fakeID(addr), from, to, from)
}

func (p *fixturePlan) destroy(addr, name, input, because string) {
	p.destroys++
	p.dels = true
	fmt.Fprintf(&p.b, "  # %s will be destroyed\n  # (because %s)\n  - resource \"terraform_data\" %q {\n"+
		"      - id     = %q -> null\n      - input  = %s -> null\n      - output = %s -> null\n    }\n\n",
		addr, because, name, fakeID(addr), input, input)
}

func (p *fixturePlan) String() string {
	var out strings.Builder
	out.WriteString("\nTerraform used the selected providers to generate the following execution\n" +
		"plan. Resource actions are indicated with the following symbols:\n")
	if p.creates {
		out.WriteString("  + create\n")
	}
	if p.updates {
		out.WriteString("  ~ update in-place\n")
	}
	if p.dels {
		out.WriteString("  - destroy\n")
	}
	out.WriteString("\nTerraform will perform the following actions:\n\n")
	out.WriteString(p.b.String())
	fmt.Fprintf(&out, "Plan: %d to add, %d to change, %d to destroy.\n", p.adds, p.changes, p.destroys)
	if len(p.outputs) > 0 {
		out.WriteString("\nChanges to Outputs:\n")
		for _, o := range p.outputs {
			out.WriteString("  " + o + "\n")
		}
	}
	return out.String()
}

// tagBump is the plan of a stack whose resources get a new cost-centre tag.
func tagBump(dir string, n int, seconds float64) planner.Result {
	r := stack(dir, planner.StatusChanges, seconds)
	var p fixturePlan
	for i := range n {
		addr := fmt.Sprintf("module.service.terraform_data.tags[%d]", i)
		p.update(addr, "tags", `"cost-centre=cc-1001"`, `"cost-centre=cc-2040"`)
		r.Changes = append(r.Changes, planner.ResourceChange{Address: addr, Action: planner.ActionUpdate})
	}
	r.PlanText = p.String()
	r.Counts = planner.Counts{Update: n}
	return r
}

// dnsMigration moves n records from one zone to another: n created, n
// destroyed, 2n resource changes in all.
func dnsMigration(dir string, n int) planner.Result {
	r := stack(dir, planner.StatusChanges, 4*60+12.6)
	var p fixturePlan
	for i := range n {
		addr := fmt.Sprintf(`terraform_data.record_v2["svc-%05d.eu.example.com"]`, i)
		p.create(addr, "record_v2", fmt.Sprintf(`"svc-%05d.eu.example.com. 300 IN CNAME lb-eu.example.net."`, i))
		r.Changes = append(r.Changes, planner.ResourceChange{Address: addr, Action: planner.ActionCreate})
	}
	for i := range n {
		addr := fmt.Sprintf(`terraform_data.record["svc-%05d.example.com"]`, i)
		p.destroy(addr, "record", fmt.Sprintf(`"svc-%05d.example.com. 300 IN CNAME lb.example.net."`, i),
			fmt.Sprintf(`key ["svc-%05d.example.com"] is not in for_each map`, i))
		r.Changes = append(r.Changes, planner.ResourceChange{Address: addr, Action: planner.ActionDelete, Reason: "delete_because_each_key"})
	}
	p.outputs = []string{`~ record_count = 5000 -> 0`}
	r.PlanText = p.String()
	r.Counts = planner.Counts{Create: n, Delete: n, OutputChanges: 1}
	return r
}

// monorepo is a change to a module every stack calls: stacks across envs,
// regions and services, most without changes.
func monorepo(t testing.TB, n int) planner.Summary {
	s := summary("plan")
	envs := []string{"prod", "staging", "dev"}
	regions := []string{"eu-west-1", "eu-central-1", "us-east-1", "ap-southeast-2"}
	services := []string{"api", "auth", "billing", "cache", "cdn", "checkout", "dns", "events", "frontend",
		"gateway", "identity", "inventory", "ledger", "logging", "mail", "media", "metrics", "network",
		"notifications", "orders", "payments", "queue", "search", "storage", "tracing"}
	for i := range n {
		svc := services[i%len(services)]
		region := regions[(i/len(services))%len(regions)]
		env := envs[(i/(len(services)*len(regions)))%len(envs)]
		dir := fmt.Sprintf("live/%s/%s/%s", env, region, svc)
		if i >= len(envs)*len(regions)*len(services) {
			dir = fmt.Sprintf("live/%s/%s/%s-%d", env, region, svc, i/(len(envs)*len(regions)*len(services)))
		}
		secs := 3 + float64((i*37)%200)/10
		switch {
		case i == 7:
			r := failedStack()
			r.Dir = dir
			s.Stacks = append(s.Stacks, r)
		case i == 12 || i == 113:
			r := stack(dir, planner.StatusLocked, 0)
			r.LockedBy = fmt.Sprintf("!%d", 4180+i)
			s.Stacks = append(s.Stacks, r)
		case i == 40:
			r := batchStack(t)
			r.Dir = dir
			s.Stacks = append(s.Stacks, r)
		case i%13 == 5:
			s.Stacks = append(s.Stacks, tagBump(dir, 1+i%4, secs))
		default:
			s.Stacks = append(s.Stacks, noChanges(t, dir, secs))
		}
	}
	s.Deleted = []string{"live/dev/eu-west-1/legacy-batch", "live/staging/eu-west-1/legacy-batch"}
	return s
}

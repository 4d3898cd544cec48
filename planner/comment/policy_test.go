package comment

import (
	"fmt"
	"strings"
	"testing"

	"github.com/strata-iac/strata/planner"
	"github.com/strata-iac/strata/policy"
)

// Policy fixtures: the messages of the rules in examples/policy, and of an
// organisation's own rule in a namespace of its own.

func policyResult(failures, warnings []policy.Message) *policy.Result {
	r := &policy.Result{Failures: failures, Warnings: warnings, Rules: 7}
	switch {
	case len(failures) > 0:
		r.Outcome = policy.Fail
	case len(warnings) > 0:
		r.Outcome = policy.Warn
	default:
		r.Outcome = policy.Pass
	}
	return r
}

func denyMsg(ns, rule, file string, line int, msg string) policy.Message {
	return policy.Message{Namespace: ns, Rule: rule, File: file, Line: line, Msg: msg}
}

// retentionMsg is a long message, as organisations write them: what is
// wrong, why it matters, and what to do.
const retentionMsg = "terraform_data.database would be replaced: its current object and every automated " +
	"backup the provider keeps for it would be destroyed. Databases under live/prod hold customer data " +
	"subject to the 35-day retention rule (https://wiki.example.com/platform/data-retention). Take a final " +
	"snapshot, have the data owner sign off in the change ticket, and apply in a maintenance window. " +
	`Tags found: {"owner": "orders", "protected": "true", "data_class": "customer"}.`

// policySummary: one stack failing two deny rules, one warning, one
// passing.
func policySummary(t testing.TB) planner.Summary {
	orders := ordersStack(t)
	orders.Policy = policyResult([]policy.Message{
		denyMsg("main", "deny_protected", "policy/protected.rego", 9,
			"terraform_data.database is tagged protected and would be replaced"),
		denyMsg("platform.data", "deny", "policy/platform/retention.rego", 31, retentionMsg),
	}, nil)
	network := networkStack(t)
	network.Policy = policyResult(nil, []policy.Message{
		denyMsg("main", "warn_tags_unknown", "policy/required_tags.rego", 27,
			"module.subnet_a.terraform_data.route_table_association: tags are only known after apply, required tags not checked"),
		denyMsg("main", "warn_tags_unknown", "policy/required_tags.rego", 27,
			"module.subnet_b.terraform_data.route_table_association: tags are only known after apply, required tags not checked"),
	})
	cdn := tagBump("live/prod/cdn", 2, 7.5)
	cdn.Policy = policyResult(nil, nil)
	return summary("plan", orders, network, cdn)
}

// policyTimeoutSummary: one stack's evaluation timed out after a rule had
// failed; the other's passed.
func policyTimeoutSummary(t testing.TB) planner.Summary {
	batch := batchStack(t)
	batch.Policy = policyResult([]policy.Message{
		denyMsg("main", "deny_too_many_destroys", "policy/destroys.rego", 21,
			`plan destroys 3 resources, more than the limit of 2: terraform_data.legacy_sync_queue, terraform_data.schedule["cleanup"], terraform_data.schedule["legacy-sync"]`),
	}, nil)
	batch.Policy.Error = "policy evaluation timed out after 10s in main.deny_cost (policy/cost.rego:12)"
	network := networkStack(t)
	network.Policy = policyResult(nil, nil)
	return summary("plan", batch, network)
}

// policyBrokenSummary: the policies do not compile, which fails every
// stack that has a plan alike.
func policyBrokenSummary(t testing.TB) planner.Summary {
	broken := func() *policy.Result {
		return &policy.Result{Outcome: policy.Fail, Failures: []policy.Message{}, Warnings: []policy.Message{},
			Error: "policy/cost.rego:5: rego_parse_error: unexpected whitespace token: expected identifier\n" +
				`policy/tags.rego:6: rego_parse_error: unexpected ) token: expected "," or "]"`}
	}
	network := networkStack(t)
	network.Policy = broken()
	orders := ordersStack(t)
	orders.Policy = broken()
	dev := noChanges(t, "live/dev/network", 6.4)
	dev.Policy = broken()
	return summary("plan", network, orders, failedStack(), dev)
}

func TestPolicyMark(t *testing.T) {
	timedOut := policyResult([]policy.Message{{Msg: "x"}}, nil)
	timedOut.Error = "timeout"
	for _, c := range []struct {
		p    *policy.Result
		want string
	}{
		{nil, "—"},
		{policyResult(nil, nil), "✅ pass"},
		{policyResult(nil, make([]policy.Message, 2)), "⚠️ 2 warnings"},
		{policyResult(make([]policy.Message, 1), make([]policy.Message, 3)), "⛔ 1 failure"},
		{timedOut, "⛔ error"},
		{&policy.Result{Outcome: policy.Fail}, "⛔ fail"},
	} {
		if got := policyMark(c.p); got != c.want {
			t.Errorf("policyMark(%+v) = %q, want %q", c.p, got, c.want)
		}
	}
}

func TestNoPolicyNoColumn(t *testing.T) {
	b := Render(summary("plan", networkStack(t)), Options{})[0]
	if strings.Contains(b, "Policy") || strings.Contains(b, "policy") {
		t.Errorf("a run without policies mentions them:\n%s", b)
	}
	s := summary("plan", networkStack(t), failedStack())
	s.Stacks[0].Policy = policyResult(nil, nil)
	b = Render(s, Options{})[0]
	for _, want := range []string{"| Stack | Result | Changes | Policy | Time |",
		"| `live/prod/network` | 📝 changes | +5, 1 import, 1 output | ✅ pass | 14.2s |",
		"| `live/prod/replica` | ❌ failed | — | — | 3.1s |"} {
		if !strings.Contains(b, want) {
			t.Errorf("lacks %q:\n%s", want, b)
		}
	}
	if strings.Contains(b, "[!CAUTION]\n> **Policy") || strings.Contains(b, "Policy warnings") {
		t.Errorf("passing policies get a section")
	}
}

func TestPolicyHint(t *testing.T) {
	s := policySummary(t)
	b := Render(s, Options{})[0]
	if !strings.Contains(b, "> **Policy checks fail for 1 stack.** "+DefaultPolicyHint+"\n") {
		t.Errorf("default hint missing:\n%s", b)
	}
	hint := "Ask @platform-team (a policy owner) to comment `strata approve-policies`."
	b = Render(s, Options{PolicyHint: hint})[0]
	if !strings.Contains(b, "**Policy checks fail for 1 stack.** "+hint) || strings.Contains(b, DefaultPolicyHint) {
		t.Errorf("PolicyHint not used")
	}
	s.Operation = "apply"
	if b = Render(s, Options{})[0]; strings.Contains(b, DefaultPolicyHint) {
		t.Errorf("an apply says how to approve policies")
	}
}

func TestPolicyMessageIsClippedAndInert(t *testing.T) {
	s := policySummary(t)
	dump := "@everyone <script>alert(1)</script> ```\n</details> " + strings.Repeat(`{"tags": {"a": "b"}}, `, 5_000)
	s.Stacks[0].Policy.Failures[1].Msg = dump
	s.Stacks[0].Policy.Failures[1].File = "policy/`x`|y.rego"
	opt := Options{MaxSize: GitLabLimit, Marker: testMarker}
	bodies := Render(s, opt)
	checkBodies(t, s, opt, bodies)
	b := bodies[0]
	line := b[strings.Index(b, "> - `platform.data.deny`"):]
	line = line[:strings.IndexByte(line, '\n')]
	if len(line) > 2*maxMessage+200 || !strings.HasSuffix(line, "…") {
		t.Errorf("long message not clipped: %d bytes, ends %q", len(line), line[max(len(line)-20, 0):])
	}
	for _, want := range []string{"@\u2060everyone \\<script\\>", "\\`\\`\\` \\</details\\>", "(``policy/`x`|y.rego:31``)"} {
		if !strings.Contains(line, want) {
			t.Errorf("message line lacks %q: %.300s", want, line)
		}
	}
}

func TestPolicyErrorsAreShownOnce(t *testing.T) {
	s := policyBrokenSummary(t)
	b := Render(s, Options{})[0]
	if n := strings.Count(b, "rego_parse_error: unexpected whitespace"); n != 1 {
		t.Errorf("the shared error appears %d times", n)
	}
	if !strings.Contains(b, "> **`live/prod/network`**, **`live/prod/orders`**, **`live/dev/network`**: the policies could not be evaluated.") {
		t.Errorf("stacks sharing the error not named together:\n%s", b)
	}
}

// manyPolicyMessages: stacks whose policies fail and warn at length, and
// a broken policy shared by others.
func manyPolicyMessages(t testing.TB, n int) planner.Summary {
	s := monorepo(t, n)
	for i := range s.Stacks {
		r := &s.Stacks[i]
		if r.Status != planner.StatusChanges && r.Status != planner.StatusNoChanges {
			continue
		}
		var fails, warns []policy.Message
		for k := range (i % 7) * 6 {
			fails = append(fails, denyMsg("main", "deny_missing_tags", "policy/required_tags.rego", 17,
				fmt.Sprintf("module.service.terraform_data.tags[%d] is missing required tags: %s", k, strings.Repeat("cost-centre, owner, ", 1+k%30))))
		}
		for k := range (i % 5) * 9 {
			warns = append(warns, denyMsg("org.cost", "warn", "policy/cost.rego", 4, fmt.Sprintf("resource %d costs more than its budget", k)))
		}
		r.Policy = policyResult(fails, warns)
		if i%11 == 3 {
			r.Policy.Error = "policy/cost.rego:5: rego_parse_error: unexpected whitespace token\n" + strings.Repeat("more context\n", 200)
		}
		if i%17 == 0 {
			r.Policy.Error = fmt.Sprintf("policy evaluation timed out after 10s in main.deny_cost (policy/cost.rego:%d)", i)
		}
	}
	return s
}

func TestPolicyEveryBodyFitsEverySize(t *testing.T) {
	n := 40
	if testing.Short() {
		n = 8
	}
	for _, tc := range []struct {
		name  string
		s     planner.Summary
		sizes []int
	}{
		{"golden", policySummary(t), sizes(n)},
		{"broken", policyBrokenSummary(t), sizes(n)},
		{"300-stacks", manyPolicyMessages(t, 300), sizes(n / 4)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, max := range tc.sizes {
				opt := Options{MaxSize: max, Marker: testMarker}
				bodies := Render(tc.s, opt)
				if max < minUseful {
					for i, b := range bodies {
						if len(b) > max {
							t.Errorf("limit %d: body %d is %d bytes", max, i+1, len(b))
						}
					}
					continue
				}
				checkBodies(t, tc.s, opt, bodies)
				if !strings.Contains(strings.Join(bodies, "\n"), "> **Policy checks fail for ") {
					t.Errorf("limit %d: the policy failures are gone", max)
				}
			}
		})
	}
}

func TestPolicyListsBecomeCounts(t *testing.T) {
	s := manyPolicyMessages(t, 300)
	opt := Options{MaxSize: GitHubLimit, Marker: testMarker}
	bodies := Render(s, opt)
	checkBodies(t, s, opt, bodies)
	if len(bodies) != 1 {
		t.Fatalf("%d bodies: 300 stacks' policy messages should compact into one", len(bodies))
	}
	b := bodies[0]
	for _, want := range []string{"> **Policy checks fail for ", "⚠️ **Policy warnings:**", "summary.json"} {
		if !strings.Contains(b, want) {
			t.Errorf("lacks %q", want)
		}
	}
	whole := Render(s, Options{Marker: testMarker})[0]
	if strings.Count(b, "deny_missing_tags") >= strings.Count(whole, "deny_missing_tags") {
		t.Errorf("the failures were not shortened")
	}
}

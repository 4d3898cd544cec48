package comment

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strata-iac/strata/planner"
)

var update = flag.Bool("update", false, "rewrite the golden comments in testdata/comment")

const testMarker = "<!-- strata:plan -->"

// goldenCases are the comments a reviewer reads; testdata/comment holds
// each one as rendered, body 2 and on in NAME.partN.md.
func goldenCases(t testing.TB) []struct {
	name string
	s    planner.Summary
	opt  Options
} {
	gitlab := Options{MaxSize: GitLabLimit, Marker: testMarker,
		Steps: Steps{Apply: "Merge this merge request to apply these plans."}}
	github := Options{MaxSize: GitHubLimit, Marker: testMarker}

	errored := summary("plan", networkStack(t), failedStack(), noChanges(t, "live/dev/network", 6.4))
	errored.Stacks[2].Diagnostics = []planner.Diagnostic{undeclaredVariable}

	iam := stack("live/prod/iam", planner.StatusLocked, 0)
	iam.LockedBy = "!4127"
	locked := summary("plan", iam, ordersStack(t), noChanges(t, "live/staging/orders", 5.2))
	locked.Deleted = []string{"live/prod/orders-legacy"}

	applied := summary("apply", applyOf(t, networkStack(t), "network-apply", 18.3),
		applyOf(t, ordersStack(t), "app-apply", 41.7))
	payments := stack("live/prod/payments", planner.StatusRefused, 0.4)
	payments.Error = "inputs changed since the plan: modules/rds was at tree 4e1f0a2, is now at 9b3c7d1; plan again"
	workers := stack("live/prod/payments-workers", planner.StatusSkipped, 0)
	workers.Error = "depends on live/prod/payments, which was not applied"
	applied.Stacks = append(applied.Stacks, payments, workers)

	drifted := stack("live/prod/orders", planner.StatusChanges, 12.7)
	drifted.PlanText = capturedPlan(t, "drift")
	drifted.Counts = planner.Counts{Update: 1, Drift: 1}
	drifted.Changes = []planner.ResourceChange{{Address: "terraform_data.queue", Action: planner.ActionUpdate}}
	drifted.Drift = []planner.ResourceChange{{Address: "terraform_data.queue", Action: planner.ActionUpdate}}
	drift := summary("drift", noChanges(t, "live/prod/network", 8.8), drifted, failedStack())
	drift.Base = ""

	dns := summary("plan", dnsMigration("live/prod/edge-dns", 5_000), tagBump("live/prod/cdn", 2, 7.5))

	replica := failedStack()
	replica.Dir = "live/dev/replica"
	allFailed := summary("plan", failedStack(), replica)
	noStacks := summary("plan")
	noStacks.Deleted = []string{"live/old/app"}
	onlyLocked := summary("plan", iam, noChanges(t, "live/staging/orders", 5.2))

	return []struct {
		name string
		s    planner.Summary
		opt  Options
	}{
		{"no-changes", summary("plan", noChanges(t, "live/prod/network", 7.1), noChanges(t, "live/prod/dns", 4.3)), gitlab},
		{"creates", summary("plan", networkStack(t)), gitlab},
		{"destroys", summary("plan", batchStack(t), noChanges(t, "live/staging/batch", 5.5)), gitlab},
		{"replace", summary("plan", databaseStack(t)), github},
		{"error", errored, github},
		{"locked", locked, gitlab},
		{"apply", applied, github},
		{"drift", drift, github},
		{"300-stacks", monorepo(t, 300), github},
		{"10k-resources-github", dns, github},
		{"10k-resources-gitlab", dns, gitlab},
		{"split", monorepo(t, 1_500), github},
		{"policy", policySummary(t), gitlab},
		{"policy-timeout", policyTimeoutSummary(t), github},
		{"policy-broken", policyBrokenSummary(t), gitlab},
		{"next-all-failed", allFailed, gitlab},
		{"next-no-stacks", noStacks, gitlab},
		{"next-locked", onlyLocked, gitlab},
	}
}

// applyOf turns a planned stack into an applied one with its apply log.
func applyOf(t testing.TB, r planner.Result, log string, seconds float64) planner.Result {
	r.Status = planner.StatusApplied
	r.PlanText = capturedPlan(t, log)
	r.Timings.Total = seconds
	return r
}

func TestCommentGolden(t *testing.T) {
	for _, tc := range goldenCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			bodies := Render(tc.s, tc.opt)
			checkBodies(t, tc.s, tc.opt, bodies)
			golden(t, tc.name, bodies)
		})
	}
}

// golden compares bodies with testdata/comment/NAME.md (body 1) and
// NAME.partN.md (body N), or rewrites them with -update.
func golden(t *testing.T, name string, bodies []string) {
	t.Helper()
	dir := "testdata"
	file := func(n int) string {
		if n == 1 {
			return filepath.Join(dir, name+".md")
		}
		return filepath.Join(dir, fmt.Sprintf("%s.part%d.md", name, n))
	}
	stale, err := filepath.Glob(filepath.Join(dir, name+".part*.md"))
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		for _, f := range stale {
			if err := os.Remove(f); err != nil {
				t.Fatal(err)
			}
		}
		for i, b := range bodies {
			if err := os.WriteFile(file(i+1), []byte(b), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	if want := len(stale) + 1; want != len(bodies) {
		t.Errorf("%d bodies, golden has %d", len(bodies), want)
	}
	for i, b := range bodies {
		want, err := os.ReadFile(file(i + 1))
		if err != nil {
			t.Fatalf("%v (run go test -update to write it)", err)
		}
		if b != string(want) {
			t.Errorf("body %d differs from %s (go test -update rewrites it):\n%s", i+1, file(i+1), firstDiff(string(want), b))
		}
	}
}

// firstDiff shows the first line where got differs from want.
func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range max(len(w), len(g)) {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("line %d:\nwant %q\ngot  %q", i+1, wl, gl)
		}
	}
	return "(same lines)"
}

func TestPartMarker(t *testing.T) {
	for _, c := range []struct {
		marker string
		n      int
		want   string
	}{
		{"<!-- strata:plan -->", 1, "<!-- strata:plan -->"},
		{"<!-- strata:plan -->", 2, "<!-- strata:plan part 2 -->"},
		{"strata:plan", 1, "<!-- strata:plan -->"},
		{"", 3, "<!-- strata part 3 -->"},
		{"<!-- a -- b -->", 1, "<!-- a - b -->"},
		{"x -->evil", 1, "<!-- x ->evil -->"},
	} {
		if got := PartMarker(c.marker, c.n); got != c.want {
			t.Errorf("PartMarker(%q, %d) = %q, want %q", c.marker, c.n, got, c.want)
		}
	}
}

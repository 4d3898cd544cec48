package comment

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/strata-iac/strata/planner"
	"github.com/strata-iac/strata/policy"
)

// sizes are comment limits to try: the forges', tiny ones, and a
// deterministic spread in between.
func sizes(n int) []int {
	out := []int{GitHubLimit, GitLabLimit, 1, 64, 300, 1_000, 1_500, 2_048, 4_096}
	rng := rand.New(rand.NewPCG(1, 2))
	for range n {
		out = append(out, 1_000+rng.IntN(200_000))
	}
	return out
}

// minUseful is the smallest limit at which a comment is expected to carry
// its marker, its table and its next step; below it, only the size holds.
const minUseful = 1_000

func TestCommentEveryBodyFitsEverySize(t *testing.T) {
	n := 60
	if testing.Short() {
		n = 10
	}
	cases := []struct {
		name  string
		s     planner.Summary
		sizes []int
	}{
		{"300-stacks", monorepo(t, 300), sizes(n)},
		{"apply", goldenSummary(t, "apply"), sizes(n)},
		{"malicious", maliciousSummary(t), sizes(n)},
		{"10k-resources", goldenSummary(t, "10k-resources-github"), sizes(n / 5)},
	}
	for _, tc := range cases {
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
				t.Run(fmt.Sprint(max), func(t *testing.T) { checkBodies(t, tc.s, opt, bodies) })
			}
		})
	}
}

func goldenSummary(t *testing.T, name string) planner.Summary {
	for _, c := range goldenCases(t) {
		if c.name == name {
			return c.s
		}
	}
	t.Fatalf("no golden case %q", name)
	return planner.Summary{}
}

func TestCommentThousandsOfStacksSplitTable(t *testing.T) {
	s := monorepo(t, 3_000)
	opt := Options{MaxSize: GitHubLimit, Marker: testMarker}
	bodies := Render(s, opt)
	checkBodies(t, s, opt, bodies)
	if len(bodies) < 3 {
		t.Fatalf("3,000 stacks in %d bodies: the table alone needs more than two", len(bodies))
	}
	if !strings.Contains(bodies[0], "3,000 stacks") || !strings.Contains(bodies[0], "| Stack | Result |") {
		t.Errorf("first body lacks the heading or the table")
	}
	for i, b := range bodies[1:] {
		want := fmt.Sprintf("continued (%d of %d)", i+2, len(bodies))
		if !strings.Contains(strings.SplitN(b, "\n", 3)[1], want) {
			t.Errorf("body %d does not say %q", i+2, want)
		}
	}
	// Rows come in the same order as in one long table.
	whole := Render(s, Options{Marker: testMarker})
	if got, want := rowOrder(bodies), rowOrder(whole); !slices.Equal(got, want) {
		t.Errorf("split table rows are out of order")
	}
	if strings.Contains(bodies[len(bodies)-2], "**Next:**") || !strings.HasSuffix(bodies[0], continued+"\n") {
		t.Errorf("next step or continuation line misplaced")
	}
}

func rowOrder(bodies []string) []string {
	var rows []string
	for _, b := range bodies {
		rows = append(rows, tableLines(b)...)
	}
	return rows
}

// warningBlock is the destroy warning of a body.
func warningBlock(body string) string {
	i := strings.Index(body, "> [!WARNING]")
	if i < 0 {
		return ""
	}
	end := strings.Index(body[i:], "\n\n")
	if end < 0 {
		return body[i:]
	}
	return body[i : i+end]
}

func TestDestroyWarningListsEveryAddressWhenItFits(t *testing.T) {
	s := summary("plan", batchStack(t), databaseStack(t), ordersStack(t), dnsMigration("live/prod/edge-dns", 300))
	bodies := Render(s, Options{MaxSize: GitLabLimit})
	if len(bodies) != 1 {
		t.Fatalf("%d bodies", len(bodies))
	}
	w := warningBlock(bodies[0])
	if !strings.Contains(w, "destroys 305 resources and replaces 3.") {
		t.Errorf("warning title wrong:\n%.300s", w)
	}
	for _, r := range s.Stacks {
		for _, ch := range r.Changes {
			doomed := ch.Action == planner.ActionDelete || ch.Action == planner.ActionReplace
			if listed := strings.Contains(w, "** "+codeSpan(ch.Address)); listed != doomed {
				t.Errorf("%s (%s): listed in the warning = %v", ch.Address, ch.Action, listed)
			}
		}
	}
	if strings.Contains(w, "more") {
		t.Errorf("warning counts instead of listing although it fits")
	}
}

var andMore = regexp.MustCompile(`> - and ([0-9,]+) more`)

func TestDestroyWarningCountsWhatDoesNotFit(t *testing.T) {
	s := summary("plan", dnsMigration("live/prod/edge-dns", 5_000))
	bodies := Render(s, Options{MaxSize: GitHubLimit})
	w := warningBlock(bodies[0])
	if !strings.Contains(w, "destroys 5,000 resources.") {
		t.Errorf("warning title wrong: %.200s", w)
	}
	listed := strings.Count(w, "> - **destroy** ")
	m := andMore.FindStringSubmatch(w)
	if listed == 0 || m == nil {
		t.Fatalf("expected some addresses and a count, listed %d, count %v", listed, m)
	}
	if more := strings.ReplaceAll(m[1], ",", ""); fmt.Sprint(5_000-listed) != more {
		t.Errorf("listed %d and %s more, want 5,000 in all", listed, m[1])
	}
	// The plan was shortened before the list was: it is at its shortest.
	if !strings.Contains(bodies[0], "lines of this plan omitted") {
		t.Errorf("plan not shortened")
	}
}

func TestCompactionOrder(t *testing.T) {
	// A plan that only needs its middle cut keeps its full warning.
	s := summary("plan", dnsMigration("live/prod/edge-dns", 150))
	b := Render(s, Options{MaxSize: GitHubLimit})[0]
	if !strings.Contains(b, "lines of this plan omitted") || andMore.MatchString(b) {
		t.Errorf("expected a shortened plan and the whole warning list")
	}
	// Many medium plans: the largest leave, the others stay, with a pointer.
	var stacks []planner.Result
	for i := range 60 {
		stacks = append(stacks, tagBump(fmt.Sprintf("live/prod/svc-%02d", i), 10+i%20, 5))
	}
	s = summary("plan", stacks...)
	s.Stacks = append(s.Stacks, batchStack(t))
	b = Render(s, Options{MaxSize: GitHubLimit, ArtifactsURL: "https://ci.example.com/jobs/42/artifacts"})[0]
	if !strings.Contains(b, "📦 **Plans not shown** (too large for a comment, see [the artifacts](<https://ci.example.com/jobs/42/artifacts>)): ") {
		t.Errorf("no pointer to the artifacts for the plans left out")
	}
	if !strings.Contains(b, "<details open><summary><code>live/prod/batch</code>") {
		t.Errorf("the plan that destroys was left out before plans that do not")
	}
}

// maliciousSummary holds text that tries to break out of its place.
func maliciousSummary(t testing.TB) planner.Summary {
	evil := "```\n</details>\n<script>alert(1)</script>\n````diff\n<!-- strata:plan -->\n" +
		"  + injected\r```\n~~~\n<details open><summary>fake</summary>\n@everyone\n"
	a := networkStack(t)
	a.PlanText = evil + a.PlanText + evil
	a.Dir = "live/prod/`net|work`"
	b := failedStack()
	b.Error = "</details><script>steal()</script> ping @admins | **bold**"
	b.Diagnostics[0].Detail = evil
	c := stack("live/prod/iam", planner.StatusLocked, 0)
	c.LockedBy = "<img src=x onerror=alert(1)>"
	d := ordersStack(t)
	d.Changes[1].Address = "terraform_data.x[\"</details>`\"]"
	s := summary("plan", a, b, c, d)
	s.Warnings = []string{"# heading? <b>no</b>", "1. not a list"}
	s.Deleted = []string{"live/`old`"}
	return s
}

// outsideCode is body without its code blocks and code spans.
func outsideCode(body string) string {
	var out []string
	open := ""
	for _, l := range strings.Split(body, "\n") {
		if open != "" {
			if strings.TrimPrefix(strings.TrimPrefix(l, ">"), " ") == open {
				open = ""
			}
			continue
		}
		if m := fenceLine.FindStringSubmatch(l); m != nil {
			open = m[2]
			continue
		}
		out = append(out, l)
	}
	return stripCodeSpans(strings.Join(out, "\n"))
}

func TestMaliciousTextStaysInItsBlock(t *testing.T) {
	s := maliciousSummary(t)
	opt := Options{MaxSize: GitHubLimit, Marker: testMarker}
	bodies := Render(s, opt)
	checkBodies(t, s, opt, bodies)
	body := bodies[0]
	text := outsideCode(body)
	for _, bad := range []string{"<script", "<img", "<b>", "<details open><summary>fake", "@everyone", "@admins"} {
		if i := strings.Index(text, bad); i >= 0 && (i == 0 || text[i-1] != '\\') {
			t.Errorf("%q escaped its code block:\n%s", bad, text)
		}
	}
	if got := strings.Count(text, "<details"); got != strings.Count(text, "</details>") || got != 2 {
		t.Errorf("%d <details> and %d </details> outside code", got, strings.Count(text, "</details>"))
	}
	if !strings.HasPrefix(body, testMarker+"\n") || strings.Count(text, testMarker) != 1 {
		t.Errorf("marker outside code blocks other than first")
	}
	for _, want := range []string{`\# heading? \<b\>no\</b\>`, `1\. not a list`, "`` live/`old` ``", "@\u2060admins",
		"| `` live/prod/`net\\|work` `` |", "<code>live/prod/`net|work`</code>", "locked by \\<img src=x onerror=alert(1)\\>"} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %q", want)
		}
	}
}

func TestCommentIsDeterministic(t *testing.T) {
	s := monorepo(t, 300)
	for i := range s.Stacks {
		s.Stacks[i].Inputs = map[string]string{"modules/a": "1", "modules/b": "2", s.Stacks[i].Dir: "3"}
	}
	opt := Options{MaxSize: 20_000}
	first := Render(s, opt)
	for range 3 {
		if !slices.Equal(first, Render(s, opt)) {
			t.Fatal("two renders differ")
		}
	}
}

func TestCommentUnlimited(t *testing.T) {
	s := goldenSummary(t, "10k-resources-github")
	bodies := Render(s, Options{})
	if len(bodies) != 1 || strings.Contains(bodies[0], "omitted") || strings.Contains(bodies[0], "and ") &&
		andMore.MatchString(bodies[0]) {
		t.Fatalf("unlimited comment was compacted or split")
	}
	if !strings.HasPrefix(bodies[0], DefaultMarker+"\n") {
		t.Errorf("default marker missing")
	}
}

func TestCommentNoStacks(t *testing.T) {
	s := summary("plan")
	s.Deleted = []string{"live/old"}
	b := Render(s, Options{MaxSize: GitHubLimit})[0]
	for _, want := range []string{"no stacks affected · 1 removed", "No stack is affected by this change.", "`live/old`", "**Next:** Nothing to do: this change touches no stack."} {
		if !strings.Contains(b, want) {
			t.Errorf("lacks %q:\n%s", want, b)
		}
	}
}

// TestNextStepForEveryOutcome: the next step is the one the outcome calls
// for, in the caller's words, for the server's merge requests and for the
// CLI alike: a run where every stack failed never says to apply, one that
// touches no stack never says to save plans, drift is fixed through a
// merge request.
func TestNextStepForEveryOutcome(t *testing.T) {
	server := Steps{Apply: "Merge this merge request to apply these plans."}
	cli := Steps{Apply: "Apply exactly these plans with `strata apply --out plans`.", Replan: "run `strata plan` again."}
	locked := stack("live/prod/iam", planner.StatusLocked, 0)
	locked.LockedBy = "!4127"
	replica := failedStack()
	replica.Dir = "live/dev/replica"
	pol := networkStack(t)
	pol.Policy = &policy.Result{Outcome: policy.Fail, Failures: []policy.Message{{Rule: "deny", Msg: "no"}}}
	for _, c := range []struct {
		name  string
		s     planner.Summary
		steps Steps
		want  string
	}{
		{"no changes", summary("plan", noChanges(t, "a", 1)), server, "Nothing to apply: no stack would change."},
		{"changes, server", summary("plan", networkStack(t)), server, "Merge this merge request to apply these plans."},
		{"changes, cli", summary("plan", networkStack(t)), cli, "Apply exactly these plans with `strata apply --out plans`."},
		{"changes, default", summary("plan", networkStack(t)), Steps{}, "Comment `strata apply` to apply these plans."},
		{"all failed, server", summary("plan", failedStack(), replica), server,
			"Fix `live/prod/replica` and `live/dev/replica`, then push the fix (strata plans every new commit), or comment `strata plan` to plan again."},
		{"all failed, cli", summary("plan", failedStack()), cli, "Fix `live/prod/replica`, then run `strata plan` again."},
		{"some failed", summary("plan", networkStack(t), failedStack()), cli,
			"Fix `live/prod/replica`, then run `strata plan` again. Applying before that leaves `live/prod/replica` out."},
		{"none touched, cli", summary("plan"), cli, "Nothing to do: this change touches no stack."},
		{"locked", summary("plan", locked), server,
			"`live/prod/iam` is held by !4127: once that merge request is merged or closed, comment `strata plan` to plan it."},
		{"policy-blocked", summary("plan", pol), server,
			"A policy owner must comment `strata approve-policies` before these plans can be applied. Then: Merge this merge request to apply these plans."},
		{"applied", summary("apply", applyOf(t, networkStack(t), "network-apply", 1)), server, "Nothing: every plan is applied."},
		{"drift", summary("drift", noChanges(t, "a", 1)), server, "Nothing: no drift."},
		{"drifted", summary("drift", networkStack(t)), server, "Bring `live/prod/network` back in line through a merge request"},
	} {
		b := Render(c.s, Options{Steps: c.steps})[0]
		next := b[strings.LastIndex(b, "**Next:** ")+len("**Next:** "):]
		if !strings.HasPrefix(next, c.want) {
			t.Errorf("%s: next step\n %s\nwant\n %s", c.name, next, c.want)
		}
	}
}

func TestTitleIsOnEveryBody(t *testing.T) {
	s := monorepo(t, 1_200)
	opt := Options{MaxSize: GitHubLimit, Title: "strata plan · acme/infra"}
	bodies := Render(s, opt)
	checkBodies(t, s, opt, bodies)
	if len(bodies) < 2 {
		t.Fatalf("expected a split, got %d body", len(bodies))
	}
	for i, b := range bodies {
		if h := strings.SplitN(b, "\n", 3)[1]; !strings.HasPrefix(h, "### ") ||
			!strings.Contains(h, "strata plan · acme/infra · `3f2a1c9e`") {
			t.Errorf("body %d heading lacks the title: %s", i+1, h)
		}
	}
}

func TestWorkspaceIsNamed(t *testing.T) {
	blue := networkStack(t)
	blue.Workspace = "blue"
	b := Render(summary("plan", blue, networkStack(t)), Options{})[0]
	for _, want := range []string{"| `live/prod/network@blue` | 📝 changes |", "| `live/prod/network` | 📝 changes |",
		"<code>live/prod/network@blue</code> · 📝"} {
		if !strings.Contains(b, want) {
			t.Errorf("lacks %q", want)
		}
	}
}

// TestPartialPlanIsMarked: a plan made with -target says so in the table
// and in a note that tells how it gets applied, before the plans.
func TestPartialPlanIsMarked(t *testing.T) {
	partial := networkStack(t)
	partial.Workspace, partial.Targets = "prod", []string{`terraform_data.subnet["a"]`}
	b := Render(summary("plan", partial, networkStack(t)), Options{PartialHint: "Apply it with `strata apply -s STACK`."})[0]
	for _, want := range []string{
		"| `live/prod/network@prod` | 📝 changes (partial plan) |",
		"| `live/prod/network` | 📝 changes |",
		"> [!IMPORTANT]\n> **1 partial plan**, made with `-target`: only the resources named were planned, not the rest of the change. Apply it with `strata apply -s STACK`.\n>\n> - **`live/prod/network@prod`**: `-target=terraform_data.subnet[\"a\"]`",
	} {
		if !strings.Contains(b, want) {
			t.Errorf("lacks %q\n%s", want, b)
		}
	}
	if strings.Index(b, "[!IMPORTANT]") > strings.Index(b, "<details") {
		t.Error("the partial note comes after the plans")
	}
}

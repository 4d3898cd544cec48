package comment

import (
	"slices"
	"strings"

	"github.com/strata-iac/strata/planner"
	"github.com/strata-iac/strata/stacks"
)

// kind is how one stack's outcome is shown.
type kind struct {
	icon   string
	label  string // in the table: "no changes", "locked by !42"
	phrase string // in the heading's counts: "unchanged"
	rank   int    // order in the table and the heading's counts
	counts bool   // the change counts mean something
}

// Ranks, in the order outcomes are shown.
const (
	rankChanged = iota // changes, drifted, applied
	rankFailed
	rankRefused
	rankSkipped
	rankLocked
	rankOther
	rankUnchanged
)

// problem reports a stack listed with the failures.
func (k kind) problem() bool {
	return k.rank == rankFailed || k.rank == rankRefused || k.rank == rankSkipped
}

func (c *commenter) kindOf(r planner.Result) kind {
	switch r.Status {
	case planner.StatusChanges:
		if c.op == planner.OpDrift {
			return kind{icon: "🌀", label: "drifted", phrase: "drifted", counts: true}
		}
		if r.Partial() {
			return kind{icon: "📝", label: "changes (partial plan)", phrase: "with changes", counts: true}
		}
		return kind{icon: "📝", label: "changes", phrase: "with changes", counts: true}
	case planner.StatusApplied:
		return kind{icon: "✅", label: "applied", phrase: "applied", counts: true}
	case planner.StatusNoChanges:
		// Session.Drift puts its verdict in Status: an in-sync stack may
		// still list objects Terraform saw change, which nothing follows.
		if c.op == planner.OpDrift {
			return kind{icon: "✅", label: "in sync", phrase: "in sync", rank: rankUnchanged, counts: true}
		}
		return kind{icon: "✅", label: "no changes", phrase: "unchanged", rank: rankUnchanged, counts: true}
	case planner.StatusError:
		return kind{icon: "❌", label: "failed", phrase: "failed", rank: rankFailed}
	case planner.StatusRefused:
		return kind{icon: "⛔", label: "refused", phrase: "refused", rank: rankRefused}
	case planner.StatusSkipped:
		return kind{icon: "⏭️", label: "skipped", phrase: "skipped", rank: rankSkipped}
	case planner.StatusLocked:
		label := "locked"
		if by := mrRef(r.LockedBy); by != "" {
			label += " by " + by
		}
		return kind{icon: "🔒", label: label, phrase: "locked", rank: rankLocked}
	}
	st := escapeText(string(r.Status))
	if st == "" {
		st = "unknown"
	}
	return kind{icon: "❔", label: st, phrase: st, rank: rankOther}
}

// Longest names shown, in bytes, so that one table row always fits in a
// comment, however long a directory or merge-request reference is.
const (
	maxName  = 240
	maxShort = 80
)

// stackName names a stack instance as a user writes it: DIR, or
// DIR@WORKSPACE.
func stackName(r planner.Result, code func(string) string) string {
	dir := clipMiddle(oneLine(r.Dir), maxName)
	if dir == "" {
		dir = "."
	}
	return code(stacks.InstanceName(dir, clipMiddle(oneLine(r.Workspace), maxShort)))
}

func htmlCode(s string) string { return "<code>" + escapeHTML(s) + "</code>" }

// heading is the first line: outcome, commit, and stacks by outcome; then,
// in small print, the Terraform versions and the time of the run.
func (c *commenter) heading() string {
	h := "### " + c.icon() + " " + c.title
	if sha := shortSHA(c.s.Commit); sha != "" {
		h += " · " + codeSpan(sha)
	}
	h += " · " + c.tally()
	var small []string
	var versions []string
	for _, r := range c.s.Stacks {
		if v := clip(oneLine(r.TerraformVersion), maxShort); v != "" && !slices.Contains(versions, v) {
			versions = append(versions, v)
		}
	}
	if len(versions) > 0 {
		slices.Sort(versions)
		small = append(small, "Terraform "+escapeText(clip(strings.Join(versions, ", "), maxName)))
	}
	if !c.s.CreatedAt.IsZero() {
		small = append(small, c.s.CreatedAt.UTC().Format("2006-01-02 15:04 UTC"))
	}
	if len(small) > 0 {
		h += "\n<sub>" + strings.Join(small, " · ") + "</sub>"
	}
	return h
}

// icon sums up the whole run in one symbol.
func (c *commenter) icon() string {
	icon := "✅"
	for _, k := range c.kinds {
		switch {
		case k.problem():
			return "❌"
		case k.rank == rankChanged:
			icon = k.icon
		case k.rank == rankLocked && icon == "✅":
			icon = k.icon
		}
	}
	return icon
}

// tally counts the stacks by outcome: "3 stacks: 1 with changes, 2 unchanged".
func (c *commenter) tally() string {
	n := len(c.s.Stacks)
	if n == 0 {
		return "no stacks affected" + c.removed()
	}
	type group struct {
		phrase      string
		rank, count int
	}
	var groups []group
	for _, k := range c.kinds {
		j := slices.IndexFunc(groups, func(g group) bool { return g.phrase == k.phrase })
		if j < 0 {
			groups = append(groups, group{phrase: k.phrase, rank: k.rank})
			j = len(groups) - 1
		}
		groups[j].count++
	}
	after := c.removed() + c.policyTally()
	if len(groups) == 1 {
		if n == 1 {
			return "1 stack " + groups[0].phrase + after
		}
		return plural(n, "stack", "stacks") + ", all " + groups[0].phrase + after
	}
	slices.SortStableFunc(groups, func(a, b group) int { return a.rank - b.rank })
	parts := make([]string, len(groups))
	for i, g := range groups {
		parts[i] = num(g.count) + " " + g.phrase
	}
	return plural(n, "stack", "stacks") + ": " + strings.Join(parts, ", ") + after
}

// policyTally tells the heading how many stacks fail their policy checks.
func (c *commenter) policyTally() string {
	if len(c.polFails) == 0 {
		return ""
	}
	return " · ⛔ policy checks fail for " + plural(policyStacks(c.polFails), "stack", "stacks")
}

func (c *commenter) removed() string {
	if len(c.s.Deleted) == 0 {
		return ""
	}
	return " · " + num(len(c.s.Deleted)) + " removed"
}

// summaryTable has one row per stack, always: changes first, then
// failures, locked stacks, and unchanged stacks last, each group in the
// order of the run. A Policy column shows the policy checks' verdicts when
// any stack has one.
func (c *commenter) summaryTable() block {
	if len(c.s.Stacks) == 0 {
		return block{head: "No stack is affected by this change."}
	}
	policies := slices.ContainsFunc(c.s.Stacks, func(r planner.Result) bool { return r.Policy != nil })
	head := "| Stack | Result | Changes | Time |\n| :--- | :--- | :--- | ---: |"
	if policies {
		head = "| Stack | Result | Changes | Policy | Time |\n| :--- | :--- | :--- | :--- | ---: |"
	}
	rows := make([]string, 0, len(c.s.Stacks))
	for _, i := range c.order {
		r, k := c.s.Stacks[i], c.kinds[i]
		changes := "—"
		if k.counts {
			if s := countsText(r); s != "" {
				changes = s
			}
		}
		took := "—"
		if d := duration(r.Timings.Total); d != "" {
			took = d
		}
		row := "| " + cell(stackName(r, codeSpan)) + " | " + k.icon + " " + cell(k.label) + " | " + cell(changes)
		if policies {
			row += " | " + policyMark(r.Policy)
		}
		rows = append(rows, row+" | "+took+" |")
	}
	return block{head: head, items: rows, sep: "\n", flow: true}
}

// countsText renders the counts for the table as "+3 ~1 -2 ±1, 1 import,
// 2 drifted", destroys and replaces in bold; "" when nothing changes.
func countsText(r planner.Result) string {
	c := r.Counts
	bold := func(s string) string { return "**" + s + "**" }
	var sym []string
	if c.Create > 0 {
		sym = append(sym, "+"+num(c.Create))
	}
	if c.Update > 0 {
		sym = append(sym, "~"+num(c.Update))
	}
	if c.Delete > 0 {
		sym = append(sym, bold("-"+num(c.Delete)))
	}
	if c.Replace > 0 {
		sym = append(sym, bold("±"+num(c.Replace)))
	}
	var parts []string
	if len(sym) > 0 {
		parts = append(parts, strings.Join(sym, " "))
	}
	for _, x := range []struct {
		n         int
		one, many string
	}{
		{c.Import, "import", "imports"},
		{c.Move, "move", "moves"},
		{c.OutputChanges, "output", "outputs"},
		{max(c.Drift, len(r.Drift)), "drifted", "drifted"},
	} {
		if x.n > 0 {
			parts = append(parts, plural(x.n, x.one, x.many))
		}
	}
	return strings.Join(parts, ", ")
}

// countsWords says what countsText shows in symbols: "2 to add, 1 to
// destroy, 1 move", or "2 added, 1 destroyed, 1 moved" once applied.
func countsWords(r planner.Result, done bool) string {
	c := r.Counts
	var parts []string
	for _, x := range []struct {
		n          int
		todo, past string
	}{
		{c.Create, "to add", "added"},
		{c.Update, "to change", "changed"},
		{c.Delete, "to destroy", "destroyed"},
		{c.Replace, "to replace", "replaced"},
		{c.Import, "to import", "imported"},
		{c.Move, "moved", "moved"},
	} {
		if x.n > 0 {
			w := x.todo
			if done {
				w = x.past
			}
			parts = append(parts, num(x.n)+" "+w)
		}
	}
	if n := c.OutputChanges; n > 0 {
		w := plural(n, "output", "outputs")
		if done {
			parts = append(parts, w+" changed")
		} else {
			parts = append(parts, w+" to change")
		}
	}
	if n := max(c.Drift, len(r.Drift)); n > 0 {
		parts = append(parts, num(n)+" drifted")
	}
	return strings.Join(parts, ", ")
}

// hasSection reports whether stack i gets a collapsible section: when it
// has a plan or log worth reading, drift, or warnings. A plan without
// changes, a locked or skipped stack, a refusal and a failure without
// output say all there is in the table and the failure list.
func (c *commenter) hasSection(i int) bool {
	r := c.s.Stacks[i]
	switch r.Status {
	case planner.StatusLocked, planner.StatusSkipped, planner.StatusRefused:
		return false
	}
	if slices.ContainsFunc(r.Diagnostics, func(d planner.Diagnostic) bool { return d.Severity != "error" }) ||
		len(r.Drift) > 0 {
		return true
	}
	return len(c.plans[i]) > 0 && r.Status != planner.StatusNoChanges
}

// openLines is the longest plan shown unfolded, and only when it destroys
// or replaces something: a short destructive plan deserves to be seen
// without a click, a long one would push everything else away.
const openLines = 60

// section is stack i's collapsible part: its warnings, its drift, its plan.
func (c *commenter) section(i int, b budget) string {
	r, k := c.s.Stacks[i], c.kinds[i]
	summary := stackName(r, htmlCode) + " · " + k.icon + " "
	words := ""
	if k.counts {
		words = escapeHTML(countsWords(r, r.Status == planner.StatusApplied))
	}
	switch {
	case words != "" && r.Status == planner.StatusChanges && c.op != planner.OpDrift:
		summary += words
	case words != "":
		summary += k.label + ": " + words
	default:
		summary += k.label
	}
	open := ""
	if len(c.doomed[i]) > 0 && len(c.plans[i]) <= openLines {
		open = " open"
	}
	var parts []string
	parts = append(parts, "<details"+open+"><summary>"+summary+"</summary>")
	var warnings []planner.Diagnostic
	for _, d := range r.Diagnostics {
		if d.Severity != "error" {
			warnings = append(warnings, d)
		}
	}
	if len(warnings) > 0 {
		parts = append(parts, codeBlock("", diagnosticLines(warnings, b), ""))
	}
	if len(r.Drift) > 0 {
		parts = append(parts, c.driftList(r, b))
	}
	if len(c.plans[i]) > 0 && (r.Status != planner.StatusNoChanges || len(r.Drift) > 0) {
		what := "plan"
		if r.Status == planner.StatusApplied || (c.op == planner.OpApply && r.Status == planner.StatusError) {
			what = "log"
		}
		parts = append(parts, codeBlock("diff", cutLines(c.plans[i], b.text, what), ""))
	}
	parts = append(parts, "</details>")
	return strings.Join(parts, "\n\n")
}

// driftList names the resources Terraform found changed outside Terraform.
func (c *commenter) driftList(r planner.Result, b budget) string {
	items := make([]string, len(r.Drift))
	for i, d := range r.Drift {
		how := "changed"
		switch d.Action {
		case planner.ActionDelete:
			how = "deleted"
		case planner.ActionCreate:
			how = "created"
		}
		items[i] = codeSpan(d.Address) + " " + how
	}
	return bulletList("**Changed outside Terraform**", items, b.items,
		func(n int) string { return "and " + plural(n, "more resource", "more resources") })
}

package comment

import (
	"strings"

	"github.com/strata-iac/strata/planner"
)

// The two alerts near the top: what will be destroyed, and what failed.
// Both use the "> [!WARNING]" / "> [!CAUTION]" alert syntax that GitHub and
// GitLab (17.10 and later) render as coloured boxes; older GitLab shows an
// ordinary block quote whose first line reads "[!WARNING]", which still
// says what it is.

// destroyWarning lists every resource destroyed or replaced, stack by
// stack, or as many as budget b allows with the rest counted.
func (c *commenter) destroyWarning(b budget) (block, bool) {
	if c.op == planner.OpDrift {
		return block{}, false
	}
	type doom struct {
		i, del, repl, total int
	}
	// A plan's warning is about what applying it would do; an apply's,
	// about what it did.
	want := planner.StatusChanges
	if c.op == planner.OpApply {
		want = planner.StatusApplied
	}
	var dooms []doom
	var del, repl int
	for _, i := range c.order {
		r := c.s.Stacks[i]
		if r.Status != want {
			continue
		}
		d := doom{i: i}
		for _, ch := range c.doomed[i] {
			if ch.Action == planner.ActionDelete {
				d.del++
			} else {
				d.repl++
			}
		}
		d.del, d.repl = max(d.del, r.Counts.Delete), max(d.repl, r.Counts.Replace)
		d.total = d.del + d.repl
		if d.total == 0 {
			continue
		}
		del += d.del
		repl += d.repl
		dooms = append(dooms, d)
	}
	if len(dooms) == 0 {
		return block{}, false
	}
	verbs := [2]string{"destroys", "replaces"}
	title := "Applying these plans "
	if c.op == planner.OpApply {
		verbs = [2]string{"destroyed", "replaced"}
		title = "This apply "
	}
	switch {
	case del > 0 && repl > 0:
		title += verbs[0] + " " + plural(del, "resource", "resources") + " and " + verbs[1] + " " + num(repl) + "."
	case del > 0:
		title += verbs[0] + " " + plural(del, "resource", "resources") + "."
	default:
		title += verbs[1] + " " + plural(repl, "resource", "resources") + "."
	}
	head := quote("[!WARNING]\n**" + title + "**")
	if b.items == 0 {
		return block{head: head + "\n>\n" + quote("The table shows which stacks; the plans in the artifacts list every resource.")}, true
	}
	left := b.items
	var items []string
	moreRes, moreStacks := 0, 0
	for _, d := range dooms {
		if left == 0 {
			moreRes += d.total
			moreStacks++
			continue
		}
		r := c.s.Stacks[d.i]
		lines := []string{"**" + stackName(r, codeSpan) + "**"}
		shown := c.dooms[d.i][:keep(len(c.dooms[d.i]), left)]
		lines = append(lines, shown...)
		if left > 0 {
			left = max(left-len(shown), 0)
		}
		switch n := d.total - len(shown); {
		case n > 0 && len(shown) == 0:
			lines[0] += ": " + plural(n, "resource", "resources") + ", listed in its plan"
		case n > 0:
			lines = append(lines, "- and "+num(n)+" more")
		}
		items = append(items, quote(strings.Join(lines, "\n")))
	}
	if moreStacks > 0 {
		items = append(items, quote("And "+plural(moreRes, "more resource", "more resources")+" in "+
			plural(moreStacks, "more stack", "more stacks")+": see the table."))
	}
	return block{head: head, items: items, sep: "\n>\n"}, true
}

// doomLine is one list entry of the destroy warning.
func doomLine(ch planner.ResourceChange) string {
	action := "destroy"
	if ch.Action == planner.ActionReplace {
		action = "replace"
	}
	line := "- **" + action + "** " + codeSpan(ch.Address)
	if why := reasonText(ch.Reason); why != "" {
		line += " (" + why + ")"
	}
	return line
}

// reasonText explains Terraform's action_reason in words.
func reasonText(reason string) string {
	switch reason {
	case "":
		return ""
	case "replace_because_tainted":
		return "tainted"
	case "replace_because_cannot_update":
		return "cannot be updated in place"
	case "replace_by_request":
		return "replacement requested"
	case "replace_by_triggers":
		return "replace_triggered_by"
	case "delete_because_no_resource_config":
		return "removed from the configuration"
	case "delete_because_no_module":
		return "its module was removed"
	case "delete_because_wrong_repetition":
		return "count or for_each changed"
	case "delete_because_count_index":
		return "count index out of range"
	case "delete_because_each_key":
		return "for_each key removed"
	case "delete_because_no_move_target":
		return "moved to an address that does not exist"
	}
	return escapeText(strings.ReplaceAll(reason, "_", " "))
}

// problems lists the stacks that failed, were refused or skipped, with
// Terraform's diagnostics, right under the destroy warning.
func (c *commenter) problems(b budget) (block, bool) {
	var idx []int
	counts := map[planner.Status]int{}
	for _, i := range c.order {
		if c.kinds[i].problem() {
			idx = append(idx, i)
			counts[c.s.Stacks[i].Status]++
		}
	}
	if len(idx) == 0 {
		return block{}, false
	}
	var title string
	switch {
	case c.op == planner.OpApply && counts[planner.StatusError] < len(idx):
		var parts []string
		for _, st := range []struct {
			status planner.Status
			phrase string
		}{{planner.StatusError, "failed"}, {planner.StatusRefused, "refused"}, {planner.StatusSkipped, "skipped"}} {
			if n := counts[st.status]; n > 0 {
				parts = append(parts, num(n)+" "+st.phrase)
			}
		}
		title = plural(len(idx), "stack was", "stacks were") + " not applied: " + strings.Join(parts, ", ") + "."
	case c.op == planner.OpApply:
		title = plural(len(idx), "stack", "stacks") + " failed to apply."
	case c.op == planner.OpDrift:
		title = plural(len(idx), "stack", "stacks") + " could not be checked for drift."
	default:
		title = plural(len(idx), "stack", "stacks") + " failed to plan."
	}
	head := quote("[!CAUTION]\n**" + title + "**")
	shown := idx[:keep(len(idx), b.items)]
	items := make([]string, 0, len(shown)+1)
	for _, i := range shown {
		items = append(items, quote(c.problem(i, b)))
	}
	if n := len(idx) - len(shown); n > 0 {
		items = append(items, quote("And "+plural(n, "more stack", "more stacks")+": see the table; their logs are in the artifacts."))
	}
	return block{head: head, items: items, sep: "\n>\n"}, true
}

// problem is one failed, refused or skipped stack: what happened, and
// Terraform's errors in the form Terraform prints them.
func (c *commenter) problem(i int, b budget) string {
	r := c.s.Stacks[i]
	var errs []planner.Diagnostic
	for _, d := range r.Diagnostics {
		if d.Severity == "error" {
			errs = append(errs, d)
		}
	}
	line := "**" + stackName(r, codeSpan) + "** " + c.kinds[i].label
	reason := oneLine(r.Error)
	if reason == "" {
		switch r.Status {
		case planner.StatusRefused:
			reason = "the saved plan cannot be applied"
		case planner.StatusSkipped:
			reason = "a stack it depends on did not apply"
		case planner.StatusError:
			if len(errs) == 0 {
				reason = "without a message; the log is in the artifacts"
			}
		}
	}
	if reason != "" && !(len(errs) > 0 && strings.TrimPrefix(reason, "Error: ") == oneLine(errs[0].Summary)) {
		line += ": " + escapeText(reason)
	}
	if len(errs) == 0 {
		return line
	}
	return line + "\n\n" + codeBlock("", diagnosticLines(errs, b), "")
}

// diagnosticLines prints diagnostics the way Terraform does:
//
//	Error: Reference to undeclared input variable
//
//	  on main.tf line 8
//
//	An input variable with the name "nope" has not been declared.
func diagnosticLines(ds []planner.Diagnostic, b budget) []string {
	shown := ds[:keep(len(ds), max(b.items, 1))]
	if b.items < 0 {
		shown = ds
	}
	var lines []string
	for i, d := range shown {
		if i > 0 {
			lines = append(lines, "")
		}
		sev := "Error"
		if d.Severity != "error" {
			sev = "Warning"
		}
		lines = append(lines, sev+": "+oneLine(d.Summary))
		if rng := oneLine(d.Range); rng != "" {
			lines = append(lines, "", "  on "+rangeText(rng))
		}
		if detail := strings.TrimSpace(d.Detail); detail != "" {
			lines = append(lines, "")
			lines = append(lines, wrap(detail, 78)...)
		}
	}
	if n := len(ds) - len(shown); n > 0 {
		lines = append(lines, "", "… and "+plural(n, "more diagnostic", "more diagnostics")+" in the log")
	}
	return cutLines(cleanLines(strings.Join(lines, "\n")), b.text, "output")
}

// rangeText turns "main.tf:8" into "main.tf line 8", as Terraform says it.
func rangeText(rng string) string {
	i := strings.LastIndexByte(rng, ':')
	if i <= 0 || i == len(rng)-1 || strings.Trim(rng[i+1:], "0123456789") != "" {
		return rng
	}
	return rng[:i] + " line " + rng[i+1:]
}

// wrap breaks prose at width columns the way Terraform wraps diagnostic
// details; lines that start with a space are preformatted and kept.
func wrap(s string, width int) []string {
	var out []string
	for _, para := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		if para == "" || strings.HasPrefix(para, " ") || strings.HasPrefix(para, "\t") {
			out = append(out, strings.TrimRight(para, " \t"))
			continue
		}
		line := ""
		for _, w := range strings.Fields(para) {
			switch {
			case line == "":
				line = w
			case len(line)+1+len(w) > width:
				out = append(out, line)
				line = w
			default:
				line += " " + w
			}
		}
		out = append(out, line)
	}
	return out
}

package comment

import (
	"strconv"
	"strings"

	"github.com/strata-iac/strata/planner"
	"github.com/strata-iac/strata/policy"
)

// The policy checks: a mark per stack in the table, and two blocks right
// under the failures. A failing policy blocks the apply just as a failed
// plan does, so it is shown with the other blockers, above the plans that
// could otherwise push it out of sight: first the failures, in a caution
// box saying what unblocks them, then the warnings, which block nothing.

// DefaultPolicyHint is what the policy failures of a plan say to do when
// Options.PolicyHint is empty.
const DefaultPolicyHint = "A policy owner must comment `strata approve-policies` before these plans can be applied."

// maxMessage is the longest policy message shown, in bytes. Messages are
// written by the policies' authors; one that prints a whole resource must
// not crowd out the rest. summary.json keeps them whole.
const maxMessage = 1_000

// policyEntry is one entry of a policy list: a stack and the messages of
// its rules, or, for the failures, the stacks that share one evaluation
// error and no message (policies that do not compile fail every stack
// alike, and say so once).
type policyEntry struct {
	stacks []int
	msgs   []string // list entries, one per message
	err    string   // why evaluation did not complete
	// failed holds for a stack that fails with neither message nor
	// error, as a Result read from elsewhere may.
	failed bool
}

// policyFails reports whether p blocks the apply.
func policyFails(p *policy.Result) bool {
	return p != nil && (p.Outcome == policy.Fail || p.Error != "" || len(p.Failures) > 0)
}

// policyMark is a stack's cell in the table's Policy column.
func policyMark(p *policy.Result) string {
	switch {
	case p == nil:
		return "—"
	case p.Error != "":
		return "⛔ error"
	case len(p.Failures) > 0:
		return "⛔ " + plural(len(p.Failures), "failure", "failures")
	case p.Outcome == policy.Fail:
		return "⛔ fail"
	case len(p.Warnings) > 0:
		return "⚠️ " + plural(len(p.Warnings), "warning", "warnings")
	}
	return "✅ pass"
}

// policyEntries gathers the failures and the warnings, stacks in table
// order.
func (c *commenter) policyEntries() (fails, warns []policyEntry) {
	shared := map[string]int{} // error → its entry in fails
	for _, i := range c.order {
		p := c.s.Stacks[i].Policy
		if p == nil {
			continue
		}
		if len(p.Warnings) > 0 {
			warns = append(warns, policyEntry{stacks: []int{i}, msgs: messageLines(p.Warnings)})
		}
		if !policyFails(p) {
			continue
		}
		e := policyEntry{stacks: []int{i}, msgs: messageLines(p.Failures), err: strings.TrimSpace(p.Error)}
		e.failed = e.err == "" && len(e.msgs) == 0
		if len(e.msgs) == 0 && e.err != "" {
			if j, ok := shared[e.err]; ok {
				fails[j].stacks = append(fails[j].stacks, i)
				continue
			}
			shared[e.err] = len(fails)
		}
		fails = append(fails, e)
	}
	return fails, warns
}

// messageLines renders messages as list entries the way `strata policy
// test` prints them: "namespace.rule (file:line): message".
func messageLines(ms []policy.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		rule := oneLine(m.Rule)
		if ns := oneLine(m.Namespace); ns != "" {
			rule = ns + "." + rule
		}
		line := "- " + codeSpan(clip(rule, maxShort))
		if file := oneLine(m.File); file != "" {
			loc := clipMiddle(file, maxName)
			if m.Line > 0 {
				loc += ":" + strconv.Itoa(m.Line)
			}
			line += " (" + codeSpan(loc) + ")"
		}
		if msg := escapeText(clip(oneLine(m.Msg), maxMessage)); msg != "" {
			line += ": " + msg
		}
		out[i] = line
	}
	return out
}

// policyStacks counts the stacks of entries.
func policyStacks(entries []policyEntry) int {
	n := 0
	for _, e := range entries {
		n += len(e.stacks)
	}
	return n
}

// policyItems is the longest list the policy blocks hold.
func policyItems(entries []policyEntry) int {
	n := 0
	for _, e := range entries {
		n += len(e.stacks) + len(e.msgs)
	}
	return n
}

// policyFailures is the caution box of the stacks whose policies fail:
// each with its failing rules and their messages, or the error that
// stopped the evaluation; and what to do about it.
func (c *commenter) policyFailures(b budget) (block, bool) {
	if len(c.polFails) == 0 {
		return block{}, false
	}
	title := "**Policy checks fail for " + plural(policyStacks(c.polFails), "stack", "stacks") + ".**"
	if c.op == planner.OpPlan {
		hint := strings.TrimSpace(c.opt.PolicyHint)
		if hint == "" {
			hint = DefaultPolicyHint
		}
		title += " " + hint
	}
	head := quote("[!CAUTION]\n" + title)
	if b.items == 0 {
		return block{head: head + "\n>\n" + quote("The table shows which stacks; summary.json lists every message.")}, true
	}
	items, more := c.policyList(c.polFails, b)
	if more > 0 {
		items = append(items, "And "+plural(more, "more stack", "more stacks")+": see the table; summary.json lists every message.")
	}
	for k, it := range items {
		items[k] = quote(it)
	}
	return block{head: head, items: items, sep: "\n>\n"}, true
}

// policyWarnings lists the messages of the warn rules, stack by stack.
func (c *commenter) policyWarnings(b budget) (block, bool) {
	if len(c.polWarns) == 0 {
		return block{}, false
	}
	head := "⚠️ **Policy warnings:** these do not block the apply."
	if b.items == 0 {
		n := 0
		for _, e := range c.polWarns {
			n += len(e.msgs)
		}
		return block{head: head + " " + plural(n, "warning", "warnings") + " in " +
			plural(len(c.polWarns), "stack", "stacks") + ": the table shows which; summary.json lists every message."}, true
	}
	items, more := c.policyList(c.polWarns, b)
	if more > 0 {
		items = append(items, "And "+plural(more, "more stack", "more stacks")+" with warnings: see the table.")
	}
	return block{head: head, items: items, sep: "\n\n"}, true
}

// policyList renders entries within budget b: stack names and messages
// share b.items, and the stacks left over are counted.
func (c *commenter) policyList(entries []policyEntry, b budget) (items []string, more int) {
	left := b.items
	take := func(n int) int {
		k := keep(n, left)
		if left > 0 {
			left = max(left-k, 0)
		}
		return k
	}
	for _, e := range entries {
		if left == 0 {
			more += len(e.stacks)
			continue
		}
		names := e.stacks[:take(len(e.stacks))]
		parts := make([]string, len(names))
		for k, i := range names {
			parts[k] = "**" + stackName(c.s.Stacks[i], codeSpan) + "**"
		}
		line := strings.Join(parts, ", ")
		if n := len(e.stacks) - len(names); n > 0 {
			line += " and " + plural(n, "more stack", "more stacks")
		}
		var what []string
		counted := len(e.msgs) > 0 && left == 0
		if counted {
			what = append(what, plural(len(e.msgs), "message", "messages")+" in summary.json")
		}
		switch {
		case e.err != "" && len(e.msgs) > 0:
			what = append(what, "the evaluation stopped early")
		case e.err != "":
			what = append(what, "the policies could not be evaluated")
		case e.failed:
			what = append(what, "the policies failed without a message")
		}
		if len(what) > 0 {
			line += ": " + strings.Join(what, "; ") + "."
		}
		lines := []string{line}
		if !counted {
			shown := e.msgs[:take(len(e.msgs))]
			lines = append(lines, shown...)
			if n := len(e.msgs) - len(shown); n > 0 {
				lines = append(lines, "- and "+num(n)+" more in summary.json")
			}
		}
		text := strings.Join(lines, "\n")
		if e.err != "" {
			text += "\n\n" + codeBlock("", cutLines(cleanLines(e.err), b.text, "error"), "")
		}
		items = append(items, text)
	}
	return items, more
}

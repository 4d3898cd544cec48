package comment

import (
	"fmt"
	"slices"
	"strings"

	"github.com/strata-iac/strata/planner"
)

// Steps say, in the caller's words, how to do what a run's outcome calls
// for next; Render picks the one that fits, so a run where every stack
// failed never reads "apply these plans". Markdown, trusted. An empty
// field gets its default.
type Steps struct {
	// Apply says how to apply plans that have changes and nothing
	// against them, e.g. "Merge this merge request to apply these
	// plans." Default DefaultApplyStep.
	Apply string
	// Replan says how to plan again once a failure is fixed, as the end
	// of a sentence, e.g. "run `strata plan` again." Default
	// DefaultReplanStep.
	Replan string
}

// Defaults of Steps, in the words of a merge request served by strata.
const (
	DefaultApplyStep  = "Comment `strata apply` to apply these plans."
	DefaultReplanStep = "push the fix (strata plans every new commit), or comment `strata plan` to plan again."
)

// maxNamed is how many stacks a next step names before it counts the rest.
const maxNamed = 3

// nextStep is the last line: what the reader can do now. Options.Next,
// when set, is all of it; else it follows from the outcome.
func (c *commenter) nextStep() string {
	if next := strings.TrimSpace(c.opt.Next); next != "" {
		return "**Next:** " + next
	}
	return "**Next:** " + c.defaultStep()
}

func (c *commenter) defaultStep() string {
	apply := cmpOr(c.opt.Steps.Apply, DefaultApplyStep)
	replan := cmpOr(c.opt.Steps.Replan, DefaultReplanStep)
	problems, _ := c.named(kind.problem)
	changed, _ := c.named(func(k kind) bool { return k.rank == rankChanged })
	locked, nLocked := c.named(func(k kind) bool { return k.rank == rankLocked })
	switch c.op {
	case planner.OpApply:
		if problems != "" {
			return "Fix what kept " + problems + " from applying, then " + replan + " Apply the new plans once they are reviewed."
		}
		return "Nothing: every plan is applied."
	case planner.OpDrift:
		if changed != "" {
			return "Bring " + changed + " back in line through a merge request, reviewed like any other change: change the code " +
				"to describe what is real, or open a merge request that touches the stack and comment `strata plan -s DIR` on it " +
				"to plan undoing the drift, then apply it as usual."
		}
		if problems != "" {
			return "Fix " + problems + " so drift can be checked."
		}
		return "Nothing: no drift."
	}
	switch {
	case len(c.s.Stacks) == 0:
		return "Nothing to do: this change touches no stack."
	case problems != "" && changed == "":
		return "Fix " + problems + ", then " + replan
	case problems != "":
		return "Fix " + problems + ", then " + replan + " Applying before that leaves " + problems + " out."
	case changed != "" && len(c.polFails) > 0:
		return cmpOr(strings.TrimSpace(c.opt.PolicyHint), DefaultPolicyHint) + " Then: " + apply
	case changed != "" && locked != "":
		return apply + " " + c.lockedStep(locked, nLocked)
	case changed != "":
		return apply
	case locked != "":
		return c.lockedStep(locked, nLocked)
	}
	return "Nothing to apply: no stack would change."
}

// lockedStep says how to plan the stacks other merge requests hold.
func (c *commenter) lockedStep(locked string, n int) string {
	var holders []string
	for _, i := range c.order {
		if r := c.s.Stacks[i]; r.Status == planner.StatusLocked && r.LockedBy != "" {
			if h := mrRef(r.LockedBy); !slices.Contains(holders, h) {
				holders = append(holders, h)
			}
		}
	}
	verb, it := "are", "them"
	if n == 1 {
		verb, it = "is", "it"
	}
	switch len(holders) {
	case 0:
		return fmt.Sprintf("%s %s held by another merge request: once it is merged or closed, comment `strata plan` to plan %s.", locked, verb, it)
	case 1:
		return fmt.Sprintf("%s %s held by %s: once that merge request is merged or closed, comment `strata plan` to plan %s.", locked, verb, holders[0], it)
	}
	return fmt.Sprintf("%s %s held by %s: once those merge requests are merged or closed, comment `strata plan` to plan %s.",
		locked, verb, strings.Join(holders, ", "), it)
}

// named lists the stacks whose kind matches, in the comment's order, as
// "`a`, `b` and `c`", or with "and N more" past maxNamed ("" for none),
// and counts them.
func (c *commenter) named(match func(kind) bool) (string, int) {
	var names []string
	for _, i := range c.order {
		if match(c.kinds[i]) {
			names = append(names, stackName(c.s.Stacks[i], codeSpan))
		}
	}
	switch n := len(names); {
	case n == 0:
		return "", 0
	case n == 1:
		return names[0], 1
	case n <= maxNamed:
		return strings.Join(names[:n-1], ", ") + " and " + names[n-1], n
	default:
		return strings.Join(names[:maxNamed], ", ") + " and " + plural(n-maxNamed, "more stack", "more stacks"), n
	}
}

func cmpOr(s, def string) string {
	if s = strings.TrimSpace(s); s != "" {
		return s
	}
	return def
}

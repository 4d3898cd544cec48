package comment

import (
	"slices"
	"strconv"
	"strings"

	"github.com/strata-iac/strata/planner"
)

// Comment size limits of the forges, in characters.
const (
	GitHubLimit = 65_536
	GitLabLimit = 1_000_000
)

// DefaultMarker is the marker used when Options.Marker is empty.
const DefaultMarker = "<!-- strata -->"

// Options shape the merge-request comment.
type Options struct {
	// MaxSize is the forge's limit on one comment (GitHubLimit,
	// GitLabLimit); 0 means unlimited. Sizes are counted in bytes,
	// which is never less than the forge's count of characters.
	MaxSize int
	// Marker is a hidden HTML comment placed first in every body, so the
	// server finds its comment again and edits it in place. Continuation
	// bodies carry PartMarker(Marker, n). Empty: DefaultMarker.
	Marker string
	// Title opens the heading, e.g. "strata plan" (the default) or
	// "strata plan · infra/live". Markdown, trusted, one line.
	Title string
	// Next, when set, is the whole next step, whatever the outcome: for a
	// caller that knows it (the result of an apply). Markdown, trusted.
	// Empty: the step the outcome calls for, in the words of Steps.
	Next string
	// Steps are the caller's words for each next step the outcome may
	// call for (see Steps).
	Steps Steps
	// ArtifactsURL, when set, is where the pointers to the full plans link.
	ArtifactsURL string
	// PolicyHint says how a plan whose policies fail can still be applied;
	// it follows the title of the policy failures. Markdown, trusted.
	// Empty: DefaultPolicyHint.
	PolicyHint string
	// PartialHint says how a partial plan (made with -target) is applied.
	// Markdown, trusted. Empty: DefaultPartialHint.
	PartialHint string
}

// RenderComment renders a run over many stacks as one or more comment bodies
// in GitLab/GitHub-flavoured markdown, in this order: a heading, the summary
// table (one row per stack, always), a warning listing every resource to be
// destroyed or replaced, a note on partial plans (-target), the failures with Terraform's diagnostics, the
// policy failures and warnings, one collapsible section per stack with its
// plan, locked and removed stacks, warnings, and the next step.
//
// When the comment is larger than opt.MaxSize it is compacted step by step
// until it fits: the longest plans keep only their head and tail, then long
// resource lists become counts, then the largest plans are left out with a
// pointer to the artifacts. Only when even that is too large is it split
// over several bodies, the first holding as much of the table as fits.
// Every body is at most opt.MaxSize bytes. The output depends only on s and
// opt.
func Render(s planner.Summary, opt Options) []string {
	c := newCommenter(s, opt)
	if opt.MaxSize <= 0 {
		return []string{c.single(c.blocks(fullBudget))}
	}
	b, n := c.fit()
	blocks := c.blocks(b)
	if one := c.single(blocks); n == 1 && len(one) <= opt.MaxSize {
		return []string{one}
	}
	parts, _ := c.pack(blocks)
	return c.assemble(parts)
}

// PartMarker is the marker of body n (counting from 1) of a comment whose
// first body carries marker: "<!-- strata:plan -->" becomes
// "<!-- strata:plan part 2 -->" for n = 2, and stays itself for n = 1.
func PartMarker(marker string, n int) string {
	m := normalizeMarker(marker)
	if n <= 1 {
		return m
	}
	inner := strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(m, "<!--"), "-->"))
	return "<!-- " + inner + " part " + strconv.Itoa(n) + " -->"
}

// normalizeMarker makes marker a single-line HTML comment.
func normalizeMarker(marker string) string {
	m := oneLine(marker)
	if m == "" {
		return DefaultMarker
	}
	if strings.HasPrefix(m, "<!--") && strings.HasSuffix(m, "-->") &&
		!strings.Contains(m[4:len(m)-3], "--") {
		return m
	}
	m = strings.TrimSuffix(strings.TrimPrefix(m, "<!--"), "-->")
	for strings.Contains(m, "--") {
		m = strings.ReplaceAll(m, "--", "-")
	}
	return "<!-- " + strings.TrimSpace(m) + " -->"
}

// commenter renders one Summary. What does not depend on the compaction
// budget is computed once.
type commenter struct {
	s      planner.Summary
	opt    Options
	op     planner.Operation
	marker string
	title  string
	kinds  []kind
	// order is the order stacks are shown in: failures and changes first,
	// unchanged stacks last, the run's order within each.
	order  []int
	plans  [][]string                 // per stack: plan lines for the diff block
	doomed [][]planner.ResourceChange // per stack: resources destroyed or replaced
	dooms  [][]string                 // per stack: the warning's line for each
	// bySize lists the stacks that get a section in the order they are
	// left out when the comment is too large: largest plan first, plans
	// that destroy something last.
	bySize   []int
	maxItems int // the longest list in the comment
	head     string
	table    block

	// polFails and polWarns are the policy failures and warnings.
	polFails, polWarns []policyEntry
}

func newCommenter(s planner.Summary, opt Options) *commenter {
	c := &commenter{s: s, opt: opt, op: s.Operation, marker: normalizeMarker(opt.Marker)}
	if c.op == "" {
		c.op = planner.OpPlan
	}
	c.title = clip(oneLine(opt.Title), maxName)
	if c.title == "" {
		c.title = "strata " + escapeText(string(c.op))
	}
	c.kinds = make([]kind, len(s.Stacks))
	c.plans = make([][]string, len(s.Stacks))
	c.doomed = make([][]planner.ResourceChange, len(s.Stacks))
	c.dooms = make([][]string, len(s.Stacks))
	c.maxItems = max(len(s.Deleted), len(s.Warnings))
	total := 0
	for i, r := range s.Stacks {
		c.kinds[i] = c.kindOf(r)
		c.plans[i] = planLines(r.PlanText)
		c.doomed[i] = doomed(r)
		for _, ch := range c.doomed[i] {
			c.dooms[i] = append(c.dooms[i], doomLine(ch))
		}
		total += len(c.doomed[i])
		c.maxItems = max(c.maxItems, len(r.Diagnostics), len(r.Drift))
	}
	for i := range s.Stacks {
		if c.hasSection(i) {
			c.bySize = append(c.bySize, i)
		}
	}
	c.order = make([]int, len(s.Stacks))
	for i := range c.order {
		c.order[i] = i
	}
	slices.SortStableFunc(c.order, func(a, b int) int { return c.kinds[a].rank - c.kinds[b].rank })
	c.polFails, c.polWarns = c.policyEntries()
	c.maxItems = max(c.maxItems, total, len(s.Stacks), policyItems(c.polFails), policyItems(c.polWarns))
	slices.SortStableFunc(c.bySize, func(a, b int) int {
		da, db := len(c.doomed[a]) > 0, len(c.doomed[b]) > 0
		if da != db {
			if da {
				return 1
			}
			return -1
		}
		return size(c.plans[b]) - size(c.plans[a])
	})
	c.head = c.heading()
	c.table = c.summaryTable()
	return c
}

// doomed lists the resources r destroys or replaces, by address.
func doomed(r planner.Result) []planner.ResourceChange {
	var out []planner.ResourceChange
	for _, ch := range r.Changes {
		if ch.Action == planner.ActionDelete || ch.Action == planner.ActionReplace {
			out = append(out, ch)
		}
	}
	slices.SortStableFunc(out, func(a, b planner.ResourceChange) int {
		return strings.Compare(a.Address, b.Address)
	})
	return out
}

// blocks lays out the whole comment at budget b.
func (c *commenter) blocks(b budget) []block {
	dropped := make(map[int]bool, b.drop)
	for _, i := range c.bySize[:min(b.drop, len(c.bySize))] {
		dropped[i] = true
	}
	out := []block{{head: c.head}, c.table}
	if w, ok := c.destroyWarning(b); ok {
		out = append(out, w)
	}
	if p, ok := c.partialNote(b); ok {
		out = append(out, p)
	}
	if p, ok := c.problems(b); ok {
		out = append(out, p)
	}
	if p, ok := c.policyFailures(b); ok {
		out = append(out, p)
	}
	if p, ok := c.policyWarnings(b); ok {
		out = append(out, p)
	}
	for _, i := range c.order {
		if c.hasSection(i) && !dropped[i] {
			out = append(out, block{head: c.section(i, b)})
		}
	}
	for _, s := range []string{
		c.droppedNote(dropped),
		c.lockedList(b),
		c.deletedList(b),
		c.warningList(b),
		c.nextStep(),
	} {
		if s != "" {
			out = append(out, block{head: s})
		}
	}
	return out
}

// Package comment renders a planner.Summary as the merge-request comment:
// a heading, the summary table (one row per stack, always), a warning
// listing every resource to be destroyed or replaced, the failures with
// Terraform's diagnostics, the policy failures and warnings, one
// collapsible section per stack with its plan, locked and removed stacks,
// warnings, and the next step. Render fits it within a forge's limit,
// compacting before it splits.
//
// Decisions:
//   - Everything that comes from a Summary (plans, addresses, errors,
//     policy messages) is rendered inert: it cannot break out of its
//     block, start markup or mention anyone (md.go). Options.Title,
//     Options.Next, Options.Steps and Options.PolicyHint are the
//     caller's markdown, trusted.
//   - The next step follows from the outcome (every stack failed, some
//     did, none touched, locked, policies failing, drift, an apply's
//     result; next.go): the caller gives only its words for applying and
//     for planning again (Options.Steps), so a run where everything failed
//     never says to apply. Options.Next replaces it whole, for callers
//     that know it.
//   - User and Terraform text is inert: markdown and HTML are escaped, and
//     mentions and GitLab references (#12, !12, %m, &e, $s, ~l) are
//     broken with a word joiner. Lock holders strata made (!12) stay links.
//   - The output depends only on the Summary and the Options, so goldens
//     under testdata/ pin every situation.
//   - Stacks are named as users write them: DIR, or DIR@WORKSPACE for an
//     instance of another workspace than the default.
//   - Partial plans (made with -target) get a note right after the destroy
//     warning, with their targets and how they get applied
//     (Options.PartialHint), since a reviewer must know that part of the
//     change was not planned before reading the plans.
//
// The package knows nothing of forges: the caller gives the size limit
// and the marker its forge needs.
package comment

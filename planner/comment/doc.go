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
//     Options.Next and Options.PolicyHint are the caller's markdown,
//     trusted.
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

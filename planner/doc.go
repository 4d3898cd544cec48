// Package planner runs Terraform for one stack at one commit and turns the
// result into something a reviewer can trust: counts per action, the
// addresses behind them, diagnostics, the plan text, the plan file and its
// checksum. It also renders the merge-request comment.
//
// The planner knows nothing of forges, locks or servers; it is given a
// commit and a list of stacks, and reports results.
package planner

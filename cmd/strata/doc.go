// Package main is the strata command: the CLI and the server entry point.
// It parses flags, wires packages together and maps errors to exit codes;
// it holds no business logic.
//
// Decisions:
//   - strata server serves each forge it has credentials for (forges.go):
//     GitLab with a GitLab token, GitHub with a GitHub token or App, both
//     at once; each needs its webhook secret, and a GitHub token and App
//     together are refused rather than one silently preferred.
package main

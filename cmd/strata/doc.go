// Package main is the strata command: the CLI and the server entry point.
// It parses flags, wires packages together and maps errors to exit codes;
// it holds no business logic.
//
// Decisions:
//   - strata server serves each forge it has credentials for (forges.go):
//     GitLab with a GitLab token, GitHub with a GitHub token or App, both
//     at once; each needs its webhook secret, and a GitHub token and App
//     together are refused rather than one silently preferred.
//   - strata server first moves its secrets out of the environment other
//     processes can read (package internal/secretenv, which re-executes it
//     in place), then marks itself non-dumpable, checks the sandbox
//     (--sandbox required by default) and builds one redactor that every
//     forge call, stored object and log line goes through. The CLI
//     commands sandbox terraform where they can (--sandbox auto).
//   - Every command runs with umask 077: what strata and its terraform
//     write (state files above all) is its user's alone.
//   - STRATA_PLAN_ENV_* and STRATA_APPLY_ENV_* are terraform's
//     per-operation environment; they are prefixes, not flags, so a
//     Kubernetes Secret maps onto them with envFrom's prefix.
package main

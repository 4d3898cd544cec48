// Package tf starts terraform (or OpenTofu) for the planner: it finds the
// binary that fits the version constraints (installing a release with
// hc-install when allowed), builds terraform's environment and CLI
// config, guards the shared provider plugin cache, runs one command per
// method of Terraform (one file per command, ctx first, as
// terraform-exec's tfexec lays them out) and reads terraform's
// diagnostics. It knows nothing of stacks, plans or results.
//
// Decisions:
//   - Processes: strata starts terraform itself rather than through
//     terraform-exec, whose SetEnv refuses TF_INPUT, TF_VAR_* and
//     TF_CLI_ARGS*, and which otherwise hands terraform strata's whole
//     environment, STRATA_* secrets included. It keeps tfexec's
//     cancellation: one SIGINT when the context ends, a kill only after a
//     grace period, terraform in a process group of its own so a Ctrl-C in
//     the terminal is not delivered twice (a second interrupt makes
//     terraform quit at once and leave its state lock behind).
//   - Platforms: on Linux the kernel also sends terraform SIGTERM when
//     strata dies (process_linux.go). Other Unix systems have process
//     groups but no parent-death signal, so a terraform whose strata dies
//     runs on to its end. Elsewhere (Windows) terraform shares strata's
//     console, an interrupt falls back to a kill, and what it started is
//     not killed with it: there terraform processes are less well isolated.
//   - Environment: the parent's minus STRATA_* and the TF_* variables that
//     would override strata's choices (CLI config, logging, extra
//     arguments, data dir, workspace); TF_VAR_*, TF_TOKEN_* and cloud
//     credentials pass through. strata writes its own CLI config (plugin
//     cache, no update check), so a TF_CLI_CONFIG_FILE naming a missing
//     file never produces a warning. Each run has its own TF_DATA_DIR.
//   - Plugin cache: terraform init writes into it without locking, so init
//     holds an exclusive file lock on CACHE/plugins.lock (package
//     internal/flock); the kernel drops the lock with its holder, and it
//     works across processes.
//   - Errors of FindBinary are permanent (package internal/fault) when only
//     other constraints or another machine can help, transient when a
//     download failed.
//   - Diagnostics: init (Terraform ≥ 1.9, OpenTofu ≥ 1.7), plan and apply
//     run with -json, and ReadJSONUI reads their errors and warnings from
//     the machine-readable UI, whose shape both tools keep stable across
//     versions, where the text wraps and words differ. SplitDiagnostics
//     reads the text of the commands without -json (workspace select,
//     show, older inits) and what terraform writes to stderr before its UI
//     starts.
package tf

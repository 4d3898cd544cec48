// Package planner runs Terraform for one stack at one commit and turns the
// result into something a reviewer can trust: counts per action, the
// addresses behind them, diagnostics, the plan text, the plan file and its
// checksum. It also renders the merge-request comment.
//
// The planner knows nothing of forges, locks or servers; it is given a
// commit and a list of stacks, and reports results.
//
// Decisions behind the Terraform runs:
//   - Processes: strata starts terraform itself rather than through
//     terraform-exec, whose SetEnv refuses TF_INPUT, TF_VAR_* and
//     TF_CLI_ARGS*, and which otherwise hands terraform strata's whole
//     environment, STRATA_* secrets included. strata keeps tfexec's
//     cancellation (exec.go): one SIGINT when the context ends, a kill only
//     after a grace period, terraform in a process group of its own so a
//     Ctrl-C in the terminal is not delivered twice (a second interrupt makes
//     terraform quit at once and leave its state lock behind).
//   - Environment: the parent's minus STRATA_* and the TF_* variables that
//     would override strata's choices (CLI config, logging, extra arguments,
//     data dir, workspace); TF_VAR_*, TF_TOKEN_* and cloud credentials pass
//     through. strata writes its own CLI config (plugin cache, no update
//     check) under the cache dir, so a TF_CLI_CONFIG_FILE naming a missing
//     file never produces a warning. Each run has its own TF_DATA_DIR.
//   - Plugin cache: one per cache dir, shared by every run and every strata
//     process. terraform init writes into it without locking, so init holds
//     an exclusive flock(2) on CACHE/plugins.lock; the kernel drops the lock
//     with its holder, and it works across processes. A stack that provably
//     needs only the built-in terraform provider (terraform_data, …), in
//     itself and its local modules, installs nothing and skips the lock, so
//     such inits stay parallel. plan, show and apply never take it.
//   - State: a stack without a backend or cloud block gets strata_backend.tf,
//     an ordinary file rather than an *_override.tf: an override would
//     silently replace a backend the detection missed, whereas an ordinary
//     file makes terraform fail with "Duplicate backend configuration".
//     backend.s3 arguments go to init as a -backend-config file, without
//     those the stack's own s3 block sets.
//   - Output: terraform runs with -no-color and its diagnostics are read from
//     the text (errors on stderr, warnings after the plan). The plan text is
//     plan's own output without its refresh lines, not a `terraform show` of
//     the plan file, which would load every provider's schema once more;
//     show -json of the plan file gives the counts and the plan JSON.
package planner

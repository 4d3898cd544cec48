// Package tf starts terraform (or OpenTofu) for the planner: it finds the
// binary that fits the version constraints (installing a release with
// hc-install when allowed), builds terraform's environment and CLI
// config, runs every terraform process in a bubblewrap sandbox, guards
// the shared provider plugin cache, runs one command per
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
//   - Output: a command's output is kept whole (Output) and, with
//     Options.Observe, also passed on line by line as terraform prints
//     it, for progress reports; show -json's data is not observed.
//   - Platforms: on Linux the kernel also sends terraform SIGTERM when
//     strata dies (process_linux.go); in the sandbox it goes to bwrap, and
//     terraform dies with it at once. Other Unix systems have process
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
//   - Sandbox: bubblewrap (bwrap) rather than namespaces built here: it is
//     packaged everywhere, audited, and sets up a user namespace, the
//     mounts and a fresh /proc as an unprivileged process can; building
//     the same by hand means re-executing strata as a setup helper for
//     every terraform. Each process gets new user, PID, mount and IPC
//     namespaces, --cap-drop ALL, --new-session (no terminal to inject
//     into), --die-with-parent, the system directories and a few /etc
//     files read-only, a private /tmp, a generated /etc/passwd and
//     /etc/group of the one user, and the Mounts its caller lists; the
//     network is left as it is. --as-pid-1 makes terraform PID 1 of its
//     namespace: whatever it leaves behind dies with it, bwrap's --info-fd
//     gives its PID, so an interrupt reaches terraform itself (bwrap
//     forwards no signal), and bwrap waits for it, so its CPU time counts
//     as strata's children's (without it bwrap's init waits for terraform
//     and bwrap exits first: the time is lost to rusage and benchmarks). NewSandbox runs one sandbox once
//     (bwrap --version inside it) before any terraform does.
//   - Plugin cache in the sandbox: init gets it read-write while it holds
//     the cache's lock (installing providers is what it writes), plan,
//     show and apply read-only. init runs no code of the stack (it
//     downloads and checks providers and modules; providers first run at
//     plan), so code from a merge request never runs with the shared cache
//     writable, and a cache entry is only ever written by an init that
//     verified it.
//   - CLI config: always an explicit provider_installation block (direct
//     {} unless one is given), so terraform never uses an implied local
//     mirror such as a terraform.d/plugins directory committed in a stack.
//     The operator's own file (TF_CLI_CONFIG_FILE, else ~/.terraformrc) is
//     read with HCL 1, as terraform reads it (so one-line blocks and JSON
//     files work as they do for terraform), and its provider_installation,
//     credentials, credentials_helper and host blocks are merged in; the
//     settings strata owns are left out, and anything else (dev_overrides,
//     unknown settings, a relative filesystem_mirror path) is an error
//     naming the file and line, never silently dropped. The file is 0600:
//     it may hold tokens.
//   - Per-operation environment: Overlay sets a plan's or an apply's
//     variables over the common environment (an empty value removes one),
//     never those strata owns. CredentialFiles lists the files the cloud
//     SDKs read that the environment names, for the sandbox to show.
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

// Package planner runs Terraform for stacks at a commit and turns the
// result into something a reviewer can trust: counts per action, the
// addresses behind them, diagnostics, the plan text, the plan file and its
// checksum. Session selects stacks (a change set, named stacks, all),
// exports the commit into a throwaway workspace, plans, applies and judges
// drift; Runner runs the stacks of one workspace, in parallel.
//
// The planner knows nothing of forges, locks or servers; it is given a
// commit and a list of stacks, and reports results. Starting terraform
// (environment, binary, sandbox, provider cache, diagnostics) is package
// planner/tf's; rendering a Summary as a merge-request comment is
// planner/comment's.
//
// Decisions:
//   - Plugin cache: one per cache dir, shared by every run and every strata
//     process (tf.PluginCache). A stack that provably needs only the
//     built-in terraform provider (terraform_data, …), in itself and its
//     local modules, installs nothing and skips the cache lock, so such
//     inits stay parallel. plan, show and apply never take it.
//   - State: a stack without a backend or cloud block gets strata_backend.tf,
//     an ordinary file rather than an *_override.tf: an override would
//     silently replace a backend the detection missed, whereas an ordinary
//     file makes terraform fail with "Duplicate backend configuration".
//     backend.s3 arguments go to init as a -backend-config file, without
//     those the stack's own s3 block sets.
//   - Output: diagnostics are read from terraform's text (errors on stderr,
//     warnings after the plan). The plan text is plan's own output without
//     its refresh lines, not a `terraform show` of the plan file, which
//     would load every provider's schema once more; show -json of the plan
//     file gives the counts and the plan JSON.
//   - Workspaces: DATA_DIR/work/<sha12>-*/ holds the commit's tree (src/),
//     the runs' scratch directories (runs/: terraform's data dir, the plan
//     file) and a lock file held while the workspace is in use.
//     SweepWorkspaces removes, at start-up, whatever a process that died
//     left there, and never a workspace another live process holds.
//   - Live output: a LiveLog in the context (WithLiveLog) receives each
//     stack's terraform output as terraform prints it (the server's run
//     logs), besides Result.Log, which holds it once the run ended. The
//     context carries it so that every way of planning and applying
//     passes it on without a parameter of its own.
//   - Verification (Verify): after an apply, the applied stacks are
//     planned again at the same commit, without policies and without
//     saving; a stack whose new plan still changes something did not
//     converge, most often because of a perpetual diff.
//   - Errors: what a Selection cannot resolve (an unknown ref, a broken
//     strata.yaml, a directory that is not a stack) is permanent in package
//     internal/fault's terms; the caller tells the user instead of retrying.
package planner

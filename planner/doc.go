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
//   - Output: diagnostics come from terraform's machine-readable UI (plan
//     and apply with -json, package planner/tf). With -json, plan prints
//     no diff, so the plan text is `terraform show` of the plan file: one
//     more process, which loads the providers' schemas again, as the show
//     -json that gives the counts and the plan JSON does. Measured: about
//     0.15 CPU-s on a trivial stack (BenchmarkPlanAll's cpu-ratio went
//     from 1.7 to 2.1), about 6 CPU-s on a stack with the AWS provider.
//     The two shows of a plan with changes run at once, so the text costs
//     wall time only where no core is free. A plan that changes nothing
//     and saw nothing change outside Terraform skips it: nothing would
//     show its text, which is the UI's summary line instead. Rendering the
//     text from the plan JSON instead would be cheaper but would not be
//     terraform's text, which reviewers know.
//   - Instances: a Job is one stack instance (directory and workspace)
//     with its var files, env, extra arguments and targets; a var file
//     missing from the commit fails that instance only, naming the file.
//     Instances of one directory share its local state directory, where
//     terraform keeps each workspace's state apart (terraform.tfstate.d/).
//     In the --out layout an instance of a non-default workspace is
//     DIR@WORKSPACE/. Result.Env masks the values of names that look
//     secret, though strata.yaml's env is meant for values that are not.
//   - Applies: ApplyPlanned starts an instance as soon as every planned
//     instance it depends on is done, at most Parallel at once; one that
//     was not applied skips its dependents only. This is at least as fast
//     as layer by layer, since a slow stack holds back only what depends
//     on it. A partial plan (made with -target) is refused unless the
//     caller says its stack was named (Allow.Partial).
//   - Workspaces: DATA_DIR/work/<sha12>-*/ holds the commit's tree (src/),
//     the runs' scratch directories (runs/: terraform's data dir, the plan
//     file) and a lock file held while the workspace is in use.
//     SweepWorkspaces removes, at start-up, whatever a process that died
//     left there, and never a workspace another live process holds.
//   - Progress: terraform's standard output is streamed to the run's Watch
//     line by line (tf.Options.Observe) as well as kept whole, so a long
//     plan or apply reports every 10 s on a terminal (30 s in a log) how
//     long it has run and the last resource line terraform printed. Quiet
//     keeps only failures and the run's result line.
//   - Interrupted applies: an apply cut short (timeout, cancellation) is
//     followed by a look at what terraform left (settle.go): the resources
//     its output shows unfinished, those the state marks tainted, and its
//     state lock, released with terraform force-unlock only when it is the
//     one the interrupted apply took (an apply's, this user@host's, this
//     terraform version's, taken since the apply began). Runner.Settle and
//     Session.SettleApplies do the same afterwards, for an apply a crash of
//     strata hid. The probe is a plan that neither refreshes nor waits for
//     the lock, the one command that names a lock's holder on every
//     backend.
//   - Confinement: each run's terraform sees, in the sandbox, the commit's
//     tree read-only, its stack's directory, its scratch directory and its
//     stack's local state read-write, and the Runner's shared files (plugin
//     cache, CLI config, operator mirrors, credential files) read-only;
//     nothing else of the data dir (confine.go). A stack directory that
//     symlinks lead out of the tree is refused: it would be shown
//     read-write. No path the repository names is ever shown.
//   - Environments: plans (and drift) get PlanEnv over the common
//     environment, applies ApplyEnv, so plan-only and apply credentials
//     differ.
//   - Redaction: every result is masked (package internal/redact) before
//     it leaves the Runner: the texts, diagnostics, addresses and plan
//     JSON, with the secrets given, the secret-looking values of the
//     environments and the CLI config's tokens. The plan file is not: the
//     apply needs it byte for byte.
//   - Private files: DATA_DIR/work and DATA_DIR/state are made 0700, each
//     stack's state directory too, and what terraform wrote there 0600 after
//     every run, whatever the data dir's mode was.
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

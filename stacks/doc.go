// Package stacks analyses a Terraform monorepo held in git: it reads
// strata.yaml, discovers stacks (root modules) and the local modules they
// call, diffs two commits and computes the change set: which stacks a change
// touches, why, and in which order they must run.
//
// Everything is read from git's object database through go-git, never from
// a working tree, so the same code runs on a laptop clone and on the bare
// mirror the server keeps. The package starts no process and touches no
// network.
//
// Decisions the design left open:
//   - A changed path belongs to the deepest directory holding .tf files that
//     contains it, so a file under modules/vpc/templates/ changes the module
//     modules/vpc, and a file in a nested stack changes only that stack.
//   - ignore_changes globs are matched against the path relative to the
//     stack's directory; watch globs against the repo-relative path.
//   - A directory whose HCL does not parse keeps its place in discovery, and
//     any stack that is, or calls, such a directory is affected whenever any
//     local module changes (over-planning is safe, under-planning is not).
//   - Parsed module calls are cached per git blob under
//     $XDG_CACHE_HOME/strata; a corrupt or old cache file is ignored.
//   - Stack instances (instances.go; checks in instancecheck.go): an entry listing workspaces is one
//     Stack per workspace, named DIR@WORKSPACE (DIR alone for the default
//     workspace). A workspace name must pass terraform's check (unchanged
//     by URL path escaping) and hold no "@", the separator. A directory is
//     still listed once; per-instance differences come from templates
//     over .Dir and .Workspace in var_files and extra_args.
//   - depends_on: DIR@WORKSPACE is that instance; DIR is DIR's instance in
//     the dependent's own workspace when DIR has one (live/app@prod after
//     live/network@prod), else every instance of DIR.
//   - Var files (var_files, and -var-file in extra_args) are inputs of
//     their instance: a change affects that instance alone (rule 3), even
//     when the file lies in the stack's directory, and Inputs records
//     their blob hashes so apply refuses a plan whose variables changed.
//   - Rule 4 compares strata.yaml entries instance by instance; an
//     instance the merge base had and head no longer lists is deleted.
//   - extra_args are checked against an allowlist at load (-var,
//     -var-file, -target, -refresh=false, -parallelism, -lock-timeout),
//     per command where terraform takes them, and rendered as
//     "-flag=value". env may not set what strata owns (EnvOwned, kept in
//     step with planner/tf/env.go by a test there).
package stacks

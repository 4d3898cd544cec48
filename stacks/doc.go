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
//   - Schedules (schedule.go): the cron library panics on a time zone
//     prefix with nothing after it, so ParseSchedule reads the prefix
//     itself and calls the library under a guard; a schedule with no time
//     to fire is an error, as a drift loop on it would spin.
//   - Parsed module calls are cached per git blob under
//     $XDG_CACHE_HOME/strata; a corrupt or old cache file is ignored.
package stacks

// Package stacks analyses a Terraform monorepo held in git: it reads
// strata.yaml, discovers stacks (root modules) and the local modules they
// call, diffs two commits and computes the change set: which stacks a change
// touches, why, and in which order they must run.
//
// Everything is read from git's object database through go-git, never from
// a working tree, so the same code runs on a laptop clone, a linked
// worktree and the bare mirror the server keeps. The package starts no
// process and touches no network.
//
// Decisions the design left open:
//   - Refs are read as git rev-parse reads them (Resolve): a ref wins over
//     an abbreviated SHA, which needs 4 digits and must name one commit.
//   - A changed path belongs to the deepest directory holding Terraform
//     files that contains it, in the tree at head when the path exists
//     there, else in the tree at the merge base: a file under
//     modules/vpc/templates/ changes the module modules/vpc, a file in a
//     nested stack changes only that stack, and a file a deleted nested
//     stack leaves behind changes its parent.
//   - ignore_changes globs are matched against the path relative to the
//     stack's directory; watch globs against the repo-relative path.
//   - .tofu and .tofu.json files are Terraform files. Next to a same-named
//     .tf file (which OpenTofu ignores, and Terraform reads instead), both
//     count: the directory calls what either calls.
//   - Hidden directories are never stacks and are read only when a module
//     call leads into them. A submodule is one opaque module, changed when
//     its commit changes.
//   - Symlinks are followed as the operating system follows them, for
//     module sources (Terraform names the module by the lexical path; its
//     files are where the path leads) and for files and directories inside
//     a module, which then depends on what they lead to. A link leaving the
//     repository is not followed, with a warning; a Terraform file behind
//     one counts as a file that does not parse.
//   - A directory whose HCL does not parse keeps its place in discovery,
//     the local sources its text shows still count as calls, and any stack
//     that is, or calls, such a directory is affected whenever any local
//     module changes (over-planning is safe, under-planning is not).
//   - After criss-cross merges the change set is the union of those against
//     every merge base; ChangeSet.Base is the one git merge-base prints.
//   - A stack of the merge base that is a module at head is reported under
//     BecameModule, with a warning that its state still exists; a stack at
//     head that was no stack at the merge base is affected.
//   - Summaries of git trees (their Terraform files, with the module calls
//     each makes, symlinks and submodules) and the diffs of the last pairs
//     of trees compared are cached by hash under $XDG_CACHE_HOME/strata: a
//     Merkle cache, each entry depending on its own objects alone; a
//     corrupt or old cache file is ignored.
package stacks

package stacks

import (
	"github.com/go-git/go-git/v5/plumbing"
)

// DefaultBranch names the repository's default branch, for commands that
// run at its head by default (strata drift): the branch origin/HEAD points
// at, as `git clone` records it (e.g. "origin/main": the remote's head as
// last fetched, not a local branch that may be ahead or behind); else a
// local main, else a local master; else "HEAD" (a CI job checked out on
// the default branch has none of the others).
func (r *Repo) DefaultBranch() string {
	if head, err := r.git.Reference(plumbing.NewRemoteHEADReferenceName("origin"), false); err == nil &&
		head.Type() == plumbing.SymbolicReference {
		if _, err := r.git.Reference(head.Target(), true); err == nil {
			return head.Target().Short()
		}
	}
	for _, b := range []string{"main", "master"} {
		if _, err := r.git.Reference(plumbing.NewBranchReferenceName(b), true); err == nil {
			return b
		}
	}
	return "HEAD"
}

// Package workspace opens planner sessions on a repository at a commit:
// the one sequence — fetch the repository's mirror until it holds the
// commit, then open a planner.Session on it — that merge-request review,
// drift scans and schedules all need. Opener is the interface they
// depend on; Mirrors implements it on the server's mirrors, Checkout on a
// CI job's own clone.
//
// Decisions:
//   - A clone URL the forge refuses (another host than the forge's) is a
//     permanent error: the payload named it, retrying cannot help. A
//     failed fetch is transient.
//   - Open with an empty sha fetches every branch: what reading a
//     branch's head (the target branch's strata.yaml, the default branch
//     of a drift scan) needs.
//   - Checkout fetches nothing: a CI job's clone is what the CI system
//     fetched, with the job's credentials. A commit it lacks (a shallow
//     clone) is a permanent error saying how to fetch the full history;
//     retrying cannot bring it.
package workspace

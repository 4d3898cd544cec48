// Package mirror keeps the server's copies of repositories: one bare
// mirror per repository, fetched (never re-cloned) before each piece of
// work. Package stacks reads the mirrors (stacks.OpenRepo(m.Path())); the
// planner exports commits from them into throwaway workspaces of its own.
//
// It owns the mirror directory layout, fetching with go-git and locking.
// It must not analyse repositories (stacks does),
// know about forges or tokens beyond the transport.AuthMethod it is given
// (forge.Cloner makes that), or put credentials in URLs, configs, errors
// or logs.
//
// Decisions:
//
//   - Layout: Dir/<key>.git, key escaped segment by segment (see keyPath),
//     one-to-one so two repositories never share a mirror. Next to each
//     mirror sit its lock file (<key>.git.lock), a clone in progress
//     (.<name>.git.clone-*, renamed into place when complete, removed by
//     the next fetch if a crash left it) and mirrors moved aside as
//     corrupt (<key>.git.corrupt-<time>, kept for inspection; delete them
//     by hand).
//   - What is fetched: branches, tags, GitLab merge request heads and
//     GitHub pull request heads (which cover forks), forced, deleted refs
//     pruned; a refspec the remote has nothing for is not an error. The
//     remote URL is passed to each fetch and never saved in the mirror's
//     config.
//     The mirror's HEAD is not maintained: resolve branches by name.
//   - Corruption: before fetching, the mirror must open and every ref must
//     point at an object it holds; otherwise it is moved aside, with a
//     warning saying why, and cloned again. A fetch that fails for any
//     other reason (network, auth, a missing remote) fails with the key
//     and the URL (without credentials) in the error and leaves the mirror
//     alone.
//   - Locking: fetches of one mirror are serialised, among goroutines and
//     among processes, by the file lock of its lock file (package
//     internal/flock; waiting honours the context). Different mirrors
//     fetch in parallel.
//     Fetches only add objects, so readers need no lock.
//   - Remotes: https, http, ssh and git URLs; file:// and local paths only
//     with AllowFileRemotes. A URL with a password (or any user info, for
//     http and git) is refused without being repeated.
//   - Late pushes: FetchCommit fetches again with a doubling backoff while
//     the commit a webhook named is missing, then fails with
//     ErrCommitNotFound.
//   - Workspaces: NewWorkspace makes DATA_DIR/work/run-<id>-<random>;
//     Cleanup removes it, read-only files included. Sweep removes
//     run-* directories older than a cutoff, left by a crash, but never a
//     live workspace of its own process nor anything not named run-*.
package mirror

package workspace

import (
	"context"
	"fmt"
	"time"

	"github.com/strata-iac/strata/internal/fault"
	"github.com/strata-iac/strata/planner"
	"github.com/strata-iac/strata/planner/tf"
	"github.com/strata-iac/strata/runner/forge"
	"github.com/strata-iac/strata/runner/mirror"
)

// Repo is a repository to open: its name and where to fetch it from.
type Repo struct {
	forge.RepoRef
	// CloneURL is the clone URL from the forge's payload.
	CloneURL string
}

// Opener opens a planner session on a repository holding commit sha ("":
// the latest of every branch). Close the session when done.
type Opener interface {
	Open(ctx context.Context, repo Repo, sha string) (*planner.Session, error)
}

// Mirrors opens sessions on bare mirrors kept under the data directory.
type Mirrors struct {
	Mirrors *mirror.Mirrors
	// Cloners turn a clone URL into what to fetch with, by forge name.
	Cloners map[string]forge.Cloner
	// DataDir holds the sessions' workspaces and local state.
	DataDir      string
	StackTimeout time.Duration
	// Environ is terraform's base environment; nil means os.Environ().
	Environ []string
	// Sandbox, PlanEnv, ApplyEnv and Secrets go to every session (see
	// planner.SessionOptions).
	Sandbox           *tf.Sandbox
	PlanEnv, ApplyEnv []string
	Secrets           []string
}

// Open implements Opener.
func (m *Mirrors) Open(ctx context.Context, repo Repo, sha string) (*planner.Session, error) {
	cloner, ok := m.Cloners[repo.Forge]
	if !ok {
		return nil, fault.Permanent(fmt.Errorf("%s: strata serves no forge %q", repo.RepoRef, repo.Forge))
	}
	url, auth, err := cloner.CloneAuth(repo.CloneURL)
	if err != nil {
		return nil, fault.Permanent(err)
	}
	key := repo.RepoRef.String()
	var mr *mirror.Mirror
	if sha == "" {
		mr, err = m.Mirrors.Fetch(ctx, key, url, auth)
	} else {
		mr, err = m.Mirrors.FetchCommit(ctx, key, url, auth, sha)
	}
	if err != nil {
		return nil, fault.Transient(err)
	}
	return planner.OpenSession(planner.SessionOptions{
		RepoDir: mr.Path(), RepoName: key, DataDir: m.DataDir,
		StackTimeout: m.StackTimeout, Environ: m.Environ,
		Sandbox: m.Sandbox, PlanEnv: m.PlanEnv, ApplyEnv: m.ApplyEnv, Secrets: m.Secrets,
	})
}

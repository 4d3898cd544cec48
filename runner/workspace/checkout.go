package workspace

import (
	"context"
	"fmt"
	"time"

	"github.com/strata-iac/strata/internal/fault"
	"github.com/strata-iac/strata/planner"
	"github.com/strata-iac/strata/planner/tf"
)

// Checkout opens sessions on a clone that is already there: the checkout
// of a CI job. It fetches nothing; a commit the clone lacks is a
// permanent error that says to fetch the full history.
type Checkout struct {
	// Dir is the clone (any directory inside it).
	Dir string
	// DataDir holds the sessions' workspaces and local state.
	DataDir      string
	StackTimeout time.Duration
	// Parallel overrides strata.yaml's parallel when > 0.
	Parallel int
	// Progress reports stacks as they start and end; nil reports nothing.
	Progress *planner.Progress
	// Environ is terraform's base environment; nil means os.Environ().
	Environ []string
	// Sandbox, PlanEnv, ApplyEnv and Secrets go to every session (see
	// planner.SessionOptions).
	Sandbox           *tf.Sandbox
	PlanEnv, ApplyEnv []string
	Secrets           []string
}

// Open implements Opener. repo only names the sessions' local state: the
// checkout is the repository.
func (c *Checkout) Open(ctx context.Context, repo Repo, sha string) (*planner.Session, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s, err := planner.OpenSession(planner.SessionOptions{
		RepoDir: c.Dir, RepoName: repo.RepoRef.String(), DataDir: c.DataDir,
		StackTimeout: c.StackTimeout, Parallel: c.Parallel, Progress: c.Progress, Environ: c.Environ,
		Sandbox: c.Sandbox, PlanEnv: c.PlanEnv, ApplyEnv: c.ApplyEnv, Secrets: c.Secrets,
	})
	if err != nil {
		return nil, fault.Permanent(err)
	}
	if sha == "" {
		return s, nil
	}
	if _, err := s.Repo().Resolve(sha); err != nil {
		s.Close()
		return nil, fault.Permanent(fmt.Errorf("the checkout in %s lacks commit %s: %w; %s", c.Dir, sha, err, FetchHint))
	}
	return s, nil
}

// FetchHint says how a CI job gets the history strata needs.
const FetchHint = "fetch the full history: GIT_DEPTH: 0 in GitLab CI, fetch-depth: 0 for actions/checkout, or git fetch --unshallow"

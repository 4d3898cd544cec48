package ci

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/strata-iac/strata/planner"
	"github.com/strata-iac/strata/planner/tf"
	"github.com/strata-iac/strata/runner/forge"
	"github.com/strata-iac/strata/runner/lock"
	"github.com/strata-iac/strata/runner/records"
	"github.com/strata-iac/strata/runner/review"
	"github.com/strata-iac/strata/runner/store"
	"github.com/strata-iac/strata/runner/workspace"
)

// Config wires a Driver. Every field but Parallel, StackTimeout and
// Progress is required.
type Config struct {
	Job   *Job
	Forge review.Forge
	Locks lock.Locker
	Store store.Store
	// Repo is the job's clone; DataDir holds workspaces and local state.
	Repo, DataDir string
	Parallel      int
	StackTimeout  time.Duration
	Progress      *planner.Progress
	// Environ is the job's environment, which terraform inherits without
	// the variable strata's token came from.
	Environ []string
	// Sandbox, PlanEnv, ApplyEnv and Secrets are as for the server (see
	// planner.SessionOptions): terraform runs in the sandbox, with the
	// operation's environment, and every secret is masked in its results.
	Sandbox           *tf.Sandbox
	PlanEnv, ApplyEnv []string
	Secrets           []string
	Log               *slog.Logger
}

// Driver does a CI job's merge request work with the server's engine.
type Driver struct {
	cfg Config
	rv  *review.Reviewer
}

// New checks cfg and returns a Driver.
func New(cfg Config) (*Driver, error) {
	if cfg.Job == nil || cfg.Forge == nil || cfg.Locks == nil || cfg.Store == nil || cfg.Repo == "" || cfg.DataDir == "" || cfg.Log == nil {
		return nil, errors.New("ci: Job, Forge, Locks, Store, Repo, DataDir and Log are required")
	}
	j := cfg.Job
	rv, err := review.New(review.Config{
		Forge: cfg.Forge, Locks: cfg.Locks, Store: cfg.Store,
		Workspaces: &workspace.Checkout{Dir: cfg.Repo, DataDir: cfg.DataDir, StackTimeout: cfg.StackTimeout,
			Parallel: cfg.Parallel, Progress: cfg.Progress, Environ: without(cfg.Environ, j.TokenVar),
			Sandbox: cfg.Sandbox, PlanEnv: cfg.PlanEnv, ApplyEnv: cfg.ApplyEnv, Secrets: cfg.Secrets},
		Records: &records.Recorder{Store: cfg.Store, Replica: j.Name(), Log: cfg.Log},
		// The CI system decides which merge requests run jobs with which
		// secrets; strata plans what its job is given.
		AllowForks: true,
		Log:        cfg.Log,
		Job:        &review.Job{Name: j.Name(), URL: j.URL},
	})
	if err != nil {
		return nil, err
	}
	return &Driver{cfg: cfg, rv: rv}, nil
}

// Plan plans the merge request of a merge request pipeline: the server's
// plan of an updated merge request, after releasing the locks of merge
// requests closed unmerged (no server sweeps for CI mode).
func (d *Driver) Plan(ctx context.Context) (planner.Summary, error) {
	j := d.cfg.Job
	if j.MR == nil {
		return planner.Summary{}, fmt.Errorf("strata ci plan plans a merge request, and this %s pipeline runs for %s, not for one: "+
			"run it in merge request pipelines (GitLab: rules: - if: $CI_PIPELINE_SOURCE == \"merge_request_event\"; GitHub Actions: on: pull_request)",
			j.System, j.what())
	}
	d.sweep(ctx)
	return d.rv.Plan(ctx, d.mrEvent(forge.ActionUpdated))
}

// Apply applies reviewed plans: in a merge request pipeline, those of its
// merge request when the requirements hold (apply_on: approval or
// comment); in a branch's pipeline, those of the merge request the
// commit merged, after which its locks are released.
func (d *Driver) Apply(ctx context.Context) (planner.Summary, error) {
	j := d.cfg.Job
	if j.MR != nil {
		return d.rv.Apply(ctx, d.mrEvent(forge.ActionApproved))
	}
	if j.Branch == "" {
		return planner.Summary{}, fmt.Errorf("strata ci apply runs in a merge request pipeline, or in a branch's pipeline after a merge; this %s pipeline runs for %s", j.System, j.what())
	}
	mr, ok, err := d.cfg.Forge.MergedBy(ctx, j.Repo, j.Commit)
	if err != nil {
		return planner.Summary{}, err
	}
	if !ok {
		return planner.Summary{}, fmt.Errorf("commit %s on %s merged no merge request, so there is no reviewed plan to apply", short(j.Commit), j.Branch)
	}
	ref := forge.MRRef{RepoRef: forge.RepoRef{Forge: j.Forge, Path: j.Repo}, Number: mr.Number}
	name := ref.Short(ref.String())
	if mr.TargetBranch != j.Branch {
		return planner.Summary{}, fmt.Errorf("commit %s merged %s into %s, not into %s, whose pipeline this is", short(j.Commit), name, mr.TargetBranch, j.Branch)
	}
	sum, err := d.rv.ApplyMerged(ctx, forge.Event{
		Forge: j.Forge, DeliveryID: j.Name(), Action: forge.ActionMerged, Repo: j.Repo, ProjectID: j.ProjectID,
		DefaultBranch: j.DefaultBranch, Number: mr.Number, Title: mr.Title, URL: mr.URL, State: forge.StateMerged,
		SourceBranch: mr.SourceBranch, TargetBranch: mr.TargetBranch, HeadSHA: mr.HeadSHA,
		MergeCommitSHA: j.Commit, TargetSHA: j.Commit, Fork: mr.Fork, User: j.User,
	})
	if errors.Is(err, review.ErrNoPlans) {
		err = fmt.Errorf("%s: %w (did strata ci plan run in its pipeline, with this --store?)", name, err)
	}
	return sum, err
}

// mrEvent is the merge request pipeline's merge request, as an event.
func (d *Driver) mrEvent(action forge.Action) forge.Event {
	j, mr := d.cfg.Job, d.cfg.Job.MR
	return forge.Event{
		Forge: j.Forge, DeliveryID: j.Name(), Action: action, Repo: j.Repo, ProjectID: j.ProjectID,
		DefaultBranch: j.DefaultBranch, Number: mr.Number, State: forge.StateOpened, Draft: mr.Draft,
		SourceBranch: mr.SourceBranch, TargetBranch: mr.TargetBranch, HeadSHA: mr.Head, TargetSHA: mr.TargetSHA,
		Fork: mr.Fork, User: j.User,
	}
}

// sweep releases the locks of the repository's merge requests that were
// closed unmerged. It only helps: a failure is logged.
func (d *Driver) sweep(ctx context.Context) {
	j := d.cfg.Job
	repo := forge.RepoRef{Forge: j.Forge, Path: j.Repo}
	locks, err := d.cfg.Locks.List(ctx)
	if err != nil {
		d.cfg.Log.Warn("cannot list the locks to release those of closed merge requests", "err", err)
		return
	}
	seen := map[forge.MRRef]bool{}
	for _, l := range locks {
		ref, ok := forge.ParseMRRef(l.Owner)
		if !ok || ref.RepoRef != repo || ref.Number == j.MR.Number || seen[ref] {
			continue
		}
		seen[ref] = true
		if err := d.rv.SweepClosed(ctx, ref); err != nil {
			d.cfg.Log.Warn("cannot release the locks of a closed merge request", "mr", ref.String(), "err", err)
		}
	}
}

// what names what a pipeline runs for.
func (j *Job) what() string {
	if j.Branch != "" {
		return "branch " + j.Branch
	}
	return "commit " + short(j.Commit)
}

// without is env without the variable name.
func without(env []string, name string) []string {
	if name == "" {
		return env
	}
	out := make([]string, 0, len(env))
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k != name {
			out = append(out, kv)
		}
	}
	return out
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

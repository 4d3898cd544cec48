package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/strata-iac/strata/internal/redact"
	"github.com/strata-iac/strata/planner"
	"github.com/strata-iac/strata/planner/tf"
	"github.com/strata-iac/strata/runner/ci"
	"github.com/strata-iac/strata/runner/lock"
	"github.com/strata-iac/strata/runner/store"
)

// ciFlags are the flags ci plan and ci apply share.
type ciFlags struct {
	repo, dataDir, locks, store string
	parallel                    int
	timeout                     time.Duration
	quiet                       bool
	sandbox                     string
}

func (f *ciFlags) register(c *cobra.Command) {
	fl := c.Flags()
	fl.StringVar(&f.repo, "repo", ".", "path of the job's clone")
	fl.StringVar(&f.dataDir, "data-dir", "", dataDirUsage)
	fl.StringVar(&f.locks, "locks", "", "where locks live, shared by every job: dynamodb://TABLE (default bolt://DATA_DIR/locks.db, this runner only)")
	fl.StringVar(&f.store, "store", "", "where plans live, shared by every job: s3://BUCKET/PREFIX (default DATA_DIR/store, this runner only)")
	fl.IntVar(&f.parallel, "parallel", 0, "stacks planned at once (default: strata.yaml's parallel, else the number of CPUs)")
	fl.DurationVar(&f.timeout, "stack-timeout", time.Hour, "longest one stack may run before it is interrupted")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "print only failures and the final result on stderr")
	fl.StringVar(&f.sandbox, "sandbox", string(tf.SandboxAuto), sandboxUsage+" (else STRATA_SANDBOX)")
}

func newCICmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "ci",
		Short: "Plan and apply merge requests inside a GitLab CI or GitHub Actions job, without a server",
		Long: `strata ci does a merge request's work inside a CI job: strata ci plan in
merge request pipelines (lock, plan, store the plans, write the one comment,
set the statuses), strata ci apply after the merge in the target branch's
pipeline (apply the reviewed plans whose inputs are unchanged, release the
locks), or in a merge request pipeline with apply_on: approval or comment.

The job, its forge and its merge request come from the CI system's variables.
Tokens: STRATA_GITLAB_TOKEN (a project access token) on GitLab;
STRATA_GITHUB_TOKEN, else GITHUB_TOKEN, on GitHub Actions. Every flag can also
be set with STRATA_<FLAG>, e.g. STRATA_LOCKS and STRATA_STORE.`,
	}
	c.AddCommand(newCIPlanCmd(), newCIApplyCmd())
	return c
}

func newCIPlanCmd() *cobra.Command {
	var f ciFlags
	var report string
	c := &cobra.Command{
		Use:   "plan [--locks URL] [--store URL] [--gitlab-report FILE]",
		Short: "Plan the merge request of this pipeline and comment on it",
		Long: `Plan the stacks the pipeline's merge request changes against its target
branch, holding a lock on each for the merge request, store the plans under
the merge request in --store, create or edit strata's comment (linking to the
job) and set the strata/plan status. Stacks another merge request holds are
reported locked and not planned.

--gitlab-report FILE writes GitLab's Terraform report ({"create", "update",
"delete"} over the stacks) for artifacts:reports:terraform.

Exit status: 0 no changes, 2 changes, 1 an error or a locked stack.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindEnv(cmd); err != nil {
				return err
			}
			return runCI(cmd, f, func(ctx context.Context, d *ci.Driver) error {
				sum, err := d.Plan(ctx)
				if err != nil {
					return err
				}
				if report != "" {
					if err := ci.WriteGitLabReport(report, sum); err != nil {
						return err
					}
				}
				if err := printTable(cmd.OutOrStdout(), sum); err != nil {
					return err
				}
				return ciPlanExit(sum)
			})
		},
	}
	f.register(c)
	c.Flags().StringVar(&report, "gitlab-report", "", "write GitLab's Terraform report (artifacts:reports:terraform) to FILE")
	return c
}

func newCIApplyCmd() *cobra.Command {
	var f ciFlags
	c := &cobra.Command{
		Use:   "apply [--locks URL] [--store URL]",
		Short: "Apply the reviewed plans of the merge request this pipeline's commit merged",
		Long: `In a branch's pipeline, find the merge request the commit merged, apply its
reviewed plans from --store whose inputs are unchanged at this commit (the
others are refused, their state untouched), report on the merge request and
release its locks. In a merge request pipeline, apply its plans when strata.yaml
says apply_on: approval or comment and every requirement holds.

Exit status: 0 when every stack applied (or had nothing to apply), 1 otherwise,
and for a commit that merged no merge request.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindEnv(cmd); err != nil {
				return err
			}
			return runCI(cmd, f, func(ctx context.Context, d *ci.Driver) error {
				sum, err := d.Apply(ctx)
				if err != nil {
					return err
				}
				if err := printTable(cmd.OutOrStdout(), sum); err != nil {
					return err
				}
				if failed := sum.Failed(); len(failed) > 0 {
					return withCode(exitError, fmt.Errorf("%d of %d stacks not applied: %s", len(failed), len(sum.Stacks), strings.Join(failed, ", ")))
				}
				return nil
			})
		},
	}
	f.register(c)
	return c
}

// runCI reads the job, opens what it needs and runs do with a driver.
func runCI(cmd *cobra.Command, f ciFlags, do func(context.Context, *ci.Driver) error) error {
	ctx, errOut := cmd.Context(), cmd.ErrOrStderr()
	job, err := ci.Detect(os.LookupEnv)
	if err != nil {
		return err
	}
	dir, err := dataDir(f.dataDir)
	if err != nil {
		return err
	}
	locksURL, storeURL := orDefault(f.locks, defaultLocksURL(dir)), orDefault(f.store, filepath.Join(dir, "store"))
	for _, w := range ci.Unshared(locksURL, storeURL) {
		fmt.Fprintln(errOut, "strata: warning:", w)
	}
	sb, err := openSandbox(ctx, sandboxFlag(cmd, f.sandbox, string(tf.SandboxAuto)), func(err error) {
		fmt.Fprintf(errOut, "strata: warning: %v: terraform runs unsandboxed\n", err)
	})
	if err != nil {
		return err
	}
	env := os.Environ()
	planEnv, applyEnv, err := operationEnv(env)
	if err != nil {
		return err
	}
	secrets := append(append(append([]string{job.Token}, redact.EnvSecrets(env)...), redact.EnvSecrets(planEnv)...), redact.EnvSecrets(applyEnv)...)
	red := redact.New(secrets...)
	log := slog.New(red.Handler(slog.NewTextHandler(errOut, &slog.HandlerOptions{Level: slog.LevelWarn})))
	forge, err := ci.OpenForge(job, red, log)
	if err != nil {
		return err
	}
	locks, err := lock.Open(ctx, locksURL, lock.Options{})
	if err != nil {
		return err
	}
	defer locks.Close()
	rawStore, err := store.Open(ctx, storeURL)
	if err != nil {
		return err
	}
	st := store.Redacted(rawStore, red, func(key string) bool { return strings.HasSuffix(key, planner.PlanFile) })
	d, err := ci.New(ci.Config{
		Job: job, Forge: forge, Locks: locks, Store: st, Repo: f.repo, DataDir: dir,
		Parallel: f.parallel, StackTimeout: f.timeout, Progress: planner.NewProgress(errOut, f.quiet),
		Environ: env, Sandbox: sb, PlanEnv: planEnv, ApplyEnv: applyEnv, Secrets: secrets, Log: log,
	})
	if err != nil {
		return err
	}
	return do(ctx, d)
}

// ciPlanExit is plan's exit status, with a locked stack an error: its
// change would be merged unplanned and never applied.
func ciPlanExit(sum planner.Summary) error {
	var locked []string
	for _, r := range sum.Stacks {
		if r.Status == planner.StatusLocked {
			locked = append(locked, r.Dir+" (locked by "+r.LockedBy+")")
		}
	}
	if len(locked) > 0 && len(sum.Failed()) == 0 {
		return withCode(exitError, fmt.Errorf("%d of %d stacks not planned: %s", len(locked), len(sum.Stacks), strings.Join(locked, ", ")))
	}
	return planExit(sum)
}

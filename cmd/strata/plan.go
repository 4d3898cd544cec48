package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/strata-iac/strata/planner"
	"github.com/strata-iac/strata/planner/comment"
	"github.com/strata-iac/strata/planner/tf"
	"github.com/strata-iac/strata/runner/store"
)

// runFlags are the flags plan and apply share.
type runFlags struct {
	repo     string
	dataDir  string
	head     string
	stacks   []string
	quiet    bool
	timeout  time.Duration
	parallel int
	// progress reports on stderr; session makes it.
	progress *planner.Progress
	sandbox  string
}

func (f *runFlags) register(c *cobra.Command) {
	c.Flags().StringVar(&f.repo, "repo", ".", "path of the git repository")
	c.Flags().StringVar(&f.dataDir, "data-dir", "", dataDirUsage)
	c.Flags().StringVar(&f.head, "head", "HEAD", "the commit to run at (branch, tag, SHA, HEAD~N)")
	c.Flags().StringArrayVar(&f.stacks, "stack", nil, "a stack to run: DIR (every workspace of it) or DIR@WORKSPACE (repeatable)")
	c.Flags().BoolVarP(&f.quiet, "quiet", "q", false, "print only failures and the final result on stderr")
	c.Flags().DurationVar(&f.timeout, "stack-timeout", time.Hour, "longest one stack may run before it is interrupted")
	c.Flags().StringVar(&f.sandbox, "sandbox", string(tf.SandboxAuto), sandboxUsage+" (else STRATA_SANDBOX)")
}

// session opens what plan and apply both need.
func (f *runFlags) session(cmd *cobra.Command) (*planner.Session, error) {
	dir, err := dataDir(f.dataDir)
	if err != nil {
		return nil, err
	}
	errOut := cmd.ErrOrStderr()
	// What an earlier run that was killed left in the data dir goes now;
	// workspaces other processes use are left alone.
	if _, err := planner.SweepWorkspaces(dir); err != nil {
		fmt.Fprintln(errOut, "strata: warning:", err)
	}
	f.progress = planner.NewProgress(errOut, f.quiet)
	sb, err := openSandbox(cmd.Context(), sandboxFlag(cmd, f.sandbox, string(tf.SandboxAuto)), func(err error) {
		fmt.Fprintf(errOut, "strata: warning: %v: terraform runs unsandboxed\n", err)
	})
	if err != nil {
		return nil, err
	}
	planEnv, applyEnv, err := operationEnv(os.Environ())
	if err != nil {
		return nil, err
	}
	return planner.OpenSession(planner.SessionOptions{
		RepoDir:      f.repo,
		DataDir:      dir,
		Progress:     f.progress,
		Parallel:     f.parallel,
		StackTimeout: f.timeout,
		Sandbox:      sb,
		PlanEnv:      planEnv,
		ApplyEnv:     applyEnv,
	})
}

func newPlanCmd() *cobra.Command {
	var f runFlags
	var base, out, format string
	var all bool
	var targets []string
	c := &cobra.Command{
		Use:   "plan (--base REF | --stack DIR... | --all) [--out DIR]",
		Short: "Plan stacks: those a change touches, those named, or all",
		Long: `Plan stacks at a commit (HEAD by default), in parallel, each in a throwaway
workspace holding exactly that commit. With --base, plan the stacks the change
between merge-base(BASE, HEAD) and HEAD touches; with --stack, the stacks named
(DIR: every workspace of it; DIR@WORKSPACE: one); with --all, every stack.
--target ADDR (with --stack) plans only those resources: a partial plan, which
strata apply applies only when its stack is named with --stack.

--out DIR (a directory or s3://BUCKET/PREFIX) receives summary.json, comment.md
and, per stack, DIR/<stack>/plan.tfplan, plan.json and plan.txt, for
strata apply.

Exit status: 0 no changes, 2 changes, 1 an error in any stack (the other
stacks still run and report).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(format, "text", "json", "markdown"); err != nil {
				return err
			}
			modes := 0
			for _, set := range []bool{base != "", len(f.stacks) > 0, all} {
				if set {
					modes++
				}
			}
			if modes != 1 {
				return errors.New("say what to plan with exactly one of --base REF, --stack DIR or --all")
			}
			artifacts, err := openOut(cmd, out)
			if err != nil {
				return err
			}
			s, err := f.session(cmd)
			if err != nil {
				return err
			}
			defer s.Close()
			if len(targets) > 0 && len(f.stacks) == 0 {
				return errors.New("--target plans part of a stack: name the stack with --stack DIR")
			}
			sel := planner.Selection{Base: base, Head: f.head, Stacks: f.stacks, All: all, Targets: targets}
			summary, err := s.Plan(cmd.Context(), sel)
			if err != nil {
				return err
			}
			f.progress.Result(summary)
			body := strings.Join(comment.Render(summary, comment.Options{
				Marker:      comment.DefaultMarker,
				Steps:       comment.Steps{Apply: applyHint(out), Replan: "run `strata plan` again."},
				PolicyHint:  "strata apply refuses these stacks unless a policy owner accepts the failures (`strata apply --approve-policies`).",
				PartialHint: "strata apply applies a partial plan only when its stack is named: `strata apply --stack STACK`.",
			}), "\n\n")
			if artifacts != nil {
				if err := planner.WriteOut(cmd.Context(), artifacts, summary, body); err != nil {
					return err
				}
			}
			if err := printSummary(cmd.OutOrStdout(), format, summary, body); err != nil {
				return err
			}
			return planExit(summary)
		},
	}
	f.register(c)
	c.Flags().StringVar(&base, "base", "", "plan the stacks changed between merge-base(BASE, HEAD) and HEAD")
	c.Flags().BoolVar(&all, "all", false, "plan every stack")
	c.Flags().StringArrayVar(&targets, "target", nil, "plan only this resource address of the stacks named (terraform's -target; repeatable): a partial plan")
	c.Flags().IntVar(&f.parallel, "parallel", 0, "stacks planned at once (default: strata.yaml's parallel, else the number of CPUs)")
	c.Flags().StringVar(&out, "out", "", "directory or s3://BUCKET/PREFIX for summary.json, comment.md and the plan files")
	c.Flags().StringVar(&format, "format", "text", "output format: text|json|markdown")
	return c
}

func newApplyCmd() *cobra.Command {
	var f runFlags
	var out string
	var approvePolicies, verify bool
	c := &cobra.Command{
		Use:   "apply --out DIR [--stack DIR]... [--verify]",
		Short: "Apply the plans saved by strata plan --out, exactly as reviewed",
		Long: `Apply the plans strata plan saved in --out (a directory or s3://BUCKET/PREFIX),
in depends_on order, up to --parallel at once: a stack starts once those it
depends on are applied. Each stack is refused, and its state left untouched, when
its plan file no longer matches the checksum recorded at plan time, or when the
git tree of its directory or of any local module it calls differs at --head
(default HEAD) from what was planned. A stack whose dependency failed is
skipped, and the others go on. Stacks whose plan had no changes are not
touched. A stack whose policy checks failed is refused unless --approve-policies
says a policy owner accepted them. A partial plan (made with --target) is
applied only when its stack is named with --stack.

With --verify, every applied stack is planned again afterwards: "verified: no
changes" when the infrastructure now matches the code, else "not converged"
with the changes that remain (usually a perpetual diff).

Exit status: 0 when every stack applied (or had nothing to apply), 1 otherwise;
with --verify, 2 when every stack applied but changes remain.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return errors.New("--out is required: the directory or s3:// prefix strata plan --out wrote")
			}
			artifacts, err := store.Open(cmd.Context(), out)
			if err != nil {
				return err
			}
			s, err := f.session(cmd)
			if err != nil {
				return err
			}
			defer s.Close()
			summary, err := s.Apply(cmd.Context(), artifacts, planner.ApplyOptions{Head: f.head, Only: f.stacks, PoliciesApproved: approvePolicies})
			if err != nil {
				return err
			}
			f.progress.Result(summary)
			if err := printTable(cmd.OutOrStdout(), summary); err != nil {
				return err
			}
			failed := summary.Failed()
			if verify {
				if err := verifyApply(cmd, s, f.head, summary); err != nil && len(failed) == 0 {
					return err
				}
			}
			if len(failed) > 0 {
				return withCode(exitError, fmt.Errorf("%d of %d stacks not applied: %s", len(failed), len(summary.Stacks), strings.Join(failed, ", ")))
			}
			return nil
		},
	}
	f.register(c)
	c.Flags().BoolVar(&verify, "verify", false, "plan every applied stack again and report whether changes remain (exit 2 when some do)")
	c.Flags().StringVar(&out, "out", "", "the directory or s3://BUCKET/PREFIX that strata plan --out wrote (required)")
	c.Flags().BoolVar(&approvePolicies, "approve-policies", false, "apply stacks whose policy checks failed (a policy owner accepted them)")
	c.Flags().IntVar(&f.parallel, "parallel", 0, "stacks applied at once (default: strata.yaml's parallel, else the number of CPUs)")
	return c
}

// openOut opens the --out store, or returns nil when --out is not set.
func openOut(cmd *cobra.Command, out string) (store.Store, error) {
	if out == "" {
		return nil, nil
	}
	return store.Open(cmd.Context(), out)
}

func applyHint(out string) string {
	if out == "" {
		return "Save the plans with `strata plan --out DIR`, then apply them with `strata apply --out DIR`."
	}
	return fmt.Sprintf("Apply exactly these plans with `strata apply --out %s`.", out)
}

// planExit maps a plan to the exit status of -detailed-exitcode.
func planExit(s planner.Summary) error {
	if failed := s.Failed(); len(failed) > 0 {
		return withCode(exitError, fmt.Errorf("%d of %d stacks failed: %s", len(failed), len(s.Stacks), strings.Join(failed, ", ")))
	}
	if s.HasChanges() {
		return withCode(exitChanges, nil)
	}
	return nil
}

func printSummary(w io.Writer, format string, s planner.Summary, comment string) error {
	switch format {
	case "json":
		return writeJSON(w, s)
	case "markdown":
		_, err := fmt.Fprintln(w, comment)
		return err
	}
	return printTable(w, s)
}

// printTable is the text form of a run: one line per stack.
func printTable(w io.Writer, s planner.Summary) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, r := range s.Stacks {
		detail := countsLine(r.Counts)
		switch {
		case r.Error != "":
			detail = r.Error
		case r.Status == planner.StatusLocked:
			detail = "locked by " + r.LockedBy
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.Name(), r.Status, detail)
	}
	for _, d := range s.Deleted {
		fmt.Fprintf(tw, "%s\tdeleted\tnot planned\n", d)
	}
	return tw.Flush()
}

func countsLine(c planner.Counts) string {
	line := fmt.Sprintf("+%d ~%d -%d ±%d", c.Create, c.Update, c.Delete, c.Replace)
	if c.Import > 0 {
		line += fmt.Sprintf(", %d to import", c.Import)
	}
	if c.Move > 0 {
		line += fmt.Sprintf(", %d to move", c.Move)
	}
	if c.OutputChanges > 0 {
		line += fmt.Sprintf(", %d output change%s", c.OutputChanges, plural(c.OutputChanges))
	}
	return line
}

func checkFormat(format string, formats ...string) error {
	for _, ok := range formats {
		if format == ok {
			return nil
		}
	}
	return fmt.Errorf("--format %q: want one of %s", format, strings.Join(formats, ", "))
}

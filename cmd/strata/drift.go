package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/strata-iac/strata/planner"
	"github.com/strata-iac/strata/planner/comment"
	"github.com/strata-iac/strata/planner/tf"
	"github.com/strata-iac/strata/runner/store"
)

func newDriftCmd() *cobra.Command {
	var f runFlags
	var ref, out, format string
	var refreshOnly bool
	c := &cobra.Command{
		Use:   "drift [--ref REF] [--stack DIR]... [--refresh-only] [--out DIR]",
		Short: "Plan every stack at the default branch and report the ones that drifted",
		Long: `Plan every stack (or those named with --stack) at REF, each in a throwaway
workspace, and report which drifted: their real infrastructure or state no
longer matches the code.

REF defaults to the default branch's head: the branch origin/HEAD points at
(origin/main after a git clone), else a local main, else master, else HEAD.

A stack drifted when applying REF would change something: objects changed
outside Terraform (which the plan would undo) and code that was never
applied both count. With --refresh-only, terraform plans with -refresh-only
and only objects changed outside Terraform count.

--out DIR (a directory or s3://BUCKET/PREFIX) receives drift.json (the
report), summary.json, comment.md and, per stack, the plan files.

Exit status: 0 no stack drifted, 2 some drifted, 1 some could not be checked
(the other stacks still run and report).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(format, "text", "json"); err != nil {
				return err
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
			if ref == "" {
				ref = s.Repo().DefaultBranch()
			}
			t, err := s.Select(cmd.Context(), planner.Selection{Head: ref, Stacks: f.stacks, All: len(f.stacks) == 0})
			if err != nil {
				return err
			}
			summary, err := s.Drift(cmd.Context(), t, planner.DriftOptions{RefreshOnly: refreshOnly})
			if err != nil {
				return err
			}
			f.progress.Result(summary)
			report := planner.NewDriftReport(ref, summary)
			if artifacts != nil {
				body := strings.Join(comment.Render(summary, comment.Options{Marker: comment.DefaultMarker}), "\n\n")
				if err := writeDrift(cmd, artifacts, summary, report, body); err != nil {
					return err
				}
			}
			if format == "json" {
				err = writeJSON(cmd.OutOrStdout(), report)
			} else {
				err = printDrift(cmd.OutOrStdout(), report)
			}
			if err != nil {
				return err
			}
			return driftExit(report)
		},
	}
	c.Flags().StringVar(&f.repo, "repo", ".", "path of the git repository")
	c.Flags().StringVar(&f.dataDir, "data-dir", "", dataDirUsage)
	c.Flags().StringVar(&ref, "ref", "", "the commit to check (default: the default branch's head)")
	c.Flags().StringArrayVar(&f.stacks, "stack", nil, "a stack to check: DIR or DIR@WORKSPACE (repeatable; default every stack)")
	c.Flags().BoolVar(&refreshOnly, "refresh-only", false, "report only changes made outside Terraform (terraform plan -refresh-only)")
	c.Flags().IntVar(&f.parallel, "parallel", 0, "stacks planned at once (default: strata.yaml's parallel, else the number of CPUs)")
	c.Flags().DurationVar(&f.timeout, "stack-timeout", time.Hour, "longest one stack may run before it is interrupted")
	c.Flags().BoolVarP(&f.quiet, "quiet", "q", false, "print only failures and the final result on stderr")
	c.Flags().StringVar(&f.sandbox, "sandbox", string(tf.SandboxAuto), sandboxUsage+" (else STRATA_SANDBOX)")
	c.Flags().StringVar(&out, "out", "", "directory or s3://BUCKET/PREFIX for drift.json, summary.json, comment.md and the plan files")
	c.Flags().StringVar(&format, "format", "text", "output format: text|json")
	return c
}

// writeDrift stores a drift run in the --out layout, drift.json last.
func writeDrift(cmd *cobra.Command, a store.Store, s planner.Summary, rep planner.DriftReport, comment string) error {
	if err := planner.WriteOut(cmd.Context(), a, s, comment); err != nil {
		return err
	}
	data, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	if _, err := a.Put(cmd.Context(), planner.DriftFile, append(data, '\n')); err != nil {
		return fmt.Errorf("store %s: %w", planner.DriftFile, err)
	}
	return nil
}

// printDrift is the text form of a drift report: one line per stack, then
// its resources, then a count.
func printDrift(w io.Writer, rep planner.DriftReport) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, s := range rep.Stacks {
		switch {
		case s.Error != "":
			fmt.Fprintf(tw, "%s\terror\t%s\n", s.Name(), s.Error)
		case s.Drifted:
			fmt.Fprintf(tw, "%s\tdrifted\t%s\n", s.Name(), countsLine(s.Counts))
		default:
			fmt.Fprintf(tw, "%s\tin sync\t\n", s.Name())
		}
		for _, r := range s.Resources {
			how := "changed outside Terraform"
			if r.Kind == planner.ResourcePlanned {
				how = "planned"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", r.Address, r.Action, how)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%d of %d stacks drifted at %s (%s)\n", len(rep.Drifted()), len(rep.Stacks), rep.Ref, shortSHA(rep.Commit))
	return err
}

// driftExit maps a drift report to strata drift's exit status.
func driftExit(rep planner.DriftReport) error {
	if failed := rep.Failed(); len(failed) > 0 {
		return withCode(exitError, fmt.Errorf("%d of %d stacks could not be checked for drift: %s", len(failed), len(rep.Stacks), strings.Join(failed, ", ")))
	}
	if len(rep.Drifted()) > 0 {
		return withCode(exitChanges, nil)
	}
	return nil
}

func shortSHA(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

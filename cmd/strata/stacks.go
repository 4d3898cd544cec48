package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/strata-iac/strata/stacks"
)

// repoFlags are the flags of every command that reads a repository.
type repoFlags struct {
	repo   string
	format string
}

func (f *repoFlags) register(c *cobra.Command, formats ...string) {
	c.Flags().StringVar(&f.repo, "repo", ".", "path of the git repository")
	c.Flags().StringVar(&f.format, "format", formats[0], "output format: "+strings.Join(formats, "|"))
}

func (f *repoFlags) checkFormat(formats ...string) error {
	for _, ok := range formats {
		if f.format == ok {
			return nil
		}
	}
	return fmt.Errorf("--format %q: want one of %s", f.format, strings.Join(formats, ", "))
}

func newStacksCmd() *cobra.Command {
	var f repoFlags
	var ref string
	c := &cobra.Command{
		Use:   "stacks",
		Short: "List the stacks (Terraform root modules) of a repository, in dependency order",
		Long: `List the stacks of the repository at a commit (HEAD by default): every
directory holding .tf files that no other module calls, plus those listed in
strata.yaml, minus those matching its ignore globs. strata reads the commit,
not the working tree: commit your changes first.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.checkFormat("text", "json"); err != nil {
				return err
			}
			repo, err := stacks.OpenRepo(f.repo)
			if err != nil {
				return err
			}
			defer repo.Close()
			commit, err := repo.Resolve(ref)
			if err != nil {
				return err
			}
			a, err := repo.Analyze(cmd.Context(), commit)
			if err != nil {
				return err
			}
			printWarnings(cmd.ErrOrStderr(), a.Warnings)
			if f.format == "json" {
				return writeJSON(cmd.OutOrStdout(), struct {
					Commit   string         `json:"commit"`
					Stacks   []stacks.Stack `json:"stacks"`
					Warnings []string       `json:"warnings"`
				}{a.Commit, nonNil(a.Stacks), nonNil(a.Warnings)})
			}
			return printStacks(cmd.OutOrStdout(), a.Stacks)
		},
	}
	f.register(c, "text", "json")
	c.Flags().StringVar(&ref, "ref", "HEAD", "commit to analyse (branch, tag, SHA, HEAD~N)")
	return c
}

func newChangedCmd() *cobra.Command {
	var f repoFlags
	var base, head string
	c := &cobra.Command{
		Use:   "changed --base REF [--head REF]",
		Short: "List the stacks a commit range touches, and why",
		Long: `List the stacks that the changes between merge-base(BASE, HEAD) and HEAD
touch, as a merge request of HEAD into BASE would show them: stacks whose files
changed, stacks calling a changed local module (at any depth), stacks whose
watch globs match a changed path, and stacks whose strata.yaml entry changed.
Stacks are listed in depends_on order. Deleted stacks are reported, never planned;
so are stacks that became modules (another stack calls them now), whose state
still exists. After criss-cross merges (several merge bases) the change set is
the union over all of them.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.checkFormat("text", "json"); err != nil {
				return err
			}
			repo, err := stacks.OpenRepo(f.repo)
			if err != nil {
				return err
			}
			defer repo.Close()
			cs, err := repo.Changes(cmd.Context(), base, head)
			if err != nil {
				return err
			}
			printWarnings(cmd.ErrOrStderr(), cs.Warnings)
			if f.format == "json" {
				return writeJSON(cmd.OutOrStdout(), cs)
			}
			return printChangeSet(cmd.OutOrStdout(), cs)
		},
	}
	f.register(c, "text", "json")
	c.Flags().StringVar(&base, "base", "", "the branch, tag or commit the change is compared against (required)")
	c.Flags().StringVar(&head, "head", "HEAD", "the commit holding the change")
	_ = c.MarkFlagRequired("base")
	return c
}

func printStacks(w io.Writer, ss []stacks.Stack) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, s := range ss {
		var notes []string
		if len(s.DependsOn) > 0 {
			notes = append(notes, "after "+strings.Join(s.DependsOn, ", "))
		}
		if n := len(s.Modules); n > 0 {
			notes = append(notes, fmt.Sprintf("%d local module%s", n, plural(n)))
		}
		if s.Workspace != "default" {
			notes = append(notes, "workspace "+s.Workspace)
		}
		fmt.Fprintf(tw, "%s\t%s\n", s.Dir, strings.Join(notes, "; "))
	}
	return tw.Flush()
}

func printChangeSet(w io.Writer, cs *stacks.ChangeSet) error {
	if len(cs.Stacks) == 0 && len(cs.Deleted) == 0 && len(cs.BecameModule) == 0 {
		_, err := fmt.Fprintf(w, "no stack changed between %s and %s\n", cs.Base[:12], cs.Head[:12])
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, s := range cs.Stacks {
		reason := s.Reasons[0]
		if n := len(s.Reasons) - 1; n > 0 {
			reason += fmt.Sprintf(" (+%d more reason%s)", n, plural(n))
		}
		fmt.Fprintf(tw, "%s\t%s\n", s.Dir, reason)
	}
	for _, d := range cs.Deleted {
		fmt.Fprintf(tw, "%s\tdeleted: not planned (any resources still in its state must be destroyed separately)\n", d)
	}
	for _, d := range cs.BecameModule {
		fmt.Fprintf(tw, "%s\tbecame a module: not planned on its own (its state still exists: destroy or move what it manages)\n", d)
	}
	return tw.Flush()
}

func printWarnings(w io.Writer, warnings []string) {
	for _, m := range warnings {
		fmt.Fprintln(w, "warning:", m)
	}
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

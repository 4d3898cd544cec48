package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/strata-iac/strata/runner/lock"
	"github.com/strata-iac/strata/stacks"
)

// locksFlags are the flags every locks subcommand shares.
type locksFlags struct {
	url     string
	dataDir string
}

func (f *locksFlags) open(cmd *cobra.Command, opts lock.Options) (lock.Locker, error) {
	url := f.url
	if url == "" {
		dir, err := dataDir(f.dataDir)
		if err != nil {
			return nil, err
		}
		url = defaultLocksURL(dir)
	}
	return lock.Open(cmd.Context(), url, opts)
}

func newLocksCmd() *cobra.Command {
	f := &locksFlags{}
	cmd := &cobra.Command{
		Use:   "locks",
		Short: "List, acquire and release stack locks",
		Long: `List, acquire and release the locks that merge requests hold on stacks.

Exit codes: 0 done, 1 error, 3 the lock is held by another owner (acquire)
or not held by this owner (release).`,
		Args: cobra.NoArgs,
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&f.url, "locks", "", "where locks live: bolt://PATH, file://PATH, PATH or dynamodb://TABLE (default bolt://DATA_DIR/locks.db)")
	pf.StringVar(&f.dataDir, "data-dir", "", dataDirUsage)
	cmd.AddCommand(newLocksListCmd(f), newLocksAcquireCmd(f), newLocksReleaseCmd(f), newLocksForceReleaseCmd(f))
	return cmd
}

func newLocksListCmd(f *locksFlags) *cobra.Command {
	var format string
	var only []string
	cmd := &cobra.Command{
		Use:   "list [--stack DIR[@WORKSPACE]]...",
		Short: "List the locks held",
		Long: `List the locks held. --stack keeps the locks of the stacks named: DIR (every
workspace of it) or DIR@WORKSPACE (one), matched against the end of the keys
the server builds (forge/repo/dir/workspace).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "text" && format != "json" {
				return fmt.Errorf("unknown --format %q: use text or json", format)
			}
			l, err := f.open(cmd, lock.Options{})
			if err != nil {
				return err
			}
			defer l.Close()
			locks, err := l.List(cmd.Context())
			if err != nil {
				return err
			}
			if len(only) > 0 {
				locks = slices.DeleteFunc(locks, func(l lock.Lock) bool {
					return !slices.ContainsFunc(only, func(name string) bool {
						dir, ws := stacks.SplitInstance(name)
						return lock.HasStack(l.Key, dir, ws)
					})
				})
			}
			if format == "json" {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(locks)
			}
			return printLocks(cmd.OutOrStdout(), locks)
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	cmd.Flags().StringArrayVar(&only, "stack", nil, "only the locks of this stack: DIR or DIR@WORKSPACE (repeatable)")
	return cmd
}

func printLocks(w io.Writer, locks []lock.Lock) error {
	if len(locks) == 0 {
		_, err := fmt.Fprintln(w, "no locks held")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tOWNER\tHEAD\tUSER\tACQUIRED\tEXPIRES")
	for _, l := range locks {
		expires := "never"
		if !l.ExpiresAt.IsZero() {
			expires = stamp(l.ExpiresAt)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", l.Key, l.Owner,
			orDash(l.Head[:min(len(l.Head), 12)]), orDash(l.User), stamp(l.AcquiredAt), expires)
	}
	return tw.Flush()
}

func newLocksAcquireCmd(f *locksFlags) *cobra.Command {
	var (
		owner string
		lease time.Duration
	)
	cmd := &cobra.Command{
		Use:   "acquire KEY --owner OWNER",
		Short: "Take the lock on KEY for OWNER (exit 3 when another owner holds it)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := f.open(cmd, lock.Options{Lease: lease})
			if err != nil {
				return err
			}
			defer l.Close()
			got, err := l.Acquire(cmd.Context(), args[0], lock.Owner{ID: owner})
			if errors.Is(err, lock.ErrHeld) {
				return withCode(exitContended, err)
			}
			if err != nil {
				return err
			}
			msg := fmt.Sprintf("%s is locked by %s since %s", got.Key, got.Owner, stamp(got.AcquiredAt))
			if !got.ExpiresAt.IsZero() {
				msg += ", lease until " + stamp(got.ExpiresAt)
			}
			fmt.Fprintln(cmd.OutOrStdout(), msg)
			return nil
		},
	}
	cmd.Flags().StringVar(&owner, "owner", "", "who takes the lock, e.g. a merge request reference (required)")
	cmd.Flags().DurationVar(&lease, "lease", 0, "let the lock expire this long after it is taken, e.g. 2h (default: never)")
	_ = cmd.MarkFlagRequired("owner")
	return cmd
}

func newLocksReleaseCmd(f *locksFlags) *cobra.Command {
	var owner string
	cmd := &cobra.Command{
		Use:   "release KEY --owner OWNER",
		Short: "Free the lock on KEY if OWNER holds it (exit 3 when it does not)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := f.open(cmd, lock.Options{})
			if err != nil {
				return err
			}
			defer l.Close()
			err = l.Release(cmd.Context(), args[0], owner)
			if errors.Is(err, lock.ErrNotHolder) {
				return withCode(exitContended, err)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s released by %s\n", args[0], owner)
			return nil
		},
	}
	cmd.Flags().StringVar(&owner, "owner", "", "the owner that holds the lock (required)")
	_ = cmd.MarkFlagRequired("owner")
	return cmd
}

func newLocksForceReleaseCmd(f *locksFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "force-release KEY",
		Short: "Free the lock on KEY whoever holds it",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := f.open(cmd, lock.Options{})
			if err != nil {
				return err
			}
			defer l.Close()
			key := args[0]
			// Read first only to tell the user whose lock went away.
			held, ok, err := l.Get(cmd.Context(), key)
			if err != nil {
				return err
			}
			if err := l.ForceRelease(cmd.Context(), key); err != nil {
				return err
			}
			if ok {
				fmt.Fprintf(cmd.OutOrStdout(), "%s released (was locked by %s since %s)\n", key, held.Owner, stamp(held.AcquiredAt))
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "%s was not locked\n", key)
			}
			return nil
		},
	}
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

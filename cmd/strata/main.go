package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// Exit codes shared by every command. Commands that report "changes" (plan,
// drift, policy) use exitChanges; lock contention uses exitContended.
const (
	exitOK        = 0
	exitError     = 1
	exitChanges   = 2
	exitContended = 3
)

// exitErr carries an exit code other than 1 out of a command. A nil err
// means "exit quietly with code".
type exitErr struct {
	code int
	err  error
}

func (e *exitErr) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitErr) Unwrap() error { return e.err }

// withCode returns an error that makes strata exit with code, printing err
// (when not nil) on stderr.
func withCode(code int, err error) error { return &exitErr{code: code, err: err} }

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "strata",
		Short:         "Terraform GitOps runner: plan what a merge request touches, apply what was reviewed",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fmt.Errorf("%w (see '%s --help')", err, c.CommandPath())
	})
	root.AddCommand(
		newStacksCmd(), newChangedCmd(),
		newPlanCmd(), newApplyCmd(),
		newLocksCmd(), newSetupCmd(),
		newPolicyCmd(), newDriftCmd(),
		newCICmd(), newServerCmd(), newVersionCmd(),
	)
	return root
}

func main() {
	privateFiles()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCmd().ExecuteContext(ctx)
	stop()
	os.Exit(exitCode(err))
}

// exitCode prints err and maps it to the process exit code.
func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var ee *exitErr
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(os.Stderr, "strata:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(os.Stderr, "strata:", err)
	return exitError
}

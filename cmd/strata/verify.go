package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/strata-iac/strata/planner"
)

// verifyApply plans the stacks summary applied again, at head, and prints
// whether the infrastructure matches the code now. It returns an
// exitChanges error when changes remain, exitError when a stack could not
// be planned again.
func verifyApply(cmd *cobra.Command, s *planner.Session, head string, summary planner.Summary) error {
	v, err := s.Verify(cmd.Context(), head, summary)
	if err != nil {
		return withCode(exitError, fmt.Errorf("verify: %w", err))
	}
	out := cmd.OutOrStdout()
	if len(v.Stacks) == 0 {
		fmt.Fprintln(out, "\nverify: nothing was applied, nothing to verify")
		return nil
	}
	if v.Verified() {
		fmt.Fprintf(out, "\n✅ verified: no changes (%d applied stack%s planned again)\n", len(v.Stacks), plural(len(v.Stacks)))
		return nil
	}
	n := v.Remaining()
	if n > 0 {
		verb := "remain"
		if n == 1 {
			verb = "remains"
		}
		fmt.Fprintf(out, "\n⚠ not converged: %d change%s %s after the apply\n", n, plural(n), verb)
	}
	broken := 0
	for _, res := range v.Stacks {
		switch {
		case res.Status == planner.StatusChanges:
			fmt.Fprintf(out, "  %s: %s\n", res.Name(), strings.Join(planner.Addresses(res), ", "))
		case res.Status != planner.StatusNoChanges:
			broken++
			fmt.Fprintf(out, "  %s: could not be planned again: %s\n", res.Name(), res.Error)
		}
	}
	if n > 0 {
		fmt.Fprintln(out, strings.ReplaceAll(planner.PerpetualDiffHint, "`", ""))
	}
	if broken > 0 {
		return withCode(exitError, fmt.Errorf("verify: %d applied stack%s could not be planned again", broken, plural(broken)))
	}
	return withCode(exitChanges, nil)
}

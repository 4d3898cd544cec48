package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/strata-iac/strata/policy"
)

func newPolicyCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Check plans against Rego policies (conftest style)",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newPolicyTestCmd())
	return cmd
}

// policyTestOutput is what `policy test --format json` prints.
type policyTestOutput struct {
	PlanJSON string   `json:"plan_json"`
	Policy   []string `json:"policy"`
	policy.Result
}

func newPolicyTestCmd() *cobra.Command {
	var (
		paths    []string
		planFile string
		format   string
	)
	cmd := &cobra.Command{
		Use:   "test --policy DIR --plan-json FILE",
		Short: "Evaluate a plan JSON (terraform show -json) against Rego policies",
		Long: `Evaluate a plan JSON (terraform show -json PLANFILE) against the Rego
policies in DIR, as conftest would: package main, deny and violation rules
block, warn rules annotate. Rego v1 and v0 syntax are both accepted.

Exit status: 0 when no deny or violation rule fires (warnings allowed), 2 when
one does, 1 when a policy is broken, the plan JSON is not a plan, or
evaluation did not finish.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "text" && format != "json" {
				return fmt.Errorf("--format %q: want text or json", format)
			}
			planJSON, err := os.ReadFile(planFile)
			if err != nil {
				return fmt.Errorf("plan JSON: %w", err)
			}
			base, _ := os.Getwd()
			engine, err := policy.Load(cmd.Context(), policy.Options{Paths: paths, BaseDir: base})
			if err != nil {
				return err
			}
			res, evalErr := engine.Evaluate(cmd.Context(), planJSON)
			if errors.Is(evalErr, policy.ErrNotPlan) {
				return fmt.Errorf("%s is %w", planFile, evalErr)
			}
			if format == "json" {
				err = writePolicyJSON(cmd.OutOrStdout(), policyTestOutput{PlanJSON: planFile, Policy: paths, Result: res})
			} else {
				err = writePolicyText(cmd.OutOrStdout(), res)
			}
			switch {
			case evalErr != nil:
				return evalErr
			case err != nil:
				return err
			case res.Outcome == policy.Fail:
				return withCode(exitChanges, nil)
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&paths, "policy", nil, "directory (searched recursively) or .rego file; repeatable")
	cmd.Flags().StringVar(&planFile, "plan-json", "", "plan JSON file, from terraform show -json PLANFILE")
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	_ = cmd.MarkFlagRequired("policy")
	_ = cmd.MarkFlagRequired("plan-json")
	return cmd
}

func writePolicyJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// writePolicyText prints one line per message, then a summary line.
func writePolicyText(w io.Writer, res policy.Result) error {
	for _, m := range res.Failures {
		fmt.Fprintln(w, "FAIL", m)
	}
	for _, m := range res.Warnings {
		fmt.Fprintln(w, "WARN", m)
	}
	_, err := fmt.Fprintf(w, "%s: %s, %s, %s\n", res.Outcome,
		countOf(res.Rules, "rule"), countOf(len(res.Failures), "failure"), countOf(len(res.Warnings), "warning"))
	return err
}

func countOf(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

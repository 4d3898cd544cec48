package tf

import (
	"context"
	"time"
)

// PlanOptions shape terraform plan.
type PlanOptions struct {
	// Out is the plan file to write. Required.
	Out string
	// LockTimeout is how long to wait for the state lock.
	LockTimeout time.Duration
	// RefreshOnly plans with -refresh-only.
	RefreshOnly bool
	// Extra are more arguments (-var-file, -target, …), after strata's own
	// so that a -lock-timeout among them wins.
	Extra []string
}

// Plan runs terraform plan -json -detailed-exitcode into opts.Out: exit
// code 0 means no changes, 2 changes, 1 an error. Its output is the
// machine-readable UI (ReadJSONUI); the plan's text comes from ShowPlan.
func (t *Terraform) Plan(ctx context.Context, opts PlanOptions) (Output, error) {
	args := []string{"plan", "-input=false", "-no-color", "-json", "-detailed-exitcode",
		"-lock-timeout=" + opts.LockTimeout.String(), "-out=" + opts.Out}
	if opts.RefreshOnly {
		args = append(args, "-refresh-only")
	}
	return t.exec(ctx, false, append(args, opts.Extra...)...)
}

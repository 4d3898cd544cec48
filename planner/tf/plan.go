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
}

// Plan runs terraform plan -detailed-exitcode into opts.Out: exit code 0
// means no changes, 2 changes, 1 an error.
func (t *Terraform) Plan(ctx context.Context, opts PlanOptions) (Output, error) {
	args := []string{"plan", "-input=false", "-no-color", "-detailed-exitcode",
		"-lock-timeout=" + opts.LockTimeout.String(), "-out=" + opts.Out}
	if opts.RefreshOnly {
		args = append(args, "-refresh-only")
	}
	return t.exec(ctx, false, args...)
}

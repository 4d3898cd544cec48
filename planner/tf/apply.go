package tf

import (
	"context"
	"time"
)

// ApplyOptions shape terraform apply.
type ApplyOptions struct {
	// PlanFile is the saved plan to apply. Required: strata applies only
	// reviewed plans.
	PlanFile string
	// LockTimeout is how long to wait for the state lock.
	LockTimeout time.Duration
}

// Apply applies exactly the saved plan opts.PlanFile.
func (t *Terraform) Apply(ctx context.Context, opts ApplyOptions) (Output, error) {
	return t.exec(ctx, false, "apply", "-input=false", "-no-color",
		"-lock-timeout="+opts.LockTimeout.String(), opts.PlanFile)
}

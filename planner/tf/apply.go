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
	// Extra are more arguments (-parallelism, -lock-timeout), before the
	// plan file.
	Extra []string
}

// Apply applies exactly the saved plan opts.PlanFile, with -json: its
// output is the machine-readable UI (ReadJSONUI).
func (t *Terraform) Apply(ctx context.Context, opts ApplyOptions) (Output, error) {
	args := []string{"apply", "-input=false", "-no-color", "-json", "-lock-timeout=" + opts.LockTimeout.String()}
	args = append(append(args, opts.Extra...), opts.PlanFile)
	return t.exec(ctx, false, args...)
}

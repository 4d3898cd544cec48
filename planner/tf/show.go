package tf

import "context"

// ShowPlanJSON runs terraform show -json on a plan file; Output.Stdout is
// the plan JSON (read it with terraform-json).
func (t *Terraform) ShowPlanJSON(ctx context.Context, planFile string) (Output, error) {
	return t.exec(ctx, true, "show", "-json", "-no-color", planFile)
}

// ShowStateJSON runs terraform show -json without a plan file; Output.Stdout
// is the current state as JSON (read it with terraform-json).
func (t *Terraform) ShowStateJSON(ctx context.Context) (Output, error) {
	return t.exec(ctx, true, "show", "-json", "-no-color")
}

// ShowPlan runs terraform show on a plan file; Output.Stdout is the plan
// as terraform prints it for people.
func (t *Terraform) ShowPlan(ctx context.Context, planFile string) (Output, error) {
	return t.exec(ctx, false, "show", "-no-color", planFile)
}

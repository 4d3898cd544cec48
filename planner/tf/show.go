package tf

import "context"

// ShowPlanJSON runs terraform show -json on a plan file; Output.Stdout is
// the plan JSON (read it with terraform-json).
func (t *Terraform) ShowPlanJSON(ctx context.Context, planFile string) (Output, error) {
	return t.exec(ctx, true, "show", "-json", "-no-color", planFile)
}

// ShowPlan runs terraform show on a plan file; Output.Stdout is the plan
// as terraform prints it for people.
func (t *Terraform) ShowPlan(ctx context.Context, planFile string) (Output, error) {
	return t.exec(ctx, false, "show", "-no-color", planFile)
}

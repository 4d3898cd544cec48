package tf

import "context"

// WorkspaceSelect selects workspace name, creating it when it does not
// exist yet (with -or-create on terraform ≥ 1.4 and OpenTofu, else by
// workspace new after a failed select).
func (t *Terraform) WorkspaceSelect(ctx context.Context, name string) (Output, error) {
	if t.bin.AtLeast("1.4.0") {
		return t.exec(ctx, false, "workspace", "select", "-or-create=true", "-no-color", name)
	}
	if out, err := t.exec(ctx, false, "workspace", "select", "-no-color", name); err != nil || out.Code == 0 {
		return out, err
	}
	return t.exec(ctx, false, "workspace", "new", "-no-color", name)
}

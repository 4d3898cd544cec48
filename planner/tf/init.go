package tf

import "context"

// InitOptions shape terraform init.
type InitOptions struct {
	// BackendConfig is a -backend-config file; "" passes none.
	BackendConfig string
	// ReadonlyLockfile installs exactly the providers the dependency lock
	// file names (-lockfile=readonly, terraform ≥ 1.1 and OpenTofu); an
	// apply uses it to get the providers its plan was made with.
	ReadonlyLockfile bool
	// Writable are paths init may write in a sandbox besides the Mounts
	// of every command: the plugin cache, while the caller holds its
	// lock.
	Writable []string
}

// Init runs terraform init -input=false. The caller holds the plugin
// cache's lock when init may install providers (see PluginCache).
func (t *Terraform) Init(ctx context.Context, opts InitOptions) (Output, error) {
	args := []string{"init", "-input=false", "-no-color"}
	if opts.BackendConfig != "" {
		args = append(args, "-backend-config="+opts.BackendConfig)
	}
	if opts.ReadonlyLockfile && t.bin.AtLeast("1.1.0") {
		args = append(args, "-lockfile=readonly")
	}
	cmd := t.cmd
	cmd.mounts = cmd.mounts.With(Mounts{ReadWrite: opts.Writable})
	return t.execIn(ctx, cmd, false, args...)
}

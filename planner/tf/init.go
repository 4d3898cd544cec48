package tf

import (
	"context"

	"github.com/hashicorp/go-version"
)

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
	// Extra are more arguments (-var-file, -lock-timeout, …).
	Extra []string
}

// Init runs terraform init -input=false, with -json where the binary has
// it (InitJSON). The caller holds the plugin cache's lock when init may
// install providers (see PluginCache).
func (t *Terraform) Init(ctx context.Context, opts InitOptions) (Output, error) {
	args := []string{"init", "-input=false", "-no-color"}
	if t.InitJSON() {
		args = append(args, "-json")
	}
	if opts.BackendConfig != "" {
		args = append(args, "-backend-config="+opts.BackendConfig)
	}
	if opts.ReadonlyLockfile && t.bin.AtLeast("1.1.0") {
		args = append(args, "-lockfile=readonly")
	}
	cmd := t.cmd
	cmd.mounts = cmd.mounts.With(Mounts{ReadWrite: opts.Writable})
	return t.execIn(ctx, cmd, false, append(args, opts.Extra...)...)
}

// InitJSON reports whether init prints the machine-readable UI: Terraform
// from 1.9 on, OpenTofu from 1.7 on. Older ones print text, which
// SplitDiagnostics reads.
func (t *Terraform) InitJSON() bool {
	since := "1.9.0"
	if t.bin.Name == "tofu" {
		since = "1.7.0"
	}
	v := t.bin.version()
	return v != nil && v.GreaterThanOrEqual(version.Must(version.NewVersion(since)))
}

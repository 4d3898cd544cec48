//go:build !linux

package tf

import (
	"context"
	"errors"
	"os"
	"os/exec"
)

// Sandbox is Linux's alone: bubblewrap needs Linux namespaces. Elsewhere
// NewSandbox fails, and terraform runs unsandboxed only with --sandbox
// auto or off.
type Sandbox struct{}

var errNoSandbox = errors.New("sandboxing terraform needs Linux (bubblewrap and user namespaces)")

func probeSandbox(context.Context) (*Sandbox, error) { return nil, errNoSandbox }

type jail struct{}

func (*Sandbox) wrap(*exec.Cmd, Mounts) (*jail, error) { return nil, errNoSandbox }

func (*jail) started() {}

func (*jail) interrupt(p *os.Process) error { return p.Kill() }

func (*jail) close() {}

//go:build unix

package tf

import (
	"os"
	"syscall"
)

// killGroup kills terraform's process group.
func killGroup(p *os.Process) { _ = syscall.Kill(-p.Pid, syscall.SIGKILL) }

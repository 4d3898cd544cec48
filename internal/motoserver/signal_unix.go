//go:build unix

package motoserver

import (
	"os"
	"syscall"
)

// signalGroup sends moto_server's process group SIGTERM, or SIGKILL when
// kill is set.
func signalGroup(p *os.Process, kill bool) {
	sig := syscall.SIGTERM
	if kill {
		sig = syscall.SIGKILL
	}
	_ = syscall.Kill(-p.Pid, sig)
}

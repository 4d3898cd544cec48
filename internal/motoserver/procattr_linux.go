package motoserver

import "syscall"

// sysProcAttr puts moto_server in its own process group, so Stop can kill
// everything it started, and kills it if the test process dies first.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

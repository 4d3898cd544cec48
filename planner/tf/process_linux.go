package tf

import "syscall"

// sysProcAttr puts terraform in a process group of its own and has the
// kernel send it SIGTERM should strata die first.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}

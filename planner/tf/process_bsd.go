//go:build unix && !linux

package tf

import "syscall"

// sysProcAttr puts terraform in a process group of its own. These systems
// have no parent-death signal: a terraform whose strata dies keeps
// running until it ends.
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

//go:build unix && !linux

package motoserver

import "syscall"

// sysProcAttr puts moto_server in its own process group, so Stop can kill
// everything it started.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

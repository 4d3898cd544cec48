//go:build !unix

package motoserver

import (
	"os"
	"syscall"
)

// sysProcAttr sets nothing: these systems have no process groups.
func sysProcAttr() *syscall.SysProcAttr { return nil }

// signalGroup kills moto_server alone.
func signalGroup(p *os.Process, _ bool) { _ = p.Kill() }

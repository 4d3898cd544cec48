//go:build !unix

package tf

import (
	"os"
	"syscall"
)

// sysProcAttr sets nothing: these systems have neither process groups
// nor a parent-death signal, so terraform shares strata's console and
// outlives a strata that dies.
func sysProcAttr() *syscall.SysProcAttr { return nil }

// killGroup kills terraform alone; what it started is left running.
func killGroup(p *os.Process) { _ = p.Kill() }

//go:build unix

package main

import "syscall"

// privateFiles makes everything strata and the terraform it starts create
// private to strata's user (umask 077): terraform writes its state files
// 0644 otherwise (README.md, Security).
func privateFiles() { syscall.Umask(0o077) }

package kmstest

import "syscall"

// sysProcAttr makes local-kms die with the test process, so that a killed
// test leaves no emulator keeping its network namespace alive.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

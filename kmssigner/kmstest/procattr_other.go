//go:build !linux

package kmstest

import "syscall"

// sysProcAttr: only Linux makes the private network namespace local-kms
// runs in, so Start never runs local-kms elsewhere.
func sysProcAttr() *syscall.SysProcAttr { return nil }

//go:build !linux

package testenv

import "syscall"

// nginxProcAttr: only Linux can tie nginx's life to the test process's.
func nginxProcAttr() *syscall.SysProcAttr { return nil }

package testenv

import "syscall"

// nginxProcAttr makes the kernel stop nginx (SIGTERM, its fast shutdown)
// when the test process dies without running its cleanups (a panic, the
// -timeout alarm, a kill), so no nginx outlives its test.
func nginxProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}

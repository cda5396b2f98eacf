package scflocal

import "syscall"

// setParentDeathSignal makes the kernel kill the function process if the
// process that started it dies without calling Stop.
func setParentDeathSignal(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }

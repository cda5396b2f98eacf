package main

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
)

// setParentDeathSignal asks the kernel for SIGTERM when the parent exits
// (prctl(2) PR_SET_PDEATHSIG; the signal handler then stops scf-local).
func setParentDeathSignal() {
	_, _, _ = syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_PDEATHSIG, uintptr(syscall.SIGTERM), 0)
}

// isZombie reads the state in /proc/<pid>/stat (proc(5)).
func isZombie(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	rest := stat[bytes.LastIndexByte(stat, ')')+1:]
	f := bytes.Fields(rest)
	return len(f) > 0 && string(f[0]) == "Z"
}

//go:build !linux

package scflocal

import "syscall"

// peakRSS is unknown outside Linux (no /proc/<pid>/status).
func peakRSS(int) int64 { return 0 }

// setParentDeathSignal: only Linux has PR_SET_PDEATHSIG.
func setParentDeathSignal(*syscall.SysProcAttr) {}

//go:build !linux

package scflocal

import "syscall"

// Only Linux has /proc/<pid>/status and PR_SET_PDEATHSIG.
func peakRSS(int) int64 { return 0 }

func setParentDeathSignal(*syscall.SysProcAttr) {}

func setOwnParentDeathSignal() {}

//go:build unix && !linux

package scflocal

import "syscall"

func setParentDeathSignal(*syscall.SysProcAttr) {}

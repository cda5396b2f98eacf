//go:build unix

package main

import (
	"errors"
	"syscall"
)

func processGroup() int {
	pgid, err := syscall.Getpgid(0)
	if err != nil {
		return 0
	}
	return pgid
}

// processAlive reports whether pid exists and is not a zombie.
func processAlive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	return !isZombie(pid)
}

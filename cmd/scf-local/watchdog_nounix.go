//go:build !unix

package main

import "os"

func processGroup() int { return 0 }

func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	p.Release()
	return true
}

//go:build !unix

package scflocal

import (
	"os"
	"os/exec"
)

var (
	sigTerm = os.Interrupt
	sigKill = os.Kill
)

func setProcAttr(*exec.Cmd) {}

func signalGroup(cmd *exec.Cmd, sig os.Signal) { _ = cmd.Process.Signal(sig) }

func setBuildProcAttr(*exec.Cmd) {}

func processGroup() int { return 0 }

func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err == nil {
		_ = p.Release()
	}
	return err == nil
}

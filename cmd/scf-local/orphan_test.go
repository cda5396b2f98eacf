//go:build linux

package main

import (
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestNothingOutlivesTheCommand starts scf-local below a shell job, as
// `go run` or `make run` start it from a terminal, kills the job without
// giving scf-local a chance to hear about it (SIGKILL), and checks that
// scf-local and every function process it started exit.
func TestNothingOutlivesTheCommand(t *testing.T) {
	skipShort(t, "builds scf-local and the test functions")
	t.Parallel() // it counts the children of its own scf-local, not of this process
	bin := scfLocalBinary(t)
	run := `"$SCF_LOCAL" --config "$CONFIG" --addr 127.0.0.1:0 --emulator-addr 127.0.0.1:0 --timers=false & echo "pid $!"; wait`
	for _, tt := range []struct {
		name, script string
		kill         string // "leader": the job's first process (like make); "parent": scf-local's parent (like go run)
	}{
		// The job is one shell that started scf-local: like `go run`, killed.
		{"parent killed", run, "parent"},
		// The job leader runs a shell that runs scf-local: like `make run`
		// (make -> go run -> scf-local), make killed, go run left alive.
		{"job leader killed, parent alive", `sh -c '` + strings.ReplaceAll(run, `"`, `\"`) + `'; wait`, "leader"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command("sh", "-c", strings.ReplaceAll(tt.script, `\"`, `"`))
			cmd.Env = append(os.Environ(), "SCF_LOCAL="+bin, "CONFIG="+testProject)
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // a job of its own, as a shell starts it
			pr, pw := io.Pipe()
			cmd.Stdout, cmd.Stderr = pw, pw
			out := newLines(pr)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				_ = cmd.Wait()
				pw.Close()
			})
			pid, err := strconv.Atoi(out.field(t, "pid"))
			if err != nil {
				t.Fatal(err)
			}
			out.wait(t, 3*time.Minute, 1, func(s string) bool { return strings.HasPrefix(s, "ready:") })
			fns := children(t, pid)
			if len(fns) != 2 {
				t.Fatalf("want the 2 function processes as children of scf-local, got %v", fns)
			}
			parent := ppidOf(t, pid)
			victim := cmd.Process.Pid
			if tt.kill == "parent" {
				victim = parent
			} else if parent == cmd.Process.Pid {
				t.Fatalf("scf-local's parent is the job leader; the test wants a process between them")
			}
			if err := syscall.Kill(victim, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			// The parent's death: the kernel's SIGTERM (PR_SET_PDEATHSIG) or the
			// watchdog; the leader's: the watchdog. Either way a clean stop.
			out.wait(t, 30*time.Second, 1, func(s string) bool { return strings.HasPrefix(s, "scf-local: stopped") })
			for _, p := range append(fns, child{pid: pid, exe: "scf-local"}) {
				deadline := time.Now().Add(30 * time.Second)
				for alive(p.pid) {
					if time.Now().After(deadline) {
						t.Fatalf("%s (pid %d) still running after the command that started it was killed; output:\n%s", p.exe, p.pid, out.text())
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
			if tt.kill == "leader" && !strings.Contains(out.text(), "exited; stopping") {
				t.Errorf("scf-local did not say why it stopped:\n%s", out.text())
			}
		})
	}
}

func ppidOf(t *testing.T, pid int) int {
	t.Helper()
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	ppid, _ := strconv.Atoi(f[1])
	return ppid
}

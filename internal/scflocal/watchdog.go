package scflocal

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"time"
)

// ExitWithParent returns a context that also ends, after calling stopping
// with the reason, when the command that started this process exits without
// stopping it: its parent (`go run`, a shell) or the leader of its process
// group (the job a shell started, such as `make run`, whose SIGKILL leaves
// `go run` alive but orphaned). It checks every interval; on Linux the
// kernel also sends SIGTERM at once when the parent dies (PR_SET_PDEATHSIG).
func ExitWithParent(ctx context.Context, interval time.Duration, stopping func(why string)) (context.Context, context.CancelFunc) {
	ppid, leader := os.Getppid(), 0
	if pgid := processGroup(); pgid > 0 && pgid != os.Getpid() && processAlive(pgid) {
		leader = pgid
	}
	setOwnParentDeathSignal()
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			why := ""
			if os.Getppid() != ppid {
				why = fmt.Sprintf("its parent process %d exited", ppid)
			} else if leader != 0 && !processAlive(leader) {
				why = fmt.Sprintf("the command that started it (process group leader %d) exited", leader)
			}
			if why != "" {
				stopping(why)
				cancel()
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return ctx, cancel
}

// isZombie reads the state in /proc/<pid>/stat (proc(5)); false without /proc.
func isZombie(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	f := bytes.Fields(stat[bytes.LastIndexByte(stat, ')')+1:])
	return len(f) > 0 && string(f[0]) == "Z"
}

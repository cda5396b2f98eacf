package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"
)

// watchInterval is how often scf-local checks that the command the user
// started is still there.
const watchInterval = 500 * time.Millisecond

// lineage is what scf-local watches to end with the command that started it:
// its parent (`go run`, a shell) and the leader of its process group (the
// job the shell started, such as `make run`, whose SIGKILL leaves `go run`
// alive but orphaned).
type lineage struct {
	ppid   int // parent at start
	leader int // process group leader at start, 0 when none to watch
}

// currentLineage records the parent and the group leader, when the leader is
// another live process.
func currentLineage() lineage {
	l := lineage{ppid: os.Getppid()}
	if pgid := processGroup(); pgid > 0 && pgid != os.Getpid() && processAlive(pgid) {
		l.leader = pgid
	}
	return l
}

// gone says which of the watched processes has exited ("" while both run).
func (l lineage) gone() string {
	if p := os.Getppid(); p != l.ppid {
		return fmt.Sprintf("its parent process %d exited", l.ppid)
	}
	if l.leader != 0 && !processAlive(l.leader) {
		return fmt.Sprintf("the command that started it (process group leader %d) exited", l.leader)
	}
	return ""
}

// exitWithParent returns a context that also ends when the process that
// started scf-local, or the job it belongs to, exits without stopping it
// (`kill <pid of go run>`, `kill -9 <pid of make>`): then scf-local shuts
// down as on Ctrl-C, so that nothing it started outlives the user's command.
// On Linux the kernel also sends SIGTERM at once when the parent dies
// (PR_SET_PDEATHSIG); the polling covers the group leader and other systems.
func exitWithParent(ctx context.Context, stderr io.Writer, interval time.Duration) (context.Context, context.CancelFunc) {
	l := currentLineage()
	setParentDeathSignal()
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			if why := l.gone(); why != "" {
				fmt.Fprintf(stderr, "scf-local: %s; stopping\n", why)
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

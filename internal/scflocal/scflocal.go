// Package scflocal is the platform side of the SCF Go1 runtime protocol: it
// builds a function binary, starts it the way SCF does (with
// $_LAMBDA_SERVER_PORT), waits until it answers Function.Ping, invokes it over
// net/rpc with a deadline and a per-invocation Environment, and stops it
// without leaving processes behind.
//
// cmd/scf-local and the functions' end-to-end tests use it (see Example).
package scflocal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Build compiles the main package in pkgDir (inside the module) into the
// executable out as it is packaged for SCF, go build -trimpath -ldflags
// "-s -w" with CGO_ENABLED=0, for the host (so it runs here), with the build
// tags given. A failed build's error includes the go command's output.
func Build(ctx context.Context, pkgDir, out string, tags ...string) error {
	return build(ctx, pkgDir, out, true, tags)
}

// BuildLocal compiles like Build, but for running here only: with the go
// command's defaults, those of `go run` and `go test`, so that it reuses
// what they put in the build cache instead of compiling every dependency
// again.
func BuildLocal(ctx context.Context, pkgDir, out string, tags ...string) error {
	return build(ctx, pkgDir, out, false, tags)
}

func build(ctx context.Context, pkgDir, out string, reproducible bool, tags []string) error {
	outAbs, err := filepath.Abs(out)
	if err != nil {
		return fmt.Errorf("build %s: %w", pkgDir, err)
	}
	gobin := "go"
	if p := filepath.Join(os.Getenv("GOROOT"), "bin", "go"); os.Getenv("GOROOT") != "" && isFile(p) {
		gobin = p
	}
	args := []string{"build", "-o", outAbs}
	if reproducible {
		args = append(args, "-trimpath", "-ldflags", "-s -w")
	}
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	cmd := exec.CommandContext(ctx, gobin, append(args, ".")...)
	cmd.Dir = pkgDir
	cmd.Env = os.Environ()
	if reproducible {
		cmd.Env = append(cmd.Env, "CGO_ENABLED=0")
	}
	setBuildProcAttr(cmd)
	var output bytes.Buffer
	cmd.Stdout = &output
	cmd.Stderr = &output
	if err := cmd.Run(); err != nil {
		if msg := strings.TrimSpace(output.String()); msg != "" {
			err = fmt.Errorf("%w\n%s", err, msg)
		}
		return fmt.Errorf("build %s: %w", pkgDir, err)
	}
	return nil
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// ErrStopped is returned by Invoke and Ping after Stop, or after the process
// exited.
var ErrStopped = errors.New("scflocal: function process is not running")

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

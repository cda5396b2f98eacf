// Package scflocal is the platform side of the SCF Go1 runtime protocol: it
// builds a function binary, starts it the way SCF does (with
// $_LAMBDA_SERVER_PORT), waits until it answers Function.Ping, invokes it over
// net/rpc with a deadline and a per-invocation Environment, and stops it
// without leaving processes behind.
//
// cmd/scf-local and the functions' end-to-end tests use it (see Example).
//
// Invoke's error reports transport failures only (the process died, the
// connection broke, ctx ended); what the function returned, including its
// errors and panics, is in Result.
package scflocal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Build compiles the main package in pkgDir into the executable out, as it is
// packaged for SCF: go build -trimpath -ldflags "-s -w" with CGO_ENABLED=0,
// for the host GOOS/GOARCH (so it can run here). pkgDir is a directory
// (relative to the working directory, or absolute) inside the module. The
// go command's output is included in the error when the build fails. Build
// tags, if any, are passed to go build -tags.
func Build(ctx context.Context, pkgDir, out string, tags ...string) error {
	return build(ctx, pkgDir, out, true, tags)
}

// BuildLocal compiles like Build, but for running here only: with the go
// command's default compiler settings (no -trimpath, the environment's
// CGO_ENABLED), which are those of `go run` and `go test`, so that it reuses
// the packages they already compiled into the build cache instead of
// compiling the standard library and every dependency again. Packaging for
// SCF keeps Build's (and the Makefile's) reproducible flags.
func BuildLocal(ctx context.Context, pkgDir, out string, tags ...string) error {
	return build(ctx, pkgDir, out, false, tags)
}

func build(ctx context.Context, pkgDir, out string, reproducible bool, tags []string) error {
	dir, err := filepath.Abs(pkgDir)
	if err != nil {
		return fmt.Errorf("build %s: %w", pkgDir, err)
	}
	outAbs, err := filepath.Abs(out)
	if err != nil {
		return fmt.Errorf("build %s: %w", pkgDir, err)
	}
	gobin := "go"
	if goroot := os.Getenv("GOROOT"); goroot != "" {
		if p := filepath.Join(goroot, "bin", "go"); isFile(p) {
			gobin = p
		}
	}
	args := []string{"build", "-o", outAbs}
	if reproducible {
		args = append(args, "-trimpath", "-ldflags", "-s -w")
	}
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	cmd := exec.CommandContext(ctx, gobin, append(args, ".")...)
	cmd.Dir = dir
	cmd.Env = os.Environ()
	if reproducible {
		cmd.Env = append(cmd.Env, "CGO_ENABLED=0")
	}
	setBuildProcAttr(cmd)
	var output bytes.Buffer
	cmd.Stdout = &output
	cmd.Stderr = &output
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(output.String())
		if msg == "" {
			return fmt.Errorf("build %s: %w", pkgDir, err)
		}
		return fmt.Errorf("build %s: %w\n%s", pkgDir, err, msg)
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

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
	"strings"
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

package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/scf-janitor/scf-janitor/internal/deploy/pack"
)

// buildPackage builds root/functions/<handler> as `make package` does
// (Makefile PKG_ENV, PKG_FLAGS) and returns the zip cmd/zipfn would write:
// the same source gives the same bytes, so the hash stays.
func buildPackage(ctx context.Context, root, handler string) ([]byte, error) {
	pkg := filepath.Join(root, "functions", handler)
	if st, err := os.Stat(pkg); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("build %s: no Go package at %s (handler = the binary's name = functions/<handler>)", handler, pkg)
	}
	tmp, err := os.MkdirTemp("", "scf-deploy-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, handler)
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-buildvcs=false", "-ldflags", "-s -w -buildid=", "-o", bin, "./functions/"+handler)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64", "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build %s: go build: %w\n%s", handler, err, strings.TrimSpace(string(out)))
	}
	if err := os.Chmod(bin, pack.Mode); err != nil {
		return nil, err
	}
	var zip bytes.Buffer
	if err := pack.Write(&zip, bin); err != nil {
		return nil, fmt.Errorf("package %s: %w", handler, err)
	}
	return zip.Bytes(), nil
}

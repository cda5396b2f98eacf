// Package scflocaltest builds function binaries for tests: each main package
// is built once per test binary with scflocal.BuildLocal (reusing what go test
// compiled) and removed by Cleanup.
// Only tests import it.
package scflocaltest

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/scflocal"
)

// BuildTimeout bounds one build (an empty build cache on a 2-core CI machine
// compiles the SDKs first).
const BuildTimeout = 5 * time.Minute

var (
	mu    sync.Mutex
	built = map[string]string{} // absolute package dir -> binary path
)

// Binary builds the main package in pkgDir (once per test binary) the way
// scflocal builds functions and returns the binary's path, named after the
// package directory. It skips the test under -short.
func Binary(tb testing.TB, pkgDir string) string {
	tb.Helper()
	if testing.Short() {
		tb.Skip("builds a function binary")
	}
	abs, err := filepath.Abs(pkgDir)
	if err != nil {
		tb.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if bin, ok := built[abs]; ok {
		return bin
	}
	dir, err := os.MkdirTemp("", "scflocaltest-")
	if err != nil {
		tb.Fatal(err)
	}
	bin := filepath.Join(dir, filepath.Base(abs))
	ctx, cancel := context.WithTimeout(context.Background(), BuildTimeout)
	defer cancel()
	if err := scflocal.BuildLocal(ctx, pkgDir, bin); err != nil {
		os.RemoveAll(dir)
		tb.Fatalf("build %s: %v", pkgDir, err)
	}
	built[abs] = bin
	return bin
}

// Cleanup removes the binaries Binary built; call it from TestMain after m.Run.
func Cleanup() {
	mu.Lock()
	defer mu.Unlock()
	for k, bin := range built {
		os.RemoveAll(filepath.Dir(bin))
		delete(built, k)
	}
}

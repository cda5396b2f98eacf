package canceltest

import (
	"flag"
	"os"
	"testing"

	"github.com/scf-janitor/scf-janitor/internal/testkit/scflocaltest"
)

// update rewrites the testdata files: go test -run /Testdata -update.
var update = flag.Bool("update", false, "rewrite testdata")

// Main is a cancel function package's TestMain: it runs the tests, then
// removes the binaries scflocaltest built.
func Main(m *testing.M) {
	code := m.Run()
	scflocaltest.Cleanup()
	os.Exit(code)
}

// Run runs every test of the cancel function name, whose package is the
// current directory: Testdata on testdata/ (with -update it rewrites the
// files) and the runtime end-to-end test E2E.
func Run(t *testing.T, name string) {
	f, ok := Functions[name]
	if !ok {
		t.Fatalf("canceltest knows no cancel function %q", name)
	}
	t.Run("Testdata", func(t *testing.T) { Testdata(t, f, "testdata", *update) })
	t.Run("RuntimeE2E", func(t *testing.T) { E2E(t, f, ".") })
}

package canceltest

import (
	"flag"
	"testing"

	"github.com/scf-janitor/scf-janitor/internal/testkit/scflocaltest"
)

// update rewrites the testdata files: go test -run /Testdata -update.
var update = flag.Bool("update", false, "rewrite testdata")

// Run runs every test of the cancel function name, whose package is the
// current directory: Testdata on testdata/ (with -update it rewrites the
// files) and the runtime end-to-end test E2E. It is the package's only test,
// so the package needs no TestMain: when Run ends it removes the binaries
// scflocaltest built.
func Run(t *testing.T, name string) {
	t.Cleanup(scflocaltest.Cleanup)
	f, ok := Functions[name]
	if !ok {
		t.Fatalf("canceltest knows no cancel function %q", name)
	}
	t.Run("Testdata", func(t *testing.T) { Testdata(t, f, "testdata", *update) })
	t.Run("RuntimeE2E", func(t *testing.T) { E2E(t, f, ".") })
}

// Package layout holds the test that keeps the repository's layout honest:
// shared/ is exactly what the four functions ship, and tools live elsewhere
// (internal/, cmd/).
package layout

import (
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/scf-janitor/scf-janitor/"

func goList(t *testing.T, args ...string) []string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is not on PATH: %v", err)
	}
	cmd := exec.Command(gobin, append([]string{"list"}, args...)...)
	cmd.Dir = filepath.Join("..", "..")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %s: %v", strings.Join(args, " "), err)
	}
	return strings.Fields(string(out))
}

// TestSharedIsWhatTheFunctionsShip fails when a function links a package of
// this module outside shared/ (and functions/), or when a package under
// shared/ ships in no function (a tool or a test helper belongs in internal/).
func TestSharedIsWhatTheFunctionsShip(t *testing.T) {
	deps := goList(t, "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "./functions/...")
	shipped := map[string]bool{}
	for _, p := range deps {
		rel, ours := strings.CutPrefix(p, module)
		if !ours {
			continue
		}
		shipped[rel] = true
		if !strings.HasPrefix(rel, "shared/") && !strings.HasPrefix(rel, "functions/") {
			t.Errorf("a function links %s: what a function ships belongs under shared/", rel)
		}
	}
	for _, p := range goList(t, "./shared/...") {
		rel := strings.TrimPrefix(p, module)
		if !shipped[rel] {
			t.Errorf("%s ships in no function: move it under internal/ (tools, test helpers)", rel)
		}
	}
	if !slices.ContainsFunc(deps, func(p string) bool { return strings.HasSuffix(p, "/shared/scf") }) {
		t.Error("go list found no shared package in the functions' dependencies: is the module path right?")
	}
}

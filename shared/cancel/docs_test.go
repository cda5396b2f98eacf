package cancel_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/scf-janitor/scf-janitor/shared/webhook"
)

// TestSigningRecipe runs the curl+openssl recipe of docs/functions.md (up to
// the curl call) and checks that the header it builds verifies.
func TestSigningRecipe(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash not installed")
	}
	doc, err := os.ReadFile("../../docs/functions.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "<!-- signing-recipe:start -->\n```sh\n")
	recipe, _, ok2 := strings.Cut(rest, "```\n<!-- signing-recipe:end -->")
	if !ok || !ok2 {
		t.Fatal("docs/functions.md has no signing-recipe block")
	}
	script, _, ok := strings.Cut(recipe, "curl ")
	if !ok {
		t.Fatal("the recipe has no curl call")
	}
	script += `printf '%s\n%s' "$BODY" "t=$T,v1=$SIG"` + "\n"
	out, err := exec.Command("bash", "-c", script).Output()
	if err != nil {
		t.Fatalf("recipe: %v", err)
	}
	body, header, _ := strings.Cut(string(out), "\n")
	v := webhook.Verifier{Secrets: []string{"whsec-example-0123456789abcdef"}, Now: time.Now}
	if err := v.Verify(header, []byte(body)); err != nil {
		t.Fatalf("the recipe's header %q does not verify for body %q: %v", header, body, err)
	}
}

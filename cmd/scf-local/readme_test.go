package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/scf-janitor/scf-janitor/shared/webhook"
)

func readme(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestReadmeSigningRecipe runs README.md's curl + openssl recipe against a
// server that verifies the signature the way the functions do.
func TestReadmeSigningRecipe(t *testing.T) {
	for _, tool := range []string{"bash", "openssl", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed (.ci/run installs it)", tool)
		}
	}
	doc := readme(t)
	m := regexp.MustCompile("(?s)<!-- signing-recipe:start -->\\s*```sh\n(.*?)```\\s*<!-- signing-recipe:end -->").FindStringSubmatch(doc)
	if m == nil {
		t.Fatal("README.md has no signing recipe between <!-- signing-recipe:start/end --> markers")
	}
	script := m[1]
	sm := regexp.MustCompile(`(?m)^SECRET='([^']+)'`).FindStringSubmatch(script)
	bm := regexp.MustCompile(`(?m)^BODY='([^']+)'`).FindStringSubmatch(script)
	if sm == nil || bm == nil {
		t.Fatalf("recipe does not set SECRET='...' and BODY='...':\n%s", script)
	}
	var gotBody string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		gotBody = string(body)
		if err := (webhook.Verifier{Secrets: []string{sm[1]}}).Verify(r.Header.Get(webhook.Header), body); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		_, _ = io.WriteString(w, "verified")
	}))
	defer srv.Close()
	script = regexp.MustCompile(`(?m)^URL=.*$`).ReplaceAllString(script, "URL='"+srv.URL+"'")
	out, err := exec.Command("bash", "-ec", script).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "verified" {
		t.Fatalf("recipe: %v\n%s", err, out)
	}
	if gotBody != bm[1] {
		t.Fatalf("sent body %q, want exactly %q", gotBody, bm[1])
	}
}

// TestReadmeMatchesTheCommands checks README.md states the two commands and
// docs/local-development.md documents every scf-local flag and command.
func TestReadmeMatchesTheCommands(t *testing.T) {
	doc := readme(t)
	intro := doc[:strings.Index(doc, "## ")]
	for _, cmd := range []string{"go run ./cmd/scf-local", "make test"} {
		if !strings.Contains(intro, cmd) {
			t.Errorf("README.md's opening does not show %q", cmd)
		}
	}
	ci, err := os.ReadFile("../../.ci/run")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^make test$`).Match(ci) {
		t.Error(".ci/run does not run `make test`, the README's test command")
	}
	b, err := os.ReadFile("../../docs/local-development.md")
	if err != nil {
		t.Fatal(err)
	}
	local := string(b)
	// Every flag each command's -h lists, documented as `--name` (alone or
	// inside a longer code span such as a usage line).
	for _, args := range [][]string{{"serve", "-h"}, {"invoke", "-h"}, {"generate-event", "-h"}} {
		var stdout, stderr strings.Builder
		if code := run(context.Background(), args, strings.NewReader(""), &stdout, &stderr, envFrom(nil)); code != 0 {
			t.Fatalf("scf-local %s: exit status %d\n%s", strings.Join(args, " "), code, stderr.String())
		}
		names := regexp.MustCompile(`(?m)^  -([a-z][a-z-]*)`).FindAllStringSubmatch(stdout.String(), -1)
		if len(names) == 0 {
			t.Fatalf("scf-local %s lists no flags:\n%s", strings.Join(args, " "), stdout.String())
		}
		for _, n := range names {
			if !documentsFlag(local, n[1]) {
				t.Errorf("docs/local-development.md does not document scf-local %s's --%s flag", args[0], n[1])
			}
		}
	}
	for _, sub := range []string{"invoke", "generate-event"} {
		if !strings.Contains(local, "scf-local "+sub) {
			t.Errorf("docs/local-development.md does not document scf-local %s", sub)
		}
	}
}

// documentsFlag reports whether doc shows --name in a code span.
func documentsFlag(doc, name string) bool {
	return regexp.MustCompile("`[^`\n]*--" + regexp.QuoteMeta(name) + "([^a-z-][^`\n]*)?`").MatchString(doc)
}

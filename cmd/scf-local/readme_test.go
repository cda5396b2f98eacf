package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/scf-janitor/scf-janitor/internal/emulator"
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
	mk, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^quick:\n\t\$\(GO\) test -short \./\.\.\.$`).Match(mk) || !strings.Contains(intro, "make quick") {
		t.Error("README.md's `make quick` is not the Makefile's quick target running `go test -short ./...`")
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

// TestReadmeEmulatorCommands runs the curl commands of README.md's tour
// against an emulator with the demo data, as scf-local serves it, and checks
// each answers 200 with JSON.
func TestReadmeEmulatorCommands(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("curl is not installed (.ci/run installs it)")
	}
	emu := emulator.New(emulator.Options{})
	emu.LoadDemo()
	srv := httptest.NewServer(emu)
	defer srv.Close()
	lines := regexp.MustCompile(`(?m)^curl -s .*http://127\.0\.0\.1:9100/_emulator/\S*`).FindAllString(readme(t), -1)
	if len(lines) < 3 {
		t.Fatalf("README.md shows %d curl commands for the emulator, want the tour's 3 (tasks, stats, notifications)", len(lines))
	}
	for _, line := range lines {
		t.Run(line, func(t *testing.T) {
			script := strings.ReplaceAll(line, "http://127.0.0.1:9100", srv.URL) + ` -w '\n%{http_code}'`
			out, err := exec.Command("bash", "-ec", script).CombinedOutput()
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			body, code := "", strings.TrimSpace(string(out))
			if i := strings.LastIndex(code, "\n"); i >= 0 {
				body, code = code[:i], code[i+1:]
			}
			if code != "200" || !json.Valid([]byte(body)) {
				t.Fatalf("status %s, body %q: want 200 and JSON", code, body)
			}
		})
	}
}

// readmeCommands are the commands README.md's shell blocks may show, each
// with the test that runs it; a command not listed here fails
// TestReadmeCommandsAreTested, so every new one comes with its test.
var readmeCommands = []struct{ prefix, test string }{
	{"go run ./cmd/scf-local", "TestEndToEnd (cmd/scf-local/e2e_test.go) runs it as a user does"},
	{"make test", "TestReadmeMatchesTheCommands: .ci/run runs it"},
	{"make quick", "TestReadmeMatchesTheCommands: the Makefile's quick target is go test -short ./..."},
	{"curl -s 'http://127.0.0.1:9100/_emulator/", "TestReadmeEmulatorCommands"},
	{"curl -s http://127.0.0.1:9100/_emulator/", "TestReadmeEmulatorCommands"},
	{"cp .env.example .env", "TestContractWithTheComponent (internal/deploy) reads .env.example"},
	{"go run ./cmd/scf-deploy", "TestDeployRepositoryToEmulator (cmd/scf-deploy) runs plan and apply"},
}

// TestReadmeCommandsAreTested checks that every command in README.md's sh
// blocks (the signing recipe apart: TestReadmeSigningRecipe runs it) is one
// a test runs.
func TestReadmeCommandsAreTested(t *testing.T) {
	doc := regexp.MustCompile("(?s)<!-- signing-recipe:start -->.*?<!-- signing-recipe:end -->").ReplaceAllString(readme(t), "")
	blocks := regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(doc, -1)
	if len(blocks) == 0 {
		t.Fatal("README.md has no sh blocks")
	}
	for _, b := range blocks {
		for _, line := range strings.Split(b[1], "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			known := false
			for _, c := range readmeCommands {
				known = known || strings.HasPrefix(line, c.prefix)
			}
			if !known {
				t.Errorf("README.md shows %q, which no test runs: add a test and list it in readmeCommands", line)
			}
		}
	}
}

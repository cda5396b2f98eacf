package main

import (
	"errors"
	"flag"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestDocsDescribeTheCommand checks that docs/deploy.md documents every flag
// and command scf-deploy's -h lists, and that README.md shows the one-command
// deploy.
func TestDocsDescribeTheCommand(t *testing.T) {
	b, err := os.ReadFile("../../docs/deploy.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	var help strings.Builder
	if _, err := parseArgs([]string{"-h"}, &help); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("scf-deploy -h: %v, want flag.ErrHelp", err)
	}
	flags := regexp.MustCompile(`(?m)^  -([a-z][a-z-]*)`).FindAllStringSubmatch(help.String(), -1)
	if len(flags) == 0 {
		t.Fatalf("scf-deploy -h lists no flags:\n%s", help.String())
	}
	for _, f := range flags {
		if !regexp.MustCompile("`--" + regexp.QuoteMeta(f[1]) + "([^a-z-][^`\\n]*)?`").MatchString(doc) {
			t.Errorf("docs/deploy.md does not document scf-deploy's --%s flag", f[1])
		}
	}
	cmds := regexp.MustCompile(`(?m)^  (plan|apply|delete) `).FindAllStringSubmatch(help.String(), -1)
	if len(cmds) != 3 {
		t.Fatalf("scf-deploy -h lists %d commands, want plan, apply and delete:\n%s", len(cmds), help.String())
	}
	for _, c := range cmds {
		if !strings.Contains(doc, "| `"+c[1]+"`") {
			t.Errorf("docs/deploy.md's command table does not describe %q", c[1])
		}
	}

	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "go run ./cmd/scf-deploy apply") {
		t.Error("README.md does not show the one-command deploy, go run ./cmd/scf-deploy apply")
	}
}

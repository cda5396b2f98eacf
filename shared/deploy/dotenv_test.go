package deploy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestParseDotEnvLikeTheCLI pins dotenv 8's parse, which the Serverless CLI uses.
func TestParseDotEnvLikeTheCLI(t *testing.T) {
	content := "# deploy settings\n\nA=1\n  B = two words  \nC=\"quoted # not a comment\"\nD='single'\nE=x # trailing comment\nF=\n" +
		"export G=ignored\nH=\"line\\nbreak\"\nI='no\\nbreak'\nA=last wins\nnot a pair\nJ.K-L=dotted\r\nM=\"unbalanced\n"
	got, warnings := ParseDotEnv([]byte(content))
	want := map[string]string{
		"A": "last wins", "B": "two words", "C": "quoted # not a comment", "D": "single", "E": "x # trailing comment", "F": "",
		"H": "line\nbreak", "I": `no\nbreak`, "J.K-L": "dotted", "M": `"unbalanced`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("vars (-want +got):\n%s", diff)
	}
	wantWarnings := []string{
		`line 7: E: the Serverless CLI keeps " #..." in the value (no inline comments in .env); put the comment on its own line`,
		"line 9: the Serverless CLI ignores lines starting with export; write KEY=value",
		"line 13: not KEY=value, so the Serverless CLI ignores it",
	}
	if diff := cmp.Diff(wantWarnings, warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

func TestReadDotEnv(t *testing.T) {
	dir := t.TempDir()
	vars, warnings, err := ReadDotEnv(filepath.Join(dir, "missing"))
	if err != nil || len(vars) != 0 || warnings != nil {
		t.Fatalf("missing file: %v %v %v", vars, warnings, err)
	}
	p := filepath.Join(dir, ".env")
	if err := os.WriteFile(p, []byte("S=secret # oops\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	vars, warnings, err = ReadDotEnv(p)
	if err != nil || vars["S"] != "secret # oops" || len(warnings) != 1 || !strings.HasPrefix(warnings[0], p+": line 1: S:") {
		t.Fatalf("got %v %q %v", vars, warnings, err)
	}
	if strings.Contains(warnings[0], "secret") && strings.Contains(warnings[0], "oops") {
		t.Errorf("warning shows the value: %s", warnings[0])
	}
	lookup := LookupShellThenDotEnv(lookupOf(map[string]string{"S": ""}), vars)
	if v, ok := lookup("S"); !ok || v != "" {
		t.Errorf("S = %q, %v: the shell's (even empty) wins, as dotenv never overrides", v, ok)
	}
}

// TestFindDotEnv: the CLI loads one file, the first of .env.<stage> and .env
// in the project folder, then its parent, then its parent's parent.
func TestFindDotEnv(t *testing.T) {
	root := t.TempDir()
	project := filepath.Join(root, "a", "b")
	if err := os.MkdirAll(project, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(rel string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(root, rel), []byte("K=v\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	check := func(stage, want string, wantFound bool) {
		t.Helper()
		got, found := FindDotEnv(project, stage)
		if found != wantFound || filepath.Clean(got) != filepath.Join(root, want) {
			t.Errorf("FindDotEnv(stage %q) = %s, %v; want %s, %v", stage, got, found, want, wantFound)
		}
	}
	check("dev", "a/b/.env", false) // none: the project's .env, not found
	write(".env")
	check("dev", ".env", true) // two folders up
	write("a/.env.dev")
	check("", "a/.env.dev", true) // the default stage is dev
	check("prod", "a/../.env", true)
	write("a/b/.env")
	check("dev", "a/b/.env", true) // nearest folder first
	write("a/b/.env.prod")
	check("prod", "a/b/.env.prod", true) // the stage's file before .env
	check("dev", "a/b/.env", true)
}

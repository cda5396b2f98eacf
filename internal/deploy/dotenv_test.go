package deploy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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

// TestDotEnvByteOrderMark: dotenv reads the file as UTF-8 without dropping a
// leading BOM, and JavaScript's \s (which includes U+FEFF) skips it, so the
// first variable is kept; so is U+00A0 around a key.
func TestDotEnvByteOrderMark(t *testing.T) {
	tests := []struct {
		name, content string
		want          map[string]string
	}{
		{"bom", "\ufeffFIRST=1\nSECOND=2\n", map[string]string{"FIRST": "1", "SECOND": "2"}},
		{"bom and crlf", "\ufeffFIRST=one\r\nSECOND='two'\r\n", map[string]string{"FIRST": "one", "SECOND": "two"}},
		{"no-break space", "\u00a0KEY\u00a0=\u00a0value\u00a0\n", map[string]string{"KEY": "value"}},
		{"line separator inside a value: not a match in JS", "A=x\u2028y\nB=2\n", map[string]string{"B": "2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := ParseDotEnv([]byte(tc.content))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestReadDotEnvRefuses: anything but a small regular file is refused with
// an error naming it, without reading it (a FIFO would block, /dev/zero would
// never end).
func TestReadDotEnvRefuses(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.env")
	if err := os.WriteFile(big, []byte("A=1\n"+strings.Repeat("#", MaxDotEnvBytes)), 0o600); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo.env")
	if err := mkfifo(fifo); err != nil {
		t.Logf("no FIFO on this system: %v", err)
		fifo = ""
	}
	tests := []struct{ name, path, want string }{
		{"over 1 MB", big, "over the 1048576-byte limit"},
		{"directory", dir, "is a directory"},
		{"fifo", fifo, "not a regular file"},
		{"endless device", "/dev/zero", "not a regular file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.path == "" {
				t.Skip("not available here")
			}
			if _, err := os.Stat(tc.path); err != nil {
				t.Skipf("not available here: %v", err)
			}
			done := make(chan error, 1)
			go func() { _, _, err := ReadDotEnv(tc.path); done <- err }()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.path) {
					t.Fatalf("got %v, want an error naming %s and saying %q", err, tc.path, tc.want)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("ReadDotEnv is still reading after 10 s")
			}
		})
	}
}

// TestUnusedDotEnv: names serverless.yml never references (directly or
// through a referenced value) and the tool does not read are reported.
func TestUnusedDotEnv(t *testing.T) {
	c := mustParse(t, resolveYML)
	dotenv := map[string]string{
		"SHARED":            "${env:NESTED}",
		"NESTED":            "x",
		"OWN_SECRET":        "s",
		"JANITOR_TYPO":      "1",
		"TENCENT_SECRET_ID": "AKID",
		"ALSO_UNUSED":       "",
	}
	got := c.UnusedDotEnv(dotenv, func(n string) bool { return n == "TENCENT_SECRET_ID" })
	if diff := cmp.Diff([]string{"ALSO_UNUSED", "JANITOR_TYPO"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

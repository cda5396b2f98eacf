package sweep

import (
	"go/scanner"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestSettingsTableSpellsEachNameOnce: every setting has a JANITOR_
// variable and an override key of its own, and each is written as a string
// literal exactly once in the package's code (the table), so the function,
// Override, Validate and scf-deploy's CheckEnv cannot disagree on a name.
func TestSettingsTableSpellsEachNameOnce(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	literals := map[string]int{} // string literals of the package's code, comments left out
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var sc scanner.Scanner
		sc.Init(token.NewFileSet().AddFile(f, -1, len(b)), b, nil, 0)
		for _, tok, lit := sc.Scan(); tok != token.EOF; _, tok, lit = sc.Scan() {
			if v, err := strconv.Unquote(lit); tok == token.STRING && err == nil {
				literals[v]++
			}
		}
	}
	// The same word with another meaning: the own account's id when
	// TENCENTCLOUD_UIN is unset (handler.go).
	literals["self"]--
	seen := map[string]bool{}
	for _, st := range settings {
		t.Run(st.key, func(t *testing.T) {
			if !strings.HasPrefix(st.env, "JANITOR_") || st.key == "" || st.field == nil {
				t.Fatalf("setting %+v: want a JANITOR_ variable, a key and a field", st)
			}
			for _, name := range []string{st.env, st.key} {
				if seen[name] {
					t.Fatalf("%s names two settings", name)
				}
				seen[name] = true
				if n := literals[name]; n != 1 {
					t.Errorf("%q is written %d times in shared/sweep's code, want once (in the settings table)", name, n)
				}
			}
		})
	}
}

// TestSettingsTableBounds: a value past a setting's bounds is refused from
// the environment (naming the variable) and from an override (naming the
// key), through the one table.
func TestSettingsTableBounds(t *testing.T) {
	tests := []struct {
		st       *setting
		env, raw string
	}{
		{setMaxAge, "30s", `"30s"`},
		{setLookback, "59s", `"59s"`},
		{setMaxCancels, "0", `1000001`},
		{setRate, "20.5", `0.05`},
		{setConcurrency, "65", `0`},
		{setPageSize, "1001", `0`},
		{setServices, "ams,cos", `["cos"]`},
		{setStatuses, "FINISH", `"ERROR"`},
		{setTypes, "IMAGE", `["IMAGE"]`},
		{setDryRun, "maybe", `"yes"`},
		{setFanout, "sync", `1`},
		{setNotifyOn, "never", `["never"]`},
	}
	for _, tt := range tests {
		t.Run(tt.st.key, func(t *testing.T) {
			_, err := LoadSettings(func(k string) string {
				if k == tt.st.env {
					return tt.env
				}
				return ""
			})
			if err == nil || !strings.Contains(err.Error(), tt.st.env) {
				t.Errorf("%s=%s: err = %v, want one naming the variable", tt.st.env, tt.env, err)
			}
			_, err = DefaultSettings().Override([]byte(`{"` + tt.st.key + `":` + tt.raw + `}`))
			if err == nil || !strings.Contains(err.Error(), tt.st.key) {
				t.Errorf("override %s %s: err = %v, want one naming the key", tt.st.key, tt.raw, err)
			}
		})
	}
}

package docs

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

var (
	fence    = regexp.MustCompile("(?ms)^\\s*```.*?^\\s*```[^\\n]*$")
	codeSpan = regexp.MustCompile("`[^`\\n]*`")
	link     = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	heading  = regexp.MustCompile(`(?m)^#{1,6}\s+(.+?)\s*#*\s*$`)
)

// TestRelativeLinks checks every relative link of README.md and docs/*.md:
// the file it names exists, and the #anchor, if any, is a heading of that
// file (GitHub's anchors: lower case, punctuation dropped, spaces as -).
func TestRelativeLinks(t *testing.T) {
	files, err := filepath.Glob("*.md")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, filepath.Join("..", "README.md"))
	if len(files) < 2 {
		t.Fatalf("found %v: want README.md and the docs", files)
	}
	checked := 0
	for _, file := range files {
		text := prose(t, file)
		for _, m := range link.FindAllStringSubmatch(text, -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			checked++
			path, anchor, _ := strings.Cut(target, "#")
			dest := file
			if path != "" {
				dest = filepath.Join(filepath.Dir(file), filepath.FromSlash(path))
				if _, err := os.Stat(dest); err != nil {
					t.Errorf("%s: link %q: %v", file, target, err)
					continue
				}
			}
			if anchor == "" || !strings.HasSuffix(dest, ".md") {
				continue
			}
			if !anchors(t, dest)[anchor] {
				t.Errorf("%s: link %q: %s has no heading with anchor #%s", file, target, dest, anchor)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no relative links found: the pattern is broken")
	}
}

// prose is a Markdown file without its fenced blocks and code spans, where
// "](" is not a link.
func prose(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return codeSpan.ReplaceAllString(fence.ReplaceAllString(string(b), ""), "")
}

// anchors returns the anchors GitHub gives the headings of a Markdown file.
func anchors(t *testing.T, file string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	out := map[string]bool{}
	for _, m := range heading.FindAllStringSubmatch(fence.ReplaceAllString(string(b), ""), -1) {
		a := slug(m[1])
		if n := seen[a]; n > 0 {
			out[a+"-"+strconv.Itoa(n)] = true
		} else {
			out[a] = true
		}
		seen[a]++
	}
	return out
}

func slug(h string) string {
	h = strings.ReplaceAll(h, "`", "")
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		switch {
		case unicode.IsLetter(r), unicode.IsDigit(r), r == '-', r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	return b.String()
}

func TestSlug(t *testing.T) {
	tests := []struct{ heading, want string }{
		{"A 60-second tour", "a-60-second-tour"},
		{"Environment overrides: --env-vars", "environment-overrides---env-vars"},
		{"serverless.yml, .env and every setting", "serverlessyml-env-and-every-setting"},
		{"sweep-tasks: cancel stale moderation tasks", "sweep-tasks-cancel-stale-moderation-tasks"},
		{"When a notification fails: `NotifyError`", "when-a-notification-fails-notifyerror"},
	}
	for _, tt := range tests {
		t.Run(tt.heading, func(t *testing.T) {
			if got := slug(tt.heading); got != tt.want {
				t.Errorf("slug(%q) = %q, want %q", tt.heading, got, tt.want)
			}
		})
	}
}

// TestSettingsDocumented checks that every JANITOR_ setting the functions'
// code reads (a "JANITOR_..." string literal outside tests) is documented in
// docs/ and named in README.md's settings table.
func TestSettingsDocumented(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	start := strings.Index(string(readme), "\n## Settings\n")
	if start < 0 {
		t.Fatal("README.md has no \"## Settings\" section")
	}
	table := string(readme[start+1:])
	if end := strings.Index(table[3:], "\n## "); end >= 0 {
		table = table[:end+3]
	}
	var docs strings.Builder
	files, err := filepath.Glob("*.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		docs.Write(b)
	}
	literal := regexp.MustCompile(`"(JANITOR_[A-Z0-9_]+)"`)
	found := map[string]string{}
	for _, root := range []string{"../shared", "../functions"} {
		err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, m := range literal.FindAllStringSubmatch(string(b), -1) {
				found[m[1]] = path
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(found) < 10 {
		t.Fatalf("found only %d JANITOR_ settings in the code: the scan is broken", len(found))
	}
	for name, path := range found {
		if !strings.Contains(docs.String(), name) {
			t.Errorf("%s (read in %s) is not documented in docs/*.md", name, path)
		}
		if !strings.Contains(table, "`"+name+"`") {
			t.Errorf("%s (read in %s) is not in README.md's settings table", name, path)
		}
	}
}

// TestCLSQueriesMatchTheLogs checks that every SCF_Message term of
// operations.md's CLS queries is text the code logs: a phrase or word of a
// string literal in shared/ (outside tests), a prefix for a term ending in *.
func TestCLSQueriesMatchTheLogs(t *testing.T) {
	b, err := os.ReadFile("operations.md")
	if err != nil {
		t.Fatal(err)
	}
	terms := regexp.MustCompile(`SCF_Message:("[^"]+"|[A-Za-z_.]+\*?)`).FindAllStringSubmatch(string(b), -1)
	if len(terms) < 5 {
		t.Fatalf("operations.md has %d SCF_Message terms: the pattern is broken", len(terms))
	}
	var code strings.Builder
	err = filepath.WalkDir("../shared", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") ||
			strings.Contains(path, string(filepath.Separator)+"emulator"+string(filepath.Separator)) {
			return err // the emulator's texts are Tencent's, not our logs
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, lit := range regexp.MustCompile(`"(?:[^"\\\n]|\\.)*"`).FindAllString(string(src), -1) {
			code.WriteString(lit)
			code.WriteByte('\n')
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range terms {
		term := strings.Trim(m[1], `"*`)
		if !strings.Contains(code.String(), term) {
			t.Errorf("operations.md searches SCF_Message for %s, which no string literal in shared/ contains", m[1])
		}
	}
}

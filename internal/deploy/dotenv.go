package deploy

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// .env, read as the Serverless CLI reads it: serverless-cloud-framework
// (src/libs/config.js) loads it with dotenv ^8.2.0, whose parse
// (motdotla/dotenv lib/main.js, identical from v8.2.0 to v8.6.0) is:
//   - lines split at \n, \r or \r\n; a line that does not match
//     `^\s*([\w.-]+)\s*=\s*(.*)?\s*$` is ignored silently (so are comments,
//     and so is `export KEY=value`);
//   - a value wrapped in matching single or double quotes loses them (double
//     quotes also turn \n into a newline); any other value is trimmed;
//   - there are no inline comments: `KEY=x # note` is the value "x # note"
//     (the CLI prints a warning for it);
//   - a later line wins over an earlier one; dotenv never overrides a
//     variable the shell already has, even an empty one.
//
// The regular expression is JavaScript's, where \s is every Unicode space
// plus U+FEFF (ECMA-262 WhiteSpace and LineTerminator) and . is any character
// but a line terminator. dotenv's config() reads the file with
// fs.readFileSync(path, {encoding: "utf8"}), which keeps a leading UTF-8
// byte-order mark, and ^\s* then skips it: a .env saved "with BOM" keeps its
// first variable.
var dotenvLineRE = regexp.MustCompile(`^` + jsSpace + `*([\w.-]+)` + jsSpace + `*=` + jsSpace + `*(` + jsDot + `*)?` + jsSpace + `*$`)

const (
	jsSpace = `[\t\n\v\f\r \x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}\x{feff}]`
	jsDot   = `[^\n\r\x{2028}\x{2029}]`
)

// jsTrim is JavaScript's String.prototype.trim (the same white space as \s).
func jsTrim(s string) string {
	return strings.TrimFunc(s, func(r rune) bool {
		switch r {
		case '\t', '\n', '\v', '\f', '\r', ' ', 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff:
			return true
		}
		return r >= 0x2000 && r <= 0x200a
	})
}

// MaxDotEnvBytes is the largest .env file read: a settings file is a few
// hundred bytes, and one that points at an endless stream must not be read
// until the process dies.
const MaxDotEnvBytes = 1 << 20

// dotenvCommentRE is the CLI's check for an inline comment (config.js).
var dotenvCommentRE = regexp.MustCompile(` #+.*$`)

// ParseDotEnv parses a .env file's content as the CLI does. warnings name
// (by line and key, never by value) what the CLI would read differently from
// what its author probably meant: inline comments and ignored lines.
func ParseDotEnv(data []byte) (vars map[string]string, warnings []string) {
	vars = map[string]string{}
	text := strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(string(data))
	for i, line := range strings.Split(text, "\n") {
		m := dotenvLineRE.FindStringSubmatch(line)
		if m == nil {
			t := jsTrim(line)
			if t != "" && !strings.HasPrefix(t, "#") {
				if strings.HasPrefix(t, "export ") {
					warnings = append(warnings, fmt.Sprintf("line %d: the Serverless CLI ignores lines starting with export; write KEY=value", i+1))
				} else {
					warnings = append(warnings, fmt.Sprintf("line %d: not KEY=value, so the Serverless CLI ignores it", i+1))
				}
			}
			continue
		}
		key, val := m[1], m[2]
		end := len(val) - 1
		switch {
		case len(val) >= 1 && val[0] == '"' && val[end] == '"' && end > 0:
			val = strings.ReplaceAll(val[1:end], `\n`, "\n")
		case len(val) >= 1 && val[0] == '\'' && val[end] == '\'' && end > 0:
			val = val[1:end]
		default:
			val = jsTrim(val)
			if dotenvCommentRE.MatchString(val) {
				warnings = append(warnings, fmt.Sprintf("line %d: %s: the Serverless CLI keeps \" #...\" in the value (no inline comments in .env); put the comment on its own line", i+1, key))
			}
		}
		vars[key] = val
	}
	return vars, warnings
}

// ReadDotEnv reads and parses the .env file at path (see ParseDotEnv). A
// missing file has no variables. Anything but a regular file (a directory,
// a FIFO, a device such as /dev/zero) and a file over MaxDotEnvBytes are
// refused without being read.
func ReadDotEnv(path string) (vars map[string]string, warnings []string, err error) {
	data, err := readSettingsFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]string{}, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	vars, warnings = ParseDotEnv(data)
	for i, w := range warnings {
		warnings[i] = path + ": " + w
	}
	return vars, warnings, nil
}

// readSettingsFile reads a small regular file. It checks the file before
// opening it (opening a FIFO blocks until a writer comes) and again once
// open, and reads at most MaxDotEnvBytes+1 bytes whatever the file claims.
func readSettingsFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if err := regularSmall(path, fi); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err = f.Stat(); err != nil {
		return nil, err
	}
	if err := regularSmall(path, fi); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxDotEnvBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(data) > MaxDotEnvBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes: not a .env file (it holds KEY=value lines)", path, MaxDotEnvBytes)
	}
	return data, nil
}

func regularSmall(path string, fi os.FileInfo) error {
	switch {
	case fi.IsDir():
		return fmt.Errorf("%s is a directory, not a .env file", path)
	case !fi.Mode().IsRegular():
		return fmt.Errorf("%s is not a regular file (%s): refusing to read it as .env", path, fi.Mode().Type())
	case fi.Size() > MaxDotEnvBytes:
		return fmt.Errorf("%s is %d bytes, over the %d-byte limit for a .env file (it holds KEY=value lines)", path, fi.Size(), MaxDotEnvBytes)
	}
	return nil
}

// UnusedDotEnv returns, sorted, the names set in a .env file that nothing
// reads: serverless.yml never references them as ${env:NAME} (directly or
// through another referenced variable's value) and used(name) is false
// (the tool's own variables, such as credentials). A typo in a name is the
// usual cause.
func (c *Config) UnusedDotEnv(dotenv map[string]string, used func(name string) bool) []string {
	referenced := map[string]bool{}
	var queue []string
	mark := func(value string) {
		for _, name := range EnvRefs(value) {
			if !referenced[name] {
				referenced[name] = true
				queue = append(queue, name)
			}
		}
	}
	if c.root != nil {
		walkStrings(c.root, "", func(n *yaml.Node, _ string) { mark(n.Value) })
	}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		mark(dotenv[name])
	}
	var out []string
	for name := range dotenv {
		if !referenced[name] && (used == nil || !used(name)) {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// LookupShellThenDotEnv returns the lookup the CLI's process.env amounts to:
// shell first (even when empty), then the .env variables.
func LookupShellThenDotEnv(shell func(string) (string, bool), dotenv map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		if v, ok := shell(name); ok {
			return v, true
		}
		v, ok := dotenv[name]
		return v, ok
	}
}

// FindDotEnv returns the one .env file the Serverless CLI would load for a
// project in dir at stage (serverless-cloud-framework src/libs/config.js):
// the first that exists of .env.<stage> and .env in dir, then in its parent,
// then in the parent's parent. It returns dir/.env, false when none exists.
func FindDotEnv(dir, stage string) (path string, found bool) {
	if stage == "" {
		stage = "dev" // the CLI's default stage
	}
	for _, d := range []string{dir, filepath.Join(dir, ".."), filepath.Join(dir, "..", "..")} {
		for _, name := range []string{".env." + stage, ".env"} {
			p := filepath.Join(d, name)
			if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
				return p, true
			}
		}
	}
	return filepath.Join(dir, ".env"), false
}

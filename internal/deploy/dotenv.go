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

// .env is read as the Serverless CLI reads it (serverless-cloud-framework
// src/libs/config.js) with dotenv 8 (motdotla/dotenv lib/main.js, v8.2.0 to
// v8.6.0): lines split at \n, \r or \r\n; a line not matching
// `^\s*([\w.-]+)\s*=\s*(.*)?\s*$` is ignored (comments, `export`);
// matching quotes are removed (double quotes turn \n into a newline), other
// values trimmed; no inline comments; a later line wins; the shell wins over
// the file. \s and . are JavaScript's (ECMA-262: \s includes U+FEFF, so a
// leading byte-order mark, which fs.readFileSync keeps, is skipped).
var dotenvLineRE = regexp.MustCompile(`^` + jsSpace + `*([\w.-]+)` + jsSpace + `*=` + jsSpace + `*(` + jsDot + `*)?` + jsSpace + `*$`)

const (
	jsSpace = `[\t\n\v\f\r \x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}\x{feff}]`
	jsDot   = `[^\n\r\x{2028}\x{2029}]`
)

// jsTrim is JavaScript's String.prototype.trim.
func jsTrim(s string) string {
	return strings.TrimFunc(s, func(r rune) bool {
		switch r {
		case '\t', '\n', '\v', '\f', '\r', ' ', 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff:
			return true
		}
		return r >= 0x2000 && r <= 0x200a
	})
}

// MaxDotEnvBytes is the largest .env file read.
const MaxDotEnvBytes = 1 << 20

// dotenvCommentRE is the CLI's check for an inline comment (config.js).
var dotenvCommentRE = regexp.MustCompile(` #+.*$`)

// ParseDotEnv parses a .env file's content as the CLI does. warnings name
// (by line and key, never by value) inline comments and ignored lines.
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

// ReadDotEnv reads and parses the .env file at path; a missing file has no
// variables, anything but a small regular file is refused unread.
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

// readSettingsFile checks the file before opening (a FIFO would block) and
// once open.
func readSettingsFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err == nil {
		err = regularSmall(path, fi)
	}
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err = f.Stat(); err == nil {
		err = regularSmall(path, fi)
	}
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxDotEnvBytes+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("%s: %w", path, err)
	case len(data) > MaxDotEnvBytes:
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

// UnusedDotEnv returns, sorted, the .env names serverless.yml never uses
// (even through a used value) and used does not claim: usually typos.
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

// LookupShellThenDotEnv is the CLI's process.env: the shell (even empty),
// then .env.
func LookupShellThenDotEnv(shell func(string) (string, bool), dotenv map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		if v, ok := shell(name); ok {
			return v, true
		}
		v, ok := dotenv[name]
		return v, ok
	}
}

// FindDotEnv returns the .env file the Serverless CLI would load for dir at
// stage (src/libs/config.js); dir/.env, false when none exists.
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

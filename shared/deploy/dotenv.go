package deploy

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
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
var dotenvLineRE = regexp.MustCompile(`^\s*([\w.-]+)\s*=\s*(.*)?\s*$`)

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
			t := strings.TrimSpace(line)
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
			val = strings.TrimSpace(val)
			if dotenvCommentRE.MatchString(val) {
				warnings = append(warnings, fmt.Sprintf("line %d: %s: the Serverless CLI keeps \" #...\" in the value (no inline comments in .env); put the comment on its own line", i+1, key))
			}
		}
		vars[key] = val
	}
	return vars, warnings
}

// ReadDotEnv reads and parses the .env file at path (see ParseDotEnv). A
// missing file has no variables.
func ReadDotEnv(path string) (vars map[string]string, warnings []string, err error) {
	data, err := os.ReadFile(path)
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

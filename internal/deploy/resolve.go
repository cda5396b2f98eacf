package deploy

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Variables are resolved as the Serverless CLI does
// (serverless-cloud-framework src/libs/utils/basic.js resolveVariables,
// commit a7c19d42): in every string value, each `${...}` of the first
// pattern that the second accepts (`${env:NAME}`) is replaced with
// process.env.NAME; a whole-value reference becomes the value, an embedded
// one goes through JavaScript's String.prototype.replace ($&, $$, $`, $'
// are patterns); each pass keeps only the last replacement per string, and
// passes repeat while any reference was found. Anything else stays literal.
// An unset or empty variable is refused (the CLI would deploy "undefined").
var (
	cliVariableRE = regexp.MustCompile(`\$\{(\w*:?[\w.-]+)\}`)
	cliEnvRE      = regexp.MustCompile(`^\$\{env:(\w*[\w.-_]+)\}$`) // as in JS, .-_ is the range '.'..'_' (so no '-')
)

// maxResolvePasses stops a self-reference (the CLI overflows its stack).
const maxResolvePasses = 32

// EnvRefs returns the NAMEs of the ${env:NAME} references in value, in order.
func EnvRefs(value string) []string {
	var out []string
	for _, m := range cliVariableRE.FindAllString(value, -1) {
		if sub := cliEnvRE.FindStringSubmatch(m); sub != nil {
			out = append(out, sub[1])
		}
	}
	return out
}

// UnsetVariablesError lists, by name, the unset or empty variables the file
// uses and where (never a value).
type UnsetVariablesError struct {
	Vars []UnsetVariable
}

// UnsetVariable's Where is such as inputs.functions.x.environments[KEY].
type UnsetVariable struct {
	Name  string
	Where []string
}

func (e *UnsetVariablesError) Error() string {
	parts := make([]string, len(e.Vars))
	for i, v := range e.Vars {
		parts[i] = fmt.Sprintf("%s (used by %s)", v.Name, strings.Join(v.Where, ", "))
	}
	return "serverless.yml uses variables that are unset or empty (set each in the shell or in .env next to serverless.yml; .env.example lists them): " +
		strings.Join(parts, "; ")
}

// Resolve returns the functions with ${env:NAME} replaced from lookup
// (shell, then .env), as SCF receives them from `scf deploy`.
func (c *Config) Resolve(lookup func(name string) (string, bool)) ([]Function, error) {
	if c.root == nil {
		return nil, errors.New("resolve: the config was not made by Parse or Load")
	}
	root := copyNode(c.root)
	unset := map[string][]string{}
	var errs []error
	walkStrings(root, "", func(n *yaml.Node, path string) {
		v, missing, err := resolveValue(n.Value, lookup)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", path, err))
			return
		}
		for _, name := range missing {
			unset[name] = appendNew(unset[name], path)
		}
		if v != n.Value {
			n.Value, n.Style, n.Tag = v, yaml.DoubleQuotedStyle, "!!str"
		}
	})
	if len(unset) > 0 {
		e := &UnsetVariablesError{}
		for _, name := range slices.Sorted(maps.Keys(unset)) {
			e.Vars = append(e.Vars, UnsetVariable{Name: name, Where: unset[name]})
		}
		errs = append(errs, e)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	rc, err := build(root)
	if err != nil {
		return nil, fmt.Errorf("after resolving ${env:NAME} variables: %w", err)
	}
	for _, fn := range rc.Functions {
		if fn.Role != "" {
			if _, err := RolePolicyPath("", fn.Role); err != nil {
				errs = append(errs, fmt.Errorf("inputs.functions.%s: once variables are resolved, %w", fn.Key, err))
			}
		}
		if size := envSize(fn); size > maxEnvBytes {
			errs = append(errs, fmt.Errorf("inputs.functions.%s: environment is %d bytes once variables are resolved, over SCF's %d-byte limit", fn.Key, size, maxEnvBytes))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return rc.Functions, nil
}

// resolveValue resolves one string as resolveVariables does, or returns
// the unset or empty variables it refers to.
func resolveValue(value string, lookup func(string) (string, bool)) (string, []string, error) {
	for pass := 0; pass < maxResolvePasses; pass++ {
		next, found := value, false
		var missing []string
		for _, m := range cliVariableRE.FindAllString(value, -1) {
			sub := cliEnvRE.FindStringSubmatch(m)
			if sub == nil {
				continue
			}
			found = true
			v, ok := lookup(sub[1])
			if !ok || v == "" {
				missing = appendNew(missing, sub[1])
				continue
			}
			if m == value {
				next = v
			} else {
				next = jsReplaceFirst(value, m, v)
			}
		}
		if !found || len(missing) > 0 {
			return next, missing, nil
		}
		value = next
	}
	return "", nil, fmt.Errorf("${env:...} references still remain after %d rounds of substitution (a variable's value refers to itself?)", maxResolvePasses)
}

// jsReplaceFirst is JavaScript's s.replace(pattern, repl) for a string
// pattern ($$, $&, $` and $' expanded).
func jsReplaceFirst(s, pattern, repl string) string {
	i := strings.Index(s, pattern)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.WriteString(s[:i])
	for j := 0; j < len(repl); j++ {
		if repl[j] != '$' || j+1 == len(repl) {
			b.WriteByte(repl[j])
			continue
		}
		switch repl[j+1] {
		case '$':
			b.WriteByte('$')
		case '&':
			b.WriteString(pattern)
		case '`':
			b.WriteString(s[:i])
		case '\'':
			b.WriteString(s[i+len(pattern):])
		default:
			b.WriteByte('$')
			continue
		}
		j++
	}
	b.WriteString(s[i+len(pattern):])
	return b.String()
}

// walkStrings calls f for every string scalar value below n (mapping keys
// excluded), with its path such as inputs.functions.x.environments[KEY].
func walkStrings(n *yaml.Node, path string, f func(n *yaml.Node, path string)) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			walkStrings(c, path, f)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			p := n.Content[i].Value
			if path != "" {
				p = path + "." + p
			}
			walkStrings(n.Content[i+1], p, f)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			walkStrings(c, path+"["+entryName(c, i)+"]", f)
		}
	case yaml.ScalarNode:
		if n.Tag == "!!str" || n.ShortTag() == "!!str" {
			f(n, path)
		}
	}
}

// entryName names a list entry by its key (environments, tags) or its index.
func entryName(n *yaml.Node, i int) string {
	if n.Kind == yaml.MappingNode {
		for j := 0; j+1 < len(n.Content); j += 2 {
			if k, v := n.Content[j], n.Content[j+1]; k.Value == "key" && v.Kind == yaml.ScalarNode && v.Value != "" && !strings.Contains(v.Value, "${") {
				return v.Value
			}
		}
	}
	return strconv.Itoa(i)
}

func copyNode(n *yaml.Node) *yaml.Node {
	if n == nil {
		return nil
	}
	c := *n
	c.Content = make([]*yaml.Node, len(n.Content))
	for i, k := range n.Content {
		c.Content[i] = copyNode(k)
	}
	c.Alias = copyNode(n.Alias)
	return &c
}

func appendNew(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

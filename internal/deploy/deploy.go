// Package deploy reads the project's serverless.yml (component multi-scf),
// its .env and its ${env:NAME} variables as the Serverless CLI does, and
// checks them against the component's inputs and SCF's limits, for
// scf-deploy, scf-local and `make test` (docs/deploy.md).
package deploy

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/scf-janitor/scf-janitor/internal/cron"
)

// Defaults the multi-scf component applies when a function omits a value.
const (
	DefaultMemoryMB = 128
	DefaultTimeout  = 3 * time.Second
	DefaultRuntime  = "Nodejs12.16" // Go functions must say Go1
)

// ReservedEnvPrefixes are environment key prefixes SCF keeps for itself.
var ReservedEnvPrefixes = []string{"SCF_", "QCLOUD_", "TENCENTCLOUD_"}

const maxEnvBytes = 4096 // SCF's limit on keys plus values

// File is serverless.yml as written.
type File struct {
	Org       string `yaml:"org"`
	App       string `yaml:"app"`
	Stage     string `yaml:"stage"`
	Component string `yaml:"component"`
	Name      string `yaml:"name"`
	Inputs    Inputs `yaml:"inputs"`
}

// Inputs are the multi-scf component inputs this project uses; their
// Settings are every function's defaults (serverless-components/
// tencent-multi-scf src/formatter.ts formatInputs; `environments` since
// commit 5ddfb037).
type Inputs struct {
	Src       Src    `yaml:"src"`
	Region    string `yaml:"region"`
	Namespace string `yaml:"namespace"`
	Settings  `yaml:",inline"`
	Functions yaml.Node       `yaml:"functions"` // a mapping, decoded in file order into functions
	Triggers  []TriggerInputs `yaml:"triggers"`
	Tags      []KeyValue      `yaml:"tags"`
	functions []functionInputs
}

// Settings are the keys a function and inputs (its defaults) share.
type Settings struct {
	Runtime      string    `yaml:"runtime"`
	Description  string    `yaml:"description"`
	Role         string    `yaml:"role"`
	MemorySize   *int      `yaml:"memorySize"`
	Timeout      *int      `yaml:"timeout"`
	Environments yaml.Node `yaml:"environments"` // [{key, value}]
	Environment  yaml.Node `yaml:"environment"`  // refused by Validate
	environments envList
	environment  int // the line of an environment: key, 0 if none
}

// Src is the code directory uploaded for every function (a string or {src, exclude}).
type Src struct {
	Src     string   `yaml:"src"`
	Exclude []string `yaml:"exclude"`
}

func (s *Src) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		return n.Decode(&s.Src)
	}
	type plain Src
	return decodeStrict(n, (*plain)(s))
}

// KeyValue is one entry of an environment or tag list.
type KeyValue struct {
	Key   string `yaml:"key"`
	Value string `yaml:"value"`
}

type functionInputs struct {
	key      string
	Name     string `yaml:"name"`
	Handler  string `yaml:"handler"`
	Settings `yaml:",inline"`
}

// UnmarshalYAML decodes strictly, then each function in file order.
func (in *Inputs) UnmarshalYAML(n *yaml.Node) error {
	type plain Inputs
	if err := decodeStrict(n, (*plain)(in)); err != nil {
		return err
	}
	fns := &in.Functions
	if fns.Kind != 0 && fns.Kind != yaml.MappingNode {
		return fmt.Errorf("inputs.functions (line %d): want a mapping of function key to its settings", fns.Line)
	}
	for i := 0; i+1 < len(fns.Content); i += 2 {
		k, v := fns.Content[i], fns.Content[i+1]
		fi := functionInputs{key: k.Value}
		at := "inputs.functions." + k.Value
		if err := decodeStrict(v, &fi); err != nil {
			return fmt.Errorf("%s: %w", at, err)
		}
		if err := fi.decodeEnvironments(v, at); err != nil {
			return err
		}
		in.functions = append(in.functions, fi)
	}
	return in.decodeEnvironments(n, "inputs")
}

// envList is a decoded environments list; set: the key was present.
type envList struct {
	set  bool
	list []KeyValue
}

// decodeEnvironments decodes s.Environments and notes the line of an
// environment: key of the mapping n.
func (s *Settings) decodeEnvironments(n *yaml.Node, at string) error {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "environment" {
			s.environment = n.Content[i].Line
		}
	}
	e := &s.Environments
	if e.Kind == 0 {
		return nil
	}
	if e.Kind != yaml.SequenceNode {
		return fmt.Errorf("%s.environments (line %d): want a list of {key, value} entries, such as\n  environments:\n    - key: JANITOR_LOG_LEVEL\n      value: info", at, e.Line)
	}
	s.environments = envList{set: true, list: []KeyValue{}}
	for i, item := range e.Content {
		if item.Kind == yaml.MappingNode && len(item.Content) == 2 && item.Content[0].Value != "key" && item.Content[0].Value != "value" {
			// `- JANITOR_X: value`, as in other frameworks' environment maps.
			k, v := item.Content[0], item.Content[1]
			return fmt.Errorf("%s.environments, line %d: \"- %s: %s\" is not how multi-scf takes a setting: write it as two lines,\n  - key: %s\n    value: %s",
				at, k.Line, k.Value, oneLineValue(v), k.Value, oneLineValue(v))
		}
		if item.Kind != yaml.MappingNode {
			return fmt.Errorf("%s.environments, line %d: each entry is a {key, value} mapping, such as\n  - key: JANITOR_LOG_LEVEL\n    value: info", at, item.Line)
		}
		var kv KeyValue
		if err := decodeStrict(item, &kv); err != nil {
			return fmt.Errorf("%s.environments[%d] (line %d): %w", at, i, item.Line, err)
		}
		s.environments.list = append(s.environments.list, kv)
	}
	return nil
}

// oneLineValue is a one-line scalar's text, else "...".
func oneLineValue(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode && !strings.ContainsAny(n.Value, "\n\r") {
		return n.Value
	}
	return "..."
}

// TriggerInputs is one entry of inputs.triggers.
type TriggerInputs struct {
	Type       string            `yaml:"type"`
	Function   string            `yaml:"function"`
	Parameters TriggerParameters `yaml:"parameters"`
}

// TriggerParameters holds timer and http trigger parameters.
type TriggerParameters struct {
	Name           string     `yaml:"name"`
	Qualifier      string     `yaml:"qualifier"`
	Enable         *bool      `yaml:"enable"`
	CronExpression string     `yaml:"cronExpression"`
	Argument       string     `yaml:"argument"`
	AuthType       string     `yaml:"authType"`
	NetConfig      *NetConfig `yaml:"netConfig"`
}

// NetConfig says where a Function URL is reachable from.
type NetConfig struct {
	EnableIntranet bool `yaml:"enableIntranet"`
	EnableExtranet bool `yaml:"enableExtranet"`
}

// Function is one function with the component's defaults applied: Key is
// its key under inputs.functions, Handler the Go1 executable's name.
type Function struct {
	Key, Name, Handler, Runtime, Role string
	MemoryMB                          int
	Timeout                           time.Duration
	Env                               []KeyValue // in file order
	Timers                            []Timer
	URL                               *FunctionURL // nil: no http trigger
}

// Timer is a timer trigger; Argument is the event's Message.
type Timer struct {
	Name, Cron, Argument string
	Schedule             *cron.Schedule
	Enabled              bool
}

// FunctionURL is an http (Function URL) trigger; AuthType is NONE or CAM.
type FunctionURL struct {
	Name, AuthType     string
	Extranet, Intranet bool
}

// EnvMap returns the environment as a map.
func (f Function) EnvMap() map[string]string {
	m := make(map[string]string, len(f.Env))
	for _, kv := range f.Env {
		m[kv.Key] = kv.Value
	}
	return m
}

// Config is a parsed serverless.yml.
type Config struct {
	File      File
	Functions []Function // in file order, ${env:NAME} references unresolved
	root      *yaml.Node // the document, for Resolve and the checks on every value
}

// Function returns the function whose Name or Key is name.
func (c *Config) Function(name string) (Function, bool) {
	for _, f := range c.Functions {
		if f.Name == name || f.Key == name {
			return f, true
		}
	}
	return Function{}, false
}

// Names returns the function names in file order.
func (c *Config) Names() []string {
	out := make([]string, len(c.Functions))
	for i, f := range c.Functions {
		out[i] = f.Name
	}
	return out
}

// Load reads and parses path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	c, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Parse decodes serverless.yml, rejecting unknown keys, and applies the
// component's defaults; Validate checks values against SCF's limits.
func Parse(data []byte) (*Config, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, err
	}
	if root.Kind == 0 {
		return nil, errors.New("the file is empty; start from the project's serverless.yml")
	}
	return build(&root)
}

func build(root *yaml.Node) (*Config, error) {
	var f File
	if err := decodeStrict(root, &f); err != nil {
		return nil, err
	}
	if f.Inputs.Functions.Kind == 0 {
		return nil, errors.New("inputs.functions: missing; declare each function under it")
	}
	c := &Config{File: f, root: root}
	in := f.Inputs
	index := map[string]int{}
	for _, fi := range in.functions {
		// A key the function sets wins; its environments list replaces the
		// top-level one (formatter.ts formatFaasInputs).
		envs := in.environments
		if fi.environments.set {
			envs = fi.environments
		}
		fn := Function{Key: fi.key, Name: cmp.Or(fi.Name, fi.key), Handler: fi.Handler, Runtime: cmp.Or(fi.Runtime, in.Runtime, DefaultRuntime),
			Role: cmp.Or(fi.Role, in.Role), MemoryMB: *cmp.Or(fi.MemorySize, in.MemorySize, ptr(DefaultMemoryMB)),
			Timeout: time.Duration(*cmp.Or(fi.Timeout, in.Timeout, ptr(int(DefaultTimeout/time.Second)))) * time.Second,
			Env:     variables(envs.list)}
		index[fi.key] = len(c.Functions)
		c.Functions = append(c.Functions, fn)
	}
	for i, t := range f.Inputs.Triggers {
		at := fmt.Sprintf("inputs.triggers[%d]", i)
		j, ok := index[t.Function]
		if !ok {
			return nil, fmt.Errorf("%s: function %q is not a key of inputs.functions (have %s)", at, t.Function, strings.Join(slices.Sorted(maps.Keys(index)), ", "))
		}
		fn := &c.Functions[j]
		enabled := t.Parameters.Enable == nil || *t.Parameters.Enable
		switch t.Type {
		case "timer":
			tm := Timer{Name: t.Parameters.Name, Cron: t.Parameters.CronExpression, Enabled: enabled, Argument: t.Parameters.Argument}
			if tm.Cron == "" {
				return nil, fmt.Errorf("%s: timer needs parameters.cronExpression, such as \"0 */5 * * * * *\"", at)
			}
			var err error
			if tm.Schedule, err = cron.Parse(tm.Cron); err != nil {
				return nil, fmt.Errorf("%s: %w", at, err)
			}
			fn.Timers = append(fn.Timers, tm)
		case "http":
			if fn.URL != nil {
				return nil, fmt.Errorf("%s: function %q already has an http trigger (one Function URL per function)", at, t.Function)
			}
			u := &FunctionURL{Name: t.Parameters.Name, AuthType: cmp.Or(t.Parameters.AuthType, "NONE")}
			if nc := t.Parameters.NetConfig; nc != nil {
				u.Extranet, u.Intranet = nc.EnableExtranet, nc.EnableIntranet
			}
			fn.URL = u
		default:
			return nil, fmt.Errorf("%s: trigger type %q is not one this project uses (timer, http)", at, t.Type)
		}
	}
	return c, nil
}

func ptr(v int) *int { return &v }

// variables is environment.variables as the component builds it
// (newEnvs[key] = value): a repeated key keeps its first place, last value.
func variables(list []KeyValue) []KeyValue {
	out := make([]KeyValue, 0, len(list))
	at := map[string]int{}
	for _, kv := range list {
		if i, ok := at[kv.Key]; ok {
			out[i].Value = kv.Value
			continue
		}
		at[kv.Key] = len(out)
		out = append(out, kv)
	}
	return out
}

// decodeStrict decodes a node in place (so errors name the file's lines),
// rejecting unknown fields, with errors in words.
func decodeStrict(n *yaml.Node, v any) error {
	if err := knownFields(n, reflect.TypeOf(v)); err != nil {
		return err
	}
	return inWords(n.Decode(v))
}

// knownFields reports the first mapping key below n that t has no yaml
// field for, with its line.
func knownFields(n *yaml.Node, t reflect.Type) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	switch {
	case t == reflect.TypeOf(yaml.Node{}):
		return nil
	case t.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode:
		for _, c := range n.Content {
			if err := knownFields(c, t.Elem()); err != nil {
				return err
			}
		}
	case t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
		if reflect.PointerTo(t).Implements(reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()) {
			return nil // decodes itself (strictly)
		}
		fields := map[string]reflect.Type{}
		var names []string
		for _, f := range reflect.VisibleFields(t) {
			name, opt, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if f.IsExported() && name != "" && name != "-" && opt != "inline" {
				fields[name] = f.Type
				names = append(names, name)
			}
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			ft, ok := fields[k.Value]
			if k.Value == "<<" { // a merge key: its mapping's keys belong here
				ft, ok = t, true
			}
			if !ok {
				return fmt.Errorf("line %d: unknown key %q here (the keys here are %s)", k.Line, k.Value, strings.Join(names, ", "))
			}
			if err := knownFields(n.Content[i+1], ft); err != nil {
				return err
			}
		}
	}
	return nil
}

// yamlTypeErrorRE matches yaml.v3's "cannot unmarshal !!seq [`v` ]into string".
var yamlTypeErrorRE = regexp.MustCompile("cannot unmarshal !!(\\w+) (`[^`]*` )?into (\\S+)")

// kindWords names YAML tags and Go types (by prefix; a struct is pkg.T).
var kindWords = []struct{ yaml, goPrefix, words string }{
	{"seq", "[]", "a list"}, {"map", "map[", "a mapping (key: value)"}, {"str", "string", "text"},
	{"bool", "bool", "true or false"}, {"int", "int", "a number"}, {"float", "float", "a number"}, {"", "uint", "a number"},
}

// inWords rewrites yaml.v3's errors without Go type names.
func inWords(err error) error {
	if err == nil {
		return nil
	}
	msg := strings.TrimPrefix(err.Error(), "yaml: unmarshal errors:\n  ")
	msg = yamlTypeErrorRE.ReplaceAllStringFunc(msg, func(m string) string {
		sub := yamlTypeErrorRE.FindStringSubmatch(m)
		found, want := "a "+sub[1], "another kind of value"
		if strings.Contains(sub[3], ".") {
			want = "a mapping (key: value)"
		}
		for _, k := range kindWords {
			if k.yaml == sub[1] {
				found = k.words
			}
			if strings.HasPrefix(sub[3], k.goPrefix) {
				want = k.words
			}
		}
		return "found " + found + " where " + want + " belongs"
	})
	return errors.New(msg)
}

// problems collects Validate's findings.
type problems []error

func (p *problems) add(format string, a ...any) { *p = append(*p, fmt.Errorf(format, a...)) }

// checkEnvironments reports an environment: key (the component drops it)
// and checks the environments list as SCF will take it.
func (s *Settings) checkEnvironments(errs *problems, at string) {
	add := errs.add
	if s.environment != 0 {
		add("%s.environment (line %d): the multi-scf component does not read environment: (it rebuilds it from environments, so these settings would be dropped); use environments: with the same {key, value} entries", at, s.environment)
	}
	at += ".environments"
	seen := map[string]bool{}
	for _, kv := range s.environments.list {
		if !envKeyRE.MatchString(kv.Key) {
			add("%s: environment key %q must be letters, digits and _, starting with a letter", at, kv.Key)
		}
		for _, p := range ReservedEnvPrefixes {
			if strings.HasPrefix(strings.ToUpper(kv.Key), p) {
				add("%s: environment key %q uses the prefix %s, which SCF reserves; use a JANITOR_ name", at, kv.Key, p)
			}
		}
		if seen[kv.Key] {
			add("%s: environment key %q is declared twice (the last value would win)", at, kv.Key)
		}
		seen[kv.Key] = true
		if kv.Value == "" {
			add("%s: %s has an empty value, which SCF refuses; leave the setting out; the code's default applies", at, kv.Key)
		}
	}
}

// v1VariableRE matches the variables the CLI refuses before deploying
// (validateAgainstV1Variables in serverless-cloud-framework src/libs/utils/basic.js).
var v1VariableRE = regexp.MustCompile(`\$\{(self|opt|sls|cf|s3|ssm|file):[\w.-_]+\}`)

var (
	functionNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,58}[A-Za-z0-9]$`)
	handlerRE      = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
	triggerNameRE  = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,59}$`)
	envKeyRE       = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)
)

// RegionRE is the shape of a region id such as ap-guangzhou; which regions
// exist is Tencent's to say.
var RegionRE = regexp.MustCompile(`^[a-z]{2,3}-[a-z]+(-[a-z0-9]+)?$`)

// ValidMemoryMB reports whether SCF accepts mb: 64, or 128-3072 in steps of 128.
func ValidMemoryMB(mb int) bool {
	return mb == 64 || (mb >= 128 && mb <= 3072 && mb%128 == 0)
}

// Validate checks the file against the multi-scf inputs and SCF's limits and
// returns every problem found (nil when the file is deployable).
func (c *Config) Validate() []error {
	var errs problems
	c.validateFile(&errs)
	names := map[string]string{}
	for i, fn := range c.Functions {
		c.validateFunction(&errs, i, fn, names)
	}
	return errs
}

// validateFile checks the file's own fields and every string's variables.
func (c *Config) validateFile(errs *problems) {
	add := errs.add
	f := c.File
	if f.Component != "multi-scf" {
		add("component is %q, want multi-scf", f.Component)
	}
	if f.Name == "" {
		add("name (the component instance name) is required")
	}
	if f.Inputs.Src.Src == "" {
		add("inputs.src: the code directory to upload is required")
	}
	if f.Inputs.Region != "" && !RegionRE.MatchString(f.Inputs.Region) {
		add("inputs.region %q does not look like a Tencent Cloud region such as ap-guangzhou", f.Inputs.Region)
	}
	if len(c.Functions) == 0 {
		add("inputs.functions: no functions declared")
	}
	f.Inputs.checkEnvironments(errs, "inputs")
	if c.root != nil {
		walkStrings(c.root, "", func(n *yaml.Node, path string) {
			if strings.Contains(n.Value, "${env.") {
				add("%s (line %d): the CLI leaves ${env.NAME} as literal text; write ${env:NAME}", path, n.Line)
			}
			if m := v1VariableRE.FindString(n.Value); m != "" {
				add("%s (line %d): the CLI refuses %s (a Serverless Framework v1 variable); only ${env:NAME} is resolved", path, n.Line, m)
			}
		})
	}
}

// validateFunction checks the i-th function against SCF's limits; names
// maps the function names seen so far to their keys.
func (c *Config) validateFunction(errs *problems, i int, fn Function, names map[string]string) {
	add := errs.add
	f := c.File
	at := "inputs.functions." + fn.Key
	if !functionNameRE.MatchString(fn.Name) {
		add("%s: function name %q must be 2-60 letters, digits, - or _, start with a letter and end with a letter or digit", at, fn.Name)
	}
	if other, dup := names[fn.Name]; dup {
		add("%s: function name %q is also used by %s", at, fn.Name, other)
	}
	names[fn.Name] = fn.Key
	if fn.Handler == "" {
		add("%s: handler is required (for Go1, the executable's file name in the code package)", at)
	} else if !handlerRE.MatchString(fn.Handler) {
		add("%s: handler %q is not a plain file name", at, fn.Handler)
	}
	if fn.Runtime != "Go1" {
		add("%s: runtime is %q, want Go1", at, fn.Runtime)
	}
	if fn.Timeout < time.Second || fn.Timeout > 900*time.Second {
		add("%s: timeout %v is outside SCF's 1-900 s", at, fn.Timeout)
	}
	if !ValidMemoryMB(fn.MemoryMB) {
		add("%s: memorySize %d MB is not one SCF offers (64, or 128-3072 in steps of 128)", at, fn.MemoryMB)
	}
	if fn.Role == "" {
		add("%s: role is required (the execution role whose temporary credentials the function uses)", at)
	} else if !strings.Contains(fn.Role, "${") {
		if _, err := RolePolicyPath("", fn.Role); err != nil {
			add("%s: %v", at, err)
		}
	}
	if i < len(f.Inputs.functions) {
		fi := f.Inputs.functions[i]
		if fi.Name == "" {
			// formatScfName in the component's src/formatter.ts.
			add("%s: name is required: without it multi-scf deploys the function as %s-%s-%s-%s, a name this project's tools do not derive", at, f.Name, f.Stage, f.App, fn.Key)
		}
		fi.checkEnvironments(errs, at)
	}
	validateTriggers(errs, at, fn)
}

// validateTriggers checks fn's environment size, timers and Function URL.
func validateTriggers(errs *problems, at string, fn Function) {
	add := errs.add
	if size := envSize(fn); size > maxEnvBytes {
		add("%s: environment is %d bytes, over SCF's %d-byte limit", at, size, maxEnvBytes)
	}
	for _, t := range fn.Timers {
		if !triggerNameRE.MatchString(t.Name) {
			add("%s: timer name %q must be 1-60 letters, digits, - or _, starting with a letter", at, t.Name)
		}
		if len(t.Argument) > 4096 {
			add("%s: timer %s argument is %d bytes, over SCF's 4 KB", at, t.Name, len(t.Argument))
		}
	}
	if u := fn.URL; u != nil {
		if u.AuthType != "NONE" && u.AuthType != "CAM" {
			add("%s: http trigger authType %q, want NONE or CAM", at, u.AuthType)
		}
		if !u.Extranet && !u.Intranet {
			add("%s: http trigger enables neither netConfig.enableExtranet nor enableIntranet, so the URL is unreachable", at)
		}
	}
}

func envSize(fn Function) int {
	size := 0
	for _, kv := range fn.Env {
		size += len(kv.Key) + len(kv.Value)
	}
	return size
}

// roleNameRE is CAM's RoleName: 1-128 characters, letters, digits and
// +=,.@-_ (tencentcloud-sdk-go cam/v20190116 models.go, CreateRoleRequest
// RoleName: "长度为1~128个字符，可包含英文字母、数字和+=,.@-_").
var roleNameRE = regexp.MustCompile(`^[A-Za-z0-9+=,.@_-]{1,128}$`)

// RolePolicyPath is the file holding role's permissions,
// <root>/deploy/cam/<role>.json. The name is checked first, so the path
// never leaves deploy/cam.
func RolePolicyPath(root, role string) (string, error) {
	if !roleNameRE.MatchString(role) {
		return "", fmt.Errorf("role %q is not a CAM role name: 1-128 letters, digits and + = , . @ - _", role)
	}
	if role == "trust-scf" {
		return "", fmt.Errorf("role %q: deploy/cam/trust-scf.json is the trust policy of every role, not a role's permissions; choose another role name", role)
	}
	return filepath.Join(root, "deploy", "cam", role+".json"), nil
}

package deploy

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func lookupOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

// resolveYML has top-level settings, one function that inherits them and one
// that overrides them (its environments list replaces the top-level one).
const resolveYML = `
app: demo
stage: dev
component: multi-scf
name: demo
inputs:
  src: ./dist/bundle
  runtime: Go1
  memorySize: 256
  timeout: 30
  role: SharedRole
  environments:
    - key: JANITOR_SHARED
      value: ${env:SHARED}
    - key: JANITOR_LOG_LEVEL
      value: info
  functions:
    inherits:
      name: inherits
      handler: inherits
    own:
      name: own
      handler: own
      memorySize: 64
      timeout: 5
      role: OwnRole
      environments:
        - key: JANITOR_WEBHOOK_SECRET
          value: ${env:OWN_SECRET}
        - key: JANITOR_MIXED
          value: a-${env:A}-b-${env:B}-a-${env:A}
        - key: JANITOR_LOG_LEVEL
          value: debug
        - key: JANITOR_LOG_LEVEL
          value: warn
  triggers:
    - type: timer
      function: inherits
      parameters:
        name: t
        cronExpression: "0 */5 * * * * *"
        argument: '{"bucket":"${env:BUCKET}"}'
`

func TestResolve(t *testing.T) {
	c := mustParse(t, resolveYML)
	env := map[string]string{"SHARED": "s", "OWN_SECRET": "whsec-1,whsec-0", "A": "1", "B": "2", "BUCKET": "b-125"}
	fns, err := c.Resolve(lookupOf(env))
	if err != nil {
		t.Fatal(err)
	}
	if len(fns) != 2 {
		t.Fatalf("got %d functions", len(fns))
	}
	in, own := fns[0], fns[1]
	if in.MemoryMB != 256 || in.Timeout.Seconds() != 30 || in.Role != "SharedRole" {
		t.Errorf("inherits: %d MB, %v, role %s: want the top-level 256 MB, 30s, SharedRole", in.MemoryMB, in.Timeout, in.Role)
	}
	if own.MemoryMB != 64 || own.Timeout.Seconds() != 5 || own.Role != "OwnRole" {
		t.Errorf("own: %d MB, %v, role %s: want its own 64 MB, 5s, OwnRole", own.MemoryMB, own.Timeout, own.Role)
	}
	if diff := cmp.Diff([]KeyValue{{"JANITOR_SHARED", "s"}, {"JANITOR_LOG_LEVEL", "info"}}, in.Env); diff != "" {
		t.Errorf("inherits env (-want +got):\n%s", diff)
	}
	// Its own list replaces the top-level one; a repeated key keeps its first
	// place and its last value, as newEnvs[key] = value does.
	want := []KeyValue{{"JANITOR_WEBHOOK_SECRET", "whsec-1,whsec-0"}, {"JANITOR_MIXED", "a-1-b-2-a-1"}, {"JANITOR_LOG_LEVEL", "warn"}}
	if diff := cmp.Diff(want, own.Env); diff != "" {
		t.Errorf("own env (-want +got):\n%s", diff)
	}
	if got := in.Timers[0].Argument; got != `{"bucket":"b-125"}` {
		t.Errorf("timer argument %q, want the variable resolved", got)
	}
	// The Config itself keeps the text as written.
	if got := c.Functions[1].EnvMap()["JANITOR_WEBHOOK_SECRET"]; got != "${env:OWN_SECRET}" {
		t.Errorf("Config.Functions changed by Resolve: %q", got)
	}
}

func TestResolveReportsEveryUnsetVariable(t *testing.T) {
	c := mustParse(t, resolveYML)
	secret := "whsec-must-not-appear"
	_, err := c.Resolve(lookupOf(map[string]string{"OWN_SECRET": secret, "A": "1", "B": ""}))
	var unset *UnsetVariablesError
	if !errors.As(err, &unset) {
		t.Fatalf("Resolve error %v, want *UnsetVariablesError", err)
	}
	if diff := cmp.Diff([]string{"B", "BUCKET", "SHARED"}, unset.Names()); diff != "" {
		t.Errorf("unset names (-want +got):\n%s", diff)
	}
	msg := err.Error()
	for _, w := range []string{
		"B (used by inputs.functions.own.environments[JANITOR_MIXED].value)",
		"BUCKET (used by inputs.triggers[0].parameters.argument)",
		"SHARED (used by inputs.environments[JANITOR_SHARED].value)",
		".env",
	} {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q does not say %q", msg, w)
		}
	}
	if strings.Contains(msg, secret) {
		t.Errorf("error shows a value: %s", msg)
	}
}

// TestResolveValueLikeTheCLI pins the details of resolveVariables in
// serverless-cloud-framework src/libs/utils/basic.js.
func TestResolveValueLikeTheCLI(t *testing.T) {
	env := map[string]string{
		"A": "1", "DOLLAR": "x$$y", "AFTER": "[$']", "LOOP": "$&", "NESTED": "<${env:A}>", "SELF": "${env:SELF}", "A.B": "dotted", "FULL": "$&",
	}
	tests := []struct {
		in, want string
		missing  []string
		err      string
	}{
		{in: "${env:A}", want: "1"},
		{in: "plain", want: "plain"},
		{in: "${env.A}", want: "${env.A}"},                   // a dot: left as literal text
		{in: "${env:A-B}", want: "${env:A-B}"},               // '-' is outside [\w.-_]: not a reference
		{in: "${self:A}", want: "${self:A}"},                 // not env
		{in: "${env:A.B}", want: "dotted"},                   // '.' is a name character
		{in: "p-${env:DOLLAR}-q", want: "p-x$y-q"},           // JavaScript's replace patterns apply
		{in: "p-${env:AFTER}-q", want: "p-[-q]-q"},           // $' is what follows the reference
		{in: "p-${env:LOOP}", err: "rounds of substitution"}, // $& puts the reference back: the CLI never ends
		{in: "${env:FULL}", want: "$&"},                      // a whole value is taken as is
		{in: "[${env:NESTED}]", want: "[<1>]"},               // resolved again until nothing changes
		{in: "${env:A}${env:A}", want: "11"},
		{in: "x-${env:NOPE}", missing: []string{"NOPE"}},
		{in: "${env:SELF}", err: "rounds of substitution"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, missing, err := resolveValue(tc.in, lookupOf(env))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.missing, missing); diff != "" {
				t.Fatalf("missing (-want +got):\n%s", diff)
			}
			if tc.missing == nil && got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestEnvRefs(t *testing.T) {
	got := EnvRefs("${env:A},${env.B},${env:C_1}")
	if diff := cmp.Diff([]string{"A", "C_1"}, got); diff != "" {
		t.Error(diff)
	}
}

// TestValidateNamesTheFix: each mistake that deploys silently wrong is
// refused with the fix in the message.
func TestValidateNamesTheFix(t *testing.T) {
	tests := []struct {
		name, from, to, want string
	}{
		{"environment under a function", "      environments:\n        - key: JANITOR_WEBHOOK", "      environment:\n        - key: JANITOR_WEBHOOK",
			"inputs.functions.own.environment (line 27): the multi-scf component does not read environment:"},
		{"environment under inputs", "  environments:\n    - key: JANITOR_SHARED", "  environment:\n    - key: JANITOR_SHARED", "use environments:"},
		{"dot reference", "${env:OWN_SECRET}", "${env.OWN_SECRET}", "inputs.functions.own.environments[JANITOR_WEBHOOK_SECRET].value (line 29): the CLI leaves ${env.NAME} as literal text; write ${env:NAME}"},
		{"dot reference in a trigger", "${env:BUCKET}", "${env.BUCKET}", "inputs.triggers[0].parameters.argument"},
		{"v1 variable", "${env:BUCKET}", "${self:custom.bucket}", "inputs.triggers[0].parameters.argument (line 42): the CLI refuses ${self:custom.bucket}"},
		{"empty value", "value: debug", `value: ""`, "JANITOR_LOG_LEVEL has an empty value, which SCF refuses; leave the setting out; the code's default applies"},
		{"null value", "value: debug", `value:`, "JANITOR_LOG_LEVEL has an empty value"},
		{"empty top-level value", "value: info", `value: ""`, "inputs.environments: JANITOR_LOG_LEVEL has an empty value"},
		{"reserved prefix", "key: JANITOR_MIXED", "key: SCF_MIXED", "prefix SCF_, which SCF reserves; use a JANITOR_ name"},
		{"reserved top-level prefix", "key: JANITOR_SHARED", "key: TENCENTCLOUD_SHARED", "inputs.environments: environment key \"TENCENTCLOUD_SHARED\" uses the prefix TENCENTCLOUD_"},
	}
	c := mustParse(t, resolveYML)
	if errs := c.Validate(); len(errs) != 1 || !strings.Contains(errs[0].Error(), `"JANITOR_LOG_LEVEL" is declared twice`) {
		t.Fatalf("the base file: %v, want only the repeated key", errs)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantInvalid(t, edit(t, resolveYML, tc.from, tc.to), tc.want)
		})
	}
}

func TestParseEnvironmentsShape(t *testing.T) {
	for name, envs := range map[string]string{
		"a mapping":     "{JANITOR_X: y}",
		"unknown field": "[{name: JANITOR_X, value: y}]",
		"null":          "",
	} {
		t.Run(name, func(t *testing.T) {
			yml := "component: multi-scf\nname: x\ninputs:\n  src: ./d\n  functions:\n    own:\n      handler: own\n      environments: " + envs + "\n"
			_, err := Parse([]byte(yml))
			if err == nil || !strings.Contains(err.Error(), "inputs.functions.own.environments") {
				t.Fatalf("Parse = %v, want an error about inputs.functions.own.environments", err)
			}
		})
	}
}

func TestResolveChecksTheSizeOfResolvedValues(t *testing.T) {
	c := mustParse(t, resolveYML)
	env := map[string]string{"SHARED": strings.Repeat("s", 4100), "OWN_SECRET": "x", "A": "1", "B": "2", "BUCKET": "b"}
	_, err := c.Resolve(lookupOf(env))
	if err == nil || !strings.Contains(err.Error(), "inputs.functions.inherits: environment is 4135 bytes once variables are resolved, over SCF's 4096-byte limit") {
		t.Fatalf("Resolve = %v", err)
	}
	if strings.Contains(err.Error(), "sss") {
		t.Error("the error shows the value")
	}
}

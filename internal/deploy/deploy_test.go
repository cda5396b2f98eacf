package deploy

import (
	"errors"
	"strings"
	"testing"
	"time"
)

const goodYML = `
app: demo
stage: dev
component: multi-scf
name: demo
inputs:
  src: ./dist/bundle
  region: ap-guangzhou
  runtime: Go1
  functions:
    hello:
      name: hello
      handler: hello
      role: HelloRole
      memorySize: 64
      timeout: 900
      environments:
        - key: JANITOR_GREETING
          value: ${env:GREETING}-x
    tick:
      name: tick-fn
      handler: tick
      role: TickRole
  triggers:
    - type: http
      function: hello
      parameters:
        netConfig:
          enableExtranet: true
    - type: timer
      function: tick
      parameters:
        name: t1
        cronExpression: "*/5 * * * *"
        argument: '{"dryRun":true}'
`

func TestParseResolvesDefaults(t *testing.T) {
	c := mustParse(t, goodYML)
	if errs := c.Validate(); len(errs) != 0 {
		t.Fatalf("Validate: %v", errors.Join(errs...))
	}
	if got := strings.Join(c.Names(), ","); got != "hello,tick-fn" {
		t.Fatalf("Names() = %s, want file order hello,tick-fn", got)
	}
	hello, ok := c.Function("hello")
	if !ok || hello.MemoryMB != 64 || hello.Timeout != 900*time.Second || hello.Runtime != "Go1" {
		t.Fatalf("hello = %+v", hello)
	}
	if hello.URL == nil || hello.URL.AuthType != "NONE" || !hello.URL.Extranet {
		t.Fatalf("hello URL = %+v, want NONE + extranet", hello.URL)
	}
	tick, ok := c.Function("tick-fn")
	if !ok || tick.Key != "tick" {
		t.Fatalf("Function(tick-fn) = %+v, %v", tick, ok)
	}
	if tick.MemoryMB != DefaultMemoryMB || tick.Timeout != DefaultTimeout {
		t.Fatalf("tick defaults: %d MB, %v", tick.MemoryMB, tick.Timeout)
	}
	if len(tick.Timers) != 1 || !tick.Timers[0].Enabled || tick.Timers[0].Argument != `{"dryRun":true}` {
		t.Fatalf("tick timers = %+v", tick.Timers)
	}
	from := time.Date(2026, 1, 1, 0, 1, 0, 0, time.UTC)
	if got := tick.Timers[0].Schedule.Next(from); !got.Equal(from.Add(4 * time.Minute)) {
		t.Fatalf("legacy cron Next = %v", got)
	}
	if got := hello.EnvMap()["JANITOR_GREETING"]; got != "${env:GREETING}-x" {
		t.Fatalf("unresolved JANITOR_GREETING = %q, want the text as written", got)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, from, to, wantErr string
	}{
		{"unknown key", "      memorySize: 64\n", "      memorysize: 64\n", `inputs.functions.hello: line 15: unknown key "memorysize" here (the keys here are name, handler`},
		{"bad cron", `"*/5 * * * *"`, `"61 * * * * * *"`, "second field: 61 is out of range"},
		{"missing cron", `cronExpression: "*/5 * * * *"`, `cronExpression: ""`, "timer needs parameters.cronExpression"},
		{"unknown function", "function: tick\n", "function: tock\n", `function "tock" is not a key of inputs.functions`},
		{"unknown trigger type", "type: timer", "type: cmq", `trigger type "cmq"`},
		{"no functions", "  functions:\n", "  functionz:\n", `line 10: unknown key "functionz" here`},
		// The mistakes a user of other frameworks makes, at the line they are on, in words.
		{"environments as a map entry", "        - key: JANITOR_GREETING\n", "        - JANITOR_OTHER: x\n        - key: JANITOR_GREETING\n",
			"inputs.functions.hello.environments, line 18: \"- JANITOR_OTHER: x\" is not how multi-scf takes a setting: write it as two lines,\n  - key: JANITOR_OTHER\n    value: x"},
		{"environments entry not a mapping", "        - key: JANITOR_GREETING\n", "        - JANITOR_OTHER\n        - key: JANITOR_GREETING\n",
			"inputs.functions.hello.environments, line 18: each entry is a {key, value} mapping"},
		{"wrong kind", "      memorySize: 64\n", "      memorySize: [64]\n", "line 15: found a list where a number belongs"},
		{"unknown key in an entry", "          value: ${env:GREETING}", "          valu: ${env:GREETING}", `line 19: unknown key "valu" here (the keys here are key, value)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(edit(t, goodYML, tc.from, tc.to)))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Parse error = %v, want it to contain %q", err, tc.wantErr)
			}
		})
	}
}

func TestValidateErrors(t *testing.T) {
	tests := []struct {
		name, from, to, wantErr string
	}{
		{"runtime", "runtime: Go1", "runtime: Python3.6", `runtime is "Python3.6", want Go1`},
		{"no runtime", "  runtime: Go1\n", "", `runtime is "Nodejs12.16", want Go1`},
		{"timeout high", "timeout: 900", "timeout: 901", "outside SCF's 1-900 s"},
		{"memory", "memorySize: 64", "memorySize: 100", "memorySize 100 MB is not one SCF offers"},
		{"memory high", "memorySize: 64", "memorySize: 3200", "memorySize 3200 MB"},
		{"reserved SCF_", "key: JANITOR_GREETING", "key: SCF_GREETING", "prefix SCF_, which SCF reserves"},
		{"reserved QCLOUD_", "key: JANITOR_GREETING", "key: QCLOUD_X", "prefix QCLOUD_"},
		{"reserved TENCENTCLOUD_", "key: JANITOR_GREETING", "key: TENCENTCLOUD_SECRETID", "prefix TENCENTCLOUD_"},
		{"component", "component: multi-scf", "component: scf", `component is "scf", want multi-scf`},
		{"role", "      role: HelloRole\n", "", "role is required"},
		{"handler", "      handler: hello\n", "", "handler is required"},
		{"function name", "name: tick-fn", "name: 9tick", `function name "9tick"`},
		{"no function name", "      name: tick-fn\n", "", "inputs.functions.tick: name is required: without it multi-scf deploys the function as demo-dev-demo-tick"},
		{"unreachable URL", "enableExtranet: true", "enableExtranet: false", "the URL is unreachable"},
		{"auth type", "        netConfig:", "        authType: KEY\n        netConfig:", `authType "KEY"`},
		{"timer name", "name: t1", "name: 1t", `timer name "1t"`},
		{"role with a path", "role: HelloRole", "role: ../../etc/passwd", `role "../../etc/passwd" is not a CAM role name`},
		{"role too long", "role: HelloRole", "role: " + strings.Repeat("R", 129), "is not a CAM role name: 1-128"},
		{"role named like the trust policy", "role: HelloRole", "role: trust-scf", "is the trust policy of every role"},
		{"env size", "-x\n", "-" + strings.Repeat("x", 4100) + "\n", "over SCF's 4096-byte limit"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantInvalid(t, edit(t, goodYML, tc.from, tc.to), tc.wantErr)
		})
	}
}

func TestValidMemoryMB(t *testing.T) {
	for mb, want := range map[int]bool{0: false, 32: false, 64: true, 96: false, 128: true, 256: true, 384: true, 3072: true, 3200: false} {
		if got := ValidMemoryMB(mb); got != want {
			t.Errorf("ValidMemoryMB(%d) = %v, want %v", mb, got, want)
		}
	}
}

// mustParse parses yml, which must be valid YAML of the expected shape.
func mustParse(t *testing.T, yml string) *Config {
	t.Helper()
	c, err := Parse([]byte(yml))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c
}

// edit returns base with its first from replaced by to; from must be there.
func edit(t *testing.T, base, from, to string) string {
	t.Helper()
	yml := strings.Replace(base, from, to, 1)
	if yml == base {
		t.Fatalf("replacement %q not found", from)
	}
	return yml
}

// wantInvalid checks that Validate finds, in yml, an error containing want.
func wantInvalid(t *testing.T, yml, want string) {
	t.Helper()
	err := errors.Join(mustParse(t, yml).Validate()...)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Validate = %v\nwant an error containing %q", err, want)
	}
}

// TestRolePolicyPath: a role name is checked as CAM checks it before any
// file name is made from it, so the path never leaves deploy/cam.
func TestRolePolicyPath(t *testing.T) {
	tests := []struct {
		role, want string // want "" = refused
	}{
		{"JanitorSweepTasksRole", "/p/deploy/cam/JanitorSweepTasksRole.json"},
		{"a+b=c,d.e@f-g_h", "/p/deploy/cam/a+b=c,d.e@f-g_h.json"},
		{"..", "/p/deploy/cam/...json"}, // CAM allows dots; still a file inside deploy/cam
		{"../secret", ""},
		{"a/b", ""},
		{`a\b`, ""},
		{"", ""},
		{"role name", ""},
		{strings.Repeat("r", 128), "/p/deploy/cam/" + strings.Repeat("r", 128) + ".json"},
		{strings.Repeat("r", 129), ""},
	}
	for _, tc := range tests {
		t.Run(tc.role, func(t *testing.T) {
			got, err := RolePolicyPath("/p", tc.role)
			if tc.want == "" {
				if err == nil {
					t.Fatalf("got %s, want a refusal", got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// TestResolveChecksTheRoleName: a role given as ${env:NAME} is checked once
// resolved.
func TestResolveChecksTheRoleName(t *testing.T) {
	c := mustParse(t, strings.Replace(resolveYML, "role: OwnRole", "role: ${env:ROLE}", 1))
	_, err := c.Resolve(lookupOf(map[string]string{"SHARED": "s", "OWN_SECRET": "x", "A": "1", "B": "2", "BUCKET": "b", "ROLE": "../../x"}))
	if err == nil || !strings.Contains(err.Error(), "inputs.functions.own: once variables are resolved, role \"../../x\" is not a CAM role name") {
		t.Fatalf("got %v", err)
	}
}

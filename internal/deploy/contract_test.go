package deploy

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"
)

// The contract test: serverless.yml and a sample .env go through the steps
// `scf deploy` performs, reimplemented here from the JavaScript on generic
// values (not through this package's parser), and each function must end
// with exactly the settings it needs. Then Config.Resolve must agree.
//
//  1. serverless-cloud-framework src/libs/utils/basic.js resolveVariables:
//     ${env:NAME} from process.env (the shell, then .env), repeated while any
//     was found.
//  2. tencent-multi-scf src/formatter.ts formatInputs (commit 02cf5633):
//     commonInputs = {...inputs, type, namespace, runtime, description with
//     defaults}, minus src; per function Object.assign({}, commonInputs, func).
//  3. formatFaasInputs: `const { environments = [] } = inputs`; if it is an
//     array, inputs.environment = { variables: {key: value, ...} }.

// sampleDotEnv is a filled-in .env, as a user would write from .env.example.
const sampleDotEnv = `
TENCENT_SECRET_ID=AKIDsample
TENCENT_SECRET_KEY=sample-key
JANITOR_CANCEL_TASK_SECRET=ct-secret-new,ct-secret-old
JANITOR_CANCEL_LIVE_AUDIT_SECRET=cla-secret
JANITOR_STOP_TRANSCRIPTION_SECRET=st-secret
JANITOR_CI_BUCKET=examplebucket-1250000000
JANITOR_CI_REGION=ap-beijing
JANITOR_TRTC_SDKAPPID=1400000000
`

// wantDeployed is what each function must end up with.
var wantDeployed = map[string]struct {
	name, handler, runtime, role string
	memory, timeout              int
	vars                         map[string]string
}{
	"cancel-task": {"cancel-task", "cancel-task", "Go1", "JanitorCancelTaskRole", 128, 15, map[string]string{
		"JANITOR_WEBHOOK_SECRET": "ct-secret-new,ct-secret-old",
		"JANITOR_WEBHOOK_AUTH":   "signature",
		"JANITOR_LOG_LEVEL":      "info",
	}},
	"cancel-live-audit": {"cancel-live-audit", "cancel-live-audit", "Go1", "JanitorCancelLiveAuditRole", 128, 15, map[string]string{
		"JANITOR_WEBHOOK_SECRET": "cla-secret",
		"JANITOR_WEBHOOK_AUTH":   "signature",
		"JANITOR_CI_BUCKET":      "examplebucket-1250000000",
		"JANITOR_CI_REGION":      "ap-beijing",
		"JANITOR_LOG_LEVEL":      "info",
	}},
	"stop-transcription": {"stop-transcription", "stop-transcription", "Go1", "JanitorStopTranscriptionRole", 128, 15, map[string]string{
		"JANITOR_WEBHOOK_SECRET": "st-secret",
		"JANITOR_WEBHOOK_AUTH":   "signature",
		"JANITOR_TRTC_SDKAPPID":  "1400000000",
		"JANITOR_LOG_LEVEL":      "info",
	}},
	"sweep-tasks": {"sweep-tasks", "sweep-tasks", "Go1", "JanitorSweepTasksRole", 128, 270, map[string]string{
		"JANITOR_SWEEP_MAX_AGE":       "2h",
		"JANITOR_SWEEP_LOOKBACK":      "72h",
		"JANITOR_SWEEP_SERVICES":      "ams",
		"JANITOR_SWEEP_STATUSES":      "PENDING,RUNNING",
		"JANITOR_SWEEP_DRY_RUN":       "false",
		"JANITOR_SWEEP_MAX_CANCELS":   "5000",
		"JANITOR_SWEEP_RATE":          "15",
		"JANITOR_SWEEP_CONCURRENCY":   "8",
		"JANITOR_SWEEP_PAGE_SIZE":     "100",
		"JANITOR_SWEEP_SAFETY_MARGIN": "5s",
		"JANITOR_NOTIFY_ON":           "cancelled,failed,stopped",
		"JANITOR_SWEEP_SELF":          "true",
		"JANITOR_SWEEP_FANOUT":        "none",
		"JANITOR_LOG_LEVEL":           "info",
	}},
}

// jsUndefined stands for JavaScript's undefined (an unset variable).
type jsUndefined struct{}

// simpleDotEnv reads the sample: KEY=value lines and comments, nothing else.
func simpleDotEnv(text string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			out[k] = v
		}
	}
	return out
}

// jsResolveVariables is resolveVariables over generic YAML values.
func jsResolveVariables(t *testing.T, v any, env map[string]string, used map[string]bool) any {
	t.Helper()
	outer := regexp.MustCompile(`\$\{(\w*:?[\w\d.-]+)\}`)
	inner := regexp.MustCompile(`\$\{env:(\w*[\w.-_]+)\}`)
	for round := 0; ; round++ {
		if round > 20 {
			t.Fatal("resolveVariables does not end")
		}
		resolved := false
		var walk func(v any) any
		walk = func(v any) any {
			switch x := v.(type) {
			case map[string]any:
				for k, e := range x {
					x[k] = walk(e)
				}
				return x
			case []any:
				for i, e := range x {
					x[i] = walk(e)
				}
				return x
			case string:
				var next any = x
				for _, m := range outer.FindAllString(x, -1) {
					if !inner.MatchString(m) {
						continue
					}
					name := strings.Split(m[2:len(m)-1], ":")[1]
					used[name] = true
					resolved = true
					val, ok := env[name]
					switch {
					case m == x && ok:
						next = val
					case m == x:
						next = jsUndefined{}
					case ok:
						next = strings.Replace(x, m, val, 1) // the sample has no '$' in values
					default:
						next = strings.Replace(x, m, "undefined", 1)
					}
				}
				return next
			}
			return v
		}
		v = walk(v)
		if !resolved {
			return v
		}
	}
}

// jsFormatInputs is formatInputs + formatFaasInputs over generic values.
func jsFormatInputs(file map[string]any) map[string]map[string]any {
	inputs := file["inputs"].(map[string]any)
	or := func(k, def string) any {
		if v, ok := inputs[k]; ok && v != nil && v != "" {
			return v
		}
		return def
	}
	common := map[string]any{}
	for k, v := range inputs {
		common[k] = v // deepClone: the values are not modified below
	}
	common["type"], common["namespace"] = or("type", "event"), or("namespace", "default")
	common["runtime"], common["description"] = or("runtime", "Nodejs12.16"), or("description", "Created by Serverless")
	delete(common, "src")
	out := map[string]map[string]any{}
	for key, f := range inputs["functions"].(map[string]any) {
		merged := map[string]any{}
		for k, v := range common {
			merged[k] = v
		}
		for k, v := range f.(map[string]any) {
			merged[k] = v
		}
		merged["key"] = key
		envs, ok := merged["environments"]
		if !ok {
			envs = []any{}
		}
		if list, isArray := envs.([]any); isArray {
			vars := map[string]any{}
			for _, e := range list {
				kv := e.(map[string]any)
				vars[fmt.Sprint(kv["key"])] = kv["value"]
			}
			merged["environment"] = map[string]any{"variables": vars}
		}
		if merged["name"] == nil || merged["name"] == "" {
			merged["name"] = fmt.Sprintf("%v-%v-%v-%s", file["name"], file["stage"], file["app"], key)
		}
		out[key] = merged
	}
	return out
}

func TestContractWithTheComponent(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot, "serverless.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var file map[string]any
	if err := yaml.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	env := simpleDotEnv(sampleDotEnv)
	used := map[string]bool{}
	resolved := jsResolveVariables(t, file, env, used).(map[string]any)
	deployed := jsFormatInputs(resolved)

	keys := make([]string, 0, len(deployed))
	for k := range deployed {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) != len(wantDeployed) {
		t.Fatalf("serverless.yml deploys %v, want the %d functions of wantDeployed", keys, len(wantDeployed))
	}
	for _, key := range keys {
		got, want := deployed[key], wantDeployed[key]
		t.Run(key, func(t *testing.T) {
			for field, w := range map[string]any{
				"name": want.name, "handler": want.handler, "runtime": want.runtime, "role": want.role,
				"memorySize": want.memory, "timeout": want.timeout,
			} {
				if got[field] != w {
					t.Errorf("%s = %#v, want %#v", field, got[field], w)
				}
			}
			vars := map[string]string{}
			for k, v := range got["environment"].(map[string]any)["variables"].(map[string]any) {
				s, ok := v.(string)
				if !ok || s == "" || s == "undefined" || strings.Contains(s, "${") {
					t.Errorf("%s = %#v: SCF would get no usable value", k, v)
				}
				vars[k] = s
			}
			if diff := cmp.Diff(want.vars, vars); diff != "" {
				t.Errorf("environment.variables (-want +got):\n%s", diff)
			}
		})
	}

	// Our parser and Resolve must agree with the component's steps.
	c, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	fns, err := c.Resolve(lookupOf(env))
	if err != nil {
		t.Fatal(err)
	}
	for _, fn := range fns {
		want := wantDeployed[fn.Key]
		if fn.Name != want.name || fn.Handler != want.handler || fn.Runtime != want.runtime || fn.Role != want.role ||
			fn.MemoryMB != want.memory || fn.Timeout != time.Duration(want.timeout)*time.Second {
			t.Errorf("Resolve: %s = %s %s %s %s %d MB %v, want %+v", fn.Key, fn.Name, fn.Handler, fn.Runtime, fn.Role, fn.MemoryMB, fn.Timeout, want)
		}
		if diff := cmp.Diff(want.vars, fn.EnvMap()); diff != "" {
			t.Errorf("Resolve: %s env (-want +got):\n%s", fn.Key, diff)
		}
	}

	// An unset variable: the CLI would deploy undefined; Resolve refuses.
	delete(env, "JANITOR_CI_REGION")
	if _, err := c.Resolve(lookupOf(env)); err == nil || !strings.Contains(err.Error(), "JANITOR_CI_REGION (used by inputs.functions.cancel-live-audit.environments[JANITOR_CI_REGION].value)") {
		t.Errorf("Resolve without JANITOR_CI_REGION: %v", err)
	}

	// .env.example documents exactly the variables serverless.yml uses (and
	// the CLI's credentials).
	example, err := os.ReadFile(filepath.Join(repoRoot, ".env.example"))
	if err != nil {
		t.Fatal(err)
	}
	listed, warnings := ParseDotEnv(example)
	if len(warnings) > 0 {
		t.Errorf(".env.example: %v", warnings)
	}
	var missing, extra []string
	for name := range used {
		if _, ok := listed[name]; !ok {
			missing = append(missing, name)
		}
	}
	for name, v := range listed {
		if !used[name] && !strings.HasPrefix(name, "TENCENT_") {
			extra = append(extra, name)
		}
		if v != "" {
			t.Errorf(".env.example: %s has a value; leave it empty so a deploy refuses until it is filled in", name)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 || len(extra) > 0 {
		t.Errorf(".env.example: missing %v (used by serverless.yml), extra %v (not used)", missing, extra)
	}
}

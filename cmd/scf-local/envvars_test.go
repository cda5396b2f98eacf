package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/deploy"
)

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "env.json")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadEnvVarsErrors(t *testing.T) {
	cfg, err := deploy.Load(testProject)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, content, want string }{
		{"not JSON", `{"Parameters":`, "want a JSON object"},
		{"not an object of objects", `{"Parameters":"x"}`, "want a JSON object"},
		{"unknown function", `{"nope":{"A":"1"}}`, `"nope" is not a function in serverless.yml (have echo, tick`},
		{"reserved", `{"Parameters":{"TENCENTCLOUD_REGION":"x"}}`, "SCF reserves variables starting with SCF_"},
		{"object value", `{"echo":{"A":{"b":1}}}`, `echo.A: want a string, number or boolean, got {"b":1}`},
		{"webhook secret", `{"echo":{"JANITOR_WEBHOOK_SECRET":"s"}}`, "--webhook-secret"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadEnvVars(writeFile(t, tt.content), cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
	if _, err := loadEnvVars(filepath.Join(t.TempDir(), "missing.json"), cfg); err == nil || !strings.Contains(err.Error(), "--env-vars") {
		t.Errorf("missing file: %v", err)
	}
}

// TestEnvVarsOverride: Parameters apply to every function, a function's own
// object wins, both override serverless.yml, undeclared variables are
// reported and not set; serve and invoke both take the file.
func TestEnvVarsOverride(t *testing.T) {
	t.Parallel() // its own scf-local on free ports; it waits more than it computes
	file := writeFile(t, `{
		"Parameters": {"JANITOR_GREETING": "from-parameters", "JANITOR_CI_BUCKET": "params-1250000000", "NOT_DECLARED": 1},
		"echo": {"JANITOR_CI_BUCKET": "fromfile-1250000000", "ALSO_NOT_DECLARED": true}
	}`)
	out, _ := startServe(t, map[string]string{"SCF_LOCAL_TEST_NAME": "bob"}, "--timers=false", "--env-vars", file)
	gw := out.field(t, "gateway:")
	warn := out.wait(t, time.Second, 1, func(s string) bool { return strings.Contains(s, "not declared in serverless.yml") })[0]
	if !strings.Contains(warn, "Parameters.NOT_DECLARED") || !strings.Contains(warn, "echo.ALSO_NOT_DECLARED") {
		t.Errorf("warning %q: want both undeclared variables named", warn)
	}
	_, _, resp := post(t, gw+"/echo", nil, "{}")
	var got map[string]any
	if err := json.Unmarshal([]byte(resp), &got); err != nil {
		t.Fatalf("%s: %v", resp, err)
	}
	if got["greeting"] != "from-parameters" || got["bucket"] != "fromfile-1250000000" {
		t.Errorf("greeting %v, bucket %v: want Parameters' greeting and echo's own bucket", got["greeting"], got["bucket"])
	}

	var stdout, stderr strings.Builder
	code := run(context.Background(), []string{"invoke", "echo", "--config", testProject, "--emulator-addr", "127.0.0.1:0", "--env-vars", file, "--event", "-"},
		strings.NewReader(`{"httpMethod":"POST","path":"/","headers":{},"body":"{}"}`), &stdout, &stderr, envFrom(nil))
	var integrated struct{ Body string }
	if code != 0 || json.Unmarshal([]byte(stdout.String()), &integrated) != nil || !strings.Contains(integrated.Body, `"bucket":"fromfile-1250000000"`) {
		t.Fatalf("invoke --env-vars: exit %d stdout %s stderr %s", code, stdout.String(), stderr.String())
	}
}

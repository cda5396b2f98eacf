package scf_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/scf-janitor/scf-janitor/shared/scf"
)

// TestFunctionContextNeverPrintsEnvValues: Env holds the invocation's role
// credentials, so printing or logging a FunctionContext shows variable
// names only.
func TestFunctionContextNeverPrintsEnvValues(t *testing.T) {
	const key, token = "env-secret-key-value", "env-session-token-value"
	fc := &scf.FunctionContext{
		RequestID: "req-1", FunctionName: "cancel-task", Deadline: time.Unix(1732240000, 0).UTC(),
		Env: map[string]string{
			"TENCENTCLOUD_SECRETID": "AKIDVISIBLE", "TENCENTCLOUD_SECRETKEY": key, "TENCENTCLOUD_SESSIONTOKEN": token,
		},
	}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("ctx", "fc", fc, "fc_value", *fc)
	outputs := map[string]string{
		"%v": fmt.Sprintf("%v", fc), "%+v": fmt.Sprintf("%+v", fc), "%#v": fmt.Sprintf("%#v", fc),
		"%v value": fmt.Sprintf("%v", *fc), "%+v value": fmt.Sprintf("%+v", *fc), "%#v value": fmt.Sprintf("%#v", *fc),
		"slog": logged.String(),
	}
	for name, out := range outputs {
		for _, secret := range []string{key, token, "AKIDVISIBLE"} {
			if strings.Contains(out, secret) {
				t.Errorf("%s output contains an Env value %q: %s", name, secret, out)
			}
		}
		for _, want := range []string{"req-1", "cancel-task", "TENCENTCLOUD_SECRETKEY", "TENCENTCLOUD_SESSIONTOKEN"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s output lacks %q: %s", name, want, out)
			}
		}
	}
}

// TestSettingsGetenv: TENCENTCLOUD_REGION falls back to the invocation's
// region when the environment leaves it unset or blank; a set one wins, and
// other keys are untouched.
func TestSettingsGetenv(t *testing.T) {
	tests := []struct {
		name     string
		env      map[string]string // the invocation's Environment
		region   string            // the invocation's TencentcloudRegion
		key, out string
	}{
		{"set wins", map[string]string{scf.EnvRegion: "ap-beijing"}, "ap-guangzhou", scf.EnvRegion, "ap-beijing"},
		{"unset falls back", map[string]string{}, "ap-guangzhou", scf.EnvRegion, "ap-guangzhou"},
		{"blank falls back", map[string]string{scf.EnvRegion: "  "}, "ap-hongkong", scf.EnvRegion, "ap-hongkong"},
		{"other keys untouched", map[string]string{"JANITOR_X": ""}, "ap-guangzhou", "JANITOR_X", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := scf.NewContext(context.Background(), &scf.FunctionContext{Region: tt.region, Env: tt.env})
			if got := scf.SettingsGetenv(ctx)(tt.key); got != tt.out {
				t.Fatalf("SettingsGetenv(%s) = %q, want %q", tt.key, got, tt.out)
			}
		})
	}
}

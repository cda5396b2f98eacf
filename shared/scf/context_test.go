package scf_test

import (
	"bytes"
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

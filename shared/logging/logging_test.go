package logging_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/scf-janitor/scf-janitor/internal/testkit/logtest"
	"github.com/scf-janitor/scf-janitor/shared/logging"
	"github.com/scf-janitor/scf-janitor/shared/scf"
)

func invocationCtx(requestID, function string) context.Context {
	return scf.NewContext(context.Background(), &scf.FunctionContext{RequestID: requestID, FunctionName: function})
}

func TestNewAddsRequestIDAndFunction(t *testing.T) {
	logger, buf := logtest.New("cancel-task")
	logger.InfoContext(invocationCtx("req-1", "ignored"), "cancelled", "task_id", "t-1")
	logger.Info("no context")
	logger.With("service", "ams").WarnContext(invocationCtx("req-2", ""), "retrying")

	recs := buf.Records(t)
	if len(recs) != 3 {
		t.Fatalf("got %d records, want 3:\n%s", len(recs), buf)
	}
	want := []map[string]any{
		{"msg": "cancelled", "level": "INFO", "function": "cancel-task", "request_id": "req-1", "task_id": "t-1"},
		{"msg": "no context", "function": "cancel-task"},
		{"msg": "retrying", "level": "WARN", "function": "cancel-task", "request_id": "req-2", "service": "ams"},
	}
	for i, w := range want {
		for k, v := range w {
			if recs[i][k] != v {
				t.Errorf("record %d: %s = %v, want %v (record %v)", i, k, recs[i][k], v, recs[i])
			}
		}
	}
	if _, ok := recs[1]["request_id"]; ok {
		t.Errorf("record without an scf context has a request_id: %v", recs[1])
	}
}

func TestNewFunctionFromContext(t *testing.T) {
	var buf bytes.Buffer
	logger := logging.New(&buf, slog.LevelInfo, "")
	logger.InfoContext(invocationCtx("req-9", "sweep-tasks"), "swept")
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatal(err)
	}
	if rec["function"] != "sweep-tasks" || rec["request_id"] != "req-9" {
		t.Errorf("record = %v", rec)
	}
}

func TestRequestIDStaysTopLevelInGroups(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(logging.NewHandler(slog.NewJSONHandler(&buf, nil)))
	logger.With("a", 1).WithGroup("call").With("action", "CancelTask").InfoContext(invocationCtx("req-3", ""), "sent", "attempt", 2)
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatal(err)
	}
	call, _ := rec["call"].(map[string]any)
	if rec["request_id"] != "req-3" || rec["a"] != 1.0 || call["action"] != "CancelTask" || call["attempt"] != 2.0 {
		t.Errorf("record = %s", buf.String())
	}
}

func TestLevel(t *testing.T) {
	var b bytes.Buffer
	l := logging.New(&b, slog.LevelWarn, "f")
	l.InfoContext(invocationCtx("r", ""), "hidden")
	l.ErrorContext(invocationCtx("r", ""), "shown")
	if strings.Contains(b.String(), "hidden") || !strings.Contains(b.String(), "shown") {
		t.Errorf("level not honoured: %s", b.String())
	}
}

func TestSecretNamedAttributesAreRedacted(t *testing.T) {
	logger, buf := logtest.New("f")
	secrets := []string{"key-value-1", "token-value-2", "hook-value-3", "Bearer auth-value-4", "pw-value-5", "tc-token-6"}
	logger.InfoContext(invocationCtx("r", ""), "oops",
		"secret_key", secrets[0], "SessionToken", secrets[1],
		slog.Group("webhook", "secrets", []string{secrets[2]}),
		"Authorization", secrets[3], "password", secrets[4], "X-TC-Token", secrets[5],
		"secret_id", "AKIDVISIBLE", "page_token", "cursor-visible", "task_id", "t-visible")
	logtest.AssertNoSecrets(t, buf.String(), secrets...)
	for _, visible := range []string{"AKIDVISIBLE", "cursor-visible", "t-visible", logging.Redacted} {
		if !strings.Contains(buf.String(), visible) {
			t.Errorf("output lacks %q: %s", visible, buf)
		}
	}
}

func TestIsSecretKey(t *testing.T) {
	for key, want := range map[string]bool{
		"secret_key": true, "SecretKey": true, "TENCENTCLOUD_SECRETKEY": true, "session_token": true,
		"TENCENTCLOUD_SESSIONTOKEN": true, "token": true, "X-TC-Token": true, "webhook_secret": true,
		"JANITOR_WEBHOOK_SECRET": true, "webhook_secrets": true, "authorization": true, "password": true,
		"secret_id": false, "SecretId": false, "task_id": false, "page_token": false, "PageToken": false,
		"request_id": false, "status": false, "signature": false,
	} {
		if got := logging.IsSecretKey(key); got != want {
			t.Errorf("IsSecretKey(%q) = %v, want %v", key, got, want)
		}
	}
}

type fakeTB struct {
	testing.TB
	errors []string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Errorf(format string, args ...any) {
	f.errors = append(f.errors, format)
}

func TestAssertNoSecretsCatchesEncodedForms(t *testing.T) {
	const secret = `s3cr3t/+"value`
	for form, v := range logtest.Forms(secret) {
		ft := &fakeTB{TB: t}
		logtest.AssertNoSecrets(ft, "before "+v+" after", secret)
		if len(ft.errors) == 0 {
			t.Errorf("%s form %q not caught", form, v)
		}
	}
	ft := &fakeTB{TB: t}
	logtest.AssertNoSecrets(ft, "nothing to see", secret, "")
	if len(ft.errors) != 0 {
		t.Errorf("clean output flagged: %v", ft.errors)
	}
}

func ExampleNewHandler() {
	ctx := scf.NewContext(context.Background(), &scf.FunctionContext{RequestID: "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"})
	// Like logging.New, without the time so the output is stable.
	logger := slog.New(logging.NewHandler(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey && len(groups) == 0 {
				return slog.Attr{}
			}
			return logging.RedactSecrets(groups, a)
		},
	}))).With("function", "cancel-task")
	logger.InfoContext(ctx, "task cancelled", "task_id", "task-123", "secret_key", "never-printed")
	// Output: {"level":"INFO","msg":"task cancelled","function":"cancel-task","task_id":"task-123","secret_key":"[REDACTED]","request_id":"c6af9ac6-7b61-11e6-9a41-93e8deadbeef"}
}

func TestSecretNamedEntriesOfLoggedMapsAreRedacted(t *testing.T) {
	logger, buf := logtest.New("f")
	secrets := []string{"Bearer header-auth-1", "header-token-2", "env-key-3", "env-token-4", "any-secret-5"}
	headers := http.Header{"Authorization": {secrets[0]}, "X-Tc-Token": {secrets[1]}, "Content-Type": {"application/json"}}
	env := map[string]string{"TENCENTCLOUD_SECRETKEY": secrets[2], "TENCENTCLOUD_SESSIONTOKEN": secrets[3], "TENCENTCLOUD_SECRETID": "AKIDVISIBLE"}
	logger.InfoContext(invocationCtx("r", ""), "request",
		"headers", headers, "raw_headers", map[string][]string(headers), "env", env,
		"fields", map[string]any{"webhook_secret": secrets[4], "task_id": "t-visible"},
		slog.Group("in", "headers", headers))
	logtest.AssertNoSecrets(t, buf.String(), secrets...)
	for _, visible := range []string{"application/json", "AKIDVISIBLE", "t-visible", "TENCENTCLOUD_SECRETKEY", "Authorization"} {
		if !strings.Contains(buf.String(), visible) {
			t.Errorf("output lacks %q: %s", visible, buf)
		}
	}
	if headers.Get("Authorization") != secrets[0] || env["TENCENTCLOUD_SECRETKEY"] != secrets[2] {
		t.Error("redaction modified the caller's map")
	}
}

// TestForFunctionLevel: JANITOR_LOG_LEVEL sets the level; unset is info;
// an invalid value is info with one warning naming the variable and value.
func TestForFunctionLevel(t *testing.T) {
	tests := []struct {
		value string
		want  slog.Level
		warns bool
	}{
		{"", slog.LevelInfo, false},
		{"debug", slog.LevelDebug, false},
		{"WARN", slog.LevelWarn, false},
		{"error", slog.LevelError, false},
		{"loud", slog.LevelInfo, true},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			var buf bytes.Buffer
			getenv := func(k string) string {
				if k == "JANITOR_LOG_LEVEL" {
					return tt.value
				}
				return ""
			}
			logger, level := logging.ForFunction(&buf, getenv, "cancel-task")
			if level.Level() != tt.want {
				t.Fatalf("level = %v, want %v", level.Level(), tt.want)
			}
			warned := strings.Contains(buf.String(), `"level":"WARN"`) && strings.Contains(buf.String(), "JANITOR_LOG_LEVEL") &&
				strings.Contains(buf.String(), tt.value) && strings.Contains(buf.String(), `"function":"cancel-task"`)
			if warned != tt.warns {
				t.Fatalf("warning = %v, want %v: %s", warned, tt.warns, buf.String())
			}
			buf.Reset()
			logger.Debug("d")
			if logged := buf.Len() > 0; logged != (tt.want <= slog.LevelDebug) {
				t.Fatalf("a debug line logged = %v at level %v", logged, tt.want)
			}
		})
	}
}

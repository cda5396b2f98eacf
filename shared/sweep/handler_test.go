package sweep

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/emulator"
	"github.com/scf-janitor/scf-janitor/internal/testkit/logtest"
	"github.com/scf-janitor/scf-janitor/shared/scf"
	"github.com/scf-janitor/scf-janitor/shared/trigger"
)

const testToken = "session-token-must-not-leak"

// invocationCtx is what the runtime gives a handler: a deadline and the
// invocation's Environment (credentials and settings).
func invocationCtx(t *testing.T, e *emu, env map[string]string) context.Context {
	t.Helper()
	full := map[string]string{
		"TENCENTCLOUD_SECRETID": emulator.DefaultSecretID, "TENCENTCLOUD_SECRETKEY": emulator.DefaultSecretKey,
		"TENCENTCLOUD_SESSIONTOKEN": testToken,
		"JANITOR_AMS_ENDPOINT":      e.ts.URL, "JANITOR_VM_ENDPOINT": e.ts.URL,
		"JANITOR_SWEEP_RATE": "20",
	}
	for k, v := range env {
		full[k] = v
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return scf.NewContext(ctx, &scf.FunctionContext{RequestID: "req-1", FunctionName: "sweep-tasks", Env: full})
}

func timerEvent(message string) json.RawMessage {
	b, _ := json.Marshal(map[string]string{"Type": "Timer", "TriggerName": "sweep", "Time": "2026-03-14T12:00:00Z", "Message": message})
	return b
}

func TestHandlerTimerEvent(t *testing.T) {
	t.Parallel()
	e := newEmu(t, emulator.Options{})
	f := newFixture(e)
	logger, logs := logtest.New("sweep-tasks")
	h := NewHandler(HandlerOptions{Logger: logger, Now: e.clock})
	// The environment excludes "keep"; the timer's Message adds vm for this run.
	out, err := h.Handle(invocationCtx(t, e, map[string]string{"JANITOR_SWEEP_EXCLUDE_BIZTYPES": "keep"}),
		timerEvent(`{"services":["ams","vm"]}`))
	if err != nil {
		t.Fatal(err)
	}
	r := out.(*Report)
	checkInvariant(t, r)
	want := sorted(f.amsLiveOld, f.amsAudioPendingOld, f.amsRunningBizA, f.amsRunningBizB, f.vmLiveOld, f.vmVideoPendingBizA)
	if got := taskIDs(r, ActionCancelled); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("cancelled %v, want %v", got, want)
	}
	if n := len(e.cancelled()); n != len(want)+1 { // +1: the fixture's already-cancelled task
		t.Errorf("emulator has %d cancelled tasks, want %d", n, len(want)+1)
	}
	var sawRequestID bool
	for _, rec := range logs.Records(t) {
		if rec["msg"] == "task cancelled" && rec["request_id"] == "req-1" {
			sawRequestID = true
		}
	}
	if !sawRequestID {
		t.Error("task lines lack the request id")
	}
	logtest.AssertNoSecrets(t, logs.String(), emulator.DefaultSecretKey, testToken)
	b, _ := json.Marshal(r)
	logtest.AssertNoSecrets(t, string(b), emulator.DefaultSecretKey, testToken)
}

func TestHandlerDirectInvocation(t *testing.T) {
	e := newEmu(t, emulator.Options{})
	newFixture(e)
	h := NewHandler(HandlerOptions{Now: e.clock})
	out, err := h.Handle(invocationCtx(t, e, nil), json.RawMessage(`{"dryRun":true,"maxAge":"1h"}`))
	if err != nil {
		t.Fatal(err)
	}
	r := out.(*Report)
	checkInvariant(t, r)
	if !r.DryRun || r.WouldCancel == 0 || len(e.cancelled()) != 1 {
		t.Errorf("dry run report %+v, emulator cancelled %d", r, len(e.cancelled()))
	}
	if r.Cutoff != epoch.Add(-time.Hour).Format(time.RFC3339) {
		t.Errorf("Cutoff %s: maxAge override not applied", r.Cutoff)
	}
}

func TestHandlerRefusals(t *testing.T) {
	e := newEmu(t, emulator.Options{})
	newFixture(e)
	urlEvent, err := os.ReadFile(filepath.Join("..", "..", "testdata", "events", "url.json"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		env     map[string]string
		payload json.RawMessage
		want    string // error substring; "" = a 403 response
		code    string // the error's code (scf.ErrorCoder), the errorType a direct caller sees
	}{
		{"http event", nil, urlEvent, "", "UnsupportedOperation.Trigger"},
		{"unknown override key", nil, timerEvent(`{"maxage":"5m"}`), `did you mean "maxAge"`, "InvalidParameterValue"},
		{"message not JSON", nil, timerEvent(`every five minutes`), "must be a JSON object", "InvalidParameterValue"},
		{"console hello-world event", nil, json.RawMessage(`{"key1":"test value 1"}`), `unknown setting "key1"`, "InvalidParameterValue"},
		{"bad env setting", map[string]string{"JANITOR_SWEEP_MAX_AGE": "soon"}, json.RawMessage(`{}`), `JANITOR_SWEEP_MAX_AGE="soon"`, "InternalError.Configuration"},
		{"no credentials", map[string]string{"TENCENTCLOUD_SECRETID": " ", "TENCENTCLOUD_SECRETKEY": " "}, json.RawMessage(`{}`), "TENCENTCLOUD_SECRETID", "InternalError.MissingCredentials"},
		{"not an object", nil, json.RawMessage(`[1]`), "JSON object", "InvalidParameter"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := NewHandler(HandlerOptions{Now: e.clock}).Handle(invocationCtx(t, e, tc.env), tc.payload)
			if tc.want == "" {
				resp, ok := out.(trigger.Response)
				if err != nil || !ok || resp.StatusCode != 403 {
					t.Fatalf("got %#v, %v; want a 403 response", out, err)
				}
				var body struct {
					Error     struct{ Code, Message string }
					RequestId string
				}
				if json.Unmarshal([]byte(resp.Body), &body) != nil || body.Error.Code != tc.code || body.Error.Message == "" || body.RequestId == "" {
					t.Errorf("body %s: want the Tencent-shaped error {Error{Code %s, Message}, RequestId}", resp.Body, tc.code)
				}
			} else if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			} else if coder, ok := err.(scf.ErrorCoder); !ok || coder.ErrorCode() != tc.code {
				t.Errorf("error %T %v: want the code %s (scf.ErrorCoder)", err, err, tc.code)
			}
			if err != nil {
				logtest.AssertNoSecrets(t, err.Error(), emulator.DefaultSecretKey, testToken)
			}
			if n := len(e.cancelled()); n != 1 {
				t.Errorf("a refused invocation cancelled tasks (%d cancelled)", n)
			}
		})
	}
}

func TestHandlerLogLevelPerInvocation(t *testing.T) {
	t.Parallel()
	e := newEmu(t, emulator.Options{})
	e.add("ams", emulator.TypeLiveAudio, emulator.StatusRunning, "", 3*time.Hour)
	var logs logtest.Buffer
	level := new(slog.LevelVar)
	h := NewHandler(HandlerOptions{Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: level})), Level: level, Now: e.clock})
	if _, err := h.Handle(invocationCtx(t, e, map[string]string{"JANITOR_LOG_LEVEL": "warn"}), json.RawMessage(`{}`)); err != nil {
		t.Fatal(err)
	}
	for _, rec := range logs.Records(t) {
		if rec["level"] == "INFO" {
			t.Errorf("info line logged at level warn: %v", rec)
		}
	}
	if len(e.cancelled()) != 1 {
		t.Error("task not cancelled")
	}

	// An invalid level does not stop the sweep: a warning, then info lines.
	e.add("ams", emulator.TypeLiveAudio, emulator.StatusRunning, "", 3*time.Hour)
	logs.Reset()
	if _, err := h.Handle(invocationCtx(t, e, map[string]string{"JANITOR_LOG_LEVEL": "loud"}), json.RawMessage(`{}`)); err != nil {
		t.Fatalf("an invalid JANITOR_LOG_LEVEL failed the invocation: %v", err)
	}
	var warned, info bool
	for _, rec := range logs.Records(t) {
		msg, _ := rec["error"].(string)
		warned = warned || rec["level"] == "WARN" && strings.Contains(msg, "JANITOR_LOG_LEVEL") && strings.Contains(msg, "loud")
		info = info || rec["level"] == "INFO"
	}
	if !warned || !info {
		t.Errorf("invalid level: warning naming JANITOR_LOG_LEVEL %v, info lines %v; want both", warned, info)
	}
	if len(e.cancelled()) != 2 {
		t.Error("the sweep with an invalid log level did not cancel the stale task")
	}
}

func ExampleSettings_Override() {
	set, err := DefaultSettings().Override([]byte(`{"maxAge":"30m","dryRun":true,"services":["ams","vm"]}`))
	fmt.Println(set.MaxAge, set.DryRun, set.Services, err)
	_, err = DefaultSettings().Override([]byte(`{"maxage":"30m"}`))
	fmt.Println(err)
	// Output:
	// 30m0s true [ams vm] <nil>
	// unknown setting "maxage": did you mean "maxAge"?
}

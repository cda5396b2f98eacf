package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/scf-janitor/scf-janitor/internal/emulator"
	"github.com/scf-janitor/scf-janitor/shared/trigger"
	"github.com/scf-janitor/scf-janitor/shared/webhook"
)

// TestGenerateEventForFunction: --function fills the body with a running
// job of the emulator, and the event does what it says: invoking
// cancel-task with it cancels that task.
func TestGenerateEventForFunction(t *testing.T) {
	t.Parallel()
	emu := emulator.New(emulator.Options{Seed: 7})
	emu.LoadDemo()
	ts := httptest.NewServer(emu)
	t.Cleanup(ts.Close)
	addr := strings.TrimPrefix(ts.URL, "http://")
	const project = "../../serverless.yml"

	gen := func(args ...string) ([]byte, string, error) {
		var out, stderr bytes.Buffer
		// No scf-local serves this emulator: the secrets come from the shell.
		env := envFrom(map[string]string{"JANITOR_CANCEL_TASK_SECRET": "s1", "JANITOR_CANCEL_LIVE_AUDIT_SECRET": "s2", "JANITOR_STOP_TRANSCRIPTION_SECRET": "s3"})
		err := generateEventCmd(context.Background(), append(args, "--config", project, "--emulator-addr", addr), env, &out, &stderr)
		return out.Bytes(), stderr.String(), err
	}
	for _, fn := range []string{"cancel-task", "cancel-live-audit", "stop-transcription"} {
		t.Run(fn, func(t *testing.T) {
			ev, stderr, err := gen("url", "--function", fn)
			if err != nil {
				t.Fatal(err)
			}
			decoded, err := trigger.Decode(ev)
			if err != nil || decoded.HTTP == nil {
				t.Fatalf("%v: %s", err, ev)
			}
			var body map[string]any
			if err := json.Unmarshal(decoded.HTTP.Body, &body); err != nil {
				t.Fatal(err)
			}
			id, _ := body["TaskId"].(string)
			if fn == "cancel-live-audit" {
				id, _ = body["JobId"].(string)
			}
			if !strings.Contains(stderr, "names a running job") || id == "" || strings.Contains(id, "XwxJ4") {
				t.Errorf("body %v (stderr %q): want the id of a running demo job", body, stderr)
			}
		})
	}

	// The console event for cancel-task cancels the task it names.
	ev, _, err := gen("console", "--function", "cancel-task")
	if err != nil {
		t.Fatal(err)
	}
	var body struct{ TaskId string }
	if err := json.Unmarshal(ev, &body); err != nil {
		t.Fatal(err)
	}
	file := writeFile(t, string(ev))
	var stdout, stderr strings.Builder
	code := run(context.Background(), []string{"invoke", "cancel-task", "--config", project, "--emulator-addr", addr, "--event", file, "--logs=false"},
		nil, &stdout, &stderr, envFrom(map[string]string{"JANITOR_WEBHOOK_SECRET": "generate-test"}))
	if code != 0 {
		t.Fatalf("invoke with the generated event: exit %d\nstdout %s\nstderr %s", code, stdout.String(), stderr.String())
	}
	if task, ok := emu.Task("ams", body.TaskId); !ok || task.Status != emulator.StatusCancelled {
		t.Errorf("task %s is %s after cancel-task ran with the generated event, want CANCELLED", body.TaskId, task.Status)
	}

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"url", "--function", "sweep-tasks"}, "sweep-tasks refuses HTTP events"},
		{[]string{"url", "--function", "nope"}, "no such function"},
	} {
		_, stderr, err := gen(tt.args...)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: err %v stderr %q, want %q", tt.args, err, stderr, tt.want)
		}
	}
	// --body wins over the sample; --function still picks the secret.
	ev, _, err = gen("url", "--function", "cancel-task", "--body", "{}")
	if err != nil {
		t.Fatal(err)
	}
	decoded, err := trigger.Decode(ev)
	if err != nil || decoded.HTTP == nil || string(decoded.HTTP.Body) != "{}" {
		t.Fatalf("%v: %s: want the given body", err, ev)
	}
	if err := (webhook.Verifier{Secrets: []string{"s1"}}).Verify(decoded.HTTP.Header.Get(webhook.Header), decoded.HTTP.Body); err != nil {
		t.Errorf("not signed with cancel-task's secret: %v", err)
	}
	if _, err := os.Stat(project); err != nil {
		t.Fatal(err)
	}
}

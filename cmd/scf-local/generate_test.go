package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/scf-janitor/scf-janitor/shared/trigger"
	"github.com/scf-janitor/scf-janitor/shared/webhook"
)

// TestGenerateEvent checks that every kind generate-event prints is an event
// the functions decode as that kind, with the body where it belongs, and that
// HTTP events given --secret carry a signature the functions accept.
func TestGenerateEvent(t *testing.T) {
	const body = `{"TaskId":"task-1","Service":"ams"}`
	const secret = "whsec-generate-event-test"
	tests := []struct {
		name  string
		args  []string
		check func(t *testing.T, ev trigger.Event)
	}{
		{"url signed", []string{"url", "--body", body, "--secret", secret, "--path", "/cancel-task"}, func(t *testing.T, ev trigger.Event) {
			checkHTTP(t, ev, trigger.SourceFunctionURL, body, "/cancel-task", secret)
		}},
		{"apigw signed", []string{"apigw", "--body", body, "--secret", secret}, func(t *testing.T, ev trigger.Event) {
			checkHTTP(t, ev, trigger.SourceAPIGateway, body, "/", secret)
		}},
		{"url unsigned, default body", []string{"url"}, func(t *testing.T, ev trigger.Event) {
			checkHTTP(t, ev, trigger.SourceFunctionURL, "{}", "/", "")
		}},
		{"timer", []string{"timer", "--body", `{"dryRun":true}`}, func(t *testing.T, ev trigger.Event) {
			if ev.Kind != trigger.KindTimer || ev.Timer == nil {
				t.Fatalf("kind %s, want a timer event", ev.Kind)
			}
			if ev.Timer.Message != `{"dryRun":true}` {
				t.Errorf("timer Message %q, want the --body", ev.Timer.Message)
			}
			if time.Since(ev.Timer.Time) > time.Minute || ev.Timer.TriggerName == "" {
				t.Errorf("timer Time %s, TriggerName %q: want now and a name", ev.Timer.Time, ev.Timer.TriggerName)
			}
		}},
		{"console", []string{"console", "--body", body}, func(t *testing.T, ev trigger.Event) {
			if ev.Kind != trigger.KindDirect {
				t.Fatalf("kind %s, want a direct (console) event", ev.Kind)
			}
			var got, want any
			if err := json.Unmarshal(ev.Direct, &got); err != nil {
				t.Fatal(err)
			}
			_ = json.Unmarshal([]byte(body), &want)
			if !jsonEqual(got, want) {
				t.Errorf("console event %s, want %s", ev.Direct, body)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, stderr bytes.Buffer
			if err := generateEventCmd(context.Background(), tt.args, envFrom(nil), &out, &stderr); err != nil {
				t.Fatalf("generate-event %q: %v (stderr %s)", tt.args, err, stderr.String())
			}
			ev, err := trigger.Decode(out.Bytes())
			if err != nil {
				t.Fatalf("the generated event does not decode: %v\n%s", err, out.String())
			}
			tt.check(t, ev)
		})
	}

	t.Run("errors", func(t *testing.T) {
		for _, args := range [][]string{{"sqs"}, {"console", "--body", "{not json"}} {
			var out, stderr bytes.Buffer
			err := generateEventCmd(context.Background(), args, envFrom(nil), &out, &stderr)
			if err == nil || errors.Is(err, errUsage) || out.Len() > 0 {
				t.Errorf("generate-event %q: err %v, output %q; want a message saying what is wrong and no event", args, err, out.String())
			}
		}
	})
}

func checkHTTP(t *testing.T, ev trigger.Event, source, body, path, secret string) {
	t.Helper()
	if ev.Kind != trigger.KindHTTP || ev.HTTP == nil {
		t.Fatalf("kind %s, want an HTTP event", ev.Kind)
	}
	h := ev.HTTP
	if h.Source != source || h.Method != "POST" || h.Path != path || string(h.Body) != body {
		t.Errorf("got %s %s %s body %q, want %s POST %s body %q", h.Source, h.Method, h.Path, h.Body, source, path, body)
	}
	sig := h.Header.Get(webhook.Header)
	if secret == "" {
		if sig != "" {
			t.Errorf("unsigned event has %s: %s", webhook.Header, sig)
		}
		return
	}
	if err := (webhook.Verifier{Secrets: []string{secret}}).Verify(sig, h.Body); err != nil {
		t.Errorf("signature %q does not verify: %v", sig, err)
	}
	if err := (webhook.Verifier{Secrets: []string{"another-secret"}}).Verify(sig, h.Body); err == nil {
		t.Error("the signature verifies with a different secret")
	}
	if strings.Contains(string(mustJSON(t, h)), secret) {
		t.Error("the event contains the secret itself")
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

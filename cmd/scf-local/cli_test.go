package main

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"
)

// TestHelpAndUsage checks what a user sees from -h, a typo or a missing
// argument: help on stdout with exit 0 everywhere, the serve flags at the
// top level, and one clear line (no flag dump) for a wrong command.
func TestHelpAndUsage(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		code       int
		stdoutHas  []string
		stderrHas  []string
		stderrMax  int // 0: no limit
		stdoutNone bool
	}{
		{name: "top -h", args: []string{"-h"}, code: 0, stdoutHas: []string{"scf-local invoke FUNCTION", "-addr address", "-timers", "-webhook-secret"}, stdoutNone: false},
		{name: "help", args: []string{"help"}, code: 0, stdoutHas: []string{"-emulator-addr"}},
		{name: "serve -h", args: []string{"serve", "-h"}, code: 0, stdoutHas: []string{"usage: scf-local [serve] [flags]", "-sweep-now"}},
		{name: "invoke -h", args: []string{"invoke", "-h"}, code: 0, stdoutHas: []string{"usage: scf-local invoke FUNCTION", "-event"}},
		{name: "invoke FUNCTION -h", args: []string{"invoke", "tick", "--help"}, code: 0, stdoutHas: []string{"usage: scf-local invoke FUNCTION"}},
		{name: "generate-event -h", args: []string{"generate-event", "-h"}, code: 0, stdoutHas: []string{"usage: scf-local generate-event"}},
		{name: "unknown command", args: []string{"sevre"}, code: 2, stdoutNone: true,
			stderrHas: []string{`unknown command "sevre"`, "serve (the default), invoke and generate-event"}, stderrMax: 200},
		{name: "invoke without a function", args: []string{"invoke", "--event", "-"}, code: 2, stdoutNone: true,
			stderrHas: []string{"which function?", "scf-local invoke FUNCTION"}, stderrMax: 200},
		{name: "bad flag", args: []string{"--no-such-flag"}, code: 2, stdoutNone: true, stderrHas: []string{"flag provided but not defined: -no-such-flag", "-addr"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr strings.Builder
			code := run(context.Background(), tt.args, strings.NewReader(""), &stdout, &stderr, envFrom(nil))
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr %q", code, tt.code, stderr.String())
			}
			for _, s := range tt.stdoutHas {
				if !strings.Contains(stdout.String(), s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout.String())
				}
			}
			if tt.stdoutNone && stdout.Len() > 0 {
				t.Errorf("stdout %q, want nothing", stdout.String())
			}
			for _, s := range tt.stderrHas {
				if !strings.Contains(stderr.String(), s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr.String())
				}
			}
			if tt.stderrMax > 0 && stderr.Len() > tt.stderrMax {
				t.Errorf("stderr is %d bytes, want one line:\n%s", stderr.Len(), stderr.String())
			}
		})
	}
	// "(default ...)" once per flag: --timers's default depends on --cloud.
	var stdout strings.Builder
	run(context.Background(), []string{"-h"}, nil, &stdout, io.Discard, envFrom(nil))
	for _, line := range strings.Split(stdout.String(), "\n") {
		if strings.Count(line, "default") > 1 {
			t.Errorf("help line with two defaults: %q", line)
		}
	}
}

func TestTimersFlag(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		args   []string
		timers bool
	}{
		{nil, true},
		{[]string{"--timers=false"}, false},
		{[]string{"--cloud"}, false},
		{[]string{"--cloud", "--timers"}, true},
		{[]string{"--cloud", "--timers=true"}, true},
	} {
		o, err := parseServe(tt.args, io.Discard, io.Discard)
		if err != nil || o.timers != tt.timers {
			t.Errorf("%q: timers %v (%v), want %v", tt.args, o.timers, err, tt.timers)
		}
	}
	out, _ := startServe(t, nil, "--timers=false")
	line := out.wait(t, time.Second, 1, func(s string) bool { return strings.Contains(s, "every-hour") })[0]
	if !strings.Contains(line, "off (--timers=false)") || strings.Contains(line, "--cloud") {
		t.Errorf("timer line %q: want it off because of --timers=false, without a word about --cloud", line)
	}
}

func TestInvokeWithoutEventSendsEmptyObject(t *testing.T) {
	var stdout, stderr strings.Builder
	code := run(context.Background(), []string{"invoke", "echo", "--config", testProject, "--emulator-addr", "127.0.0.1:0"},
		strings.NewReader("not read"), &stdout, &stderr, envFrom(nil))
	// echo answers a non-HTTP event with its kind: {} is a direct (console) event.
	if code != 0 || strings.TrimSpace(stdout.String()) != `{"kind":"direct"}` {
		t.Fatalf("exit %d stdout %q stderr %s: want echo's answer to the event {}", code, stdout.String(), stderr.String())
	}
}

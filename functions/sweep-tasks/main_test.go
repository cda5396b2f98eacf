package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/emulator"
	"github.com/scf-janitor/scf-janitor/internal/scflocal"
	"github.com/scf-janitor/scf-janitor/internal/testkit/logtest"
	"github.com/scf-janitor/scf-janitor/shared/sweep"
	"github.com/scf-janitor/scf-janitor/shared/trigger"
)

// The sample events decode to the trigger kinds the handler expects, their
// overrides are valid, and re-encoding keeps them intact.
func TestTestdataEvents(t *testing.T) {
	cases := []struct {
		file string
		kind trigger.Kind
	}{
		{"timer.json", trigger.KindTimer},
		{"console.json", trigger.KindDirect},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			ev, err := trigger.Decode(raw)
			if err != nil || ev.Kind != tc.kind {
				t.Fatalf("Decode = %v, %v; want kind %s", ev.Kind, err, tc.kind)
			}
			overrides := []byte(ev.Direct)
			if ev.Timer != nil {
				overrides = []byte(ev.Timer.Message)
			}
			if _, err := sweep.DefaultSettings().Override(overrides); err != nil {
				t.Fatalf("sample overrides rejected: %v", err)
			}
			// Round trip: decode to a generic value, encode, decode again.
			var v1, v2 any
			if err := json.Unmarshal(raw, &v1); err != nil {
				t.Fatal(err)
			}
			re, _ := json.Marshal(v1)
			if err := json.Unmarshal(re, &v2); err != nil {
				t.Fatal(err)
			}
			ev2, err := trigger.Decode(re)
			if err != nil || ev2.Kind != ev.Kind {
				t.Fatalf("re-encoded event decodes as %v, %v", ev2.Kind, err)
			}
		})
	}
}

// TestRuntimeEndToEnd builds the function, runs it as SCF does and sends it
// a timer event; the credentials arrive only in the invocation's Environment.
func TestRuntimeEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the function binary")
	}
	srv := emulator.New(emulator.Options{})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	now := time.Now()
	var stale []string
	for i := range 5 {
		stale = append(stale, srv.AddTask(emulator.Task{Service: "ams", Type: emulator.TypeLiveAudio, Status: emulator.StatusRunning,
			CreatedAt: now.Add(-3*time.Hour - time.Duration(i)*time.Minute), Stuck: true}).TaskId)
	}
	stale = append(stale, srv.AddTask(emulator.Task{Service: "vm", Type: emulator.TypeLiveVideo, Status: emulator.StatusRunning,
		CreatedAt: now.Add(-5 * time.Hour), Stuck: true}).TaskId)
	young := srv.AddTask(emulator.Task{Service: "ams", Type: emulator.TypeLiveAudio, Status: emulator.StatusRunning,
		CreatedAt: now.Add(-10 * time.Minute), Stuck: true}).TaskId

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	bin := filepath.Join(t.TempDir(), "sweep-tasks")
	if err := scflocal.Build(ctx, ".", bin); err != nil {
		t.Fatal(err)
	}
	var stdout logtest.Buffer
	p, err := scflocal.StartProcess(ctx, bin, scflocal.ProcessOptions{
		Env:    []string{"JANITOR_AMS_ENDPOINT=" + ts.URL, "JANITOR_VM_ENDPOINT=" + ts.URL, "JANITOR_SWEEP_MAX_AGE=2h"},
		Stdout: &stdout, Stderr: &stdout,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()

	event, err := os.ReadFile(filepath.Join("testdata", "timer.json"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Invoke(ctx, scflocal.Invocation{
		Payload: event, Timeout: 30 * time.Second, FunctionName: "sweep-tasks",
		Env: map[string]string{
			"TENCENTCLOUD_SECRETID": emulator.DefaultSecretID, "TENCENTCLOUD_SECRETKEY": emulator.DefaultSecretKey,
			"TENCENTCLOUD_SESSIONTOKEN": "e2e-session-token",
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Error != nil {
		t.Fatalf("function error: %+v\n%s", res.Error, stdout.String())
	}
	var r sweep.Report
	dec := json.NewDecoder(bytes.NewReader(res.Payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("payload %s: %v", res.Payload, err)
	}
	if r.Cancelled != len(stale) || r.Candidates != r.Cancelled+r.Skipped+r.Failed || r.Failed != 0 {
		t.Errorf("report %+v", r)
	}
	for i, id := range stale {
		svc := "ams"
		if i == len(stale)-1 {
			svc = "vm"
		}
		if tk, _ := srv.Task(svc, id); tk.Status != emulator.StatusCancelled {
			t.Errorf("stale task %s is %s", id, tk.Status)
		}
	}
	if tk, _ := srv.Task("ams", young); tk.Status != emulator.StatusRunning {
		t.Errorf("young task is %s", tk.Status)
	}
	// The process's stdout is copied asynchronously: give it a moment.
	var finished bool
	for wait := time.Now().Add(15 * time.Second); !finished && time.Now().Before(wait); time.Sleep(20 * time.Millisecond) {
		for _, rec := range stdout.Records(t) {
			if rec["msg"] == "sweep finished" && rec["function"] == "sweep-tasks" && rec["request_id"] != "" {
				finished = true
			}
		}
	}
	if !finished {
		t.Errorf("no final report line in the function's log:\n%s", stdout.String())
	}
	logtest.AssertNoSecrets(t, stdout.String()+string(res.Payload), emulator.DefaultSecretKey, "e2e-session-token")
}

// Package canceltest holds the tests every cancel function package runs:
// its testdata events (decoded, signature-checked and handled against the
// emulator) and the runtime end-to-end test (the built binary driven over
// the SCF Go1 RPC protocol). Only tests import it.
package canceltest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/emulator"
	"github.com/scf-janitor/scf-janitor/shared/cancel"
	"github.com/scf-janitor/scf-janitor/shared/scf"
	"github.com/scf-janitor/scf-janitor/shared/tcapi/cossign"
	"github.com/scf-janitor/scf-janitor/shared/trigger"
	"github.com/scf-janitor/scf-janitor/shared/webhook"
)

// ExampleSecret signs the testdata events; docs/functions.md uses it too.
// It is an example, never a deployed secret.
const ExampleSecret = "whsec-example-0123456789abcdef"

// ExampleTime is when the testdata events were signed.
var ExampleTime = time.Date(2026, 11, 22, 4, 0, 0, 0, time.UTC)

// Function describes one cancel function for these tests.
type Function struct {
	Name       string
	NewHandler func(cancel.Options) *cancel.Handler
	// Request is the example request body (testdata/request.json).
	Request string
	// Seed adds the running job Request names to the emulator.
	Seed func(emu *emulator.Server)
	// Ended reports whether the job Request names has ended in the emulator.
	Ended func(emu *emulator.Server) bool
	// Unknown is a request for a job the emulator does not know.
	Unknown string
}

// Functions are the three cancel functions.
var Functions = map[string]Function{
	cancel.FunctionCancelTask: {
		Name:       cancel.FunctionCancelTask,
		NewHandler: cancel.NewCancelTask,
		Request:    `{"TaskId":"task-audio-2wPz8kLmQeR4tY7u","Service":"ams"}`,
		Seed: func(emu *emulator.Server) {
			emu.AddTask(emulator.Task{Service: "ams", TaskId: "task-audio-2wPz8kLmQeR4tY7u", Type: "AUDIO", Status: "RUNNING", Stuck: true})
		},
		Ended: func(emu *emulator.Server) bool {
			t, ok := emu.Task("ams", "task-audio-2wPz8kLmQeR4tY7u")
			return ok && t.Status == "CANCELLED"
		},
		Unknown: `{"TaskId":"task-audio-doesnotexist","Service":"ams"}`,
	},
	cancel.FunctionCancelLiveAudit: {
		Name:       cancel.FunctionCancelLiveAudit,
		NewHandler: cancel.NewCancelLiveAudit,
		Request:    `{"JobId":"av8f2c1e4ad6b911efa3c3525400e1c0d7","Bucket":"examplebucket-1250000000","Region":"ap-beijing"}`,
		Seed: func(emu *emulator.Server) {
			emu.AddLiveJob(emulator.LiveJob{JobId: "av8f2c1e4ad6b911efa3c3525400e1c0d7", DataId: "room-42-stream", Url: "rtmp://live.example.com/app/room42", State: "Auditing"})
		},
		Ended: func(emu *emulator.Server) bool {
			for _, j := range emu.LiveJobs() {
				if j.JobId == "av8f2c1e4ad6b911efa3c3525400e1c0d7" {
					return j.State == "Cancelled"
				}
			}
			return false
		},
		Unknown: `{"JobId":"avdoesnotexist","Bucket":"examplebucket-1250000000","Region":"ap-beijing"}`,
	},
	cancel.FunctionStopTranscription: {
		Name:       cancel.FunctionStopTranscription,
		NewHandler: cancel.NewStopTranscription,
		Request:    `{"TaskId":"-ClAKLnRyYy10cmFuc2NyaXB0aW9uLmFwaS5jbG91ZC50ZW5jZW50LmNvbTo4MDkw","SdkAppId":1400000000,"Region":"ap-guangzhou"}`,
		Seed: func(emu *emulator.Server) {
			emu.AddTranscription(emulator.Transcription{TaskId: "-ClAKLnRyYy10cmFuc2NyaXB0aW9uLmFwaS5jbG91ZC50ZW5jZW50LmNvbTo4MDkw",
				SdkAppId: 1400000000, RoomId: "room-42", Region: "ap-guangzhou", Status: "InProgress"})
		},
		Ended: func(emu *emulator.Server) bool {
			for _, t := range emu.Transcriptions() {
				if strings.HasPrefix(t.TaskId, "-ClAKLnRyYy10") {
					return t.Status == "Exited"
				}
			}
			return false
		},
		Unknown: `{"TaskId":"doesnotexist","SdkAppId":1400000000,"Region":"ap-guangzhou"}`,
	},
}

// Events builds the testdata files of f: request.json (the raw body),
// request.sig (its X-Janitor-Signature with ExampleSecret at ExampleTime),
// console.json, apigw.json and url.json.
func Events(f Function) map[string][]byte {
	sig := webhook.Sign(ExampleSecret, ExampleTime, []byte(f.Request))
	var console bytes.Buffer
	_ = json.Indent(&console, []byte(f.Request), "", "  ")
	console.WriteString("\n")

	type requestContext struct {
		ServiceID  string            `json:"serviceId"`
		Path       string            `json:"path"`
		HTTPMethod string            `json:"httpMethod"`
		RequestID  string            `json:"requestId"`
		Identity   map[string]string `json:"identity"`
		SourceIP   string            `json:"sourceIp"`
		Stage      string            `json:"stage"`
	}
	type apigwEvent struct {
		RequestContext        requestContext    `json:"requestContext"`
		Headers               map[string]string `json:"headers"`
		Body                  string            `json:"body"`
		IsBase64Encoded       bool              `json:"isBase64Encoded"`
		PathParameters        map[string]string `json:"pathParameters"`
		QueryStringParameters map[string]string `json:"queryStringParameters"`
		HeaderParameters      map[string]string `json:"headerParameters"`
		StageVariables        map[string]string `json:"stageVariables"`
		Path                  string            `json:"path"`
		QueryString           map[string]string `json:"queryString"`
		HTTPMethod            string            `json:"httpMethod"`
	}
	type urlEvent struct {
		Body        string            `json:"body"`
		Headers     map[string]string `json:"headers"`
		HTTPMethod  string            `json:"httpMethod"`
		Path        string            `json:"path"`
		QueryString map[string]string `json:"queryString"`
	}
	path := "/" + f.Name
	apigw := apigwEvent{
		RequestContext: requestContext{ServiceID: "service-k3l9x2ab", Path: path, HTTPMethod: "POST",
			RequestID: "a1b2c3d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d", Identity: map[string]string{}, SourceIP: "203.0.113.10", Stage: "release"},
		Headers: map[string]string{
			"Accept": "*/*", "Content-Type": "application/json", "Host": "service-k3l9x2ab-1250000000.gz.apigw.tencentcs.com",
			"User-Agent": "curl/8.5.0", "X-Janitor-Signature": sig, "Content-Length": fmt.Sprint(len(f.Request)),
		},
		Body: f.Request, PathParameters: map[string]string{}, QueryStringParameters: map[string]string{},
		HeaderParameters: map[string]string{}, StageVariables: map[string]string{"stage": "release"},
		Path: path, QueryString: map[string]string{}, HTTPMethod: "POST",
	}
	url := urlEvent{
		Body: f.Request,
		Headers: map[string]string{
			"accept": "*/*", "content-length": fmt.Sprint(len(f.Request)), "content-type": "application/json",
			"host": "1250000000-abcd1234.ap-guangzhou.tencentscf.com", "user-agent": "curl/8.5.0",
			"x-janitor-signature": sig, "x-scf-remote-addr": "203.0.113.10",
		},
		HTTPMethod: "POST", Path: "/", QueryString: map[string]string{},
	}
	indent := func(v any) []byte {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			panic(err)
		}
		return append(b, '\n')
	}
	return map[string][]byte{
		"request.json": []byte(f.Request),
		"request.sig":  []byte(sig + "\n"),
		"console.json": console.Bytes(),
		"apigw.json":   indent(apigw),
		"url.json":     indent(url),
	}
}

// Testdata checks f's testdata directory: the files are what Events builds
// (set update to rewrite them), the HTTP events decode to the exact signed
// body, the signature verifies with ExampleSecret, and each event cancels the
// job against the emulator with the clock at ExampleTime.
func Testdata(t *testing.T, f Function, dir string, update bool) {
	t.Helper()
	want := Events(f)
	for name, content := range want {
		p := filepath.Join(dir, name)
		if update {
			if err := os.WriteFile(p, content, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("%v (run go test -run /Testdata -update to write it)", err)
		}
		if !bytes.Equal(got, content) {
			t.Errorf("%s differs from what canceltest.Events builds; run go test -run /Testdata -update\ngot:\n%s\nwant:\n%s", p, got, content)
		}
	}
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	body := read("request.json")
	v := webhook.Verifier{Secrets: []string{ExampleSecret}, Now: func() time.Time { return ExampleTime.Add(time.Minute) }}
	if err := v.Verify(strings.TrimSpace(string(read("request.sig"))), body); err != nil {
		t.Errorf("request.sig does not verify: %v", err)
	}

	for _, name := range []string{"apigw.json", "url.json", "console.json"} {
		t.Run(name, func(t *testing.T) {
			payload := read(name)
			ev, err := trigger.Decode(payload)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if name == "console.json" {
				if ev.Kind != trigger.KindDirect {
					t.Fatalf("kind %s, want direct", ev.Kind)
				}
			} else {
				if ev.Kind != trigger.KindHTTP || !bytes.Equal(ev.HTTP.Body, body) {
					t.Fatalf("kind %s, body %q: want http with the exact bytes of request.json", ev.Kind, ev.HTTP.Body)
				}
				if err := v.Verify(ev.HTTP.Header.Get(webhook.Header), ev.HTTP.Body); err != nil {
					t.Fatalf("signature in %s: %v", name, err)
				}
			}

			emu := emulator.New(emulator.Options{Now: func() time.Time { return ExampleTime }})
			srv := httptest.NewServer(emu)
			defer srv.Close()
			f.Seed(emu)
			h := f.NewHandler(cancel.Options{Now: func() time.Time { return ExampleTime.Add(30 * time.Second) }, COSSigner: cossign.Transport})
			ctx := scf.NewContext(context.Background(), &scf.FunctionContext{RequestID: "testdata", Env: Env(srv.URL, ExampleSecret)})
			out, err := h.Handle(ctx, payload)
			if err != nil {
				t.Fatalf("handler: %v", err)
			}
			if r, ok := out.(trigger.Response); ok && r.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", r.StatusCode, r.Body)
			}
			if !f.Ended(emu) {
				t.Fatal("the job is still running in the emulator")
			}
		})
	}
}

// Env is an invocation Environment pointing every endpoint at url, with the
// emulator's default credentials, a session token and the webhook secret.
func Env(url, webhookSecret string) map[string]string {
	return map[string]string{
		"TENCENTCLOUD_SECRETID":     emulator.DefaultSecretID,
		"TENCENTCLOUD_SECRETKEY":    emulator.DefaultSecretKey,
		"TENCENTCLOUD_SESSIONTOKEN": "session-token-of-the-role",
		"TENCENTCLOUD_REGION":       "ap-guangzhou",
		"JANITOR_AMS_ENDPOINT":      url,
		"JANITOR_VM_ENDPOINT":       url,
		"JANITOR_TRTC_ENDPOINT":     url,
		"JANITOR_CI_ENDPOINT":       url,
		"JANITOR_WEBHOOK_SECRET":    webhookSecret,
	}
}

package canceltest

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/emulator"
	"github.com/scf-janitor/scf-janitor/internal/scflocal"
	"github.com/scf-janitor/scf-janitor/internal/testkit/logtest"
	"github.com/scf-janitor/scf-janitor/internal/testkit/scflocaltest"
	"github.com/scf-janitor/scf-janitor/shared/webhook"
)

// URLEvent is a Function URL event POSTing body with the given headers.
func URLEvent(method, body string, headers map[string]string) []byte {
	h := map[string]string{"content-type": "application/json", "x-scf-remote-addr": "203.0.113.10"}
	for k, v := range headers {
		h[k] = v
	}
	b, _ := json.Marshal(map[string]any{"httpMethod": method, "path": "/", "headers": h, "body": body, "queryString": map[string]string{}})
	return b
}

type httpAnswer struct {
	StatusCode int               `json:"statusCode"`
	Headers    map[string]string `json:"headers"`
	Body       string            `json:"body"`
}

// E2E builds the function in pkgDir, starts it as SCF does and drives it over
// the Go1 RPC protocol against an emulator, with credentials only in each
// invocation's Environment.
func E2E(t *testing.T, f Function, pkgDir string) {
	if testing.Short() {
		t.Skip("builds and runs the function binary")
	}
	bin := scflocaltest.Binary(t, pkgDir)

	emu := emulator.New(emulator.Options{})
	srv := httptest.NewServer(emu)
	defer srv.Close()
	f.Seed(emu)

	ctx, cancelFn := context.WithTimeout(context.Background(), time.Minute)
	defer cancelFn()
	e := &e2eRun{t: t, f: f, emu: emu, ctx: ctx}
	p, err := scflocal.StartProcess(ctx, bin, scflocal.ProcessOptions{
		Stdout: &e.stdout, Stderr: &e.stderr,
		Env: []string{"TENCENTCLOUD_REGION=ap-guangzhou", "SCF_FUNCTIONNAME=" + f.Name, "TENCENTCLOUD_RUNENV=SCF"},
	})
	if err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	defer func() {
		if err := p.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	}()
	e.p = p
	e.env = Env(srv.URL, e2eSecret)
	e.env["TENCENTCLOUD_SESSIONTOKEN"] = "e2e-session-token-DO-NOT-LEAK"

	e.checkURL()
	e.checkDirect()
	if err := p.Ping(); err != nil {
		t.Fatalf("process not alive after the invocations: %v", err)
	}
	// Stop the process so that everything it wrote has been copied out of
	// its stdout/stderr pipes before the output is inspected.
	if err := p.Stop(); err != nil {
		t.Errorf("stop: %v", err)
	}
	e.checkOutput()
}

const e2eSecret = "whsec-e2e-secret-DO-NOT-LEAK"

// e2eRun is one E2E run: the function's process and the emulator it calls.
type e2eRun struct {
	t              *testing.T
	f              Function
	emu            *emulator.Server
	ctx            context.Context
	p              *scflocal.Process
	env            map[string]string
	stdout, stderr logtest.Buffer
}

func (e *e2eRun) invoke(payload []byte, env map[string]string) scflocal.Result {
	e.t.Helper()
	res, err := e.p.Invoke(e.ctx, scflocal.Invocation{Payload: payload, Timeout: 10 * time.Second, Env: env, FunctionName: e.f.Name})
	if err != nil {
		e.t.Fatalf("invoke: %v\nstderr: %s", err, e.stderr.String())
	}
	return res
}

func (e *e2eRun) httpInvoke(payload []byte) httpAnswer {
	e.t.Helper()
	res := e.invoke(payload, e.env)
	if res.Error != nil {
		e.t.Fatalf("HTTP event answered with an error: %+v", res.Error)
	}
	var a httpAnswer
	if err := json.Unmarshal(res.Payload, &a); err != nil {
		e.t.Fatalf("answer %s: %v", res.Payload, err)
	}
	return a
}

func signedEvent(body string) []byte {
	return URLEvent("POST", body, map[string]string{"x-janitor-signature": webhook.Sign(e2eSecret, time.Now(), []byte(body))})
}

// checkURL drives the Function URL: unsigned, signed, twice, wrong method.
func (e *e2eRun) checkURL() {
	t, f := e.t, e.f
	// Unsigned: refused, nothing cancelled.
	if a := e.httpInvoke(URLEvent("POST", f.Request, nil)); a.StatusCode != 401 {
		t.Fatalf("unsigned: %d %s, want 401", a.StatusCode, a.Body)
	}
	if f.Ended(e.emu) {
		t.Fatal("cancelled by an unsigned request")
	}
	// Signed: cancelled.
	if a := e.httpInvoke(signedEvent(f.Request)); a.StatusCode != 200 || !strings.Contains(a.Body, `"RequestId"`) {
		t.Fatalf("signed: %d %s, want 200 with Tencent's RequestId", a.StatusCode, a.Body)
	}
	if !f.Ended(e.emu) {
		t.Fatal("the job is still running after a 200")
	}
	// Again: 409, never a 5xx.
	if a := e.httpInvoke(signedEvent(f.Request)); a.StatusCode != 409 {
		t.Fatalf("cancel twice: %d %s, want 409", a.StatusCode, a.Body)
	}
	// Wrong method.
	if a := e.httpInvoke(URLEvent("GET", "", nil)); a.StatusCode != 405 || a.Headers["Allow"] != "POST" {
		t.Fatalf("GET: %d %v, want 405 with Allow: POST", a.StatusCode, a.Headers)
	}
}

// checkDirect invokes directly: an unknown job, then no credentials.
func (e *e2eRun) checkDirect() {
	t := e.t
	// Direct invocation of an unknown job: the function's error carries the code.
	res := e.invoke([]byte(e.f.Unknown), e.env)
	if res.Error == nil || !strings.HasPrefix(res.Error.Message, "ResourceNotFound: ") {
		t.Fatalf("direct unknown: %+v %s, want error ResourceNotFound: ...", res.Error, res.Payload)
	}
	// Credentials come only from the invocation: without them, a clear error.
	bare := map[string]string{}
	for k, v := range e.env {
		if !strings.HasPrefix(k, "TENCENTCLOUD_SECRET") && k != "TENCENTCLOUD_SESSIONTOKEN" {
			bare[k] = v
		}
	}
	res = e.invoke([]byte(e.f.Unknown), bare)
	if res.Error == nil || !strings.HasPrefix(res.Error.Message, "InternalError.MissingCredentials: ") || !strings.Contains(res.Error.Message, "execution role") {
		t.Fatalf("no credentials: %+v, want InternalError.MissingCredentials naming the execution role", res.Error)
	}
}

// checkOutput wants one JSON log line per invocation, with the request id,
// and no secret anywhere.
func (e *e2eRun) checkOutput() {
	t := e.t
	var lines int
	for _, line := range strings.Split(strings.TrimSpace(e.stdout.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			continue
		}
		if m["msg"] == "invocation" {
			lines++
			if m["request_id"] == "" || m["request_id"] == nil || m["function"] != e.f.Name {
				t.Errorf("log line without request_id/function: %s", line)
			}
		}
	}
	if lines != 6 {
		t.Errorf("%d invocation log lines for 6 invocations:\n%s", lines, e.stdout.String())
	}
	all := e.stdout.String() + e.stderr.String()
	for _, s := range []string{e2eSecret, emulator.DefaultSecretKey, e.env["TENCENTCLOUD_SESSIONTOKEN"]} {
		if strings.Contains(all, s) {
			t.Errorf("output contains a secret %q:\n%s", s, all)
		}
	}
}

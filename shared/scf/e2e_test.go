package scf_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/rpc"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/scflocal"
	"github.com/scf-janitor/scf-janitor/internal/testkit/logtest"
	"github.com/scf-janitor/scf-janitor/internal/testkit/scflocaltest"
	"github.com/scf-janitor/scf-janitor/shared/scf"
)

func e2eBinary(t *testing.T) string {
	t.Helper()
	return scflocaltest.Binary(t, "../../internal/testkit/e2efn")
}

func TestMain(m *testing.M) {
	code := m.Run()
	scflocaltest.Cleanup()
	os.Exit(code)
}

// recorder is a stand-in for the Tencent API: it records the credential
// SecretId and the session token of every request and answers CancelTask.
type recorder struct {
	mu    sync.Mutex
	seen  []seenRequest
	delay time.Duration
}

type seenRequest struct {
	SecretID, Token, Action, Service string
}

var credentialRE = regexp.MustCompile(`Credential=([^/]+)/[^/]+/([^/]+)/tc3_request`)

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body) // also lets the server notice a client that goes away
	m := credentialRE.FindStringSubmatch(r.Header.Get("Authorization"))
	s := seenRequest{Token: r.Header.Get("X-TC-Token"), Action: r.Header.Get("X-TC-Action")}
	if m != nil {
		s.SecretID, s.Service = m[1], m[2]
	}
	rc.mu.Lock()
	rc.seen = append(rc.seen, s)
	delay := rc.delay
	rc.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(`{"Response":{"RequestId":"req-` + s.SecretID + `"}}`))
}

func (rc *recorder) requests() []seenRequest {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]seenRequest(nil), rc.seen...)
}

func startE2E(t *testing.T, env ...string) *scflocal.Process {
	t.Helper()
	bin := e2eBinary(t)
	var stderr bytes.Buffer
	p, err := scflocal.StartProcess(context.Background(), bin, scflocal.ProcessOptions{Env: env})
	if err != nil {
		t.Fatalf("StartProcess: %v\n%s", err, stderr.String())
	}
	t.Cleanup(func() {
		if err := p.Stop(); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return p
}

type fnReply struct {
	Kind             string              `json:"kind"`
	Source           string              `json:"source"`
	Method           string              `json:"method"`
	Path             string              `json:"path"`
	Body             string              `json:"body"`
	SourceIP         string              `json:"sourceIp"`
	Query            map[string][]string `json:"query"`
	Trigger          string              `json:"trigger"`
	Message          string              `json:"message"`
	RequestID        string              `json:"requestId"`
	Function         string              `json:"function"`
	HasDeadline      bool                `json:"hasDeadline"`
	TencentRequestID string              `json:"tencentRequestId"`
	OSEnv            string              `json:"osEnv"`
	ScfEnv           string              `json:"scfEnv"`
}

func invoke(t *testing.T, p *scflocal.Process, inv scflocal.Invocation) scflocal.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := p.Invoke(ctx, inv)
	if err != nil {
		t.Fatalf("Invoke: %v\noutput:\n%s", err, p.Output())
	}
	return res
}

func decodeReply(t *testing.T, res scflocal.Result) fnReply {
	t.Helper()
	if res.Error != nil {
		t.Fatalf("function error: %+v", res.Error)
	}
	var r fnReply
	if err := json.Unmarshal(res.Payload, &r); err != nil {
		t.Fatalf("reply %s: %v", res.Payload, err)
	}
	return r
}

// decodeHTTPReply unwraps an integrated response.
func decodeHTTPReply(t *testing.T, res scflocal.Result) fnReply {
	t.Helper()
	if res.Error != nil {
		t.Fatalf("function error: %+v", res.Error)
	}
	var resp struct {
		StatusCode int               `json:"statusCode"`
		Headers    map[string]string `json:"headers"`
		Body       string            `json:"body"`
	}
	if err := json.Unmarshal(res.Payload, &resp); err != nil {
		t.Fatalf("reply %s: %v", res.Payload, err)
	}
	if resp.StatusCode != 200 || resp.Headers["Content-Type"] != "application/json" {
		t.Fatalf("integrated response = %s", res.Payload)
	}
	var r fnReply
	if err := json.Unmarshal([]byte(resp.Body), &r); err != nil {
		t.Fatalf("body %q: %v", resp.Body, err)
	}
	return r
}

func readEvent(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestE2EEvents(t *testing.T) {
	p := startE2E(t)
	if err := p.Ping(); err != nil {
		t.Fatalf("Ping: %v", err)
	}

	t.Run("apigw", func(t *testing.T) {
		r := decodeHTTPReply(t, invoke(t, p, scflocal.Invocation{
			Payload: readEvent(t, "apigw.json"), RequestID: "req-apigw", FunctionName: "e2efn",
		}))
		want := fnReply{Kind: "http", Source: "apigw", Method: "POST", Path: "/tasks/ams/cancel",
			Body: `{"service":"ams","taskId":"task-123"}`, SourceIP: "203.0.113.10", RequestID: "req-apigw", Function: "e2efn"}
		if r.Kind != want.Kind || r.Source != want.Source || r.Method != want.Method || r.Path != want.Path ||
			r.Body != want.Body || r.SourceIP != want.SourceIP || r.RequestID != want.RequestID || r.Function != want.Function || !r.HasDeadline {
			t.Errorf("reply = %+v, want %+v", r, want)
		}
		if got := r.Query["tag"]; len(got) != 2 || got[0] != "a" || got[1] != "b" {
			t.Errorf("query tag = %q", got)
		}
	})
	t.Run("apigw base64 body", func(t *testing.T) {
		r := decodeHTTPReply(t, invoke(t, p, scflocal.Invocation{Payload: readEvent(t, "apigw-base64.json")}))
		if r.Source != "apigw" || r.Body != `{"service":"vm","taskId":"task-456"}` {
			t.Errorf("reply = %+v", r)
		}
	})
	t.Run("url", func(t *testing.T) {
		r := decodeHTTPReply(t, invoke(t, p, scflocal.Invocation{Payload: readEvent(t, "url.json")}))
		if r.Kind != "http" || r.Source != "url" || r.SourceIP != "111.206.96.145" || r.Body != `{"taskId":"task-789"}` {
			t.Errorf("reply = %+v", r)
		}
	})
	t.Run("timer", func(t *testing.T) {
		r := decodeReply(t, invoke(t, p, scflocal.Invocation{Payload: readEvent(t, "timer.json")}))
		if r.Kind != "timer" || r.Trigger != "EveryFiveMinutes" || r.Message != `{"dryRun":true}` {
			t.Errorf("reply = %+v", r)
		}
	})
	t.Run("console", func(t *testing.T) {
		r := decodeReply(t, invoke(t, p, scflocal.Invocation{Payload: readEvent(t, "console.json")}))
		if r.Kind != "direct" {
			t.Errorf("reply = %+v", r)
		}
	})
	t.Run("not an object", func(t *testing.T) {
		res := invoke(t, p, scflocal.Invocation{Payload: []byte(`"just a string"`)})
		if res.Error == nil || !strings.Contains(res.Error.Message, "want a JSON object") || res.Error.ShouldExit {
			t.Errorf("error = %+v", res.Error)
		}
	})
	t.Run("log lines carry the request id and function", func(t *testing.T) {
		invoke(t, p, scflocal.Invocation{Payload: readEvent(t, "timer.json"), RequestID: "req-logged"})
		// The process's stdout reaches Output through a pipe copied by another
		// goroutine, so the line may arrive just after the reply: wait for it.
		rec := waitForLogRecord(t, p, func(rec map[string]any) bool { return rec["request_id"] == "req-logged" })
		if rec != nil && (rec["function"] != "e2efn" || rec["kind"] != "timer" || rec["msg"] != "event decoded") {
			t.Errorf("log record = %v", rec)
		}
	})
	t.Run("handler error", func(t *testing.T) {
		res := invoke(t, p, scflocal.Invocation{Payload: []byte(`{"action":"fail"}`)})
		if res.Error == nil || res.Error.Type != "failure" || res.Error.Message != "asked to fail" || res.Error.ShouldExit {
			t.Errorf("error = %+v", res.Error)
		}
	})
}

// TestE2ERawRPC drives the binary with net/rpc directly, using message types
// named as in scf-go-lib (gob matches fields by name, not types by name).
func TestE2ERawRPC(t *testing.T) {
	p := startE2E(t)
	client, err := rpc.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()

	type PingRequest struct{}
	type PingResponse struct{}
	type InvokeRequest_Timestamp struct{ Seconds, Nanos int64 }
	type InvokeRequest struct {
		Payload               []byte
		RequestId             string
		TraceId               string
		Deadline              InvokeRequest_Timestamp
		InvokedFunctionUnique string
		ClientContext         []byte
		Namespace             string
		FunctionName          string
		FunctionVersion       string
		MemoryLimitInMb       int32
		TimeLimitInMs         int32
		Environment           string
		TencentcloudRegion    string
		TencentcloudAppID     string
		TencentcloudUin       string
		FunctionTrace         string
	}
	type InvokeResponse_Error struct {
		Message    string
		Type       string
		ShouldExit bool
	}
	type InvokeResponse struct {
		Payload []byte
		Error   *InvokeResponse_Error
	}

	if err := client.Call("Function.Ping", PingRequest{}, &PingResponse{}); err != nil {
		t.Fatalf("Function.Ping: %v", err)
	}
	dl := time.Now().Add(5 * time.Second)
	req := InvokeRequest{
		Payload:   []byte(`{"action":"osenv","key":"JANITOR_FLAVOUR"}`),
		RequestId: "raw-1", Deadline: InvokeRequest_Timestamp{dl.Unix(), int64(dl.Nanosecond())},
		FunctionName: "e2efn", TimeLimitInMs: 5000, Environment: `{"JANITOR_FLAVOUR":"mint"}`,
	}
	var resp InvokeResponse
	if err := client.Call("Function.Invoke", &req, &resp); err != nil {
		t.Fatalf("Function.Invoke: %v", err)
	}
	if resp.Error != nil {
		t.Fatalf("invoke error: %+v", resp.Error)
	}
	var r fnReply
	if err := json.Unmarshal(resp.Payload, &r); err != nil {
		t.Fatal(err)
	}
	if r.ScfEnv != "mint" || r.OSEnv != "" || r.RequestID != "raw-1" {
		t.Errorf("reply = %+v, want scfEnv mint, empty osEnv, requestId raw-1", r)
	}
}

func TestE2ECredentialsFromEnvironment(t *testing.T) {
	rec := &recorder{}
	api := httptest.NewServer(rec)
	t.Cleanup(api.Close)
	// The endpoint is process configuration; the credentials are not.
	p := startE2E(t, "JANITOR_AMS_ENDPOINT="+api.URL)

	for i, c := range []struct{ id, key, token string }{
		{"AKIDFIRST", "first-secret-key", "first-session-token"},
		{"AKIDSECOND", "second-secret-key", "second-session-token"},
	} {
		r := decodeReply(t, invoke(t, p, scflocal.Invocation{
			Payload: []byte(`{"action":"call","taskId":"task-1"}`),
			Timeout: 10 * time.Second,
			Env: map[string]string{
				"TENCENTCLOUD_SECRETID": c.id, "TENCENTCLOUD_SECRETKEY": c.key, "TENCENTCLOUD_SESSIONTOKEN": c.token,
			},
		}))
		if r.TencentRequestID != "req-"+c.id {
			t.Errorf("call %d: Tencent RequestId = %q, want req-%s", i, r.TencentRequestID, c.id)
		}
		seen := rec.requests()
		if len(seen) != i+1 {
			t.Fatalf("api saw %d requests, want %d", len(seen), i+1)
		}
		got := seen[i]
		if got.SecretID != c.id || got.Token != c.token || got.Service != "ams" || got.Action != "CancelTask" {
			t.Errorf("call %d: api saw %+v, want SecretId %s and token %s", i, got, c.id, c.token)
		}
	}

	// The credentials never entered the process environment.
	for _, key := range []string{"TENCENTCLOUD_SECRETID", "TENCENTCLOUD_SECRETKEY", "TENCENTCLOUD_SESSIONTOKEN"} {
		r := decodeReply(t, invoke(t, p, scflocal.Invocation{Payload: []byte(`{"action":"osenv","key":"` + key + `"}`)}))
		if r.OSEnv != "" || r.ScfEnv != "" {
			t.Errorf("%s: os env %q, scf env %q after invocations; want both empty", key, r.OSEnv, r.ScfEnv)
		}
	}
	logtest.AssertNoSecrets(t, p.Output(), "first-secret-key", "first-session-token", "second-secret-key", "second-session-token")
}

func TestE2EPanicThenNextInvokeWorks(t *testing.T) {
	p := startE2E(t)
	pid := p.Pid()
	res := invoke(t, p, scflocal.Invocation{Payload: []byte(`{"action":"panic"}`)})
	if res.Error == nil {
		t.Fatalf("panic returned payload %s, want an error", res.Payload)
	}
	if !res.Error.ShouldExit || res.Error.Message != "e2efn: asked to panic" || res.Error.Type != "string" {
		t.Errorf("error = %+v, want ShouldExit and the panic message", res.Error)
	}
	if len(res.Error.StackTrace) == 0 || !strings.Contains(res.Error.StackTrace[0].Label, "handle") {
		t.Errorf("stack trace does not start at the handler: %+v", res.Error.StackTrace)
	}
	r := decodeReply(t, invoke(t, p, scflocal.Invocation{Payload: readEvent(t, "console.json")}))
	if r.Kind != "direct" {
		t.Errorf("after panic: reply = %+v", r)
	}
	if p.Pid() != pid || p.Exited() {
		t.Errorf("process was replaced or exited after a panic")
	}
}

func TestE2EDeadlineCancelsOutgoingCall(t *testing.T) {
	rec := &recorder{delay: 30 * time.Second}
	api := httptest.NewServer(rec)
	t.Cleanup(api.Close) // after the process is stopped
	p := startE2E(t, "JANITOR_AMS_ENDPOINT="+api.URL)
	env := map[string]string{"TENCENTCLOUD_SECRETID": "AKIDSLOW", "TENCENTCLOUD_SECRETKEY": "slow-key"}

	t.Run("short deadline", func(t *testing.T) {
		start := time.Now()
		res := invoke(t, p, scflocal.Invocation{
			Payload: []byte(`{"action":"call","taskId":"task-slow"}`), Timeout: 300 * time.Millisecond, Env: env,
		})
		elapsed := time.Since(start)
		if res.Error == nil || !strings.Contains(res.Error.Message, "deadline exceeded") {
			t.Fatalf("error = %+v, want a deadline error", res.Error)
		}
		if res.Error.ShouldExit {
			t.Errorf("a deadline is not a reason to replace the instance: %+v", res.Error)
		}
		if elapsed > 5*time.Second {
			t.Errorf("invocation took %s with a 300ms deadline and a 30s server", elapsed)
		}
	})
	t.Run("expired deadline", func(t *testing.T) {
		n := len(rec.requests())
		res := invoke(t, p, scflocal.Invocation{
			Payload: []byte(`{"action":"call","taskId":"task-late"}`), Env: env, Deadline: time.Now().Add(-time.Second),
		})
		if res.Error == nil || !strings.Contains(res.Error.Message, "deadline exceeded") {
			t.Fatalf("error = %+v, want a deadline error", res.Error)
		}
		if got := len(rec.requests()); got != n {
			t.Errorf("api saw %d new requests with an expired deadline, want 0", got-n)
		}
	})
}

func TestE2ENoRuntimeExitsWithHowTo(t *testing.T) {
	bin := e2eBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() == 0 {
		t.Fatalf("run without runtime: err = %v, want a non-zero exit", err)
	}
	for _, want := range []string{scf.EnvServerPort, scf.EnvLambdaRuntimeAPI, "go run ./cmd/scf-local invoke"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr %q does not mention %q", stderr.String(), want)
		}
	}
}

// waitForLogRecord returns the first JSON log line of p's output that match
// accepts, waiting up to five seconds for it to arrive.
func waitForLogRecord(t *testing.T, p *scflocal.Process, match func(map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		for _, line := range strings.Split(p.Output(), "\n") {
			var rec map[string]any
			if json.Unmarshal([]byte(line), &rec) == nil && match(rec) {
				return rec
			}
		}
		if time.Now().After(deadline) {
			t.Errorf("no matching log line within 5s in:\n%s", p.Output())
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
}

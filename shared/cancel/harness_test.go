package cancel_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/emulator"
	"github.com/scf-janitor/scf-janitor/internal/testkit/logtest"
	"github.com/scf-janitor/scf-janitor/shared/cancel"
	"github.com/scf-janitor/scf-janitor/shared/scf"
	"github.com/scf-janitor/scf-janitor/shared/tcapi/cossign"
	"github.com/scf-janitor/scf-janitor/shared/trigger"
	"github.com/scf-janitor/scf-janitor/shared/webhook"
)

// Values that must never appear in a log line, a response or an error.
const (
	secretKey     = "test-secret-key-DO-NOT-LEAK"
	sessionToken  = "test-session-token-DO-NOT-LEAK"
	webhookSecret = "whsec-current-DO-NOT-LEAK"
	oldSecret     = "whsec-previous-DO-NOT-LEAK"
	secretID      = "AKIDCANCELTEST"
	scfRequestID  = "scf-request-0001"
	bucket        = "examplebucket-1250000000"
	sdkAppID      = 1400000000
)

var secrets = []string{secretKey, sessionToken, webhookSecret, oldSecret}

// now is the fixed clock of handler and emulator (the emulator checks
// Tencent signatures against the real clock, as Tencent does).
var now = time.Date(2026, 11, 22, 4, 0, 0, 0, time.UTC)

// harness is one cancel function wired to an in-process emulator reached
// over loopback HTTP through the real SDKs.
type harness struct {
	t       testing.TB
	emu     *emulator.Server
	url     string
	h       *cancel.Handler
	logs    *logtest.Buffer
	env     map[string]string
	timeout time.Duration
	region  string   // the invocation's TencentcloudRegion
	seen    []string // every response body and error text, checked for secrets
}

type setup struct {
	emu  emulator.Options
	opts cancel.Options
}

func newHarness(tb testing.TB, newHandler func(cancel.Options) *cancel.Handler, s setup) *harness {
	tb.Helper()
	eo := s.emu
	if eo.Now == nil {
		eo.Now = func() time.Time { return now }
	}
	if eo.Credentials == nil {
		eo.Credentials = []emulator.Credential{{SecretID: secretID, SecretKey: secretKey}}
	}
	emu := emulator.New(eo)
	ts := httptest.NewServer(emu)
	tb.Cleanup(ts.Close)

	logs := &logtest.Buffer{}
	o := s.opts
	if o.Now == nil {
		o.Now = func() time.Time { return now }
	}
	if o.BaseDelay == 0 {
		o.BaseDelay, o.MaxDelay = time.Millisecond, 2*time.Millisecond
	}
	o.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	o.COSSigner = cossign.Transport
	h := &harness{
		t: tb, emu: emu, url: ts.URL, h: newHandler(o), logs: logs, timeout: 10 * time.Second,
		env: map[string]string{
			"TENCENTCLOUD_SECRETID":     secretID,
			"TENCENTCLOUD_SECRETKEY":    secretKey,
			"TENCENTCLOUD_SESSIONTOKEN": sessionToken,
			"TENCENTCLOUD_REGION":       "ap-guangzhou",
			"JANITOR_AMS_ENDPOINT":      ts.URL,
			"JANITOR_VM_ENDPOINT":       ts.URL,
			"JANITOR_TRTC_ENDPOINT":     ts.URL,
			"JANITOR_CI_ENDPOINT":       ts.URL,
			"JANITOR_WEBHOOK_SECRET":    webhookSecret + "," + oldSecret,
			"JANITOR_WEBHOOK_AUTH":      "",
			"JANITOR_CI_BUCKET":         bucket,
			"JANITOR_CI_REGION":         "ap-beijing",
			"JANITOR_TRTC_SDKAPPID":     "",
			"JANITOR_TRTC_REGION":       "",
			"JANITOR_LOG_LEVEL":         "",
		},
	}
	tb.Cleanup(h.checkNoSecrets)
	return h
}

func (h *harness) checkNoSecrets() {
	h.t.Helper()
	all := h.logs.String() + "\n" + strings.Join(h.seen, "\n")
	for _, s := range secrets {
		if strings.Contains(all, s) {
			h.t.Errorf("secret %q leaked into logs or responses:\n%s", s, all)
		}
	}
}

// invoke calls the handler the way the SCF runtime does.
func (h *harness) invoke(payload []byte) (any, error) {
	h.t.Helper()
	ctx, cancelFn := context.WithTimeout(context.Background(), h.timeout)
	defer cancelFn()
	dl, _ := ctx.Deadline()
	ctx = scf.NewContext(ctx, &scf.FunctionContext{
		RequestID: scfRequestID, FunctionName: h.h.Function(), Namespace: "default", Deadline: dl, Env: h.env, Region: h.region,
	})
	out, err := h.h.Handle(ctx, payload)
	if err != nil {
		h.seen = append(h.seen, err.Error())
	}
	if out != nil {
		b, _ := json.Marshal(out)
		h.seen = append(h.seen, string(b))
	}
	return out, err
}

// direct invokes with a plain JSON request (console test, SDK Invoke).
func (h *harness) direct(body string) (any, error) {
	h.t.Helper()
	return h.invoke([]byte(body))
}

// httpResult is a decoded integrated response.
type httpResult struct {
	Status  int
	Headers map[string]string
	Body    string
	Err     errorBody // when the status is not 200
}

type errorBody struct {
	Error struct {
		Code    string
		Message string
	}
	RequestId string
}

type req struct {
	method  string // default POST
	body    string
	header  map[string]string
	apigw   bool // API Gateway shape instead of Function URL
	base64  bool // apigw with isBase64Encoded
	sign    bool // add a valid signature with webhookSecret at now
	signKey string
	signAt  time.Time
}

// event builds the trigger event of r.
func (h *harness) event(r req) []byte {
	if r.method == "" {
		r.method = http.MethodPost
	}
	headers := map[string]string{"content-type": "application/json"}
	for k, v := range r.header {
		headers[k] = v
	}
	if r.sign || r.signKey != "" {
		key, at := r.signKey, r.signAt
		if key == "" {
			key = webhookSecret
		}
		if at.IsZero() {
			at = now
		}
		headers["x-janitor-signature"] = webhook.Sign(key, at, []byte(r.body))
	}
	ev := map[string]any{"httpMethod": r.method, "path": "/", "headers": headers, "body": r.body}
	if r.apigw || r.base64 {
		ev["requestContext"] = map[string]any{"serviceId": "service-test", "path": "/cancel", "httpMethod": r.method,
			"requestId": "apigw-req-1", "sourceIp": "203.0.113.9", "stage": "release"}
		ev["isBase64Encoded"] = r.base64
		if r.base64 {
			ev["body"] = base64.StdEncoding.EncodeToString([]byte(r.body))
		}
	} else {
		headers["x-scf-remote-addr"] = "203.0.113.9"
	}
	b, err := json.Marshal(ev)
	if err != nil {
		h.t.Fatal(err)
	}
	return b
}

func (h *harness) http(r req) httpResult {
	h.t.Helper()
	out, err := h.invoke(h.event(r))
	if err != nil {
		h.t.Fatalf("HTTP event returned handler error %v; want an HTTP response", err)
	}
	resp, ok := out.(trigger.Response)
	if !ok {
		h.t.Fatalf("HTTP event returned %T, want trigger.Response", out)
	}
	res := httpResult{Status: resp.StatusCode, Headers: resp.Headers, Body: resp.Body}
	if resp.Headers["Content-Type"] != "application/json" {
		h.t.Errorf("Content-Type = %q, want application/json", resp.Headers["Content-Type"])
	}
	if resp.StatusCode != http.StatusOK {
		dec := json.NewDecoder(strings.NewReader(resp.Body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&res.Err); err != nil {
			h.t.Fatalf("error body %s is not {Error:{Code,Message},RequestId}: %v", resp.Body, err)
		}
		if res.Err.Error.Code == "" || res.Err.Error.Message == "" || res.Err.RequestId == "" {
			h.t.Errorf("error body %s lacks Code, Message or RequestId", resp.Body)
		}
	}
	return res
}

// wantStatus checks an HTTP result's status and error code.
func (r httpResult) want(tb testing.TB, status int, code string) {
	tb.Helper()
	if r.Status != status || (code != "" && r.Err.Error.Code != code) {
		tb.Fatalf("got %d %s, want %d %s; body %s", r.Status, r.Err.Error.Code, status, code, r.Body)
	}
}

// directErr checks a direct invocation's error.
func directErr(tb testing.TB, err error, status int, code string) *cancel.Error {
	tb.Helper()
	var e *cancel.Error
	if !errors.As(err, &e) {
		tb.Fatalf("error %v (%T), want *cancel.Error", err, err)
	}
	if e.Status != status || e.Code != code {
		tb.Fatalf("got %d %s (%s), want %d %s", e.Status, e.Code, e.Message, status, code)
	}
	if !strings.HasPrefix(err.Error(), code+": ") {
		tb.Errorf("error text %q does not start with the code", err.Error())
	}
	return e
}

// logLines returns the JSON log records.
func (h *harness) logLines() []map[string]any {
	h.t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(h.logs.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			h.t.Fatalf("log line %q is not JSON: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

func (h *harness) lastLog() map[string]any {
	h.t.Helper()
	lines := h.logLines()
	if len(lines) == 0 {
		h.t.Fatal("no log line")
	}
	return lines[len(lines)-1]
}

func webhookSign(key string, at time.Time, body string) string {
	return webhook.Sign(key, at, []byte(body))
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

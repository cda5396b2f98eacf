package cancel

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scf-janitor/scf-janitor/shared/scf"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
	"github.com/scf-janitor/scf-janitor/shared/tcapi/cossign"
	"github.com/scf-janitor/scf-janitor/shared/trigger"
	"github.com/scf-janitor/scf-janitor/shared/webhook"
)

// fakeTencent behaves like the APIs for one known running job per kind:
// cancelling it succeeds once, then it has ended; anything else is unknown.
type fakeTencent struct{ ended map[string]bool }

var fakeKnown = map[string]bool{"task-audio-2wPz8kLmQeR4tY7u": true, "av8f2c1e4ad6b911efa3c3525400e1c0d7": true,
	"-ClAKLnRyYy10cmFuc2NyaXB0aW9uLmFwaS5jbG91ZC50ZW5jZW50LmNvbTo4MDkw": true}

func (f *fakeTencent) answer(service, action, id string) error {
	switch {
	case !fakeKnown[id]:
		return &tcapi.Error{Service: service, Action: action, Code: "ResourceNotFound", Message: "no such job", RequestID: "fake-rid", Attempts: 1}
	case f.ended[id]:
		return &tcapi.Error{Service: service, Action: action, Code: "FailedOperation", Message: "ended", RequestID: "fake-rid", Attempts: 1}
	}
	f.ended[id] = true
	return nil
}

// state answers a lookup: unknown ids are not found, a cancelled job has
// ended, the others are running.
func (f *fakeTencent) state(service, action, id, running, ended string) (string, error) {
	if !fakeKnown[id] {
		return "", &tcapi.Error{Service: service, Action: action, Code: "ResourceNotFound", Message: "no such job", RequestID: "fake-rid", Attempts: 1}
	}
	if f.ended[id] {
		return ended, nil
	}
	return running, nil
}

func (f *fakeTencent) DescribeTaskDetail(_ context.Context, id string) (tcapi.TaskDetail, error) {
	st, err := f.state("ams", "DescribeTaskDetail", id, "RUNNING", "CANCELLED")
	return tcapi.TaskDetail{TaskId: id, Status: st, RequestId: "fake-rid"}, err
}

func (f *fakeTencent) GetLiveAudit(_ context.Context, id string) (tcapi.LiveAuditJob, error) {
	st, err := f.state("ci", "GetAuditing", id, "Auditing", "Cancelled")
	return tcapi.LiveAuditJob{JobId: id, State: st, RequestId: "fake-rid"}, err
}

func (f *fakeTencent) DescribeCloudTranscription(_ context.Context, _ uint64, id string) (tcapi.DescribeCloudTranscriptionResponse, error) {
	st, err := f.state("trtc", "DescribeCloudTranscription", id, "InProgress", "Exited")
	return tcapi.DescribeCloudTranscriptionResponse{TaskId: id, Status: st, RequestId: "fake-rid"}, err
}

func (f *fakeTencent) CancelTask(_ context.Context, id string) (tcapi.CancelTaskResponse, error) {
	return tcapi.CancelTaskResponse{RequestId: "fake-rid"}, f.answer("ams", "CancelTask", id)
}

func (f *fakeTencent) CancelLiveAudit(_ context.Context, id string) (tcapi.CancelLiveAuditResponse, error) {
	return tcapi.CancelLiveAuditResponse{JobsDetail: tcapi.JobsDetail{JobId: id}, RequestId: "fake-rid"}, f.answer("ci", "CancelAuditing", id)
}

func (f *fakeTencent) DeleteCloudTranscription(_ context.Context, _ uint64, id string) (tcapi.DeleteCloudTranscriptionResponse, error) {
	return tcapi.DeleteCloudTranscriptionResponse{TaskId: id, RequestId: "fake-rid"}, f.answer("trtc", "DeleteCloudTranscription", id)
}

func fakeHandlers(now time.Time) []*Handler {
	f := &fakeTencent{ended: map[string]bool{}}
	c := clients{
		moderation: func(string, tcapi.Credentials, tcapi.Options) (taskCanceler, error) { return f, nil },
		ci:         func(tcapi.Credentials, tcapi.CIOptions) (liveAuditCanceler, error) { return f, nil },
		trtc:       func(tcapi.Credentials, tcapi.Options) (transcriptionStopper, error) { return f, nil },
	}
	opts := Options{Now: func() time.Time { return now }, COSSigner: cossign.Transport}
	hs := []*Handler{NewCancelTask(opts), NewCancelLiveAudit(opts), NewStopTranscription(opts)}
	for _, h := range hs {
		h.clients = c
	}
	return hs
}

const fuzzSecret = "whsec-fuzz"

func fuzzContext(auth string) context.Context {
	return scf.NewContext(context.Background(), &scf.FunctionContext{RequestID: "fuzz", Env: map[string]string{
		"TENCENTCLOUD_SECRETID": "AKIDFUZZ", "TENCENTCLOUD_SECRETKEY": "fuzz-key", "TENCENTCLOUD_REGION": "ap-guangzhou",
		EnvWebhookSecret: fuzzSecret, EnvWebhookAuth: auth, EnvCIBucket: "examplebucket-1250000000", EnvCIRegion: "ap-beijing",
		EnvTRTCSdkAppID: "1400000000", EnvTRTCRegion: "ap-guangzhou", "JANITOR_LOG_LEVEL": "",
		"JANITOR_AMS_ENDPOINT": "", "JANITOR_VM_ENDPOINT": "", "JANITOR_TRTC_ENDPOINT": "", "JANITOR_CI_ENDPOINT": "",
	}})
}

// seeds adds every file of the functions' testdata and the shared sample
// events.
func seeds(f *testing.F, add func(b []byte)) {
	var files []string
	for _, pattern := range []string{"../../functions/*/testdata/*.json", "../../testdata/events/*.json"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) == 0 {
		f.Fatal("no seed files found")
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		add(b)
	}
	for _, s := range []string{``, `{}`, `[]`, `null`, `"x"`, `{"TaskId":null}`, `{"SdkAppId":-1}`, `{"SdkAppId":"18446744073709551616"}`,
		`{"JobId":"../x","Bucket":"a-12345","Region":"ap-x"}`, `{"TaskId":"a","TaskId":"b"}`, "{\"TaskId\":\"\xff\"}"} {
		add([]byte(s))
	}
}

// check fails on a 5xx or an error that is not an *Error.
func check(t *testing.T, fn string, out any, err error) {
	t.Helper()
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("%s: error %T %v, want *Error", fn, err, err)
		}
		if e.Status >= 500 || e.Code == "" || e.Message == "" {
			t.Fatalf("%s: %d %s", fn, e.Status, err)
		}
		return
	}
	switch r := out.(type) {
	case trigger.Response:
		if r.StatusCode >= 500 {
			t.Fatalf("%s: HTTP %d %s", fn, r.StatusCode, r.Body)
		}
		if !json.Valid([]byte(r.Body)) {
			t.Fatalf("%s: body is not JSON: %q", fn, r.Body)
		}
	case nil:
		t.Fatalf("%s: nil result and nil error", fn)
	}
}

// FuzzRequestBody sends arbitrary bytes as the body of a correctly signed
// HTTP request and as a direct invocation to each function: no panic, no 5xx.
func FuzzRequestBody(f *testing.F) {
	seeds(f, func(b []byte) {
		f.Add(b)
		var ev struct{ Body string }
		if json.Unmarshal(b, &ev) == nil && ev.Body != "" {
			f.Add([]byte(ev.Body))
		}
	})
	now := time.Unix(1795320000, 0)
	f.Fuzz(func(t *testing.T, body []byte) {
		// base64 keeps the exact bytes (JSON strings cannot carry invalid UTF-8).
		ev, _ := json.Marshal(map[string]any{"httpMethod": "POST", "path": "/", "isBase64Encoded": true,
			"requestContext": map[string]any{"httpMethod": "POST", "requestId": "apigw-fuzz"},
			"body":           base64.StdEncoding.EncodeToString(body),
			"headers":        map[string]string{webhook.Header: webhook.Sign(fuzzSecret, now, body)}})
		for _, h := range fakeHandlers(now) {
			out, err := h.Handle(fuzzContext(""), ev)
			check(t, h.function, out, err)
			if r, ok := out.(trigger.Response); ok && r.StatusCode == http.StatusUnauthorized {
				t.Fatalf("%s: a correctly signed body was refused: %s", h.function, r.Body)
			}
			out, err = h.Handle(fuzzContext(""), body)
			check(t, h.function, out, err)
		}
	})
}

// FuzzEvent sends arbitrary bytes as the whole event (with webhook auth off so
// HTTP events reach the parser): no panic, no 5xx.
func FuzzEvent(f *testing.F) {
	seeds(f, func(b []byte) { f.Add(b) })
	now := time.Unix(1795320000, 0)
	f.Fuzz(func(t *testing.T, payload []byte) {
		for _, h := range fakeHandlers(now) {
			out, err := h.Handle(fuzzContext("none"), payload)
			check(t, h.function, out, err)
		}
	})
}

// FuzzUpstreamAnswer sends a valid request to each function and has every
// Tencent call (cancel and state lookup, API 3.0 and CI) answered with the
// same arbitrary 200 body: no panic, no 500, and a 200 only when the body
// is a Tencent success.
func FuzzUpstreamAnswer(f *testing.F) {
	for _, s := range []string{`null`, `{}`, `[]`, `{"Response":null}`, `{"Response":{}}`, `{"Response":{"RequestId":"r"}}`,
		`{"Response":{"Error":{"Code":"FailedOperation","Message":"m"},"RequestId":"r"}}`,
		`{"Response":{"TaskId":"task-audio-2wPz8kLmQeR4tY7u","Status":"FINISH","RequestId":"r"}}`,
		`<Response/>`, `<Response><JobsDetail><JobId>av8f2c1e4ad6b911efa3c3525400e1c0d7</JobId><State>Success</State></JobsDetail></Response>`,
		`<Error><Code>FailedOperation</Code></Error>`, `<html>502</html>`, ``} {
		f.Add([]byte(s))
	}
	var answer atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write(answer.Load().([]byte))
	}))
	f.Cleanup(srv.Close)
	bodies := []string{`{"TaskId":"task-audio-2wPz8kLmQeR4tY7u"}`, `{"JobId":"av8f2c1e4ad6b911efa3c3525400e1c0d7"}`,
		`{"TaskId":"-ClAKLnRyYy10cmFuc2NyaXB0aW9uLmFwaS5jbG91ZC50ZW5jZW50LmNvbTo4MDkw"}`}
	opts := Options{MaxAttempts: 2, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond, COSSigner: cossign.Transport,
		Limiters: tcapi.NewLimiters(1e6, 1000)}
	handlers := []*Handler{NewCancelTask(opts), NewCancelLiveAudit(opts), NewStopTranscription(opts)}
	f.Fuzz(func(t *testing.T, b []byte) {
		answer.Store(b)
		var head struct {
			Response *struct{ RequestId string }
		}
		success := json.Unmarshal(b, &head) == nil && head.Response != nil && head.Response.RequestId != "" &&
			!strings.Contains(string(b), `"Error"`)
		for i, h := range handlers {
			ctx := fuzzContext("")
			fc, _ := scf.FromContext(ctx)
			for _, k := range []string{"JANITOR_AMS_ENDPOINT", "JANITOR_VM_ENDPOINT", "JANITOR_TRTC_ENDPOINT", "JANITOR_CI_ENDPOINT"} {
				fc.Env[k] = srv.URL
			}
			out, err := h.Handle(ctx, []byte(bodies[i]))
			if err != nil {
				e, ok := err.(*Error)
				if !ok || e.Status == http.StatusInternalServerError || e.Code == "" {
					t.Fatalf("%s on %q: %T %v", h.function, b, err, err)
				}
				continue
			}
			ciSuccess := strings.Contains(string(b), "av8f2c1e4ad6b911efa3c3525400e1c0d7") // the JobId asked for
			if (h.function != FunctionCancelLiveAudit && !success) || (h.function == FunctionCancelLiveAudit && !ciSuccess) {
				t.Fatalf("%s succeeded on %q: %v", h.function, b, out)
			}
		}
	})
}

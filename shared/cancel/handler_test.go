package cancel_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/emulator"
	"github.com/scf-janitor/scf-janitor/shared/cancel"
)

// fnSpec describes one function for the shared table tests.
type fnSpec struct {
	name       string
	newHandler func(cancel.Options) *cancel.Handler
	// add creates a running job in the emulator and returns its id.
	add func(h *harness) string
	// body is a request for id.
	body func(id string) string
	// state returns the job's state in the emulator.
	state func(h *harness, id string) string
	// ended is the state after a successful cancel.
	ended string
	// checkResult checks a success result (as JSON) for id.
	checkResult func(tb testing.TB, res map[string]any, id string)
	// action is the emulator stats key of the cancel call.
	action string
	// invalid are bodies rejected locally with 400 (before any call).
	invalid map[string]string
}

// stateOf is the state of the job id in list, where idState gives a job's id
// and state; "absent" when list has no such job.
func stateOf[T any](list []T, id string, idState func(T) (id, state string)) string {
	for _, j := range list {
		if jid, state := idState(j); jid == id {
			return state
		}
	}
	return "absent"
}

var specs = []fnSpec{
	{
		name:       cancel.FunctionCancelTask,
		newHandler: cancel.NewCancelTask,
		add: func(h *harness) string {
			return h.emu.AddTask(emulator.Task{Service: "ams", Type: "AUDIO", Status: "RUNNING", Stuck: true, CreatedAt: now.Add(-time.Hour)}).TaskId
		},
		body: func(id string) string { return fmt.Sprintf(`{"TaskId":%q,"Service":"ams"}`, id) },
		state: func(h *harness, id string) string {
			t, ok := h.emu.Task("ams", id)
			if !ok {
				return "absent"
			}
			return t.Status
		},
		ended: "CANCELLED",
		checkResult: func(tb testing.TB, res map[string]any, id string) {
			tb.Helper()
			if res["TaskId"] != id || res["Service"] != "ams" || res["RequestId"] == "" || len(res) != 3 {
				tb.Errorf("result %v, want {TaskId:%s Service:ams RequestId:<Tencent's>}", res, id)
			}
		},
		action: "ams.CancelTask",
		invalid: map[string]string{
			"missing TaskId":   `{"Service":"ams"}`,
			"bad Service":      `{"TaskId":"task-audio-x","Service":"cos"}`,
			"id with slash":    `{"TaskId":"task/x"}`,
			"over-long id":     `{"TaskId":"` + strings.Repeat("x", 129) + `"}`,
			"not an object":    `["task-audio-x"]`,
			"wrong type":       `{"TaskId":42}`,
			"unknown field":    `{"TaskId":"task-audio-x","Reason":"spam"}`,
			"empty TaskId":     `{"TaskId":""}`,
			"invalid JSON":     `{"TaskId":`,
			"two JSON objects": `{"TaskId":"a"}{"TaskId":"b"}`,
		},
	},
	{
		name:       cancel.FunctionCancelLiveAudit,
		newHandler: cancel.NewCancelLiveAudit,
		add: func(h *harness) string {
			return h.emu.AddLiveJob(emulator.LiveJob{DataId: "stream-42", Url: "rtmp://example.com/live/42", State: "Auditing", CreationTime: now.Add(-time.Hour)}).JobId
		},
		body: func(id string) string {
			return fmt.Sprintf(`{"JobId":%q,"Bucket":%q,"Region":"ap-beijing"}`, id, bucket)
		},
		state: func(h *harness, id string) string {
			return stateOf(h.emu.LiveJobs(), id, func(j emulator.LiveJob) (string, string) { return j.JobId, j.State })
		},
		ended: "Cancelled",
		checkResult: func(tb testing.TB, res map[string]any, id string) {
			tb.Helper()
			d, _ := res["JobsDetail"].(map[string]any)
			if d == nil || d["JobId"] != id || d["DataId"] != "stream-42" || d["CreationTime"] == "" || res["RequestId"] == "" || len(res) != 2 {
				tb.Errorf("result %v, want {JobsDetail:{DataId:stream-42 JobId:%s CreationTime:...} RequestId:...}", res, id)
			}
		},
		action: "ci.CancelAuditing",
		invalid: map[string]string{
			"missing JobId":  `{"Bucket":"examplebucket-1250000000","Region":"ap-beijing"}`,
			"path traversal": `{"JobId":"../../x"}`,
			"bad Bucket":     `{"JobId":"av1","Bucket":"evil.example.com","Region":"ap-beijing"}`,
			"bad Region":     `{"JobId":"av1","Region":"ap-beijing.evil.com"}`,
			"over-long id":   `{"JobId":"` + strings.Repeat("a", 129) + `"}`,
			"not an object":  `"av1"`,
			"unknown field":  `{"JobId":"av1","TaskId":"x"}`,
		},
	},
	{
		name:       cancel.FunctionStopTranscription,
		newHandler: cancel.NewStopTranscription,
		add: func(h *harness) string {
			return h.emu.AddTranscription(emulator.Transcription{SdkAppId: sdkAppID, RoomId: "room-1", Region: "ap-guangzhou", Status: "InProgress", StartTime: now.Add(-time.Hour)}).TaskId
		},
		body: func(id string) string {
			return fmt.Sprintf(`{"TaskId":%q,"SdkAppId":%d,"Region":"ap-guangzhou"}`, id, sdkAppID)
		},
		state: func(h *harness, id string) string {
			return stateOf(h.emu.Transcriptions(), id, func(t emulator.Transcription) (string, string) { return t.TaskId, t.Status })
		},
		ended: "Exited",
		checkResult: func(tb testing.TB, res map[string]any, id string) {
			tb.Helper()
			if res["TaskId"] != id || res["RequestId"] == "" || len(res) != 2 {
				tb.Errorf("result %v, want {TaskId:%s RequestId:...}", res, id)
			}
		},
		action: "trtc.DeleteCloudTranscription",
		invalid: map[string]string{
			"missing TaskId":      `{"SdkAppId":1400000000,"Region":"ap-guangzhou"}`,
			"zero SdkAppId":       `{"TaskId":"t1","SdkAppId":0,"Region":"ap-guangzhou"}`,
			"negative SdkAppId":   `{"TaskId":"t1","SdkAppId":-5,"Region":"ap-guangzhou"}`,
			"unsupported region":  `{"TaskId":"t1","SdkAppId":1400000000,"Region":"ap-chengdu"}`,
			"no SdkAppId":         `{"TaskId":"t1","Region":"ap-guangzhou"}`,
			"SdkAppId wrong type": `{"TaskId":"t1","SdkAppId":[1],"Region":"ap-guangzhou"}`,
			"unknown field":       `{"TaskId":"t1","SdkAppId":1400000000,"Region":"ap-guangzhou","RoomId":"r"}`,
		},
	},
}

func asMap(tb testing.TB, v any) map[string]any {
	tb.Helper()
	var b []byte
	switch x := v.(type) {
	case string:
		b = []byte(x)
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			tb.Fatal(err)
		}
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		tb.Fatalf("%s is not a JSON object: %v", b, err)
	}
	return m
}

func TestSuccess(t *testing.T) {
	for _, fn := range specs {
		shapes := []struct {
			name string
			do   func(h *harness, body string) map[string]any
		}{
			{"direct", func(h *harness, body string) map[string]any {
				out, err := h.direct(body)
				if err != nil {
					t.Fatalf("direct: %v", err)
				}
				return asMap(t, out)
			}},
			{"function url", func(h *harness, body string) map[string]any {
				r := h.http(req{body: body, sign: true})
				r.want(t, http.StatusOK, "")
				return asMap(t, r.Body)
			}},
			{"api gateway", func(h *harness, body string) map[string]any {
				r := h.http(req{body: body, sign: true, apigw: true})
				r.want(t, http.StatusOK, "")
				return asMap(t, r.Body)
			}},
			{"base64 body", func(h *harness, body string) map[string]any {
				r := h.http(req{body: body, sign: true, base64: true})
				r.want(t, http.StatusOK, "")
				return asMap(t, r.Body)
			}},
			{"lower-case method", func(h *harness, body string) map[string]any {
				r := h.http(req{method: "post", body: body, sign: true})
				r.want(t, http.StatusOK, "")
				return asMap(t, r.Body)
			}},
		}
		for _, shape := range shapes {
			t.Run(fn.name+"/"+shape.name, func(t *testing.T) {
				h := newHarness(t, fn.newHandler, setup{})
				id := fn.add(h)
				res := shape.do(h, fn.body(id))
				fn.checkResult(t, res, id)
				if got := fn.state(h, id); got != fn.ended {
					t.Errorf("emulator state after cancel = %s, want %s", got, fn.ended)
				}
				line := h.lastLog()
				if line["outcome"] != "cancelled" || line["status"] != float64(200) || line["job_id"] != id ||
					line["tencent_request_id"] != res["RequestId"] {
					t.Errorf("log line %v: want outcome cancelled, status 200, job_id %s, tencent_request_id %v", line, id, res["RequestId"])
				}
			})
		}
	}
}

func TestCancelTwiceAndUnknown(t *testing.T) {
	for _, fn := range specs {
		t.Run(fn.name, func(t *testing.T) {
			h := newHarness(t, fn.newHandler, setup{})
			id := fn.add(h)
			h.http(req{body: fn.body(id), sign: true}).want(t, http.StatusOK, "")

			again := h.http(req{body: fn.body(id), sign: true})
			again.want(t, http.StatusConflict, "")
			if again.Err.RequestId == scfRequestID || !strings.Contains(again.Err.Error.Message, "already ended") {
				t.Errorf("409 body %s: want Tencent's RequestId and a message saying the job already ended", again.Body)
			}
			if l := h.lastLog(); l["outcome"] != "already_ended" || l["tencent_request_id"] != again.Err.RequestId {
				t.Errorf("log %v", l)
			}
			_, err := h.direct(fn.body(id))
			directErr(t, err, http.StatusConflict, again.Err.Error.Code)

			unknownID := "unknown0000000000000000000000000000"
			missing := h.http(req{body: fn.body(unknownID), sign: true})
			missing.want(t, http.StatusNotFound, "ResourceNotFound")
			if !strings.Contains(missing.Err.Error.Message, unknownID) {
				t.Errorf("404 message %q does not name the id", missing.Err.Error.Message)
			}
			_, err = h.direct(fn.body(unknownID))
			e := directErr(t, err, http.StatusNotFound, "ResourceNotFound")
			if e.RequestID == "" {
				t.Error("direct 404 lacks Tencent's RequestId")
			}
		})
	}
}

func TestLocalValidation(t *testing.T) {
	for _, fn := range specs {
		for name, body := range fn.invalid {
			t.Run(fn.name+"/"+name, func(t *testing.T) {
				h := newHarness(t, fn.newHandler, setup{})
				r := h.http(req{body: body, sign: true})
				r.want(t, http.StatusBadRequest, "")
				if r.Err.RequestId != scfRequestID {
					t.Errorf("RequestId %q, want the SCF request id for a local error", r.Err.RequestId)
				}
				_, err := h.direct(body)
				directErr(t, err, http.StatusBadRequest, r.Err.Error.Code)
				if n := h.emu.Stats().Actions[fn.action].Requests; n != 0 {
					t.Errorf("%d requests reached Tencent for an invalid request", n)
				}
				if l := h.lastLog(); l["outcome"] != "invalid_request" || l["status"] != float64(400) {
					t.Errorf("log %v", l)
				}
			})
		}
	}
}

func TestWebhookAuth(t *testing.T) {
	for _, fn := range specs {
		t.Run(fn.name, func(t *testing.T) {
			h := newHarness(t, fn.newHandler, setup{})
			id := fn.add(h)
			body := fn.body(id)
			cases := []struct {
				name string
				r    req
				code string
			}{
				{"missing", req{body: body}, cancel.CodeSignatureMissing},
				{"wrong secret", req{body: body, signKey: "guessed-secret"}, cancel.CodeSignatureFailure},
				{"signed other body", req{body: body, header: map[string]string{"x-janitor-signature": sign(webhookSecret, now, `{"TaskId":"other"}`)}}, cancel.CodeSignatureFailure},
				{"expired", req{body: body, signAt: now.Add(-301 * time.Second), sign: true}, cancel.CodeSignatureExpire},
				{"from the future", req{body: body, signAt: now.Add(301 * time.Second), sign: true}, cancel.CodeSignatureExpire},
				{"malformed", req{body: body, header: map[string]string{"X-Janitor-Signature": "sha256=abc"}}, cancel.CodeSignatureInvalid},
				{"signature of base64 text", req{body: body, base64: true, header: map[string]string{"x-janitor-signature": sign(webhookSecret, now, b64(body))}}, cancel.CodeSignatureFailure},
				// The signature is checked before the body is parsed: an
				// unauthenticated caller learns nothing about the parser.
				{"unsigned invalid JSON", req{body: `{"TaskId":`}, cancel.CodeSignatureMissing},
				{"wrongly signed unknown field", req{body: `{"Evil":1}`, signKey: "guessed-secret"}, cancel.CodeSignatureFailure},
			}
			for _, c := range cases {
				r := h.http(c.r)
				if r.Status != http.StatusUnauthorized || r.Err.Error.Code != c.code {
					t.Errorf("%s: got %d %s, want 401 %s", c.name, r.Status, r.Err.Error.Code, c.code)
				}
				if l := h.lastLog(); l["outcome"] != "unauthenticated" {
					t.Errorf("%s: log %v", c.name, l)
				}
				if c.code == cancel.CodeSignatureFailure {
					// The usual cause is another function's secret: say so, and name the variable.
					want := "each function has its own secret (its JANITOR_WEBHOOK_SECRET; this project's serverless.yml sets it from " +
						"JANITOR_" + strings.ToUpper(strings.ReplaceAll(fn.name, "-", "_")) + "_SECRET)"
					if !strings.Contains(r.Err.Error.Message, want) || !strings.Contains(r.Err.Error.Message, fn.name) {
						t.Errorf("%s: message %q, want it to contain %q", c.name, r.Err.Error.Message, want)
					}
					for _, secret := range []string{webhookSecret, oldSecret, "guessed-secret"} {
						if strings.Contains(r.Err.Error.Message, secret) {
							t.Errorf("%s: the message shows a secret: %q", c.name, r.Err.Error.Message)
						}
					}
				}
			}
			if n := h.emu.Stats().Actions[fn.action].Requests; n != 0 {
				t.Fatalf("%d requests reached Tencent without a valid signature", n)
			}
			if got := fn.state(h, id); got == fn.ended {
				t.Fatal("job cancelled by an unauthenticated request")
			}

			// Rotation: both the current and the previous secret work.
			h.http(req{body: body, signKey: oldSecret}).want(t, http.StatusOK, "")
			id2 := fn.add(h)
			h.http(req{body: fn.body(id2), signKey: webhookSecret, signAt: now.Add(-299 * time.Second)}).want(t, http.StatusOK, "")

			// Retired secret: once removed from the list it no longer works.
			h.env["JANITOR_WEBHOOK_SECRET"] = webhookSecret
			id3 := fn.add(h)
			h.http(req{body: fn.body(id3), signKey: oldSecret}).want(t, http.StatusUnauthorized, cancel.CodeSignatureFailure)
		})
	}
}

func sign(key string, at time.Time, body string) string {
	return webhookSign(key, at, body)
}

func TestWebhookNotConfigured(t *testing.T) {
	fn := specs[0]
	h := newHarness(t, fn.newHandler, setup{})
	id := fn.add(h)
	h.env["JANITOR_WEBHOOK_SECRET"] = " , "
	r := h.http(req{body: fn.body(id), sign: true})
	r.want(t, http.StatusUnauthorized, cancel.CodeSecretNotConfigured)
	for _, w := range []string{"JANITOR_WEBHOOK_SECRET", "JANITOR_WEBHOOK_AUTH=none"} {
		if !strings.Contains(r.Err.Error.Message, w) {
			t.Errorf("message %q does not mention %s", r.Err.Error.Message, w)
		}
	}
	// Direct invocations need no signature.
	if _, err := h.direct(fn.body(id)); err != nil {
		t.Fatalf("direct invocation without a webhook secret: %v", err)
	}

	// JANITOR_WEBHOOK_AUTH=none lets unsigned HTTP requests through.
	h.env["JANITOR_WEBHOOK_AUTH"] = "none"
	id2 := fn.add(h)
	h.http(req{body: fn.body(id2)}).want(t, http.StatusOK, "")

	// Any other value fails closed, without echoing the value to the
	// (unauthenticated) caller: it may be a secret pasted into the wrong variable.
	const pasted = "whsec-pasted-into-the-wrong-variable"
	h.env["JANITOR_WEBHOOK_AUTH"] = pasted
	id3 := fn.add(h)
	r = h.http(req{body: fn.body(id3)})
	r.want(t, http.StatusInternalServerError, cancel.CodeConfiguration)
	if !strings.Contains(r.Err.Error.Message, "JANITOR_WEBHOOK_AUTH") || !strings.Contains(r.Err.Error.Message, "signature") {
		t.Errorf("message %q does not name the variable and its accepted values", r.Err.Error.Message)
	}
	if strings.Contains(r.Body, pasted) || strings.Contains(h.logs.String(), pasted) {
		t.Errorf("the invalid value was echoed: body %s\nlogs %s", r.Body, h.logs.String())
	}
	if got := specs[0].state(h, id3); got == specs[0].ended {
		t.Error("cancelled despite the invalid setting")
	}
}

func TestMethodAndSize(t *testing.T) {
	for _, fn := range specs {
		t.Run(fn.name, func(t *testing.T) {
			h := newHarness(t, fn.newHandler, setup{})
			id := fn.add(h)
			for _, m := range []string{"GET", "PUT", "DELETE", "OPTIONS", "HEAD"} {
				r := h.http(req{method: m, body: fn.body(id), sign: true})
				r.want(t, http.StatusMethodNotAllowed, cancel.CodeMethodNotAllowed)
				if r.Headers["Allow"] != "POST" {
					t.Errorf("%s: Allow = %q, want POST", m, r.Headers["Allow"])
				}
			}
			// Exactly 64 KiB is accepted as far as size goes (then rejected as
			// unknown content); one byte more is 413, before authentication.
			pad := fn.body(id)
			pad = pad[:len(pad)-1] + `,"Pad":"` + strings.Repeat("x", cancel.MaxBodySize-len(pad)-9) + `"}`
			if len(pad) != cancel.MaxBodySize {
				t.Fatalf("pad is %d bytes", len(pad))
			}
			h.http(req{body: pad, sign: true}).want(t, http.StatusBadRequest, cancel.CodeUnknownParameter)
			big := pad[:len(pad)-2] + `x"}`
			r := h.http(req{body: big})
			r.want(t, http.StatusRequestEntityTooLarge, cancel.CodeRequestTooLarge)
			if l := h.lastLog(); l["outcome"] != "too_large" {
				t.Errorf("log %v", l)
			}
			if got := fn.state(h, id); got == fn.ended {
				t.Fatal("job cancelled")
			}
		})
	}
}

func TestThrottled(t *testing.T) {
	for _, fn := range specs {
		t.Run(fn.name, func(t *testing.T) {
			// One request per second and a frozen clock: the first cancel
			// takes the only token, every later attempt is throttled.
			h := newHarness(t, fn.newHandler, setup{emu: emulator.Options{Rate: 1}, opts: cancel.Options{MaxAttempts: 2}})
			first, second := fn.add(h), fn.add(h)
			h.http(req{body: fn.body(first), sign: true}).want(t, http.StatusOK, "")
			r := h.http(req{body: fn.body(second), sign: true})
			r.want(t, http.StatusTooManyRequests, "RequestLimitExceeded")
			if r.Headers["Retry-After"] != "1" {
				t.Errorf("Retry-After = %q, want 1", r.Headers["Retry-After"])
			}
			st := h.emu.Stats().Actions[fn.action]
			if st.Throttled != 2 {
				t.Errorf("emulator saw %d throttled requests, want 2 (MaxAttempts)", st.Throttled)
			}
			if l := h.lastLog(); l["outcome"] != "throttled" || l["attempts"] != float64(2) {
				t.Errorf("log %v", l)
			}
			_, err := h.direct(fn.body(second))
			directErr(t, err, http.StatusTooManyRequests, "RequestLimitExceeded")
		})
	}
}

func TestDeadline(t *testing.T) {
	for _, fn := range specs {
		t.Run(fn.name, func(t *testing.T) {
			t.Parallel() // each waits for its deadline
			h := newHarness(t, fn.newHandler, setup{emu: emulator.Options{Faults: emulator.Faults{SlowRate: 1, SlowDelay: 3 * time.Second}}})
			h.timeout = 300 * time.Millisecond
			id := fn.add(h)
			start := time.Now()
			r := h.http(req{body: fn.body(id), sign: true})
			r.want(t, http.StatusGatewayTimeout, cancel.CodeDeadlineExceeded)
			// The handler stops waiting at its own shortened deadline
			// (TestWithMargin checks the margin exactly); the wall-clock bound
			// here is loose so that a loaded CI machine cannot fail it, yet far
			// below the 3 s the upstream would take.
			if el := time.Since(start); el > h.timeout+time.Second {
				t.Errorf("answered after %s; the invocation's deadline was %s and Tencent would answer after 3s", el, h.timeout)
			}
			if l := h.lastLog(); l["outcome"] != "timeout" {
				t.Errorf("log %v", l)
			}
		})
	}
}

func TestUpstreamFailures(t *testing.T) {
	for _, fn := range specs {
		t.Run(fn.name+"/our credentials rejected", func(t *testing.T) {
			h := newHarness(t, fn.newHandler, setup{})
			h.env["TENCENTCLOUD_SECRETKEY"] = "wrong-" + secretKey
			id := fn.add(h)
			r := h.http(req{body: fn.body(id), sign: true})
			r.want(t, http.StatusBadGateway, "")
			if !strings.Contains(r.Err.Error.Message, "execution role") || r.Err.RequestId == scfRequestID {
				t.Errorf("502 body %s: want a message about the execution role and Tencent's RequestId", r.Body)
			}
		})
		t.Run(fn.name+"/bad gateway", func(t *testing.T) {
			h := newHarness(t, fn.newHandler, setup{emu: emulator.Options{Faults: emulator.Faults{BadGatewayRate: 1}}, opts: cancel.Options{MaxAttempts: 2}})
			id := fn.add(h)
			r := h.http(req{body: fn.body(id), sign: true})
			r.want(t, http.StatusBadGateway, "")
			if l := h.lastLog(); l["outcome"] != "upstream_error" || l["attempts"] != float64(2) {
				t.Errorf("log %v", l)
			}
		})
		t.Run(fn.name+"/internal error", func(t *testing.T) {
			h := newHarness(t, fn.newHandler, setup{emu: emulator.Options{Faults: emulator.Faults{InternalErrorRate: 1}}, opts: cancel.Options{MaxAttempts: 2}})
			id := fn.add(h)
			h.http(req{body: fn.body(id), sign: true}).want(t, http.StatusBadGateway, "")
		})
		t.Run(fn.name+"/missing credentials", func(t *testing.T) {
			h := newHarness(t, fn.newHandler, setup{})
			h.env["TENCENTCLOUD_SECRETID"], h.env["TENCENTCLOUD_SECRETKEY"], h.env["TENCENTCLOUD_SESSIONTOKEN"] = "", "", ""
			id := fn.add(h)
			r := h.http(req{body: fn.body(id), sign: true})
			r.want(t, http.StatusInternalServerError, cancel.CodeMissingCredentials)
			if !strings.Contains(r.Err.Error.Message, "execution role") {
				t.Errorf("message %q does not mention the execution role", r.Err.Error.Message)
			}
			_, err := h.direct(fn.body(id))
			directErr(t, err, http.StatusInternalServerError, cancel.CodeMissingCredentials)
		})
		t.Run(fn.name+"/endpoint is not Tencent", func(t *testing.T) {
			h := newHarness(t, fn.newHandler, setup{})
			other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				http.Error(w, "404 page not found", http.StatusNotFound)
			}))
			defer other.Close()
			for _, k := range []string{"JANITOR_AMS_ENDPOINT", "JANITOR_VM_ENDPOINT", "JANITOR_TRTC_ENDPOINT", "JANITOR_CI_ENDPOINT"} {
				h.env[k] = other.URL
			}
			r := h.http(req{body: fn.body(fn.add(h)), sign: true})
			r.want(t, http.StatusBadGateway, "")
			if !strings.Contains(r.Err.Error.Message, "_ENDPOINT") || strings.Contains(r.Err.Error.Message, "retry later") {
				t.Errorf("502 message %q: want a hint to check the endpoint setting, not to retry", r.Err.Error.Message)
			}
		})
		t.Run(fn.name+"/bad endpoint setting", func(t *testing.T) {
			h := newHarness(t, fn.newHandler, setup{})
			for _, k := range []string{"JANITOR_AMS_ENDPOINT", "JANITOR_VM_ENDPOINT", "JANITOR_TRTC_ENDPOINT", "JANITOR_CI_ENDPOINT"} {
				h.env[k] = "ftp://nowhere"
			}
			id := fn.add(h)
			r := h.http(req{body: fn.body(id), sign: true})
			r.want(t, http.StatusInternalServerError, cancel.CodeConfiguration)
			if !strings.Contains(r.Err.Error.Message, "ENDPOINT") {
				t.Errorf("message %q does not name the variable", r.Err.Error.Message)
			}
		})
	}
}

func TestTencentRejectsParameter(t *testing.T) {
	// The emulator knows SdkAppId 1400000000 only: Tencent's
	// InvalidParameter.SdkAppId is the caller's mistake, so 400.
	h := newHarness(t, cancel.NewStopTranscription, setup{})
	r := h.http(req{body: `{"TaskId":"t-1","SdkAppId":1400009999,"Region":"ap-guangzhou"}`, sign: true})
	r.want(t, http.StatusBadRequest, "InvalidParameter.SdkAppId")
	if r.Err.RequestId == scfRequestID {
		t.Error("RequestId is the SCF one, want Tencent's")
	}
}

func TestDefaultsFromSettings(t *testing.T) {
	t.Run("live audit bucket and region", func(t *testing.T) {
		h := newHarness(t, cancel.NewCancelLiveAudit, setup{})
		id := specs[1].add(h)
		out, err := h.direct(fmt.Sprintf(`{"JobId":%q}`, id))
		if err != nil {
			t.Fatal(err)
		}
		specs[1].checkResult(t, asMap(t, out), id)
		h.env["JANITOR_CI_BUCKET"] = ""
		_, err = h.direct(fmt.Sprintf(`{"JobId":%q}`, id))
		if e := directErr(t, err, http.StatusBadRequest, cancel.CodeMissingParameter); !strings.Contains(e.Message, "JANITOR_CI_BUCKET") {
			t.Errorf("message %q does not name JANITOR_CI_BUCKET", e.Message)
		}
	})
	t.Run("transcription app and region", func(t *testing.T) {
		h := newHarness(t, cancel.NewStopTranscription, setup{})
		h.env["JANITOR_TRTC_SDKAPPID"] = "1400000000"
		h.env["TENCENTCLOUD_REGION"] = "ap-beijing"
		h.env["JANITOR_TRTC_REGION"] = "ap-guangzhou"
		id := specs[2].add(h)
		out, err := h.direct(fmt.Sprintf(`{"TaskId":%q}`, id))
		if err != nil {
			t.Fatal(err)
		}
		specs[2].checkResult(t, asMap(t, out), id)
	})
	t.Run("vm service", func(t *testing.T) {
		h := newHarness(t, cancel.NewCancelTask, setup{})
		task := h.emu.AddTask(emulator.Task{Service: "vm", Type: "VIDEO", Status: "RUNNING", Stuck: true})
		// The same id is unknown to ams.
		_, err := h.direct(fmt.Sprintf(`{"TaskId":%q}`, task.TaskId))
		directErr(t, err, http.StatusNotFound, "ResourceNotFound")
		out, err := h.direct(fmt.Sprintf(`{"TaskId":%q,"Service":"vm"}`, task.TaskId))
		if err != nil {
			t.Fatal(err)
		}
		if m := asMap(t, out); m["Service"] != "vm" {
			t.Errorf("result %v", m)
		}
		if got, _ := h.emu.Task("vm", task.TaskId); got.Status != "CANCELLED" {
			t.Errorf("vm task status %s", got.Status)
		}
	})
}

func TestUnsupportedEvents(t *testing.T) {
	for _, fn := range specs {
		t.Run(fn.name, func(t *testing.T) {
			h := newHarness(t, fn.newHandler, setup{})
			_, err := h.invoke([]byte(`{"Type":"Timer","TriggerName":"EveryDay","Time":"2026-11-22T04:00:00Z","Message":""}`))
			e := directErr(t, err, http.StatusBadRequest, cancel.CodeUnsupportedTrigger)
			if !strings.Contains(e.Message, "timer") || !strings.Contains(e.Message, "EveryDay") {
				t.Errorf("message %q", e.Message)
			}
			for _, p := range []string{`[]`, `"x"`, `42`, `null`, ``, `{`} {
				_, err := h.invoke([]byte(p))
				directErr(t, err, http.StatusBadRequest, cancel.CodeInvalidParameter)
			}
			// A malformed HTTP event still gets an HTTP answer.
			out, err := h.invoke([]byte(`{"httpMethod":"POST","path":"/","body":"!!!","isBase64Encoded":true,"requestContext":{}}`))
			if err != nil {
				t.Fatalf("malformed HTTP event: handler error %v, want a 400 response", err)
			}
			if r := asMap(t, out); r["statusCode"] != float64(400) {
				t.Errorf("malformed HTTP event: %v", r)
			}
		})
	}
}

func TestLogLine(t *testing.T) {
	h := newHarness(t, cancel.NewCancelTask, setup{})
	id := specs[0].add(h)
	h.http(req{body: specs[0].body(id), sign: true, apigw: true}).want(t, http.StatusOK, "")
	h.http(req{body: specs[0].body(id), sign: true}).want(t, http.StatusConflict, "")
	lines := h.logLines()
	if len(lines) != 2 {
		t.Fatalf("%d log lines for 2 invocations, want 2:\n%s", len(lines), h.logs.String())
	}
	for _, key := range []string{"trigger", "job_id", "outcome", "status", "tencent_request_id", "latency_ms"} {
		if _, ok := lines[0][key]; !ok {
			t.Errorf("log line lacks %s: %v", key, lines[0])
		}
	}
	if lines[0]["trigger"] != "http" || lines[0]["source"] != "apigw" || lines[0]["level"] != "INFO" {
		t.Errorf("first line %v", lines[0])
	}
	if lines[1]["source"] != "url" || lines[1]["level"] != "WARN" || lines[1]["code"] != "FailedOperation.TaskEnded" {
		t.Errorf("second line %v", lines[1])
	}
}

// TestInvalidLogLevel: main warns about an invalid JANITOR_LOG_LEVEL and logs
// at info; invocations carry on cancelling.
func TestInvalidLogLevel(t *testing.T) {
	for _, fn := range specs {
		t.Run(fn.name, func(t *testing.T) {
			h := newHarness(t, fn.newHandler, setup{})
			h.env["JANITOR_LOG_LEVEL"] = "verbose"
			id := fn.add(h)
			h.http(req{body: fn.body(id), sign: true}).want(t, http.StatusOK, "")
			if got := fn.state(h, id); got != fn.ended {
				t.Errorf("state %s, want %s", got, fn.ended)
			}
		})
	}
}

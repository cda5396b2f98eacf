package cancel_test

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/emulator"
	"github.com/scf-janitor/scf-janitor/shared/cancel"
)

// endedJob adds a job that ended by itself (not cancelled by us) and
// returns its id, the status the lookup reports and the stats key of the
// lookup.
var endedJobs = map[string]func(h *harness) (id, status, lookup string){
	cancel.FunctionCancelTask: func(h *harness) (string, string, string) {
		return h.emu.AddTask(emulator.Task{Service: "ams", Status: "FINISH", CreatedAt: now.Add(-time.Hour)}).TaskId, "FINISH", "ams.DescribeTaskDetail"
	},
	cancel.FunctionCancelLiveAudit: func(h *harness) (string, string, string) {
		return h.emu.AddLiveJob(emulator.LiveJob{State: "Failed", CreationTime: now.Add(-time.Hour)}).JobId, "Failed", "ci.GetAuditing"
	},
	cancel.FunctionStopTranscription: func(h *harness) (string, string, string) {
		return h.emu.AddTranscription(emulator.Transcription{SdkAppId: sdkAppID, Region: "ap-guangzhou", Status: "Exited"}).TaskId, "Exited", "trtc.DescribeCloudTranscription"
	},
}

// TestCancelOfEndedJob: whatever code Tencent answers a cancel of an ended
// job with (plain FailedOperation, or the specific codes), the functions ask
// for its state and answer 409 with our code and the observed status.
func TestCancelOfEndedJob(t *testing.T) {
	for _, fn := range specs {
		for _, specific := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/specific=%v", fn.name, specific), func(t *testing.T) {
				h := newHarness(t, fn.newHandler, setup{emu: emulator.Options{SpecificEndedCodes: specific}})
				id, status, lookup := endedJobs[fn.name](h)
				code := cancel.CodeTaskEnded
				if fn.name == cancel.FunctionCancelLiveAudit {
					code = cancel.CodeJobEnded
				}
				r := h.http(req{body: fn.body(id), sign: true})
				r.want(t, http.StatusConflict, code)
				if !strings.Contains(r.Err.Error.Message, "status "+status) || r.Err.RequestId == scfRequestID {
					t.Errorf("409 body %s: want the observed status %s and Tencent's RequestId", r.Body, status)
				}
				if n := h.emu.Stats().Actions[lookup].Requests; n != 1 {
					t.Errorf("%s called %d times, want 1", lookup, n)
				}
				_, err := h.direct(fn.body(id))
				directErr(t, err, http.StatusConflict, code)
			})
		}
	}
}

// TestCancelWhoseAnswerWasLost: the first cancel reaches Tencent and cancels
// the job, but its answer is lost (a proxy answers 502 instead); the retry is
// refused with plain FailedOperation, and the lookup shows the job
// cancelled: 409 saying the earlier attempt most likely cancelled it.
func TestCancelWhoseAnswerWasLost(t *testing.T) {
	for _, fn := range specs {
		t.Run(fn.name, func(t *testing.T) {
			h := newHarness(t, fn.newHandler, setup{opts: cancel.Options{MaxAttempts: 3}})
			target, _ := url.Parse(h.url)
			var lost atomic.Bool
			rp := httputil.NewSingleHostReverseProxy(target)
			rp.ModifyResponse = func(resp *http.Response) error {
				r := resp.Request
				isCancel := strings.HasPrefix(r.URL.Path, "/video/cancel_auditing/") ||
					r.Header.Get("X-TC-Action") == "CancelTask" || r.Header.Get("X-TC-Action") == "DeleteCloudTranscription"
				if isCancel && lost.CompareAndSwap(false, true) {
					return fmt.Errorf("answer lost") // the proxy answers 502
				}
				return nil
			}
			rp.ErrorLog = log.New(io.Discard, "", 0)
			proxy := httptest.NewServer(rp)
			defer proxy.Close()
			for _, k := range []string{"JANITOR_AMS_ENDPOINT", "JANITOR_VM_ENDPOINT", "JANITOR_TRTC_ENDPOINT", "JANITOR_CI_ENDPOINT"} {
				h.env[k] = proxy.URL
			}
			id := fn.add(h)
			r := h.http(req{body: fn.body(id), sign: true})
			code := cancel.CodeTaskEnded
			if fn.name == cancel.FunctionCancelLiveAudit {
				code = cancel.CodeJobEnded
			}
			r.want(t, http.StatusConflict, code)
			if !strings.Contains(r.Err.Error.Message, "earlier attempt most likely cancelled it") ||
				!strings.Contains(r.Err.Error.Message, "status "+fn.ended) {
				t.Errorf("409 message %q: want the lost-answer explanation and status %s", r.Err.Error.Message, fn.ended)
			}
			if got := fn.state(h, id); got != fn.ended {
				t.Errorf("state %s, want %s", got, fn.ended)
			}
		})
	}
}

// TestRegionFromInvocation: with neither the request, JANITOR_TRTC_REGION nor
// TENCENTCLOUD_REGION naming a region, stop-transcription uses the
// invocation's TencentcloudRegion.
func TestRegionFromInvocation(t *testing.T) {
	h := newHarness(t, cancel.NewStopTranscription, setup{})
	h.env["TENCENTCLOUD_REGION"] = ""
	h.region = "ap-hongkong"
	id := h.emu.AddTranscription(emulator.Transcription{SdkAppId: sdkAppID, Region: "ap-hongkong", Status: "InProgress"}).TaskId
	out, err := h.direct(fmt.Sprintf(`{"TaskId":%q,"SdkAppId":%d}`, id, sdkAppID))
	if err != nil {
		t.Fatalf("direct: %v", err)
	}
	if m := asMap(t, out); m["TaskId"] != id {
		t.Errorf("result %v", m)
	}
	h.region = ""
	_, err = h.direct(fmt.Sprintf(`{"TaskId":%q,"SdkAppId":%d}`, id, sdkAppID))
	directErr(t, err, http.StatusBadRequest, cancel.CodeMissingParameter)
}

// TestUnsupportedRegionAnswer: a region our list accepts but Tencent does
// not serve is refused by Tencent (UnsupportedRegion): 400 with its message.
func TestUnsupportedRegionAnswer(t *testing.T) {
	h := newHarness(t, cancel.NewStopTranscription, setup{})
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"Response":{"Error":{"Code":"UnsupportedRegion","Message":"The current region does not support this action."},"RequestId":"rid-region"}}`)
	}))
	defer other.Close()
	h.env["JANITOR_TRTC_ENDPOINT"] = other.URL
	r := h.http(req{body: `{"TaskId":"t-1","SdkAppId":1400000000,"Region":"ap-shanghai"}`, sign: true})
	r.want(t, http.StatusBadRequest, "UnsupportedRegion")
	if !strings.Contains(r.Err.Error.Message, "The current region does not support this action.") || r.Err.RequestId != "rid-region" {
		t.Errorf("400 body %s: want Tencent's message and RequestId", r.Body)
	}
}

// TestStopOfVanishedTranscription: through the SDK against the emulator,
// with DescribeCloudTranscription answering as Tencent documents for a task
// that has exited ("only works while the task runs; after it exits a query
// returns an error", tccli trtc/v20190722/api.json; the code is not
// documented, so several are tried): the refused delete is answered 404
// "ended, or never existed" in the Tencent-shaped body, with the lookup's
// RequestId. A lookup error about the function's own credentials, or a
// transient InternalError, leaves the delete's error; a lookup that answers
// Exited gives 409 as before.
func TestStopOfVanishedTranscription(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer string // DescribeCloudTranscription's error code; "" = the emulator answers
		status int
		code   string
		words  []string
	}{
		{"ResourceNotFound", "ResourceNotFound", http.StatusNotFound, "ResourceNotFound", []string{"has ended, or never existed", "nothing to stop"}},
		{"FailedOperation", "FailedOperation", http.StatusNotFound, "ResourceNotFound", []string{"has ended, or never existed"}},
		{"InvalidParameter", "InvalidParameter", http.StatusNotFound, "ResourceNotFound", []string{"has ended, or never existed"}},
		{"lookup InternalError (an outage, not an answer)", "InternalError.CTInternalError", http.StatusBadGateway, "FailedOperation", []string{"retry later"}},
		{"lookup not permitted", "AuthFailure.UnauthorizedOperation", http.StatusBadGateway, "FailedOperation", []string{"retry later"}},
		{"lookup answers Exited", "", http.StatusConflict, cancel.CodeTaskEnded, []string{"status Exited"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, cancel.NewStopTranscription, setup{})
			id := h.emu.AddTranscription(emulator.Transcription{SdkAppId: sdkAppID, Region: "ap-guangzhou", Status: "Exited"}).TaskId
			target, _ := url.Parse(h.url)
			rp := httputil.NewSingleHostReverseProxy(target)
			var lookups atomic.Int32
			front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("X-TC-Action") != "DescribeCloudTranscription" || tc.answer == "" {
					rp.ServeHTTP(w, r)
					return
				}
				lookups.Add(1)
				w.Header().Set("Content-Type", "application/json")
				_, _ = fmt.Fprintf(w, `{"Response":{"Error":{"Code":%q,"Message":"the task is not running"},"RequestId":"rid-lookup-%d"}}`, tc.answer, lookups.Load())
			}))
			defer front.Close()
			h.env["JANITOR_TRTC_ENDPOINT"] = front.URL
			body := fmt.Sprintf(`{"TaskId":%q,"SdkAppId":%d,"Region":"ap-guangzhou"}`, id, sdkAppID)
			r := h.http(req{body: body, sign: true})
			r.want(t, tc.status, tc.code)
			for _, w := range tc.words {
				if !strings.Contains(r.Err.Error.Message, w) {
					t.Errorf("message %q does not say %q", r.Err.Error.Message, w)
				}
			}
			if tc.status == http.StatusNotFound {
				if !strings.HasPrefix(r.Err.RequestId, "rid-lookup-") {
					t.Errorf("RequestId %q, want the lookup's", r.Err.RequestId)
				}
				if strings.Contains(r.Err.Error.Message, "has no ") {
					t.Errorf("message %q says there is no such task", r.Err.Error.Message)
				}
			}
			_, err := h.direct(body)
			directErr(t, err, tc.status, tc.code)
		})
	}
}

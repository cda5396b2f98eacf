package tcapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func newTestModeration(t *testing.T, service string, opts Options) *Moderation {
	t.Helper()
	m, err := NewModeration(service, testCred, opts)
	if err != nil {
		t.Fatalf("NewModeration(%s): %v", service, err)
	}
	return m
}

func TestCancelTaskSuccess(t *testing.T) {
	for _, service := range []string{"ams", "vm"} {
		t.Run(service, func(t *testing.T) {
			srv := newAPIServer(t, func(n int, w http.ResponseWriter, r recorded) {
				writeOK(w, "req-cancel-1", nil)
			})
			m := newTestModeration(t, service, fastOptions(srv.URL))
			got, err := m.CancelTask(context.Background(), "task-123")
			if err != nil {
				t.Fatalf("CancelTask: %v", err)
			}
			if got.RequestId != "req-cancel-1" {
				t.Errorf("RequestId = %q, want req-cancel-1", got.RequestId)
			}
			reqs := srv.requests()
			if len(reqs) != 1 {
				t.Fatalf("server saw %d requests, want 1", len(reqs))
			}
			checkSigned(t, reqs[0], service, "2020-12-29", "CancelTask", "ap-guangzhou")
			if p := reqs[0].params(t); len(p) != 1 || p["TaskId"] != "task-123" {
				t.Errorf("request parameters = %v, want {TaskId: task-123}", p)
			}
			if m.Service() != service {
				t.Errorf("Service() = %q", m.Service())
			}
			if s := m.Stats(); s != (Stats{Attempts: 1}) {
				t.Errorf("Stats = %+v, want 1 attempt", s)
			}
		})
	}
}

func TestNoRegionHeaderWhenRegionEmpty(t *testing.T) {
	srv := newAPIServer(t, func(n int, w http.ResponseWriter, r recorded) { writeOK(w, "r", nil) })
	opts := fastOptions(srv.URL)
	opts.Region = ""
	m := newTestModeration(t, "ams", opts)
	if _, err := m.CancelTask(context.Background(), "t"); err != nil {
		t.Fatal(err)
	}
	r := srv.requests()[0]
	if _, ok := r.Header["X-Tc-Region"]; ok {
		t.Errorf("X-TC-Region sent (%q) although Region is empty", r.Header.Get("X-TC-Region"))
	}
	checkSigned(t, r, "ams", "2020-12-29", "CancelTask", "")
}

const describeAnswer = `{
  "Total": "382",
  "Data": [{
    "DataId": "d1", "TaskId": "task-1", "Name": "n1", "BizType": "live_audio", "Status": "RUNNING", "Type": "LIVE_AUDIO",
    "Suggestion": "Review",
    "Labels": [{"Label": "Porn", "Suggestion": "Review", "Score": 87, "SubLabel": "sexy"}],
    "MediaInfo": {"Codecs": "aac", "Duration": 15000, "Width": 0, "Height": 0, "Thumbnail": ""},
    "InputInfo": {"Type": "URL", "Url": "rtmp://example.com/live/1", "BucketInfo": null},
    "CreatedAt": "2024-10-23T08:41:07.947Z", "UpdatedAt": "2024-10-23T08:42:07.947Z"
  }],
  "PageToken": "next-page",
  "RequestId": "req-describe-1"
}`

func TestDescribeTasks(t *testing.T) {
	tests := []struct {
		service    string
		filter     *TaskFilter
		wantFilter string // JSON of the Filter parameter, "" = absent
	}{
		{"ams", &TaskFilter{BizTypes: []string{"live_audio"}, Type: "LIVE_AUDIO", TaskStatus: "RUNNING"}, `{"BizType":"live_audio","TaskStatus":"RUNNING","Type":"LIVE_AUDIO"}`},
		{"vm", &TaskFilter{BizTypes: []string{"a", "b"}, Suggestion: "Block"}, `{"BizType":["a","b"],"Suggestion":"Block"}`},
		{"vm", &TaskFilter{BizTypes: []string{"a"}}, `{"BizType":["a"]}`},
		{"ams", &TaskFilter{}, ""},
		{"vm", nil, ""},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprintf("%d-%s", i, tt.service), func(t *testing.T) {
			srv := newAPIServer(t, func(n int, w http.ResponseWriter, r recorded) { writeRaw(w, describeAnswer) })
			m := newTestModeration(t, tt.service, fastOptions(srv.URL))
			got, err := m.DescribeTasks(context.Background(), DescribeTasksRequest{
				Limit: 50, Filter: tt.filter, PageToken: "tok", StartTime: "2024-10-20T00:00:00Z", EndTime: "2024-10-24T00:00:00Z",
			})
			if err != nil {
				t.Fatalf("DescribeTasks: %v", err)
			}
			r := srv.requests()[0]
			checkSigned(t, r, tt.service, "2020-12-29", "DescribeTasks", "ap-guangzhou")
			p := r.params(t)
			if p["Limit"] != float64(50) || p["PageToken"] != "tok" || p["StartTime"] != "2024-10-20T00:00:00Z" || p["EndTime"] != "2024-10-24T00:00:00Z" {
				t.Errorf("parameters = %v", p)
			}
			f, ok := p["Filter"]
			switch {
			case tt.wantFilter == "" && ok:
				t.Errorf("Filter sent: %v, want none", f)
			case tt.wantFilter != "":
				b, _ := json.Marshal(f)
				if string(b) != tt.wantFilter {
					t.Errorf("Filter = %s, want %s", b, tt.wantFilter)
				}
			}
			if got.Total != "382" || got.PageToken != "next-page" || got.RequestId != "req-describe-1" || len(got.Data) != 1 {
				t.Fatalf("answer = %+v", got)
			}
			d := got.Data[0]
			want := TaskData{DataId: "d1", TaskId: "task-1", Name: "n1", BizType: "live_audio", Status: "RUNNING", Type: "LIVE_AUDIO",
				Suggestion: "Review", Labels: []TaskLabel{{Label: "Porn", Suggestion: "Review", Score: 87, SubLabel: "sexy"}},
				MediaInfo: &MediaInfo{Codecs: "aac", Duration: 15000}, InputInfo: &InputInfo{Type: "URL", Url: "rtmp://example.com/live/1"},
				CreatedAt: "2024-10-23T08:41:07.947Z", UpdatedAt: "2024-10-23T08:42:07.947Z"}
			if diff := cmp.Diff(want, d); diff != "" {
				t.Errorf("TaskData (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDescribeTaskSummaries(t *testing.T) {
	srv := newAPIServer(t, func(n int, w http.ResponseWriter, r recorded) { writeRaw(w, describeAnswer) })
	m := newTestModeration(t, "ams", fastOptions(srv.URL))
	req := DescribeTasksRequest{Limit: 50, Filter: &TaskFilter{BizTypes: []string{"live_audio"}, TaskStatus: "RUNNING"},
		PageToken: "tok", StartTime: "2024-10-20T00:00:00Z", EndTime: "2024-10-24T00:00:00Z"}
	got, err := m.DescribeTaskSummaries(context.Background(), req)
	if err != nil {
		t.Fatalf("DescribeTaskSummaries: %v", err)
	}
	full, err := m.DescribeTasks(context.Background(), req)
	if err != nil {
		t.Fatalf("DescribeTasks: %v", err)
	}
	reqs := srv.requests()
	checkSigned(t, reqs[0], "ams", "2020-12-29", "DescribeTasks", "ap-guangzhou")
	if string(reqs[0].Body) != string(reqs[1].Body) {
		t.Errorf("DescribeTaskSummaries sent %s, DescribeTasks %s: want the same request", reqs[0].Body, reqs[1].Body)
	}
	want := DescribeTaskSummariesResponse{Total: "382", PageToken: "next-page", RequestId: "req-describe-1", Data: []TaskSummary{{
		DataId: "d1", TaskId: "task-1", BizType: "live_audio", Status: "RUNNING", Type: "LIVE_AUDIO", CreatedAt: "2024-10-23T08:41:07.947Z"}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("answer (-want +got):\n%s", diff)
	}
	d := full.Data[0]
	if s := got.Data[0]; s != (TaskSummary{d.DataId, d.TaskId, d.BizType, d.Status, d.Type, d.CreatedAt}) {
		t.Errorf("summary %+v does not match the full task %+v", s, d)
	}
	if _, err := m.DescribeTaskSummaries(context.Background(), DescribeTasksRequest{Limit: -1}); !HasCode(err, "InvalidParameterValue") {
		t.Errorf("Limit -1: err = %v, want InvalidParameterValue before calling", err)
	}
	if srv.count() != 2 {
		t.Errorf("server saw %d requests, want 2", srv.count())
	}
}

func TestDescribeTasksTotalForms(t *testing.T) {
	tests := []struct{ raw, want string }{
		{`"382"`, "382"},
		{`382`, "382"},
		{`18446744073709551615`, "18446744073709551615"}, // beyond float64 precision: must survive digit for digit
		{`null`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			srv := newAPIServer(t, func(n int, w http.ResponseWriter, r recorded) {
				writeRaw(w, `{"Total":`+tt.raw+`,"Data":[],"PageToken":"","RequestId":"r"}`)
			})
			m := newTestModeration(t, "ams", fastOptions(srv.URL))
			got, err := m.DescribeTasks(context.Background(), DescribeTasksRequest{})
			if err != nil {
				t.Fatal(err)
			}
			if got.Total != tt.want {
				t.Errorf("Total = %q, want %q", got.Total, tt.want)
			}
		})
	}
}

func TestDescribeTasksRejectsBadInputBeforeCalling(t *testing.T) {
	srv := newAPIServer(t, func(n int, w http.ResponseWriter, r recorded) { writeRaw(w, describeAnswer) })
	m := newTestModeration(t, "ams", fastOptions(srv.URL))
	_, err := m.DescribeTasks(context.Background(), DescribeTasksRequest{Filter: &TaskFilter{BizTypes: []string{"a", "b"}}})
	if !HasCode(err, "InvalidParameterValue") || !strings.Contains(err.Error(), "one BizType") {
		t.Errorf("two BizTypes on ams: err = %v, want InvalidParameterValue about one BizType", err)
	}
	_, err = m.DescribeTasks(context.Background(), DescribeTasksRequest{Limit: -1})
	if !HasCode(err, "InvalidParameterValue") {
		t.Errorf("Limit -1: err = %v", err)
	}
	_, err = m.CancelTask(context.Background(), " ")
	if !HasCode(err, "MissingParameter") {
		t.Errorf("empty TaskId: err = %v", err)
	}
	if n := srv.count(); n != 0 {
		t.Errorf("server saw %d requests, want 0", n)
	}
}

// TestErrorClasses checks, for each kind of failure, the *Error fields and
// how many requests the server saw (MaxAttempts 3).
func TestErrorClasses(t *testing.T) {
	tests := []struct {
		name          string
		respond       func(t *testing.T, w http.ResponseWriter)
		wantCode      string
		wantStatus    int
		wantRetryable bool
		wantRequests  int
		wantInMessage string
	}{
		{"ResourceNotFound", func(t *testing.T, w http.ResponseWriter) {
			writeErr(w, 200, "ResourceNotFound", "task not found", "rid-1")
		}, "ResourceNotFound", 200, false, 1, "task not found"},
		{"AuthFailure", func(t *testing.T, w http.ResponseWriter) {
			writeErr(w, 200, "AuthFailure.SignatureFailure", "The provided credentials could not be validated.", "rid-1")
		}, "AuthFailure.SignatureFailure", 200, false, 1, "could not be validated"},
		{"InvalidParameter", func(t *testing.T, w http.ResponseWriter) {
			writeErr(w, 200, "InvalidParameter", "bad TaskId", "rid-1")
		}, "InvalidParameter", 200, false, 1, "bad TaskId"},
		{"MissingParameter", func(t *testing.T, w http.ResponseWriter) {
			writeErr(w, 200, "MissingParameter", "TaskId missing", "rid-1")
		}, "MissingParameter", 200, false, 1, "TaskId missing"},
		{"FailedOperation", func(t *testing.T, w http.ResponseWriter) {
			writeErr(w, 200, "FailedOperation.TaskEnded", "task already finished", "rid-1")
		}, "FailedOperation.TaskEnded", 200, false, 1, "already finished"},
		{"InternalError", func(t *testing.T, w http.ResponseWriter) {
			writeErr(w, 200, "InternalError", "oops", "rid-1")
		}, "InternalError", 200, true, 3, "oops"},
		{"InternalError with HTTP 500", func(t *testing.T, w http.ResponseWriter) {
			writeErr(w, 500, "InternalError.CTInternalError", "oops", "rid-1")
		}, "InternalError.CTInternalError", 500, true, 3, "oops"},
		{"ResourceUnavailable", func(t *testing.T, w http.ResponseWriter) {
			writeErr(w, 200, "ResourceUnavailable", "busy", "rid-1")
		}, "ResourceUnavailable", 200, true, 3, "busy"},
		{"RequestLimitExceeded", func(t *testing.T, w http.ResponseWriter) {
			writeErr(w, 200, "RequestLimitExceeded", "too fast", "rid-1")
		}, "RequestLimitExceeded", 200, true, 3, "too fast"},
		{"502 HTML", func(t *testing.T, w http.ResponseWriter) { writeBadGateway(w) },
			"BadGateway", 502, true, 3, "HTTP 502 Bad Gateway with a body that is not a Tencent Cloud API answer: 502 Bad Gateway 502 Bad Gateway nginx"},
		{"200 non-JSON", func(t *testing.T, w http.ResponseWriter) { _, _ = w.Write([]byte("hello")) },
			"BadGateway", 200, true, 3, "hello"},
		{"404 HTML", func(t *testing.T, w http.ResponseWriter) { http.NotFound(w, nil) },
			"HTTPError", 404, false, 1, "is the endpoint right?"},
		{"429 without Tencent body", func(t *testing.T, w http.ResponseWriter) {
			w.WriteHeader(429)
			_, _ = w.Write([]byte(`{"message":"slow down"}`))
		}, "RequestLimitExceeded", 429, true, 3, "slow down"},
		{"connection reset", func(t *testing.T, w http.ResponseWriter) { resetConn(t, w) },
			"NetworkError", 0, true, 3, "Post"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newAPIServer(t, func(n int, w http.ResponseWriter, r recorded) { tt.respond(t, w) })
			m := newTestModeration(t, "ams", fastOptions(srv.URL))
			_, err := m.CancelTask(context.Background(), "task-1")
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v (%T), want *Error", err, err)
			}
			if e.Code != tt.wantCode || e.HTTPStatus != tt.wantStatus || e.Retryable != tt.wantRetryable {
				t.Errorf("Code, HTTPStatus, Retryable = %q, %d, %v; want %q, %d, %v", e.Code, e.HTTPStatus, e.Retryable, tt.wantCode, tt.wantStatus, tt.wantRetryable)
			}
			if e.Service != "ams" || e.Action != "CancelTask" || e.Attempts != tt.wantRequests {
				t.Errorf("Service, Action, Attempts = %q, %q, %d", e.Service, e.Action, e.Attempts)
			}
			if got := srv.count(); got != tt.wantRequests {
				t.Errorf("server saw %d requests, want %d", got, tt.wantRequests)
			}
			if !strings.Contains(e.Error(), tt.wantInMessage) {
				t.Errorf("Error() = %q, want it to contain %q", e.Error(), tt.wantInMessage)
			}
			if strings.Contains(e.Error(), "<") || strings.Contains(e.Error(), "\n") || len(e.Error()) > 400 {
				t.Errorf("Error() is not short single-line text: %q", e.Error())
			}
			if e.RequestID == "rid-1" && !strings.HasSuffix(e.Error(), "(RequestId rid-1)") {
				t.Errorf("Error() = %q, want the RequestId at the end", e.Error())
			}
			if !strings.HasPrefix(e.Error(), "ams CancelTask: "+tt.wantCode) {
				t.Errorf("Error() = %q, want prefix %q", e.Error(), "ams CancelTask: "+tt.wantCode)
			}
			if s := m.Stats(); s.Attempts != int64(tt.wantRequests) || s.Retries != int64(tt.wantRequests-1) {
				t.Errorf("Stats = %+v", s)
			}
		})
	}
}

func TestRetriedThenSucceeds(t *testing.T) {
	tests := []struct {
		name          string
		fail          func(t *testing.T, w http.ResponseWriter)
		wantThrottled int64
	}{
		{"RequestLimitExceeded", func(t *testing.T, w http.ResponseWriter) { writeErr(w, 200, "RequestLimitExceeded", "slow", "r") }, 2},
		{"InternalError", func(t *testing.T, w http.ResponseWriter) { writeErr(w, 200, "InternalError", "x", "r") }, 0},
		{"502 HTML", func(t *testing.T, w http.ResponseWriter) { writeBadGateway(w) }, 0},
		{"connection reset", func(t *testing.T, w http.ResponseWriter) { resetConn(t, w) }, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newAPIServer(t, func(n int, w http.ResponseWriter, r recorded) {
				if n <= 2 {
					tt.fail(t, w)
					return
				}
				writeOK(w, "req-ok", nil)
			})
			opts := fastOptions(srv.URL)
			opts.MaxAttempts = 4
			m := newTestModeration(t, "ams", opts)
			got, err := m.CancelTask(context.Background(), "task-1")
			if err != nil {
				t.Fatalf("CancelTask: %v", err)
			}
			if got.RequestId != "req-ok" {
				t.Errorf("RequestId = %q", got.RequestId)
			}
			if want := (Stats{Attempts: 3, Retries: 2, Throttled: tt.wantThrottled}); m.Stats() != want {
				t.Errorf("Stats = %+v, want %+v", m.Stats(), want)
			}
			for i, r := range srv.requests() {
				if r.Header.Get("X-TC-Action") != "CancelTask" || string(r.Body) != `{"TaskId":"task-1"}` {
					t.Errorf("request %d: action %q body %s", i, r.Header.Get("X-TC-Action"), r.Body)
				}
			}
		})
	}
}

func TestRetriesStopAtDeadline(t *testing.T) {
	tests := []struct {
		name        string
		delay       time.Duration // every backoff wait (jitter pinned near 1)
		budget      time.Duration
		minRequests int
		maxRequests int
		maxElapsed  time.Duration
	}{
		// The first wait (1m) would pass the deadline (1s): return the error
		// at once, long before the deadline.
		{"wait longer than budget", time.Minute, time.Second, 1, 1, 900 * time.Millisecond},
		// Waits fit: retry while the next wait ends before the deadline,
		// then stop without starting one that would pass it. The durations
		// are long next to a loaded machine's scheduling delays, and the
		// checks are relative to when the server saw each request (see
		// below), so they hold however slow the machine: a second request
		// comes after a full wait when the first answer came within 900 ms,
		// and the call gives up before the deadline, as soon as the next
		// wait would pass it, when the second answer came within 900 ms.
		{"waits fit", time.Second, 1900 * time.Millisecond, 1, 2, 1900*time.Millisecond - time.Nanosecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newAPIServer(t, func(n int, w http.ResponseWriter, r recorded) {
				writeErr(w, 200, "InternalError", "always failing", "rid-x")
			})
			opts := fastOptions(srv.URL)
			opts.MaxAttempts = 1000
			opts.BaseDelay, opts.MaxDelay = tt.delay, tt.delay
			opts.Rand = func() float64 { return 0.999 }
			m := newTestModeration(t, "ams", opts)

			ctx, cancel := context.WithTimeout(context.Background(), tt.budget)
			defer cancel()
			start := time.Now()
			_, err := m.CancelTask(ctx, "task-1")
			elapsed := time.Since(start)

			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("err = %v, want errors.Is(err, context.DeadlineExceeded)", err)
			}
			// Either the loop gave up before a wait (the last answer's code is
			// kept) or the deadline cut an attempt in flight (Code
			// DeadlineExceeded); both report the last server answer.
			var e *Error
			if !errors.As(err, &e) || (e.Code != "InternalError" && e.Code != CodeDeadlineExceeded) ||
				!strings.Contains(e.Error(), "InternalError: always failing") || e.RequestID != "rid-x" {
				t.Errorf("err = %#v, want the last server error (InternalError, RequestId rid-x) reported", err)
			}
			if tt.maxElapsed > 0 && elapsed > tt.maxElapsed {
				t.Errorf("returned after %v, want at most %v (no sleeping past the %v deadline)", elapsed, tt.maxElapsed, tt.budget)
			}
			reqs := srv.requests()
			for i := 1; i < len(reqs); i++ {
				if gap := reqs[i].At.Sub(reqs[i-1].At); gap < tt.delay*99/100 { // the jitter is pinned at 0.999
					t.Errorf("request %d came %v after the previous one, want at least the %v wait", i+1, gap, tt.delay)
				}
			}
			if len(reqs) > 0 {
				if last := reqs[len(reqs)-1].At; !start.Add(elapsed).Before(last.Add(tt.delay)) {
					t.Errorf("returned %v after the last request, want before another %v wait could end (no wait past the deadline)", start.Add(elapsed).Sub(last), tt.delay)
				}
			}
			if n := srv.count(); n < tt.minRequests || n > tt.maxRequests || e == nil || (e.Attempts != n && e.Attempts != n+1) {
				t.Errorf("server saw %d requests (error says %v), want %d-%d", n, e, tt.minRequests, tt.maxRequests)
			}
			if !strings.Contains(err.Error(), "after") || !strings.HasSuffix(err.Error(), "(RequestId rid-x)") {
				t.Errorf("Error() = %q", err)
			}
		})
	}
}

func TestDeadlineDuringSlowRequest(t *testing.T) {
	release := make(chan struct{})
	srv := newAPIServer(t, func(n int, w http.ResponseWriter, r recorded) {
		<-release
		writeOK(w, "late", nil)
	})
	defer close(release)
	m := newTestModeration(t, "ams", fastOptions(srv.URL))
	// The deadline passes once the request is in flight (the server holds
	// it): no timing to miss on a slow machine.
	ctx := newManualDeadline(time.Now().Add(time.Hour))
	go func() {
		for srv.count() == 0 {
			time.Sleep(time.Millisecond)
		}
		ctx.expire()
	}()
	start := time.Now()
	_, err := m.CancelTask(ctx, "task-1")
	elapsed := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) || !HasCode(err, CodeDeadlineExceeded) {
		t.Fatalf("err = %v, want Code DeadlineExceeded and errors.Is(err, context.DeadlineExceeded)", err)
	}
	if elapsed > time.Minute {
		t.Errorf("returned after %v: want it to return when the deadline passes, not when the server answers (never, here)", elapsed)
	}
	if n := srv.count(); n != 1 {
		t.Errorf("server saw %d requests, want 1 (no retry once the caller's deadline passed)", n)
	}
}

// manualDeadline is a context whose deadline passes when expire is called.
type manualDeadline struct {
	context.Context
	at   time.Time
	done chan struct{}
	once sync.Once
}

func newManualDeadline(at time.Time) *manualDeadline {
	return &manualDeadline{Context: context.Background(), at: at, done: make(chan struct{})}
}

func (c *manualDeadline) expire()                     { c.once.Do(func() { close(c.done) }) }
func (c *manualDeadline) Deadline() (time.Time, bool) { return c.at, true }
func (c *manualDeadline) Done() <-chan struct{}       { return c.done }
func (c *manualDeadline) Err() error {
	select {
	case <-c.done:
		return context.DeadlineExceeded
	default:
		return nil
	}
}

func TestCanceledContext(t *testing.T) {
	srv := newAPIServer(t, func(n int, w http.ResponseWriter, r recorded) { writeOK(w, "r", nil) })
	m := newTestModeration(t, "ams", fastOptions(srv.URL))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := m.CancelTask(ctx, "task-1")
	if !errors.Is(err, context.Canceled) || !HasCode(err, CodeCanceled) {
		t.Fatalf("err = %v, want Code Canceled wrapping context.Canceled", err)
	}
	if n := srv.count(); n != 0 {
		t.Errorf("server saw %d requests, want 0", n)
	}
}

func TestPerRequestTimeoutIsRetried(t *testing.T) {
	release := make(chan struct{})
	srv := newAPIServer(t, func(n int, w http.ResponseWriter, r recorded) {
		if n == 1 {
			<-release
		}
		writeOK(w, "second", nil)
	})
	defer close(release)
	opts := fastOptions(srv.URL)
	opts.Timeout = 50 * time.Millisecond
	m := newTestModeration(t, "ams", opts)
	got, err := m.CancelTask(context.Background(), "task-1")
	if err != nil || got.RequestId != "second" {
		t.Fatalf("CancelTask = %+v, %v; want the second attempt's answer", got, err)
	}
}

func TestLimiterSpacesBurst(t *testing.T) {
	srv := newAPIServer(t, func(n int, w http.ResponseWriter, r recorded) { writeOK(w, "r", nil) })
	const (
		perSecond = 400.0
		burst     = 2
		calls     = 22
	)
	opts := fastOptions(srv.URL)
	opts.Limiters = NewLimiters(perSecond, burst)
	m := newTestModeration(t, "ams", opts)

	start := time.Now()
	var wg sync.WaitGroup
	for range calls {
		wg.Go(func() {
			if _, err := m.CancelTask(context.Background(), "t"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	// burst requests go at once, the other calls-burst wait 1/perSecond each.
	minElapsed := time.Duration(float64(calls-burst) / perSecond * float64(time.Second))
	if elapsed < minElapsed*9/10 {
		t.Errorf("%d calls took %v, want at least %v at %v/s burst %d", calls, elapsed, minElapsed, perSecond, burst)
	}
	// The limiter grants at most burst + perSecond*t requests in the first t:
	// check every arrival against that bound (scheduling delays only make
	// arrivals later, so this cannot fail spuriously on a loaded machine).
	reqs := srv.requests()
	for i, r := range reqs {
		allowed := float64(burst) + perSecond*r.At.Sub(start).Seconds()
		if float64(i+1) > allowed+0.5 {
			t.Errorf("request %d arrived %v after the start, but only %.1f are allowed by then at %v/s burst %d", i+1, r.At.Sub(start), allowed, perSecond, burst)
		}
	}
}

func TestLimitersPerAction(t *testing.T) {
	l := NewLimiters(0.2, 1) // one request per 5 seconds per action
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := l.Wait(ctx, "ams", "CancelTask"); err != nil {
		t.Fatalf("first wait: %v", err)
	}
	if err := l.Wait(ctx, "ams", "DescribeTasks"); err != nil {
		t.Errorf("another action must have its own token: %v", err)
	}
	if err := l.Wait(ctx, "vm", "CancelTask"); err != nil {
		t.Errorf("another service must have its own token: %v", err)
	}
	start := time.Now()
	if err := l.Wait(ctx, "ams", "CancelTask"); err == nil {
		t.Errorf("second ams CancelTask within 1s at 0.2/s: want an error (would pass the deadline)")
	}
	if time.Since(start) > 500*time.Millisecond {
		t.Errorf("Wait slept although the wait could not fit before the deadline")
	}
	if d := NewLimiters(0, 0); d.PerSecond() != DefaultRate || d.Burst() != 1 {
		t.Errorf("defaults = %v/s burst %d, want 20/s burst 1", d.PerSecond(), d.Burst())
	}
}

func TestLimiterWaitPastDeadlineReportsDeadline(t *testing.T) {
	srv := newAPIServer(t, func(n int, w http.ResponseWriter, r recorded) { writeOK(w, "r", nil) })
	opts := fastOptions(srv.URL)
	opts.Limiters = NewLimiters(0.2, 1)
	m := newTestModeration(t, "ams", opts)
	if _, err := m.CancelTask(context.Background(), "a"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	_, err := m.CancelTask(ctx, "b")
	if !errors.Is(err, context.DeadlineExceeded) || !HasCode(err, CodeDeadlineExceeded) || !strings.Contains(err.Error(), "rate limiter") {
		t.Errorf("err = %v, want DeadlineExceeded about the rate limiter", err)
	}
	if time.Since(start) > 500*time.Millisecond {
		t.Errorf("waited %v, want an immediate answer", time.Since(start))
	}
	if srv.count() != 1 {
		t.Errorf("server saw %d requests, want 1", srv.count())
	}
}

func TestSecretsNeverInErrorsOrLogs(t *testing.T) {
	// A hostile or buggy server echoes everything it got, including the token
	// and the Authorization header, back in its error message.
	srv := newAPIServer(t, func(n int, w http.ResponseWriter, r recorded) {
		msg := "got token " + r.Header.Get("X-TC-Token") + " auth " + r.Header.Get("Authorization") + " key " + testCred.SecretKey
		switch n % 3 {
		case 1:
			writeErr(w, 200, "AuthFailure.TokenFailure", msg, "rid")
		case 2:
			w.WriteHeader(502)
			_, _ = w.Write([]byte("<html>" + msg + "</html>"))
		default:
			w.WriteHeader(404)
			_, _ = w.Write([]byte(msg))
		}
	})
	opts := fastOptions(srv.URL)
	opts.MaxAttempts = 1
	m := newTestModeration(t, "ams", opts)
	var logBuf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logBuf, nil))
	for i := 0; i < 3; i++ {
		_, err := m.CancelTask(context.Background(), "t")
		if err == nil {
			t.Fatal("want an error")
		}
		logger.Error("cancel failed", "err", err, "cred", testCred)
		for _, s := range []string{err.Error(), fmt.Sprintf("%v %+v %#v", err, err, err)} {
			for _, secret := range []string{testCred.SecretKey, testCred.Token} {
				if strings.Contains(s, secret) {
					t.Errorf("error text contains a secret: %s", s)
				}
			}
		}
	}
	printed := fmt.Sprintf("%v %+v %#v %s %q", testCred, testCred, testCred, testCred, testCred) + testCred.String() + testCred.GoString() + logBuf.String()
	for _, secret := range []string{testCred.SecretKey, testCred.Token} {
		if strings.Contains(printed, secret) {
			t.Errorf("printed credentials or log contain a secret: %s", printed)
		}
	}
	if !strings.Contains(printed, testCred.SecretID) || !strings.Contains(printed, "[redacted]") {
		t.Errorf("printed credentials should show the SecretID and [redacted]: %s", printed)
	}
}

func TestEndpointParsing(t *testing.T) {
	tests := []struct {
		endpoint, wantScheme, wantHost, wantErr string
	}{
		{"", "HTTPS", "ams.tencentcloudapi.com", ""},
		{"http://127.0.0.1:9100", "HTTP", "127.0.0.1:9100", ""},
		{"http://127.0.0.1:9100/", "HTTP", "127.0.0.1:9100", ""},
		{"https://ams.ap-guangzhou.tencentcloudapi.com", "HTTPS", "ams.ap-guangzhou.tencentcloudapi.com", ""},
		{"127.0.0.1:9100", "", "", "no scheme (http:// or https://)"},
		{"ftp://host", "", "", "scheme must be http or https"},
		{"http://", "", "", "no host"},
		{"http://host/prefix", "", "", "a path is not supported"},
		{"http://host/?a=b", "", "", "query"},
		{"http://user:pw@host", "", "", `"http://host": credentials in the URL`},
		{"http://admin@host", "", "", `"http://host": credentials in the URL`},
		{"http://user:p%zz@host", "", "", `"http://host": not a URL`},
		{"http://host/?sig=abc#x", "", "", `"http://host/": a query or fragment`},
		{"http://host:abc", "", "", "not a URL"},
		{"http://[::1", "", "", "not a URL"},
	}
	for _, tt := range tests {
		t.Run(tt.endpoint, func(t *testing.T) {
			scheme, host, err := parseEndpoint(tt.endpoint, "ams.tencentcloudapi.com", "ams")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "http://127.0.0.1:9100") {
					t.Errorf("err = %v, want one mentioning %q and an example", err, tt.wantErr)
				}
				if _, err := NewModeration("ams", testCred, Options{Endpoint: tt.endpoint}); err == nil {
					t.Errorf("NewModeration accepted endpoint %q", tt.endpoint)
				}
				return
			}
			if err != nil || scheme != tt.wantScheme || host != tt.wantHost {
				t.Errorf("= %q, %q, %v; want %q, %q", scheme, host, err, tt.wantScheme, tt.wantHost)
			}
		})
	}
}

func TestNewClientValidation(t *testing.T) {
	tests := []struct {
		name    string
		service string
		cred    Credentials
		opts    Options
		wantErr string
	}{
		{"no credentials", "ams", Credentials{}, Options{}, "TENCENTCLOUD_SECRETID"},
		{"no key", "ams", Credentials{SecretID: "id"}, Options{}, "TENCENTCLOUD_SECRETKEY"},
		{"no id", "ams", Credentials{SecretKey: "k"}, Options{}, "TENCENTCLOUD_SECRETID"},
		{"bad service", "cvm", testCred, Options{}, "want ams (audio) or vm (video)"},
		{"negative attempts", "ams", testCred, Options{MaxAttempts: -1}, "MaxAttempts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewModeration(tt.service, tt.cred, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestBackoffFullJitter(t *testing.T) {
	p, err := newPolicy("ams", nil, 0, 100*time.Millisecond, 2*time.Second, 0, func() float64 { return 0.5 })
	if err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond, time.Second, time.Second}
	for i, w := range want {
		if got := p.backoff(i + 1); got != w {
			t.Errorf("backoff(%d) = %v, want %v", i+1, got, w)
		}
	}
	if got := p.backoff(200); got != time.Second {
		t.Errorf("backoff(200) = %v, want the 2s cap * 0.5", got)
	}
	p.rand = func() float64 { return 0 }
	if got := p.backoff(3); got != 0 {
		t.Errorf("jitter 0: backoff = %v, want 0", got)
	}
}

func TestHasCode(t *testing.T) {
	err := fmt.Errorf("cancel task t: %w", &Error{Code: "AuthFailure.SignatureExpire"})
	if !HasCode(err, "AuthFailure") || !HasCode(err, "Nope", "AuthFailure.SignatureExpire") {
		t.Error("HasCode should match the prefix and the full code through wrapping")
	}
	if HasCode(err, "Auth") || HasCode(errors.New("x"), "AuthFailure") || HasCode(nil, "AuthFailure") {
		t.Error("HasCode matched a partial segment or a non-*Error")
	}
}

package emulator

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// benchHandler serves pre-signed copies of one request straight into the
// handler (no network).
func benchRequest(b *testing.B, e *env, rr rawRequest) func() *http.Request {
	b.Helper()
	tmpl := e.build(b, rr)
	body := []byte(rr.body)
	return func() *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		r.Host = tmpl.Host
		r.Header = tmpl.Header
		return r
	}
}

func BenchmarkDescribeTasks(b *testing.B) {
	for _, n := range []int{1_000, 10_000} {
		b.Run(fmt.Sprintf("tasks=%d/limit=100", n), func(b *testing.B) {
			e := newEnv(b, Options{Rate: -1})
			for i := 0; i < n; i++ {
				e.srv.AddTask(Task{Status: StatusRunning, Stuck: true, BizType: "b", CreatedAt: e.clock.Now().Add(-time.Duration(i) * time.Second)})
			}
			next := benchRequest(b, e, rawRequest{service: "ams", action: "DescribeTasks", body: `{"Limit":100,"Filter":{"TaskStatus":"RUNNING"}}`})
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				w := httptest.NewRecorder()
				e.srv.ServeHTTP(w, next())
				if w.Code != 200 {
					b.Fatal(w.Body.String())
				}
			}
		})
	}
}

func BenchmarkCancelTaskNotFound(b *testing.B) {
	e := newEnv(b, Options{Rate: -1})
	for i := 0; i < 10_000; i++ {
		e.srv.AddTask(Task{Status: StatusRunning})
	}
	next := benchRequest(b, e, rawRequest{service: "vm", action: "CancelTask", body: `{"TaskId":"vt-missing"}`})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w := httptest.NewRecorder()
		e.srv.ServeHTTP(w, next())
	}
}

func BenchmarkSDKRoundTrip(b *testing.B) {
	e := newEnv(b, Options{Rate: -1})
	for i := 0; i < 100; i++ {
		e.srv.AddTask(Task{Status: StatusRunning, Stuck: true})
	}
	c := e.sdk(b, "", nil)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		mustCall(b, c, "ams", "DescribeTasks", map[string]any{"Limit": 10}, nil)
	}
}

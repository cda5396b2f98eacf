package tcapi

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"testing"
)

// BenchmarkCancelTask measures one signed CancelTask round trip through the
// SDK, the capture transport and the retry policy against a local server.
func BenchmarkCancelTask(b *testing.B) {
	srv := newAPIServer(b, func(n int, w http.ResponseWriter, r recorded) { writeOK(w, "r", nil) })
	m := benchModeration(b, srv.URL)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.CancelTask(ctx, "task-1"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDescribeTasks decodes a 100-task page, sent with its length (as
// Tencent's gateway and the emulator do) or chunked.
func BenchmarkDescribeTasks(b *testing.B) {
	page := `{"Response":{"Total":"100","Data":[`
	for i := range 100 {
		if i > 0 {
			page += ","
		}
		page += `{"DataId":"d","TaskId":"task","Name":"n","BizType":"b","Status":"RUNNING","Type":"LIVE_AUDIO","Labels":[{"Label":"Normal","Score":0}],"MediaInfo":{"Codecs":"aac","Duration":15000},"InputInfo":{"Type":"URL","Url":"rtmp://x/live/1"},"CreatedAt":"2024-10-23T08:41:07.947Z","UpdatedAt":"2024-10-23T08:41:07.947Z"}`
	}
	page += `],"PageToken":"next","RequestId":"r"}}`
	for _, chunked := range []bool{false, true} {
		name := "content-length"
		if chunked {
			name = "chunked"
		}
		b.Run(name, func(b *testing.B) {
			srv := newAPIServer(b, func(n int, w http.ResponseWriter, r recorded) {
				w.Header().Set("Content-Type", "application/json")
				if !chunked {
					w.Header().Set("Content-Length", strconv.Itoa(len(page)))
				}
				_, _ = io.WriteString(w, page)
			})
			m := benchModeration(b, srv.URL)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				resp, err := m.DescribeTasks(ctx, DescribeTasksRequest{Limit: 100})
				if err != nil {
					b.Fatal(err)
				}
				if len(resp.Data) != 100 {
					b.Fatalf("decoded %d tasks, want 100", len(resp.Data))
				}
			}
		})
	}
}

// benchModeration is an ams client of endpoint whose limiter never waits.
func benchModeration(b *testing.B, endpoint string) *Moderation {
	b.Helper()
	opts := fastOptions(endpoint)
	opts.Limiters = NewLimiters(1e9, 1000)
	m, err := NewModeration("ams", testCred, opts)
	if err != nil {
		b.Fatal(err)
	}
	return m
}

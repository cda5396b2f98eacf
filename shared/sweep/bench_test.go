package sweep

import (
	"context"
	"fmt"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

// pagedFake serves n stale RUNNING tasks built on the fly (it stores nothing
// per task, so the heap measured is the sweeper's) and cancels instantly.
type pagedFake struct {
	n       int
	created string
	// onCancel, when set, is called after each cancel with the number of
	// cancels so far (from the sweeper's workers, concurrently).
	onCancel func(cancels int64)
	cancels  atomic.Int64
}

func (f *pagedFake) DescribeTaskSummaries(_ context.Context, req tcapi.DescribeTasksRequest) (tcapi.DescribeTaskSummariesResponse, error) {
	if req.Filter == nil || req.Filter.TaskStatus != "RUNNING" || req.PageToken == "end" {
		return tcapi.DescribeTaskSummariesResponse{}, nil
	}
	pos, _ := strconv.Atoi(req.PageToken)
	data := make([]tcapi.TaskSummary, 0, req.Limit)
	for i := pos; i < f.n && len(data) < req.Limit; i++ {
		data = append(data, tcapi.TaskSummary{TaskId: "task-" + strconv.Itoa(i), DataId: "data-" + strconv.Itoa(i),
			Status: "RUNNING", Type: "LIVE_AUDIO", CreatedAt: f.created})
	}
	tok := ""
	if pos+len(data) < f.n {
		tok = strconv.Itoa(pos + len(data))
	}
	return tcapi.DescribeTaskSummariesResponse{Data: data, PageToken: tok}, nil
}

func (f *pagedFake) CancelTask(context.Context, string) (tcapi.CancelTaskResponse, error) {
	if n := f.cancels.Add(1); f.onCancel != nil {
		f.onCancel(n)
	}
	return tcapi.CancelTaskResponse{RequestId: "r"}, nil
}

// BenchmarkSweepHeap reports the live heap (what a forced GC marks after
// every other page's worth of cancels) while sweeping 1k, 10k and 100k stale
// tasks through a fake API: the engine's own memory, without HTTP. Run it with GODEBUG=gcstoptheworld=1 for
// exact figures (a concurrent mark also counts what workers allocate while it
// runs). cmd/bench-sweep measures the whole function against the emulator.
func BenchmarkSweepHeap(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			set := DefaultSettings()
			set.Statuses = []string{"RUNNING"}
			set.MaxCancels = n + 1
			samples := make([]uint64, 0, n/50+8)
			for range b.N {
				samples = samples[:0]
				live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
				var mu sync.Mutex
				fake := &pagedFake{n: n, created: epoch.Add(-3 * time.Hour).Format(time.RFC3339), onCancel: func(cancels int64) {
					if cancels%int64(2*set.PageSize) != 0 {
						return
					}
					mu.Lock()
					defer mu.Unlock()
					if len(samples) < cap(samples) {
						runtime.GC()
						metrics.Read(live)
						samples = append(samples, live[0].Value.Uint64())
					}
				}}
				sw := &Sweeper{Clients: map[string]Client{"ams": fake}, Now: fixedClock, MaxPasses: 1}
				runtime.GC()
				if r := sw.Run(context.Background(), set); r.Cancelled != n {
					b.Fatalf("cancelled %d of %d", r.Cancelled, n)
				}
			}
			slices.Sort(samples)
			b.ReportMetric(float64(samples[len(samples)-1])/1024, "peak-KiB")
			b.ReportMetric(float64(samples[len(samples)/2])/1024, "median-KiB")
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "cancels/s")
		})
	}
}

package cancel_test

import (
	"context"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/emulator"
	"github.com/scf-janitor/scf-janitor/internal/testkit/benchjobs"
	"github.com/scf-janitor/scf-janitor/shared/cancel"
	"github.com/scf-janitor/scf-janitor/shared/scf"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
	"github.com/scf-janitor/scf-janitor/shared/tcapi/cossign"
	"github.com/scf-janitor/scf-janitor/shared/webhook"
)

// BenchmarkHandle measures one signed Function URL invocation per function,
// through the real SDK over loopback to an in-process emulator, and reports
// p50/p99 latency. go run ./cmd/bench-cancel adds the bare API round trip,
// cold start and binary size.
func BenchmarkHandle(b *testing.B) {
	for _, job := range benchjobs.All() {
		b.Run(job.Function, func(b *testing.B) {
			emu := emulator.New(emulator.Options{Rate: -1})
			srv := httptest.NewServer(emu)
			defer srv.Close()
			env := benchjobs.Env(srv.URL)
			env["JANITOR_WEBHOOK_SECRET"] = "whsec-bench"
			h := job.NewHandler(cancel.Options{Limiters: tcapi.NewLimiters(1e9, 1<<30), COSSigner: cossign.Transport})
			ctx := scf.NewContext(context.Background(), &scf.FunctionContext{RequestID: "bench", Env: env})
			events := make([][]byte, b.N)
			for i := range events {
				body := job.Request(job.Seed(emu))
				events[i] = benchjobs.URLEvent(body, webhook.Sign("whsec-bench", time.Now(), []byte(body)))
			}
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := range b.N {
				start := time.Now()
				out, err := h.Handle(ctx, events[i])
				lat = append(lat, time.Since(start))
				if err := benchjobs.CheckOK(out, err); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
		})
	}
}

package tcapi_test

import (
	"context"
	"testing"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/emulator"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
	"github.com/scf-janitor/scf-janitor/shared/tcapi/cossign"
)

// TestEmulatorCIBucket: pointed at the emulator (a loopback endpoint) with
// a bucket and region, the CI client addresses that bucket, as it would on
// Tencent's <bucket>.ci.<region>.myqcloud.com: another bucket's job is not
// found, and an unknown bucket is NoSuchBucket.
func TestEmulatorCIBucket(t *testing.T) {
	emu, endpoint := startEmulator(t, emulator.Options{Buckets: []emulator.Bucket{
		{Name: "one-1250000000", Region: "ap-guangzhou"}, {Name: "two-1250000000", Region: "ap-guangzhou"},
	}})
	client := func(bucket string) *tcapi.CI {
		c, err := tcapi.NewCI(emuCred, tcapi.CIOptions{Bucket: bucket, Region: "ap-guangzhou", Endpoint: endpoint,
			Limiters: tcapi.NewLimiters(1000, 10), BaseDelay: time.Millisecond, MaxAttempts: 1, Signer: cossign.Transport})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	ctx := context.Background()
	job, err := client("one-1250000000").CreateLiveAudit(ctx, tcapi.CreateLiveAuditRequest{Url: "rtmp://example.com/live/1"})
	if err != nil {
		t.Fatal(err)
	}
	if js := emu.LiveJobs(); len(js) != 1 || js[0].Bucket != "one-1250000000" || js[0].Region != "ap-guangzhou" {
		t.Fatalf("emulator live jobs %+v: want the job in bucket one", js)
	}
	if _, err := client("two-1250000000").CancelLiveAudit(ctx, job.JobId); !tcapi.HasCode(err, "ResourceNotFound") {
		t.Errorf("cancel from another bucket: %v, want ResourceNotFound", err)
	}
	if _, err := client("nope-1250000000").CancelLiveAudit(ctx, job.JobId); !tcapi.HasCode(err, "NoSuchBucket") {
		t.Errorf("cancel in an unknown bucket: %v, want NoSuchBucket", err)
	}
	if _, err := client("one-1250000000").CancelLiveAudit(ctx, job.JobId); err != nil {
		t.Errorf("cancel in its bucket: %v", err)
	}
}

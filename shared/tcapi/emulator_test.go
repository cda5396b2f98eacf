package tcapi_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/emulator"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
	"github.com/scf-janitor/scf-janitor/shared/tcapi/cossign"
)

// Integration tests against the project's Tencent API emulator, which checks
// the TC3 and COS signatures itself.

const emuToken = "emulator-session-token"

var emuCred = tcapi.Credentials{SecretID: emulator.DefaultSecretID, SecretKey: emulator.DefaultSecretKey, Token: emuToken}

func startEmulator(t *testing.T, opts emulator.Options) (*emulator.Server, string) {
	t.Helper()
	if opts.Credentials == nil {
		opts.Credentials = []emulator.Credential{{SecretID: emulator.DefaultSecretID, SecretKey: emulator.DefaultSecretKey, Token: emuToken}}
	}
	srv := emulator.New(opts)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return srv, ts.URL
}

func emuOptions(endpoint string) tcapi.Options {
	return tcapi.Options{Endpoint: endpoint, Region: "ap-guangzhou", Limiters: tcapi.NewLimiters(1000, 10),
		MaxAttempts: 4, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}
}

func TestEmulatorModeration(t *testing.T) {
	emu, endpoint := startEmulator(t, emulator.Options{})
	now := time.Now()
	live := emu.AddTask(emulator.Task{Service: "ams", BizType: "live_audio", Type: "LIVE_AUDIO", Status: "RUNNING", CreatedAt: now.Add(-3 * time.Hour), Stuck: true})
	emu.AddTask(emulator.Task{Service: "ams", BizType: "other", Type: "AUDIO", Status: "FINISH", CreatedAt: now.Add(-time.Hour)})
	v1 := emu.AddTask(emulator.Task{Service: "vm", BizType: "b1", Type: "LIVE_VIDEO", Status: "RUNNING", CreatedAt: now.Add(-2 * time.Hour)})
	v2 := emu.AddTask(emulator.Task{Service: "vm", BizType: "b2", Type: "LIVE_VIDEO", Status: "RUNNING", CreatedAt: now.Add(-time.Hour)})
	emu.AddTask(emulator.Task{Service: "vm", BizType: "b3", Type: "LIVE_VIDEO", Status: "RUNNING", CreatedAt: now.Add(-time.Hour)})

	ctx := context.Background()
	ams, err := tcapi.NewModeration("ams", emuCred, emuOptions(endpoint))
	if err != nil {
		t.Fatal(err)
	}
	page, err := ams.DescribeTasks(ctx, tcapi.DescribeTasksRequest{Limit: 100, StartTime: now.Add(-24 * time.Hour).UTC().Format(time.RFC3339),
		Filter: &tcapi.TaskFilter{BizTypes: []string{"live_audio"}, TaskStatus: "RUNNING"}})
	if err != nil {
		t.Fatalf("ams DescribeTasks: %v", err)
	}
	if page.Total != "1" || len(page.Data) != 1 || page.Data[0].TaskId != live.TaskId || page.PageToken != "" {
		t.Fatalf("ams page = %+v, want just %s", page, live.TaskId)
	}
	if _, err := ams.CancelTask(ctx, live.TaskId); err != nil {
		t.Fatalf("CancelTask: %v", err)
	}
	if got, _ := emu.Task("ams", live.TaskId); got.Status != "CANCELLED" {
		t.Errorf("emulator status after cancel = %s, want CANCELLED", got.Status)
	}
	before := ams.Stats().Attempts
	_, err = ams.CancelTask(ctx, live.TaskId)
	if !tcapi.HasCode(err, "FailedOperation") || ams.Stats().Attempts != before+1 {
		t.Errorf("second cancel: %v after %d attempts, want FailedOperation without retry", err, ams.Stats().Attempts-before)
	}
	if _, err = ams.CancelTask(ctx, "no-such-task"); !tcapi.HasCode(err, "ResourceNotFound") {
		t.Errorf("unknown task: %v", err)
	}

	vm, err := tcapi.NewModeration("vm", emuCred, emuOptions(endpoint))
	if err != nil {
		t.Fatal(err)
	}
	page, err = vm.DescribeTasks(ctx, tcapi.DescribeTasksRequest{StartTime: now.Add(-24 * time.Hour).UTC().Format(time.RFC3339),
		Filter: &tcapi.TaskFilter{BizTypes: []string{"b1", "b2"}}})
	if err != nil {
		t.Fatalf("vm DescribeTasks: %v", err)
	}
	ids := map[string]bool{}
	for _, d := range page.Data {
		ids[d.TaskId] = true
	}
	if page.Total != "2" || len(ids) != 2 || !ids[v1.TaskId] || !ids[v2.TaskId] {
		t.Errorf("vm page = %+v, want %s and %s", page, v1.TaskId, v2.TaskId)
	}
}

func TestEmulatorRejectsWrongKeyWithoutRetry(t *testing.T) {
	emu, endpoint := startEmulator(t, emulator.Options{})
	bad := emuCred
	bad.SecretKey = "wrong-key"
	ams, err := tcapi.NewModeration("ams", bad, emuOptions(endpoint))
	if err != nil {
		t.Fatal(err)
	}
	_, err = ams.CancelTask(context.Background(), "x")
	if !tcapi.HasCode(err, "AuthFailure.SignatureFailure") || ams.Stats().Attempts != 1 {
		t.Errorf("err = %v after %d attempts, want AuthFailure.SignatureFailure once", err, ams.Stats().Attempts)
	}
	noToken := emuCred
	noToken.Token = "other-token"
	ams, _ = tcapi.NewModeration("ams", noToken, emuOptions(endpoint))
	if _, err = ams.CancelTask(context.Background(), "x"); !tcapi.HasCode(err, "AuthFailure.TokenFailure") {
		t.Errorf("wrong token: %v", err)
	}
	_ = emu
}

func TestEmulatorTRTC(t *testing.T) {
	emu, endpoint := startEmulator(t, emulator.Options{PendingFor: -1})
	tr, err := tcapi.NewTRTC(emuCred, emuOptions(endpoint))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	created, err := tr.CreateCloudTranscription(ctx, tcapi.CreateCloudTranscriptionRequest{
		SdkAppId: 1400000000, RoomId: "room-1", RoomIdType: 1, TranscriptionParam: tcapi.TranscriptionParam{UserId: "bot", UserSig: "sig"}})
	if err != nil || created.TaskId == "" {
		t.Fatalf("Create = %+v, %v", created, err)
	}
	desc, err := tr.DescribeCloudTranscription(ctx, 1400000000, created.TaskId)
	if err != nil || desc.TaskId != created.TaskId || desc.Status != "Idle" || desc.Started().IsZero() {
		t.Errorf("Describe = %+v, %v", desc, err)
	}
	del, err := tr.DeleteCloudTranscription(ctx, 1400000000, created.TaskId)
	if err != nil || del.TaskId != created.TaskId || del.RequestId == "" {
		t.Errorf("Delete = %+v, %v", del, err)
	}
	if _, err = tr.DeleteCloudTranscription(ctx, 1400000000, created.TaskId); !tcapi.HasCode(err, "FailedOperation") {
		t.Errorf("second Delete: %v", err)
	}
	if _, err = tr.DeleteCloudTranscription(ctx, 1400000000, "nope"); !tcapi.HasCode(err, "ResourceNotFound") {
		t.Errorf("unknown task: %v", err)
	}
	if _, err = tr.DescribeCloudTranscription(ctx, 1400000009, created.TaskId); !tcapi.HasCode(err, "InvalidParameter") {
		t.Errorf("unknown app: %v", err)
	}
	if n := len(emu.Transcriptions()); n != 1 {
		t.Errorf("emulator has %d transcriptions, want 1", n)
	}
}

func TestEmulatorCI(t *testing.T) {
	emu, endpoint := startEmulator(t, emulator.Options{})
	ci, err := tcapi.NewCI(emuCred, tcapi.CIOptions{Endpoint: endpoint, Limiters: tcapi.NewLimiters(1000, 10), BaseDelay: time.Millisecond, Signer: cossign.Transport})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	job, err := ci.CreateLiveAudit(ctx, tcapi.CreateLiveAuditRequest{Url: "rtmp://example.com/live/1", DataId: "data-1", BizType: "biz"})
	if err != nil || job.JobId == "" || job.DataId != "data-1" {
		t.Fatalf("Create = %+v, %v", job, err)
	}
	got, err := ci.GetLiveAudit(ctx, job.JobId)
	if err != nil || got.JobId != job.JobId || got.Url != "rtmp://example.com/live/1" {
		t.Errorf("Get = %+v, %v", got, err)
	}
	c, err := ci.CancelLiveAudit(ctx, job.JobId)
	if err != nil || c.JobsDetail.DataId != "data-1" || c.JobsDetail.JobId != job.JobId || c.RequestId == "" {
		t.Errorf("Cancel = %+v, %v", c, err)
	}
	_, err = ci.CancelLiveAudit(ctx, job.JobId)
	var e *tcapi.Error
	if !errors.As(err, &e) || e.Code != "FailedOperation" || e.HTTPStatus != 400 || e.Retryable {
		t.Errorf("second cancel: %#v", err)
	}
	if _, err = ci.CancelLiveAudit(ctx, "avnope"); !tcapi.HasCode(err, "ResourceNotFound") {
		t.Errorf("unknown job: %v", err)
	}
	if js := emu.LiveJobs(); len(js) != 1 || js[0].State != emulator.LiveCancelled {
		t.Errorf("emulator live jobs = %+v", js)
	}
	bad := emuCred
	bad.SecretKey = "wrong"
	ci2, _ := tcapi.NewCI(bad, tcapi.CIOptions{Endpoint: endpoint, Signer: cossign.Transport})
	if _, err = ci2.GetLiveAudit(ctx, job.JobId); !tcapi.HasCode(err, "SignatureDoesNotMatch") || ci2.Stats().Attempts != 1 {
		t.Errorf("wrong key: %v after %d attempts", err, ci2.Stats().Attempts)
	}
}

// With a client-side limiter faster than the server's limit, the server
// throttles and the client retries until every call succeeds. The emulator's
// token buckets run on a fake clock that stands still until the first
// throttled answer (so throttling is certain however slow the machine), then
// advances one second every 30ms (so the retries get through quickly).
func TestEmulatorThrottlingRetried(t *testing.T) {
	var mu sync.Mutex
	clock := time.Now()
	now := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return clock
	}
	emu, endpoint := startEmulator(t, emulator.Options{Rate: 20, Now: now})
	ids := make([]string, 50)
	for i := range ids {
		ids[i] = emu.AddTask(emulator.Task{Service: "ams", Type: "LIVE_AUDIO", Status: "RUNNING", Stuck: true}).TaskId
	}
	done := make(chan struct{})
	go func() {
		throttled := false
		for {
			select {
			case <-done:
				return
			case <-time.After(30 * time.Millisecond):
			}
			if !throttled {
				throttled = emu.Stats().Actions["ams.CancelTask"].Throttled > 0
				continue
			}
			mu.Lock()
			clock = clock.Add(time.Second)
			mu.Unlock()
		}
	}()
	defer close(done)

	opts := emuOptions(endpoint)
	opts.MaxAttempts = 30
	opts.BaseDelay, opts.MaxDelay = 10*time.Millisecond, 60*time.Millisecond
	ams, err := tcapi.NewModeration("ams", emuCred, opts)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Go(func() {
			if _, err := ams.CancelTask(context.Background(), id); err != nil {
				t.Errorf("cancel %s: %v", id, err)
			}
		})
	}
	wg.Wait()
	st := ams.Stats()
	es := emu.Stats().Actions["ams.CancelTask"]
	if st.Throttled == 0 || st.Throttled != es.Throttled || st.Attempts != es.Requests || st.Retries != st.Throttled {
		t.Errorf("client %+v vs emulator %+v: want throttled answers, each retried, counted alike", st, es)
	}
	for _, id := range ids {
		if task, _ := emu.Task("ams", id); task.Status != "CANCELLED" {
			t.Errorf("task %s is %s, want CANCELLED", id, task.Status)
		}
	}
}

// A client limited to the server's rate is never throttled.
func TestEmulatorLimiterAvoidsThrottling(t *testing.T) {
	emu, endpoint := startEmulator(t, emulator.Options{Rate: 200})
	opts := emuOptions(endpoint)
	opts.Limiters = tcapi.NewLimiters(200, 1)
	ams, _ := tcapi.NewModeration("ams", emuCred, opts)
	var wg sync.WaitGroup
	for range 60 {
		wg.Go(func() { _, _ = ams.CancelTask(context.Background(), "unknown") })
	}
	wg.Wait()
	es := emu.Stats().Actions["ams.CancelTask"]
	if es.Throttled != 0 || es.Requests != 60 || es.MaxPerSecond > 201 {
		t.Errorf("emulator saw %+v, want 60 requests, none throttled", es)
	}
}

// Injected resets, 502 pages and InternalErrors are all retried away.
func TestEmulatorFaultsRetried(t *testing.T) {
	emu, endpoint := startEmulator(t, emulator.Options{Rate: -1, Seed: 7, Faults: emulator.Faults{ResetRate: 0.15, BadGatewayRate: 0.15, InternalErrorRate: 0.15}})
	opts := emuOptions(endpoint)
	opts.MaxAttempts = 10
	ams, _ := tcapi.NewModeration("ams", emuCred, opts)
	for range 30 {
		id := emu.AddTask(emulator.Task{Service: "ams", Type: "LIVE_AUDIO", Status: "RUNNING", Stuck: true}).TaskId
		if _, err := ams.CancelTask(context.Background(), id); err != nil {
			t.Fatalf("cancel %s: %v", id, err)
		}
	}
	if st := ams.Stats(); st.Retries == 0 || st.Attempts != 30+st.Retries {
		t.Errorf("Stats = %+v, want retries for the injected faults", st)
	}
}

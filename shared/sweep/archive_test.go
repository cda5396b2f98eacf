package sweep

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/emulator"
	"github.com/scf-janitor/scf-janitor/internal/testkit/logtest"
	"github.com/scf-janitor/scf-janitor/shared/config"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
	"github.com/scf-janitor/scf-janitor/shared/tcapi/cossign"
)

func TestReportKey(t *testing.T) {
	tests := []struct {
		name      string
		prefix    string
		start     time.Time
		requestID string
		want      string
	}{
		{"the documented example", DefaultReportPrefix, time.Date(2026, 12, 7, 23, 15, 41, 0, time.UTC), "req-1",
			"scf-janitor/sweeps/2026/12/07/20261207T231541Z-req-1.json"},
		{"UTC date, not the local one", "r/", time.Date(2026, 12, 8, 7, 15, 41, 0, time.FixedZone("CST", 8*3600)), "a",
			"r/2026/12/07/20261207T231541Z-a.json"},
		{"fractions of a second dropped", "r/", time.Date(2027, 1, 2, 3, 4, 5, 999_999_999, time.UTC), "b",
			"r/2027/01/02/20270102T030405Z-b.json"},
		{"a prefix without a slash", "reports", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), "c",
			"reports2026/01/01/20260101T000000Z-c.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ReportKey(tt.prefix, tt.start, tt.requestID); got != tt.want {
				t.Errorf("ReportKey = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestArchiveSettings(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    ReportArchive
		wantErr string
	}{
		{"off by default", nil, ReportArchive{}, ""},
		{"bucket only", map[string]string{"JANITOR_REPORT_BUCKET": "reports-1250000000"}, ReportArchive{Bucket: "reports-1250000000"}, ""},
		{"everything", map[string]string{"JANITOR_REPORT_BUCKET": "reports-1250000000", "JANITOR_REPORT_REGION": "ap-shanghai",
			"JANITOR_REPORT_PREFIX": "janitor/", "JANITOR_COS_ENDPOINT": "http://127.0.0.1:9100"},
			ReportArchive{Bucket: "reports-1250000000", Region: "ap-shanghai", Prefix: "janitor/", Endpoint: "http://127.0.0.1:9100"}, ""},
		{"bucket without appid", map[string]string{"JANITOR_REPORT_BUCKET": "reports"}, ReportArchive{}, "JANITOR_REPORT_BUCKET"},
		{"bad region", map[string]string{"JANITOR_REPORT_BUCKET": "reports-1250000000", "JANITOR_REPORT_REGION": "Shanghai"}, ReportArchive{}, "JANITOR_REPORT_REGION"},
		{"prefix from the root", map[string]string{"JANITOR_REPORT_BUCKET": "reports-1250000000", "JANITOR_REPORT_PREFIX": "/x/"}, ReportArchive{}, "JANITOR_REPORT_PREFIX"},
		{"wildcard in the prefix", map[string]string{"JANITOR_REPORT_BUCKET": "reports-1250000000", "JANITOR_REPORT_PREFIX": "x*/"}, ReportArchive{}, "JANITOR_REPORT_PREFIX"},
		{"endpoint not a URL", map[string]string{"JANITOR_COS_ENDPOINT": "127.0.0.1:9100"}, ReportArchive{}, "JANITOR_COS_ENDPOINT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := func(k string) string { return tt.env[k] }
			s, err := LoadSettings(getenv)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("LoadSettings: %v, want an error naming %s", err, tt.wantErr)
				}
				if cerr := CheckEnv(getenv); cerr == nil || !strings.Contains(cerr.Error(), tt.wantErr) {
					t.Errorf("CheckEnv: %v, want the same refusal at plan time", cerr)
				}
				return
			}
			if err != nil || s.Archive != tt.want {
				t.Fatalf("LoadSettings: %+v %v, want %+v", s.Archive, err, tt.want)
			}
		})
	}
	s, _ := LoadSettings(func(k string) string { return map[string]string{"JANITOR_REPORT_BUCKET": "reports-1250000000"}[k] })
	for _, key := range []string{"reportBucket", "reportRegion", "reportPrefix", "cosEndpoint"} {
		if _, err := s.Override([]byte(`{"` + key + `":"x"}`)); err == nil || !strings.Contains(err.Error(), "not per run") {
			t.Errorf("override %s: %v, want it refused (the function's setting)", key, err)
		}
	}
}

// archiveEnv is a sweeper's environment with the archive aimed at e.
func archiveEnv(e *emu, bucket string) map[string]string {
	return map[string]string{"JANITOR_REPORT_BUCKET": bucket, "JANITOR_COS_ENDPOINT": e.ts.URL, "TENCENTCLOUD_REGION": "ap-guangzhou",
		"JANITOR_NOTIFY_URL": e.ts.URL + "/_emulator/notifications", "JANITOR_NOTIFY_ON": "always", "JANITOR_NOTIFY_FORMAT": "json"}
}

// TestHandlerArchivesReport: a run (a dry run here) writes its full report
// to the bucket under the documented key, with Content-Type
// application/json, and says so in its log; nothing fails.
func TestHandlerArchivesReport(t *testing.T) {
	e := newEmu(t, emulator.Options{})
	e.srv.CreateBucket(emulator.Bucket{Name: "reports-1250000000", Region: "ap-guangzhou"})
	newFixture(e)
	start := e.clock()
	logger, logs := logtest.New("sweep-tasks")
	h := NewHandler(HandlerOptions{Logger: logger, Now: func() time.Time { return start }, COSSigner: cossign.Transport})
	out, err := h.Handle(invocationCtx(t, e, archiveEnv(e, "reports-1250000000")), json.RawMessage(`{"dryRun":true}`))
	if err != nil {
		t.Fatal(err)
	}
	r := out.(*Report)
	if r.ReportError != "" || r.WouldCancel == 0 {
		t.Fatalf("report %+v: want a dry run that found tasks, archived", r.summary())
	}
	key := ReportKey(DefaultReportPrefix, start, "req-1")
	o, body, ok := e.srv.COSObjectBody("reports-1250000000", key)
	if !ok {
		objs, _ := e.srv.COSObjects("reports-1250000000", "")
		t.Fatalf("no object %s; the bucket holds %+v", key, objs)
	}
	want, _ := json.Marshal(r)
	if string(body) != string(want) || o.ContentType != "application/json" {
		t.Errorf("archived %s (%s), want the run's report %s", body, o.ContentType, want)
	}
	var archived bool
	for _, rec := range logs.Records(t) {
		archived = archived || rec["msg"] == "report archived" && rec["key"] == key
	}
	if !archived {
		t.Errorf("no \"report archived\" log line naming %s:\n%s", key, logs.String())
	}
	logtest.AssertNoSecrets(t, string(body)+logs.String(), emulator.DefaultSecretKey, testToken)
}

// TestHandlerArchiveFails: a bucket that cannot be written (it does not
// exist; the sweeper is built without a signer) is the report's
// ReportError and the notification's, and the sweep's counts are those of
// a run without an archive.
func TestHandlerArchiveFails(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		signer tcapi.COSSigner
		want   string
	}{
		{"no such bucket", cossign.Transport, "NoSuchBucket"},
		{"no signer", nil, "COSSigner"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			counts := func(archive bool) (*Report, []emulator.Notification) {
				e := newEmu(t, emulator.Options{})
				newFixture(e)
				env := archiveEnv(e, "nosuch-1250000000")
				if !archive {
					delete(env, "JANITOR_REPORT_BUCKET")
				}
				h := NewHandler(HandlerOptions{Now: e.clock, COSSigner: tt.signer})
				out, err := h.Handle(invocationCtx(t, e, env), json.RawMessage(`{}`))
				if err != nil {
					t.Fatal(err)
				}
				return out.(*Report), e.srv.Notifications()
			}
			plain, _ := counts(false)
			r, notes := counts(true)
			checkInvariant(t, r)
			if !strings.Contains(r.ReportError, tt.want) || !strings.Contains(r.ReportError, "nosuch-1250000000") {
				t.Errorf("ReportError %q: want it to name %s and the bucket", r.ReportError, tt.want)
			}
			if plain.ReportError != "" {
				t.Errorf("a run without JANITOR_REPORT_BUCKET has ReportError %q", plain.ReportError)
			}
			if r.Candidates != plain.Candidates || r.Cancelled != plain.Cancelled || r.Skipped != plain.Skipped || r.Failed != plain.Failed || r.Cancelled == 0 {
				t.Errorf("counts with a failing archive %+v, without one %+v", r.summary(), plain.summary())
			}
			if len(notes) != 1 || !strings.Contains(string(notes[0].Body), `"ReportError":"report not archived`) {
				t.Fatalf("notifications %d: want one carrying the ReportError", len(notes))
			}
			logtest.AssertNoSecrets(t, r.ReportError+string(notes[0].Body), emulator.DefaultSecretKey, testToken)
		})
	}
}

// TestArchiveBigReport: a report over 1 MB is written with one PUT Object,
// within the archive's deadline.
func TestArchiveBigReport(t *testing.T) {
	t.Parallel()
	e := newEmu(t, emulator.Options{})
	e.srv.CreateBucket(emulator.Bucket{Name: "reports-1250000000", Region: "ap-guangzhou"})
	rep := &Report{Candidates: 6000, Cancelled: 6000}
	for i := range 6000 {
		rep.Tasks = append(rep.Tasks, TaskResult{Service: "ams", TaskId: fmt.Sprintf("task-%06d-%s", i, strings.Repeat("x", 32)),
			DataId: fmt.Sprintf("data-%06d", i), BizType: "live_audio_default", Type: "LIVE_AUDIO", Status: "RUNNING",
			CreatedAt: "2026-03-14T09:00:00.000Z", Action: ActionCancelled, Age: Duration(3 * time.Hour)})
	}
	body, _ := json.Marshal(rep)
	if len(body) <= 1<<20 {
		t.Fatalf("the report is %d bytes: the test wants more than 1 MB", len(body))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	h := NewHandler(HandlerOptions{Now: e.clock, COSSigner: cossign.Transport})
	set := DefaultSettings()
	set.Archive = ReportArchive{Bucket: "reports-1250000000", Endpoint: e.ts.URL}
	run := h.planArchive(ctx, set, config.Base{Region: "ap-guangzhou"},
		tcapi.Credentials{SecretID: emulator.DefaultSecretID, SecretKey: emulator.DefaultSecretKey, Token: testToken})
	_, archiveCtx, release := reserveTails(ctx, 0, run)
	defer release()
	dl, _ := archiveCtx.Deadline()
	run.write(archiveCtx, rep, slog.New(slog.DiscardHandler))
	if rep.ReportError != "" {
		t.Fatal(rep.ReportError)
	}
	if time.Now().After(dl) {
		t.Errorf("the write ended after the archive's deadline %s", dl)
	}
	objs, _ := e.srv.COSObjects("reports-1250000000", DefaultReportPrefix)
	if len(objs) != 1 || objs[0].Size != int64(len(body)) {
		t.Fatalf("stored %+v, want one object of %d bytes", objs, len(body))
	}
	if n := e.srv.Stats().Actions["cos.PutObject"].Requests; n != 1 {
		t.Errorf("%d PUT Object requests, want 1", n)
	}
}

// TestReserveTails: the sweep ends early enough for the archive and then
// the notification; the archive's context ends before the notification's
// budget; without either nothing is reserved.
func TestReserveTails(t *testing.T) {
	dl := time.Now().Add(100 * time.Second)
	ctx, cancel := context.WithDeadline(context.Background(), dl)
	defer cancel()
	deadline := func(c context.Context) time.Duration {
		d, ok := c.Deadline()
		if !ok {
			t.Fatal("no deadline")
		}
		return dl.Sub(d)
	}
	tests := []struct {
		name                      string
		notify                    time.Duration
		run                       *archiveRun
		wantSweepEarly, wantArchE time.Duration
	}{
		{"neither", 0, nil, 0, 0},
		{"notification only", 5 * time.Second, nil, 5 * time.Second, 0},
		{"archive only", 0, &archiveRun{budget: 10 * time.Second}, 10 * time.Second, 0},
		{"both", 5 * time.Second, &archiveRun{budget: 10 * time.Second}, 15 * time.Second, 5 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sweepCtx, archiveCtx, release := reserveTails(ctx, tt.notify, tt.run)
			defer release()
			if got := deadline(sweepCtx); got != tt.wantSweepEarly {
				t.Errorf("sweep ends %s before the deadline, want %s", got, tt.wantSweepEarly)
			}
			if got := deadline(archiveCtx); got != tt.wantArchE {
				t.Errorf("archive ends %s before the deadline, want %s", got, tt.wantArchE)
			}
		})
	}
	if b := archiveBudget(ctx); b != DefaultArchiveBudget {
		t.Errorf("archiveBudget with 100 s left = %s, want %s", b, DefaultArchiveBudget)
	}
	short, cancelShort := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancelShort()
	if b := archiveBudget(short); b > 2*time.Second || b < time.Second {
		t.Errorf("archiveBudget with 8 s left = %s, want a quarter of it", b)
	}
}

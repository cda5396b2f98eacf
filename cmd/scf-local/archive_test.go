package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/emulator"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
	"github.com/scf-janitor/scf-janitor/shared/tcapi/cossign"
)

// archivedSweep is what these tests read of a run: its request id and
// report.
type archivedSweep struct {
	requestID string
	report    struct {
		DryRun                                      bool
		Candidates, Cancelled, WouldCancel, Skipped int
		ReportError                                 string
	}
}

func invokeArchived(ctx context.Context, t *testing.T, emu, event string) archivedSweep {
	t.Helper()
	var out archivedSweep
	out.requestID = invokeSweepTasks(ctx, t, emu, event, &out.report)
	return out
}

var reReportKey = regexp.MustCompile(`^scf-janitor/sweeps/(\d{4})/(\d\d)/(\d\d)/(\d{8})T\d{6}Z-(.+)\.json$`)

// TestSweepReportArchive: through scf-local, with nothing configured, each
// run's report lands in the local report bucket under the documented key;
// the sweeper's role (policies enforced) may write exactly there and not
// beside it or in another bucket; when the bucket is gone, the run says so
// in ReportError and its counts are those of the same run with the bucket.
func TestSweepReportArchive(t *testing.T) {
	skipShort(t, "builds the sweeper")
	t.Parallel()
	out, _ := startServeConfig(t, sweepProjectWith(t, sweepProject{noRoles: true}), nil, "--demo=false", "--timers=false")
	emu := out.field(t, "emulator:")
	if !strings.Contains(out.text(), "reports:   sweep-tasks keeps each run's report in COS bucket "+localReportBucket) {
		t.Errorf("the banner does not name the report bucket:\n%s", out.text())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	addStaleAndYoung(t, emu, "")

	first := invokeArchived(ctx, t, emu, `{"dryRun":true}`)
	if first.report.ReportError != "" || first.report.WouldCancel != 1 {
		t.Fatalf("dry run %+v: want one task it would cancel, archived", first.report)
	}
	var objs []emulator.COSObject
	emuGet(t, emu+"/_emulator/cos/"+localReportBucket+"/", &objs)
	if len(objs) != 1 {
		t.Fatalf("the local bucket holds %+v, want the one report", objs)
	}
	m := reReportKey.FindStringSubmatch(objs[0].Key)
	if m == nil || m[5] != first.requestID || m[4] != m[1]+m[2]+m[3] || objs[0].ContentType != "application/json" {
		t.Fatalf("object %+v: want scf-janitor/sweeps/YYYY/MM/DD/<UTC time>-%s.json, application/json", objs[0], first.requestID)
	}
	var archived struct{ DryRun bool }
	emuGet(t, emu+"/_emulator/cos/"+localReportBucket+"/"+objs[0].Key, &archived)
	if !archived.DryRun {
		t.Errorf("the archived report is not the dry run's")
	}

	t.Run("the sweeper's role writes exactly there", func(t *testing.T) {
		var keys struct{ TmpSecretId, TmpSecretKey, Token string }
		status, _, body := post(t, emu+"/_emulator/role-credentials", http.Header{"Content-Type": {"application/json"}},
			`{"Service":"scf.qcloud.com","RoleArn":"qcs::cam::uin/`+localUin+`:roleName/JanitorSweepTasksRole"}`)
		if err := json.Unmarshal([]byte(body), &keys); status != http.StatusOK || err != nil || keys.Token == "" {
			t.Fatalf("the sweeper role's keys: %d %s", status, body)
		}
		emuPut(t, emu+"/_emulator/cos/other-"+localAppID+"?region=ap-guangzhou")
		cred := tcapi.Credentials{SecretID: keys.TmpSecretId, SecretKey: keys.TmpSecretKey, Token: keys.Token}
		for _, tt := range []struct {
			bucket, key string
			allowed     bool
		}{
			{localReportBucket, "scf-janitor/sweeps/2026/12/07/20261207T231541Z-by-hand.json", true},
			{localReportBucket, "scf-janitor/other.json", false},
			{"other-" + localAppID, "scf-janitor/sweeps/x.json", false},
		} {
			c, err := tcapi.NewCOS(cred, tcapi.COSOptions{Bucket: tt.bucket, Region: "ap-guangzhou", Endpoint: emu, MaxAttempts: 1, Signer: cossign.Transport})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.PutObject(ctx, tt.key, []byte("{}"), "application/json")
			var te *tcapi.Error
			if tt.allowed && err != nil || !tt.allowed && (!errors.As(err, &te) || te.Code != "AccessDenied" || !strings.Contains(te.Message, "cos:PutObject")) {
				t.Errorf("PutObject %s/%s: %v, want allowed %v (else AccessDenied naming cos:PutObject)", tt.bucket, tt.key, err, tt.allowed)
			}
		}
	})

	t.Run("a failing bucket", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodDelete, emu+"/_emulator/cos/"+localReportBucket, nil)
		if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusNoContent {
			t.Fatalf("delete the bucket: %v %v", resp, err)
		}
		again := invokeArchived(ctx, t, emu, `{"dryRun":true}`)
		if !strings.Contains(again.report.ReportError, "NoSuchBucket") {
			t.Errorf("ReportError %q, want NoSuchBucket", again.report.ReportError)
		}
		again.report.ReportError = ""
		if again.report != first.report {
			t.Errorf("counts with a failing bucket %+v, with the bucket %+v", again.report, first.report)
		}
		real := invokeArchived(ctx, t, emu, `{}`)
		if real.report.Cancelled != 1 || !strings.Contains(real.report.ReportError, "NoSuchBucket") {
			t.Errorf("a real run with a failing bucket: %+v, want the stale task cancelled and the ReportError", real.report)
		}
	})
}

func emuPut(t *testing.T, url string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT %s: %s", url, resp.Status)
	}
}

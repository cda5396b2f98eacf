package emulator

import (
	"context"
	"testing"
)

// TestEndedCodes: a cancel of a job that has already ended is answered with
// plain FailedOperation by default (Tencent documents no specific code), and
// with the old specific codes under Options.SpecificEndedCodes. The lookups
// (DescribeTaskDetail, DescribeCloudTranscription, GET /video/auditing/<id>)
// say the job ended in both modes.
func TestEndedCodes(t *testing.T) {
	for _, tt := range []struct {
		name             string
		specific         bool
		api3Code, ciCode string
		ciStatus         int
	}{
		{"default", false, "FailedOperation", "FailedOperation", 400},
		{"specific", true, "FailedOperation.TaskEnded", "FailedOperation.JobEnded", 409},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, Options{SpecificEndedCodes: tt.specific})
			c := e.sdk(t, "ap-guangzhou", nil)
			for _, svc := range []string{"ams", "vm"} {
				id := e.srv.AddTask(Task{Service: svc, Status: StatusFinish}).TaskId
				wantCode(t, call(t, c, svc, "CancelTask", map[string]any{"TaskId": id}, nil), tt.api3Code)
				var d struct{ TaskId, Status string }
				mustCall(t, c, svc, "DescribeTaskDetail", map[string]any{"TaskId": id}, &d)
				if d.TaskId != id || d.Status != StatusFinish {
					t.Errorf("%s DescribeTaskDetail = %+v, want FINISH", svc, d)
				}
			}
			tr := e.srv.AddTranscription(Transcription{Status: TranscriptionExited})
			wantCode(t, call(t, c, "trtc", "DeleteCloudTranscription", map[string]any{"SdkAppId": DefaultSdkAppID, "TaskId": tr.TaskId}, nil), tt.api3Code)
			var d struct{ Status string }
			mustCall(t, c, "trtc", "DescribeCloudTranscription", map[string]any{"SdkAppId": DefaultSdkAppID, "TaskId": tr.TaskId}, &d)
			if d.Status != TranscriptionExited {
				t.Errorf("DescribeCloudTranscription status %s, want Exited", d.Status)
			}

			job := e.srv.AddLiveJob(LiveJob{State: LiveSuccess}).JobId
			cc, _ := e.cosClient(t, DefaultSecretID, DefaultSecretKey, "", nil)
			if status, code := cosCode(t, second(cc.CI.PostVideoAuditingCancelJob(context.Background(), job))); status != tt.ciStatus || code != tt.ciCode {
				t.Errorf("CI cancel of an ended job: %d %s, want %d %s", status, code, tt.ciStatus, tt.ciCode)
			}
			got, _, err := cc.CI.GetVideoAuditingJob(context.Background(), job)
			if err != nil || got.JobsDetail == nil || got.JobsDetail.JobId != job || got.JobsDetail.State != LiveSuccess {
				t.Errorf("CI query: %+v, %v; want state Success", got, err)
			}
		})
	}
}

// TestTranscriptionRegionUnion: every region of the Chinese and the
// international docs is served; others are UnsupportedRegion.
func TestTranscriptionRegionUnion(t *testing.T) {
	e := newEnv(t, Options{})
	for _, region := range []string{"ap-beijing", "ap-guangzhou", "ap-hongkong", "ap-shanghai", "ap-singapore"} {
		tr := e.srv.AddTranscription(Transcription{Region: region})
		var d struct{ TaskId string }
		mustCall(t, e.sdk(t, region, nil), "trtc", "DescribeCloudTranscription", map[string]any{"SdkAppId": DefaultSdkAppID, "TaskId": tr.TaskId}, &d)
		if d.TaskId != tr.TaskId {
			t.Errorf("%s: TaskId %q", region, d.TaskId)
		}
	}
	wantCode(t, call(t, e.sdk(t, "ap-chengdu", nil), "trtc", "DescribeCloudTranscription", map[string]any{"SdkAppId": DefaultSdkAppID, "TaskId": "x"}, nil), "UnsupportedRegion")
}

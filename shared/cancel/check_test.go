package cancel

import (
	"strings"
	"testing"
)

// TestCheckEnv: the deploy-time check refuses what each cancel function
// refuses, and never shows a value.
func TestCheckEnv(t *testing.T) {
	tests := []struct {
		function string
		env      map[string]string
		want     string // "" = accepted
	}{
		{FunctionCancelTask, map[string]string{"JANITOR_WEBHOOK_AUTH": "signature"}, ""},
		{FunctionCancelTask, map[string]string{"JANITOR_WEBHOOK_AUTH": "s3cr3t-pasted"}, "JANITOR_WEBHOOK_AUTH is not valid (value not shown)"},
		{FunctionCancelLiveAudit, map[string]string{"JANITOR_CI_BUCKET": "examplebucket-1250000000", "JANITOR_CI_REGION": "ap-beijing"}, ""},
		{FunctionCancelLiveAudit, map[string]string{"JANITOR_CI_BUCKET": "s3cr3t-pasted"}, "JANITOR_CI_BUCKET is not valid (value not shown): want a COS bucket name"},
		{FunctionStopTranscription, map[string]string{"JANITOR_TRTC_SDKAPPID": "s3cr3t-pasted"}, "JANITOR_TRTC_SDKAPPID is not valid (value not shown)"},
		{FunctionStopTranscription, map[string]string{"JANITOR_TRTC_REGION": "ap-beijing-s3cr3t-pasted"}, "JANITOR_TRTC_REGION is not valid (value not shown): want a region that serves cloud transcription"},
		{FunctionStopTranscription, map[string]string{"JANITOR_TRTC_ENDPOINT": "not a url"}, "JANITOR_TRTC_ENDPOINT"},
	}
	for _, tc := range tests {
		t.Run(tc.function+"/"+tc.want, func(t *testing.T) {
			err := CheckEnv(tc.function)(func(k string) string { return tc.env[k] })
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			case err != nil && strings.Contains(err.Error(), "s3cr3t"):
				t.Fatalf("the error shows the value: %v", err)
			}
		})
	}
	if CheckEnv("sweep-tasks") != nil {
		t.Error("a check for a function that is not a cancel function")
	}
}

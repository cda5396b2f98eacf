package cancel

import (
	"strings"
	"testing"
)

// TestExactFieldNames: the request's field names match exactly, whatever
// encoding/json's case-insensitive, Unicode-folding matching would take, and
// a key may appear only once.
func TestExactFieldNames(t *testing.T) {
	const kelvin, longS = "\u212a", "\u017f" // fold to k and s
	parsers := map[string]func(body string) *Error{
		"cancel-task": func(b string) *Error { _, e := parseTaskRequest([]byte(b)); return e },
		"cancel-live-audit": func(b string) *Error {
			_, e := parseLiveAuditRequest([]byte(b), env(EnvCIBucket, "examplebucket-1250000000", EnvCIRegion, "ap-beijing"))
			return e
		},
		"stop-transcription": func(b string) *Error {
			_, e := parseTranscriptionRequest([]byte(b), env(EnvTRTCSdkAppID, "1400000000", EnvTRTCRegion, "ap-guangzhou"))
			return e
		},
	}
	cases := []struct {
		fn, name, body string
		code           string
		words          []string
	}{
		{"cancel-task", "lower case", `{"taskid":"t-1"}`, CodeUnknownParameter, []string{`"taskid"`, "case-sensitive"}},
		{"cancel-task", "upper case", `{"TASKID":"t-1"}`, CodeUnknownParameter, []string{`"TASKID"`}},
		{"cancel-task", "long s", `{"Ta` + longS + `kId":"t-1"}`, CodeUnknownParameter, []string{"Ta" + longS + "kId"}},
		{"cancel-task", "Kelvin sign", `{"TaskId":"t-1","Service":"ams","Tas` + kelvin + `Id":"t-2"}`, CodeUnknownParameter, nil},
		{"cancel-task", "lower-case Service", `{"TaskId":"t-1","service":"vm"}`, CodeUnknownParameter, []string{`"service"`}},
		{"cancel-task", "duplicate", `{"TaskId":"t-1","TaskId":"t-2"}`, CodeInvalidParameter, []string{"TaskId appears more than once"}},
		{"cancel-task", "duplicate Service", `{"TaskId":"t-1","Service":"ams","Service":"vm"}`, CodeInvalidParameter, []string{"Service"}},
		{"cancel-live-audit", "lower case", `{"jobid":"av1"}`, CodeUnknownParameter, []string{`"jobid"`}},
		{"cancel-live-audit", "Kelvin sign in Bucket", `{"JobId":"av1","Buc` + kelvin + `et":"other-1250000000"}`, CodeUnknownParameter, nil},
		{"cancel-live-audit", "duplicate", `{"JobId":"av1","JobId":"av2"}`, CodeInvalidParameter, []string{"JobId"}},
		{"stop-transcription", "lower case", `{"taskId":"tt-1"}`, CodeUnknownParameter, []string{`"taskId"`}},
		{"stop-transcription", "SDKAppID spelling", `{"TaskId":"tt-1","SDKAppID":1400000001}`, CodeUnknownParameter, []string{`"SDKAppID"`}},
		{"stop-transcription", "duplicate", `{"TaskId":"tt-1","SdkAppId":1,"SdkAppId":2}`, CodeInvalidParameter, []string{"SdkAppId"}},
	}
	for _, tc := range cases {
		t.Run(tc.fn+"/"+tc.name, func(t *testing.T) {
			wantErr(t, parsers[tc.fn](tc.body), 400, tc.code, tc.words...)
		})
	}
	// Exact names still parse, and a key escaped in JSON is the same key.
	for fn, body := range map[string]string{
		"cancel-task":        `{"TaskId":"t-1","Service":"vm"}`,
		"cancel-live-audit":  `{"JobId":"av1"}`,
		"stop-transcription": `{"\u0054askId":"tt-1"}`,
	} {
		if e := parsers[fn](body); e != nil {
			t.Errorf("%s %s: %v", fn, body, e)
		}
	}
}

// TestSettingValuesNotEchoed: an invalid bucket, SdkAppId or region setting
// is named in the error, its value is not shown.
func TestSettingValuesNotEchoed(t *testing.T) {
	const leaked = "whsec-pasted-here-by-mistake"
	cases := []struct {
		name, setting string
		parse         func(getenv func(string) string) *Error
	}{
		{"bucket", EnvCIBucket, func(g func(string) string) *Error {
			_, e := parseLiveAuditRequest([]byte(`{"JobId":"av1","Region":"ap-beijing"}`), g)
			return e
		}},
		{"CI region", EnvCIRegion, func(g func(string) string) *Error {
			_, e := parseLiveAuditRequest([]byte(`{"JobId":"av1","Bucket":"examplebucket-1250000000"}`), g)
			return e
		}},
		{"SdkAppId", EnvTRTCSdkAppID, func(g func(string) string) *Error {
			_, e := parseTranscriptionRequest([]byte(`{"TaskId":"tt-1","Region":"ap-guangzhou"}`), g)
			return e
		}},
		{"TRTC region", EnvTRTCRegion, func(g func(string) string) *Error {
			_, e := parseTranscriptionRequest([]byte(`{"TaskId":"tt-1","SdkAppId":1}`), g)
			return e
		}},
		{"function region", envRegion, func(g func(string) string) *Error {
			_, e := parseTranscriptionRequest([]byte(`{"TaskId":"tt-1","SdkAppId":1}`), g)
			return e
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := tc.parse(env(tc.setting, leaked))
			if e == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(e.Message, tc.setting) || strings.Contains(e.Error(), leaked) {
				t.Errorf("message %q: want %s named and its value not shown", e.Message, tc.setting)
			}
		})
	}
}

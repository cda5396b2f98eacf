package cancel

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

// wantErr checks status, code and that the message mentions each of words.
func wantErr(t *testing.T, e *Error, status int, code string, words ...string) {
	t.Helper()
	if e == nil {
		t.Fatalf("got no error, want %d %s", status, code)
	}
	if e.Status != status || e.Code != code {
		t.Fatalf("got %d %s (%s), want %d %s", e.Status, e.Code, e.Message, status, code)
	}
	for _, w := range words {
		if !strings.Contains(e.Message, w) {
			t.Errorf("message %q does not mention %q", e.Message, w)
		}
	}
}

// wantParsed checks that a parse returned want and no error.
func wantParsed[T any](t *testing.T, got T, e *Error, want T) {
	t.Helper()
	if e != nil {
		t.Fatalf("error %v", e)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
}

// refusedBody is a request body a parse refuses with status and code, in a
// message that mentions each of words.
type refusedBody struct {
	name, body string
	getenv     func(string) string
	status     int
	code       string
	words      []string
}

func TestParseTaskRequest(t *testing.T) {
	ok := []struct {
		name, body string
		want       TaskRequest
	}{
		{"default service", `{"TaskId":"task-audio-abc"}`, TaskRequest{TaskId: "task-audio-abc", Service: "ams"}},
		{"ams", `{"TaskId":"task-audio-abc","Service":"ams"}`, TaskRequest{TaskId: "task-audio-abc", Service: "ams"}},
		{"vm upper case", `{"TaskId":"task-video-x_1.2","Service":"VM"}`, TaskRequest{TaskId: "task-video-x_1.2", Service: "vm"}},
		{"empty service", `{"TaskId":"t","Service":""}`, TaskRequest{TaskId: "t", Service: "ams"}},
		{"null service", `{"TaskId":"t","Service":null}`, TaskRequest{TaskId: "t", Service: "ams"}},
		{"whitespace around", " \n{\"TaskId\":\"t\"}\n ", TaskRequest{TaskId: "t", Service: "ams"}},
		{"max length", `{"TaskId":"` + strings.Repeat("a", 128) + `"}`, TaskRequest{TaskId: strings.Repeat("a", 128), Service: "ams"}},
	}
	for _, tt := range ok {
		t.Run(tt.name, func(t *testing.T) {
			got, e := parseTaskRequest([]byte(tt.body))
			wantParsed(t, got, e, tt.want)
		})
	}

	bad := []struct {
		name, body, code string
		words            []string
	}{
		{"empty body", ``, CodeMissingParameter, []string{"empty", "TaskId"}},
		{"array", `[{"TaskId":"t"}]`, CodeInvalidParameter, []string{"JSON object", "an array"}},
		{"string", `"task-audio-abc"`, CodeInvalidParameter, []string{"a string"}},
		{"null", `null`, CodeInvalidParameter, []string{"null"}},
		{"number", `42`, CodeInvalidParameter, []string{"a number"}},
		{"not json", `TaskId=abc`, CodeInvalidParameter, []string{"invalid JSON"}},
		{"syntax error", `{"TaskId":}`, CodeInvalidParameter, []string{"not valid JSON"}},
		{"truncated", `{"TaskId":"abc"`, CodeInvalidParameter, []string{"truncated"}},
		{"trailing data", `{"TaskId":"abc"} {}`, CodeInvalidParameter, []string{"after the JSON object"}},
		{"missing TaskId", `{}`, CodeMissingParameter, []string{"TaskId is required"}},
		{"null TaskId", `{"TaskId":null}`, CodeMissingParameter, []string{"TaskId is required"}},
		{"empty TaskId", `{"TaskId":""}`, CodeMissingParameter, []string{"TaskId is empty"}},
		{"blank TaskId", `{"TaskId":"  "}`, CodeMissingParameter, []string{"TaskId is empty"}},
		{"TaskId number", `{"TaskId":123}`, CodeInvalidParameter, []string{"TaskId must be a string", "number"}},
		{"TaskId object", `{"TaskId":{"a":1}}`, CodeInvalidParameter, []string{"TaskId must be a string", "object"}},
		{"Service number", `{"TaskId":"t","Service":1}`, CodeInvalidParameter, []string{"Service must be a string"}},
		{"too long", `{"TaskId":"` + strings.Repeat("a", 129) + `"}`, CodeInvalidParameterValue, []string{"129 characters", "at most 128"}},
		{"slash", `{"TaskId":"task/../x"}`, CodeInvalidParameterValue, []string{`'/'`, "position 5"}},
		{"space", `{"TaskId":"task audio"}`, CodeInvalidParameterValue, []string{`' '`}},
		{"newline", `{"TaskId":"task\naudio"}`, CodeInvalidParameterValue, []string{`'\n'`}},
		{"non-ascii", `{"TaskId":"tâsk"}`, CodeInvalidParameterValue, []string{"non-ASCII"}},
		{"bad service", `{"TaskId":"t","Service":"cos"}`, CodeInvalidParameterValue, []string{`"cos"`, "ams", "vm"}},
		{"unknown field", `{"TaskId":"t","Force":true}`, CodeUnknownParameter, []string{`"Force"`, "TaskId, Service"}},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, e := parseTaskRequest([]byte(tt.body))
			wantErr(t, e, http.StatusBadRequest, tt.code, tt.words...)
		})
	}
}

func TestParseLiveAuditRequest(t *testing.T) {
	withEnv := env(EnvCIBucket, "defaultbucket-1250000000", EnvCIRegion, "ap-shanghai")
	ok := []struct {
		name, body string
		getenv     func(string) string
		want       LiveAuditRequest
	}{
		{"all in request", `{"JobId":"av123","Bucket":"examplebucket-1250000000","Region":"ap-beijing"}`, env(),
			LiveAuditRequest{JobId: "av123", Bucket: "examplebucket-1250000000", Region: "ap-beijing"}},
		{"defaults from env", `{"JobId":"av123"}`, withEnv,
			LiveAuditRequest{JobId: "av123", Bucket: "defaultbucket-1250000000", Region: "ap-shanghai"}},
		{"request overrides env", `{"JobId":"av-1_2","Bucket":"b-1250000000","Region":"ap-shanghai-fsi"}`, withEnv,
			LiveAuditRequest{JobId: "av-1_2", Bucket: "b-1250000000", Region: "ap-shanghai-fsi"}},
	}
	for _, tt := range ok {
		t.Run(tt.name, func(t *testing.T) {
			got, e := parseLiveAuditRequest([]byte(tt.body), tt.getenv)
			wantParsed(t, got, e, tt.want)
		})
	}
	bad := []refusedBody{
		{"missing JobId", `{"Bucket":"b-1250000000","Region":"ap-beijing"}`, env(), 400, CodeMissingParameter, []string{"JobId is required"}},
		{"JobId with slash", `{"JobId":"av1/../../x","Bucket":"b-1250000000","Region":"ap-beijing"}`, env(), 400, CodeInvalidParameterValue, []string{"JobId", `'/'`}},
		{"JobId with dot", `{"JobId":"av1.x","Bucket":"b-1250000000","Region":"ap-beijing"}`, env(), 400, CodeInvalidParameterValue, []string{`'.'`}},
		{"JobId with query", `{"JobId":"av1?x=1","Bucket":"b-1250000000","Region":"ap-beijing"}`, env(), 400, CodeInvalidParameterValue, []string{`'?'`}},
		{"missing Bucket", `{"JobId":"av1","Region":"ap-beijing"}`, env(), 400, CodeMissingParameter, []string{"Bucket is required", EnvCIBucket}},
		{"missing Region", `{"JobId":"av1","Bucket":"b-1250000000"}`, env(), 400, CodeMissingParameter, []string{"Region is required", EnvCIRegion}},
		{"Bucket without appid", `{"JobId":"av1","Bucket":"examplebucket","Region":"ap-beijing"}`, env(), 400, CodeInvalidParameterValue, []string{"Bucket", "examplebucket-1250000000"}},
		{"Bucket host injection", `{"JobId":"av1","Bucket":"evil.com/x-1","Region":"ap-beijing"}`, env(), 400, CodeInvalidParameterValue, []string{"Bucket"}},
		{"Bucket upper case", `{"JobId":"av1","Bucket":"Bucket-1","Region":"ap-beijing"}`, env(), 400, CodeInvalidParameterValue, []string{"Bucket"}},
		{"Region host injection", `{"JobId":"av1","Bucket":"b-1250000000","Region":"evil.com#"}`, env(), 400, CodeInvalidParameterValue, []string{"Region"}},
		{"Region wrong type", `{"JobId":"av1","Bucket":"b-1250000000","Region":["ap-beijing"]}`, env(), 400, CodeInvalidParameter, []string{"Region must be a string"}},
		{"bad bucket setting", `{"JobId":"av1"}`, env(EnvCIBucket, "nope", EnvCIRegion, "ap-beijing"), 500, CodeConfiguration, []string{EnvCIBucket}},
		{"bad region setting", `{"JobId":"av1"}`, env(EnvCIBucket, "b-1250000000", EnvCIRegion, "Beijing"), 500, CodeConfiguration, []string{EnvCIRegion}},
		{"unknown field", `{"JobId":"av1","TaskId":"x"}`, withEnv, 400, CodeUnknownParameter, []string{`"TaskId"`, "JobId, Bucket, Region"}},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, e := parseLiveAuditRequest([]byte(tt.body), tt.getenv)
			wantErr(t, e, tt.status, tt.code, tt.words...)
		})
	}
}

func TestParseTranscriptionRequest(t *testing.T) {
	long := strings.Repeat("Ab+/=-_.:", 50)[:400]
	ok := []struct {
		name, body string
		getenv     func(string) string
		want       TranscriptionRequest
	}{
		{"all in request", `{"TaskId":"` + long + `","SdkAppId":1400000000,"Region":"ap-hongkong"}`, env(),
			TranscriptionRequest{TaskId: long, SdkAppId: 1400000000, Region: "ap-hongkong"}},
		{"SdkAppId as string", `{"TaskId":"t","SdkAppId":"1400000001","Region":"ap-singapore"}`, env(),
			TranscriptionRequest{TaskId: "t", SdkAppId: 1400000001, Region: "ap-singapore"}},
		{"max uint64 exact", `{"TaskId":"t","SdkAppId":18446744073709551615,"Region":"ap-singapore"}`, env(),
			TranscriptionRequest{TaskId: "t", SdkAppId: 18446744073709551615, Region: "ap-singapore"}},
		{"defaults from JANITOR_", `{"TaskId":"t"}`, env(EnvTRTCSdkAppID, "1400000002", EnvTRTCRegion, "ap-guangzhou", envRegion, "ap-beijing"),
			TranscriptionRequest{TaskId: "t", SdkAppId: 1400000002, Region: "ap-guangzhou"}},
		{"region from function region", `{"TaskId":"t","SdkAppId":1}`, env(envRegion, "ap-hongkong"),
			TranscriptionRequest{TaskId: "t", SdkAppId: 1, Region: "ap-hongkong"}},
		{"null SdkAppId uses env", `{"TaskId":"t","SdkAppId":null,"Region":"ap-guangzhou"}`, env(EnvTRTCSdkAppID, "7"),
			TranscriptionRequest{TaskId: "t", SdkAppId: 7, Region: "ap-guangzhou"}},
	}
	for _, tt := range ok {
		t.Run(tt.name, func(t *testing.T) {
			got, e := parseTranscriptionRequest([]byte(tt.body), tt.getenv)
			wantParsed(t, got, e, tt.want)
		})
	}
	bad := []refusedBody{
		{"missing TaskId", `{"SdkAppId":1,"Region":"ap-guangzhou"}`, env(), 400, CodeMissingParameter, []string{"TaskId is required"}},
		{"TaskId too long", `{"TaskId":"` + strings.Repeat("a", 513) + `","SdkAppId":1,"Region":"ap-guangzhou"}`, env(), 400, CodeInvalidParameterValue, []string{"at most 512"}},
		{"TaskId with space", `{"TaskId":"a b","SdkAppId":1,"Region":"ap-guangzhou"}`, env(), 400, CodeInvalidParameterValue, []string{`' '`}},
		{"zero SdkAppId", `{"TaskId":"t","SdkAppId":0,"Region":"ap-guangzhou"}`, env(), 400, CodeInvalidParameterValue, []string{"SdkAppId 0", "positive"}},
		{"negative SdkAppId", `{"TaskId":"t","SdkAppId":-1400000000,"Region":"ap-guangzhou"}`, env(), 400, CodeInvalidParameterValue, []string{"positive"}},
		{"fractional SdkAppId", `{"TaskId":"t","SdkAppId":1.5,"Region":"ap-guangzhou"}`, env(), 400, CodeInvalidParameterValue, []string{"positive integer"}},
		{"exponent SdkAppId", `{"TaskId":"t","SdkAppId":1e9,"Region":"ap-guangzhou"}`, env(), 400, CodeInvalidParameterValue, []string{"positive integer"}},
		{"overflowing SdkAppId", `{"TaskId":"t","SdkAppId":18446744073709551616,"Region":"ap-guangzhou"}`, env(), 400, CodeInvalidParameterValue, []string{"positive integer"}},
		{"bool SdkAppId", `{"TaskId":"t","SdkAppId":true,"Region":"ap-guangzhou"}`, env(), 400, CodeInvalidParameter, []string{"a boolean"}},
		{"word SdkAppId", `{"TaskId":"t","SdkAppId":"my-app","Region":"ap-guangzhou"}`, env(), 400, CodeInvalidParameterValue, []string{"my-app"}},
		{"missing SdkAppId", `{"TaskId":"t","Region":"ap-guangzhou"}`, env(), 400, CodeMissingParameter, []string{"SdkAppId is required", EnvTRTCSdkAppID}},
		{"bad SdkAppId setting", `{"TaskId":"t","Region":"ap-guangzhou"}`, env(EnvTRTCSdkAppID, "abc"), 500, CodeConfiguration, []string{EnvTRTCSdkAppID}},
		{"unsupported region", `{"TaskId":"t","SdkAppId":1,"Region":"ap-chengdu"}`, env(), 400, CodeInvalidParameterValue, []string{"ap-chengdu", "ap-beijing, ap-guangzhou, ap-hongkong, ap-shanghai, ap-singapore"}},
		{"no region anywhere", `{"TaskId":"t","SdkAppId":1}`, env(), 400, CodeMissingParameter, []string{"Region is required", EnvTRTCRegion}},
		{"function region unsupported", `{"TaskId":"t","SdkAppId":1}`, env(envRegion, "ap-chengdu"), 400, CodeMissingParameter, []string{envRegion, EnvTRTCRegion}},
		{"bad region setting", `{"TaskId":"t","SdkAppId":1}`, env(EnvTRTCRegion, "ap-chengdu"), 500, CodeConfiguration, []string{EnvTRTCRegion}},
		{"unknown field", `{"TaskId":"t","SdkAppId":1,"Region":"ap-guangzhou","RoomId":"r"}`, env(), 400, CodeUnknownParameter, []string{`"RoomId"`}},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, e := parseTranscriptionRequest([]byte(tt.body), tt.getenv)
			wantErr(t, e, tt.status, tt.code, tt.words...)
		})
	}
}

func TestValidBucketAndRegion(t *testing.T) {
	buckets := map[string]bool{
		"examplebucket-1250000000": true, "a-12345": true, "my-bucket-2-1250000000": true, "0a-12345678901234567890": true,
		"examplebucket": false, "examplebucket-1234": false, "-a-12345": false, "a--12345": false, "A-12345": false,
		"a_b-12345": false, "a.b-12345": false, "evil.com/x-12345": false, "a-123456789012345678901": false, "-12345": false,
		"": false, strings.Repeat("a", 55) + "-12345": false,
	}
	for b, want := range buckets {
		if got := validBucket(b); got != want {
			t.Errorf("validBucket(%q) = %v, want %v", b, got, want)
		}
	}
	regions := map[string]bool{
		"ap-guangzhou": true, "ap-shanghai-fsi": true, "na-siliconvalley": true, "eu-frankfurt": true, "ap-beijing-1": false,
		"ap": false, "ap-": false, "-ap": false, "AP-beijing": false, "ap_beijing": false, "ap-beijing.evil.com": false,
		"ap-b": false, "a-beijing": false, "ap-x-y-z-w": false, "": false,
	}
	for r, want := range regions {
		if got := validRegion(r); got != want {
			t.Errorf("validRegion(%q) = %v, want %v", r, got, want)
		}
	}
}

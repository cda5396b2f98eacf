package emulator

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestSDKModerationActions(t *testing.T) {
	for _, tc := range []struct {
		service, createAction, typ, liveType string
	}{
		{"ams", "CreateAudioModerationTask", TypeAudio, TypeLiveAudio},
		{"vm", "CreateVideoModerationTask", TypeVideo, TypeLiveVideo},
	} {
		t.Run(tc.service, func(t *testing.T) {
			e := newEnv(t, Options{})
			c := e.sdk(t, "", nil)

			var created struct {
				Results   []taskResult
				RequestId string
			}
			mustCall(t, c, tc.service, tc.createAction, map[string]any{
				"BizType": "biz1", "Type": tc.typ,
				"Tasks": []map[string]any{
					{"DataId": "d1", "Name": "n1", "Input": map[string]any{"Type": "URL", "Url": "https://example.com/a"}},
					{"DataId": "d2", "Input": map[string]any{"Type": "URL"}},
				},
			}, &created)
			if len(created.Results) != 2 || created.Results[0].Code != "OK" || created.Results[0].TaskId == "" {
				t.Fatalf("create results = %+v", created.Results)
			}
			if created.Results[1].Code == "OK" || created.Results[1].TaskId != "" {
				t.Fatalf("task without Url was accepted: %+v", created.Results[1])
			}
			if !uuidRE.MatchString(created.RequestId) {
				t.Fatalf("RequestId %q is not a UUID", created.RequestId)
			}
			id := created.Results[0].TaskId

			var desc describeResp
			mustCall(t, c, tc.service, "DescribeTasks", map[string]any{}, &desc)
			if desc.Total != "1" || len(desc.Data) != 1 || desc.Data[0].TaskId != id || desc.Data[0].Status != StatusPending ||
				desc.Data[0].BizType != "biz1" || desc.Data[0].DataId != "d1" || desc.Data[0].Type != tc.typ || desc.PageToken != "" {
				t.Fatalf("DescribeTasks = %+v", desc)
			}

			var detail taskDetailResp
			mustCall(t, c, tc.service, "DescribeTaskDetail", map[string]any{"TaskId": id}, &detail)
			if detail.TaskId != id || detail.Status != StatusPending || detail.InputInfo.Url != "https://example.com/a" {
				t.Fatalf("DescribeTaskDetail = %+v", detail)
			}

			var cancel struct{ RequestId string }
			mustCall(t, c, tc.service, "CancelTask", map[string]any{"TaskId": id}, &cancel)
			if !uuidRE.MatchString(cancel.RequestId) || cancel.RequestId == created.RequestId {
				t.Fatalf("CancelTask RequestId = %q", cancel.RequestId)
			}
			if got, _ := e.srv.Task(tc.service, id); got.Status != StatusCancelled {
				t.Fatalf("status after cancel = %s", got.Status)
			}
			wantCode(t, call(t, c, tc.service, "CancelTask", map[string]any{"TaskId": id}, nil), "FailedOperation")
			wantCode(t, call(t, c, tc.service, "CancelTask", map[string]any{"TaskId": "nope"}, nil), "ResourceNotFound")
			wantCode(t, call(t, c, tc.service, "CancelTask", map[string]any{}, nil), "MissingParameter")
			wantCode(t, call(t, c, tc.service, "DescribeTaskDetail", map[string]any{"TaskId": "nope"}, nil), "ResourceNotFound")

			// A live task stays RUNNING however long it runs, until cancelled.
			var live struct{ Results []taskResult }
			mustCall(t, c, tc.service, tc.createAction, map[string]any{"Type": tc.liveType,
				"Tasks": []map[string]any{{"DataId": "live", "Input": map[string]any{"Type": "URL", "Url": "rtmp://x/y"}}}}, &live)
			e.clock.Advance(240 * time.Hour)
			got, _ := e.srv.Task(tc.service, live.Results[0].TaskId)
			if got.Status != StatusRunning {
				t.Fatalf("live task status after 10 days = %s, want RUNNING", got.Status)
			}
		})
	}
}

func TestSDKModerationParameterErrors(t *testing.T) {
	e := newEnv(t, Options{})
	c := e.sdk(t, "", nil)
	for _, tc := range []struct {
		name, service, action string
		params                map[string]any
		code                  string
	}{
		{"unknown parameter", "ams", "CancelTask", map[string]any{"TaskId": "x", "Foo": 1}, "UnknownParameter"},
		{"wrong type", "ams", "CancelTask", map[string]any{"TaskId": 12}, "InvalidParameter"},
		{"ams BizType array", "ams", "DescribeTasks", map[string]any{"Filter": map[string]any{"BizType": []string{"a"}}}, "InvalidParameter"},
		{"vm BizType string", "vm", "DescribeTasks", map[string]any{"Filter": map[string]any{"BizType": "a"}}, "InvalidParameter"},
		{"limit too big", "ams", "DescribeTasks", map[string]any{"Limit": 101}, "InvalidParameterValue"},
		{"negative limit", "vm", "DescribeTasks", map[string]any{"Limit": -1}, "InvalidParameterValue"},
		{"bad status", "ams", "DescribeTasks", map[string]any{"Filter": map[string]any{"TaskStatus": "DONE"}}, "InvalidParameterValue"},
		{"bad type", "ams", "DescribeTasks", map[string]any{"Filter": map[string]any{"Type": "IMAGE"}}, "InvalidParameterValue"},
		{"bad suggestion", "vm", "DescribeTasks", map[string]any{"Filter": map[string]any{"Suggestion": "block"}}, "InvalidParameterValue"},
		{"bad start", "ams", "DescribeTasks", map[string]any{"StartTime": "yesterday"}, "InvalidParameterValue"},
		{"end before start", "ams", "DescribeTasks", map[string]any{"StartTime": "2024-01-02T00:00:00Z", "EndTime": "2024-01-01T00:00:00Z"}, "InvalidParameterValue"},
		{"bad token", "ams", "DescribeTasks", map[string]any{"PageToken": "garbage!"}, "InvalidParameterValue"},
		{"create without type", "ams", "CreateAudioModerationTask", map[string]any{"Tasks": []any{}}, "MissingParameter"},
		{"create video type on ams", "ams", "CreateAudioModerationTask", map[string]any{"Type": "VIDEO", "Tasks": []any{map[string]any{}}}, "InvalidParameterValue"},
		{"create without tasks", "vm", "CreateVideoModerationTask", map[string]any{"Type": "VIDEO"}, "MissingParameter"},
		{"unknown action", "ams", "DeleteEverything", map[string]any{}, "InvalidAction"},
		{"action of other service", "ams", "CreateVideoModerationTask", map[string]any{}, "InvalidAction"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, call(t, c, tc.service, tc.action, tc.params, nil), tc.code)
		})
	}
}

func TestSDKAuthErrors(t *testing.T) {
	clock := newFakeClock()
	e := newEnv(t, Options{AuthNow: clock.Now, Credentials: []Credential{
		{SecretID: DefaultSecretID, SecretKey: DefaultSecretKey},
		{SecretID: "AKIDTOKEN", SecretKey: "token-key", Token: "good-token"},
	}})
	e.srv.AddTask(Task{TaskId: "t1"})
	params := map[string]any{"TaskId": "t1"}
	for _, tc := range []struct {
		name string
		cred *common.Credential
		code string
	}{
		{"wrong key", common.NewCredential(DefaultSecretID, "wrong-key"), "AuthFailure.SignatureFailure"},
		{"unknown SecretId", common.NewCredential("AKIDNOBODY", DefaultSecretKey), "AuthFailure.SecretIdNotFound"},
		{"wrong token", common.NewTokenCredential("AKIDTOKEN", "token-key", "bad-token"), "AuthFailure.TokenFailure"},
		{"missing token", common.NewCredential("AKIDTOKEN", "token-key"), "AuthFailure.TokenFailure"},
		{"right token", common.NewTokenCredential("AKIDTOKEN", "token-key", "good-token"), ""},
		{"any token when none configured", common.NewTokenCredential(DefaultSecretID, DefaultSecretKey, "whatever"), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := call(t, e.sdk(t, "", tc.cred), "ams", "DescribeTaskDetail", params, nil)
			wantCode(t, err, tc.code)
		})
	}

	t.Run("stale timestamp", func(t *testing.T) {
		// The SDK signs with the real clock; move the emulator's auth clock instead.
		for _, skew := range []time.Duration{6 * time.Minute, -6 * time.Minute} {
			clock.Advance(skew)
			err := call(t, e.sdk(t, "", nil), "ams", "DescribeTaskDetail", params, nil)
			clock.Advance(-skew)
			wantCode(t, err, "AuthFailure.SignatureExpire")
		}
		clock.Advance(4 * time.Minute)
		defer clock.Advance(-4 * time.Minute)
		wantCode(t, call(t, e.sdk(t, "", nil), "ams", "DescribeTaskDetail", params, nil), "")
	})
}

func TestSDKUnsignedPayload(t *testing.T) {
	e := newEnv(t, Options{})
	prof := profile.NewClientProfile()
	prof.HttpProfile.Endpoint = e.host()
	prof.HttpProfile.Scheme = "HTTP"
	prof.UnsignedPayload = true
	c := common.NewCommonClient(common.NewCredential(DefaultSecretID, DefaultSecretKey), "", prof)
	mustCall(t, c, "ams", "DescribeTasks", map[string]any{"Limit": 5}, nil)
}

func TestSDKTRTC(t *testing.T) {
	e := newEnv(t, Options{SdkAppIDs: []uint64{1400000000, 1400000001}})
	c := e.sdk(t, "ap-guangzhou", nil)
	var created struct{ TaskId string }
	mustCall(t, c, "trtc", "CreateCloudTranscription", map[string]any{
		"SdkAppId": 1400000000, "RoomId": "room1", "RoomIdType": 1,
		"TranscriptionParam": map[string]any{"UserId": "bot", "UserSig": "sig", "MaxIdleTime": 60},
		"AsrParam":           map[string]any{"Language": "zh"},
	}, &created)
	if created.TaskId == "" {
		t.Fatal("no TaskId")
	}
	var desc struct {
		TaskId    string
		Status    string
		StartTime uint64
	}
	mustCall(t, c, "trtc", "DescribeCloudTranscription", map[string]any{"SdkAppId": 1400000000, "TaskId": created.TaskId}, &desc)
	if desc.TaskId != created.TaskId || desc.Status != TranscriptionIdle || desc.StartTime != uint64(e.clock.Now().UnixMilli()) {
		t.Fatalf("describe = %+v", desc)
	}
	e.clock.Advance(DefaultPendingFor)
	mustCall(t, c, "trtc", "DescribeCloudTranscription", map[string]any{"SdkAppId": 1400000000, "TaskId": created.TaskId}, &desc)
	if desc.Status != TranscriptionInProgress {
		t.Fatalf("status after PendingFor = %s", desc.Status)
	}

	// Other region, other app: not found.
	other := e.sdk(t, "ap-singapore", nil)
	wantCode(t, call(t, other, "trtc", "DescribeCloudTranscription", map[string]any{"SdkAppId": 1400000000, "TaskId": created.TaskId}, nil), "ResourceNotFound")
	wantCode(t, call(t, c, "trtc", "DeleteCloudTranscription", map[string]any{"SdkAppId": 1400000001, "TaskId": created.TaskId}, nil), "ResourceNotFound")

	var del struct{ TaskId, RequestId string }
	mustCall(t, c, "trtc", "DeleteCloudTranscription", map[string]any{"SdkAppId": 1400000000, "TaskId": created.TaskId}, &del)
	if del.TaskId != created.TaskId || !uuidRE.MatchString(del.RequestId) {
		t.Fatalf("delete = %+v", del)
	}
	mustCall(t, c, "trtc", "DescribeCloudTranscription", map[string]any{"SdkAppId": 1400000000, "TaskId": created.TaskId}, &desc)
	if desc.Status != TranscriptionExited {
		t.Fatalf("status after delete = %s", desc.Status)
	}
	wantCode(t, call(t, c, "trtc", "DeleteCloudTranscription", map[string]any{"SdkAppId": 1400000000, "TaskId": created.TaskId}, nil), "FailedOperation")

	for _, tc := range []struct {
		name, region, action string
		params               map[string]any
		code                 string
	}{
		{"no region", "", "DeleteCloudTranscription", map[string]any{"SdkAppId": 1400000000, "TaskId": "x"}, "MissingParameter"},
		{"unsupported region", "ap-chengdu", "DeleteCloudTranscription", map[string]any{"SdkAppId": 1400000000, "TaskId": "x"}, "UnsupportedRegion"},
		{"no SdkAppId", "ap-hongkong", "DeleteCloudTranscription", map[string]any{"TaskId": "x"}, "MissingParameter.SdkAppId"},
		{"unknown SdkAppId", "ap-hongkong", "DescribeCloudTranscription", map[string]any{"SdkAppId": 1, "TaskId": "x"}, "InvalidParameter.SdkAppId"},
		{"no TaskId", "ap-hongkong", "DeleteCloudTranscription", map[string]any{"SdkAppId": 1400000000}, "MissingParameter.TaskId"},
		{"unknown TaskId", "ap-hongkong", "DeleteCloudTranscription", map[string]any{"SdkAppId": 1400000000, "TaskId": "x"}, "ResourceNotFound"},
		{"no RoomId", "ap-hongkong", "CreateCloudTranscription", map[string]any{"SdkAppId": 1400000000, "TranscriptionParam": map[string]any{"UserId": "u"}}, "MissingParameter.RoomId"},
		{"no UserId", "ap-hongkong", "CreateCloudTranscription", map[string]any{"SdkAppId": 1400000000, "RoomId": "r"}, "MissingParameter.UserId"},
		{"SdkAppId as string", "ap-hongkong", "DeleteCloudTranscription", map[string]any{"SdkAppId": "1400000000", "TaskId": "x"}, "InvalidParameter"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, call(t, e.sdk(t, tc.region, nil), "trtc", tc.action, tc.params, nil), tc.code)
		})
	}
	if n := len(e.srv.Transcriptions()); n != 1 {
		t.Fatalf("%d transcriptions stored, want 1 (failed creates must not store)", n)
	}
}

func TestSDKTotalIsString(t *testing.T) {
	e := newEnv(t, Options{})
	for i := 0; i < 12; i++ {
		e.srv.AddTask(Task{Service: "vm", CreatedAt: e.clock.Now().Add(-time.Duration(i) * time.Minute)})
	}
	var raw map[string]any
	mustCall(t, e.sdk(t, "", nil), "vm", "DescribeTasks", map[string]any{}, &raw)
	if total, ok := raw["Total"].(string); !ok || total != strconv.Itoa(12) {
		t.Fatalf("Total = %#v, want the string \"12\"", raw["Total"])
	}
	if data := raw["Data"].([]any); len(data) != 10 {
		t.Fatalf("default page size = %d, want 10", len(data))
	}
	if tok, _ := raw["PageToken"].(string); tok == "" {
		t.Fatal("PageToken empty although more tasks remain")
	}
}

// TestSDKWrongTypeMessagesNameTheWantedType: a number that does not fit an
// integer parameter is reported as wanting an integer, not "a number".
func TestSDKWrongTypeMessagesNameTheWantedType(t *testing.T) {
	e := newEnv(t, Options{})
	c := e.sdk(t, "ap-guangzhou", nil)
	for _, tc := range []struct {
		service, action string
		params          map[string]any
		want            string
	}{
		{"ams", "DescribeTasks", map[string]any{"Limit": 1e30}, "Parameter Limit has the wrong type: got JSON number 1e+30, want an integer in range."},
		{"ams", "DescribeTasks", map[string]any{"Limit": "5"}, "Parameter Limit has the wrong type: got JSON string, want an integer in range."},
		{"trtc", "DescribeCloudTranscription", map[string]any{"SdkAppId": -1, "TaskId": "x"}, "want a non-negative integer in range."},
		{"ams", "DescribeTaskDetail", map[string]any{"TaskId": "x", "ShowAllSegments": "yes"}, "want a boolean."},
	} {
		err := call(t, c, tc.service, tc.action, tc.params, nil)
		wantCode(t, err, "InvalidParameter")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %v: error %v, want it to contain %q", tc.action, tc.params, err, tc.want)
		}
	}
}

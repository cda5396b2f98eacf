package tcapi

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// TRTCVersion is the API version of TRTC.
const TRTCVersion = "2019-07-22"

// TranscriptionRegions are the regions the cloud transcription actions may be
// served in: the union of the Chinese docs (cloud.tencent.com/document/product/647/129057
// and /129058: ap-beijing, ap-guangzhou, ap-hongkong, ap-shanghai) and the
// international docs (ap-guangzhou, ap-hongkong, ap-singapore), which differ.
// Tencent's own answer (UnsupportedRegion) refuses a region an account
// cannot use.
var TranscriptionRegions = []string{"ap-beijing", "ap-guangzhou", "ap-hongkong", "ap-shanghai", "ap-singapore"}

// TRTC calls the cloud transcription actions of TRTC (trtc.tencentcloudapi.com;
// international accounts use Endpoint https://trtc.intl.tencentcloudapi.com).
type TRTC struct {
	c *Client
}

// NewTRTC returns a TRTC client. opts.Region is required and must be one of
// TranscriptionRegions.
func NewTRTC(cred Credentials, opts Options) (*TRTC, error) {
	if err := checkTranscriptionRegion(opts.Region); err != nil {
		return nil, err
	}
	c, err := NewClient("trtc", TRTCVersion, cred, opts)
	if err != nil {
		return nil, err
	}
	return &TRTC{c: c}, nil
}

func checkTranscriptionRegion(region string) error {
	if region == "" {
		return fmt.Errorf("tcapi: trtc needs a region: cloud transcription is served in %s only", strings.Join(TranscriptionRegions, ", "))
	}
	if !slices.Contains(TranscriptionRegions, region) {
		return fmt.Errorf("tcapi: trtc region %q: cloud transcription is served in %s only", region, strings.Join(TranscriptionRegions, ", "))
	}
	return nil
}

// Region returns the region the client calls.
func (t *TRTC) Region() string { return t.c.sdk.GetRegion() }

// Stats returns the client's counters.
func (t *TRTC) Stats() Stats { return t.c.Stats() }

// DeleteCloudTranscriptionResponse is the answer of DeleteCloudTranscription.
type DeleteCloudTranscriptionResponse struct{ TaskId, RequestId string }

// DescribeCloudTranscriptionResponse is the answer of DescribeCloudTranscription.
// Status is Idle, InProgress or Exited; StartTime is in Unix milliseconds.
type DescribeCloudTranscriptionResponse struct {
	StartTime uint64
	Status    string
	TaskId    string
	RequestId string
}

// Started returns StartTime as a time (zero when StartTime is 0).
func (r DescribeCloudTranscriptionResponse) Started() time.Time {
	if r.StartTime == 0 {
		return time.Time{}
	}
	return time.UnixMilli(int64(r.StartTime)).UTC()
}

type transcriptionTask struct {
	SdkAppId uint64
	TaskId   string
}

func (t *TRTC) checkTask(action string, sdkAppID uint64, taskID string) error {
	switch {
	case sdkAppID == 0:
		return &Error{Service: "trtc", Action: action, Code: "MissingParameter.SdkAppId", Message: "SdkAppId is 0: want the TRTC application id, such as 1400000000"}
	case strings.TrimSpace(taskID) == "":
		return &Error{Service: "trtc", Action: action, Code: "MissingParameter.TaskId", Message: "empty TaskId"}
	}
	return nil
}

// DeleteCloudTranscription stops a cloud transcription task.
func (t *TRTC) DeleteCloudTranscription(ctx context.Context, sdkAppID uint64, taskID string) (DeleteCloudTranscriptionResponse, error) {
	const action = "DeleteCloudTranscription"
	var out DeleteCloudTranscriptionResponse
	if err := t.checkTask(action, sdkAppID, taskID); err != nil {
		return out, err
	}
	err := t.c.Call(ctx, action, transcriptionTask{SdkAppId: sdkAppID, TaskId: taskID}, &out)
	return out, err
}

// DescribeCloudTranscription returns the state of a cloud transcription task.
func (t *TRTC) DescribeCloudTranscription(ctx context.Context, sdkAppID uint64, taskID string) (DescribeCloudTranscriptionResponse, error) {
	const action = "DescribeCloudTranscription"
	var out DescribeCloudTranscriptionResponse
	if err := t.checkTask(action, sdkAppID, taskID); err != nil {
		return out, err
	}
	if err := t.c.Call(ctx, action, transcriptionTask{SdkAppId: sdkAppID, TaskId: taskID}, &out); err != nil {
		return DescribeCloudTranscriptionResponse{}, err
	}
	if out.TaskId != "" && out.TaskId != taskID {
		return DescribeCloudTranscriptionResponse{}, &Error{Service: "trtc", Action: action, Code: CodeInvalidResponse, RequestID: out.RequestId,
			Message: fmt.Sprintf("answer is about task %.80q, not the task asked for", out.TaskId)}
	}
	return out, nil
}

// Ended reports whether Status says the task has stopped (Exited). Idle and
// InProgress are running; a status it does not know is not ended.
func (r DescribeCloudTranscriptionResponse) Ended() bool { return r.Status == "Exited" }

// TranscriptionParam is how the transcription bot joins the room.
type TranscriptionParam struct {
	UserId         string
	UserSig        string
	IMAdminUserId  string `json:",omitempty"`
	IMAdminUserSig string `json:",omitempty"`
	MaxIdleTime    uint64 `json:",omitempty"` // seconds without audio before the task exits
}

// CreateCloudTranscriptionRequest starts a cloud transcription task. AsrParam
// and TranslationParam are passed through as documented by TRTC (any value
// that marshals to a JSON object).
type CreateCloudTranscriptionRequest struct {
	SdkAppId           uint64
	RoomId             string
	RoomIdType         int // 0 integer room id, 1 string room id
	TranscriptionParam TranscriptionParam
	AsrParam           any `json:",omitempty"`
	TranslationParam   any `json:",omitempty"`
}

// CreateCloudTranscriptionResponse is the answer of CreateCloudTranscription.
type CreateCloudTranscriptionResponse struct{ TaskId, RequestId string }

// CreateCloudTranscription starts a cloud transcription task (used by tests
// and local demos; the janitor itself only stops tasks).
func (t *TRTC) CreateCloudTranscription(ctx context.Context, req CreateCloudTranscriptionRequest) (CreateCloudTranscriptionResponse, error) {
	const action = "CreateCloudTranscription"
	var out CreateCloudTranscriptionResponse
	switch {
	case req.SdkAppId == 0:
		return out, &Error{Service: "trtc", Action: action, Code: "MissingParameter.SdkAppId", Message: "SdkAppId is 0"}
	case req.RoomId == "":
		return out, &Error{Service: "trtc", Action: action, Code: "MissingParameter.RoomId", Message: "empty RoomId"}
	case req.RoomIdType != 0 && req.RoomIdType != 1:
		return out, &Error{Service: "trtc", Action: action, Code: "InvalidParameter", Message: fmt.Sprintf("RoomIdType %d: want 0 (integer room id) or 1 (string room id)", req.RoomIdType)}
	case req.TranscriptionParam.UserId == "":
		return out, &Error{Service: "trtc", Action: action, Code: "MissingParameter.UserId", Message: "empty TranscriptionParam.UserId"}
	}
	err := t.c.Call(ctx, action, req, &out)
	return out, err
}

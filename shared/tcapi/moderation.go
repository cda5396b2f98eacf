package tcapi

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// ModerationVersion is the API version of AMS and VM.
const ModerationVersion = "2020-12-29"

// Moderation calls the audio (ams) or video (vm) moderation API.
type Moderation struct {
	c *Client
}

// NewModeration returns a client of service "ams" (audio) or "vm" (video).
func NewModeration(service string, cred Credentials, opts Options) (*Moderation, error) {
	if service != "ams" && service != "vm" {
		return nil, fmt.Errorf("tcapi: moderation service %q: want ams (audio) or vm (video)", service)
	}
	c, err := NewClient(service, ModerationVersion, cred, opts)
	if err != nil {
		return nil, err
	}
	return &Moderation{c: c}, nil
}

// Service returns "ams" or "vm".
func (m *Moderation) Service() string { return m.c.service }

// Stats returns the client's counters.
func (m *Moderation) Stats() Stats { return m.c.Stats() }

// CancelTaskResponse is the answer of CancelTask: a RequestId back means the
// task was cancelled.
type CancelTaskResponse struct{ RequestId string }

// CancelTask cancels a moderation task.
func (m *Moderation) CancelTask(ctx context.Context, taskID string) (CancelTaskResponse, error) {
	var out CancelTaskResponse
	if strings.TrimSpace(taskID) == "" {
		return out, &Error{Service: m.c.service, Action: "CancelTask", Code: "MissingParameter", Message: "empty TaskId"}
	}
	err := m.c.Call(ctx, "CancelTask", struct{ TaskId string }{taskID}, &out)
	return out, err
}

// TaskFilter selects tasks in DescribeTasks. Empty fields do not filter.
// ams accepts at most one BizType (sent as a string), vm a list (sent as an array).
type TaskFilter struct {
	BizTypes                     []string
	Type, Suggestion, TaskStatus string
}

// DescribeTasksRequest is one page request. StartTime/EndTime are RFC 3339
// (ISO 8601); the API defaults StartTime to 3 days ago, so set it when
// looking for older tasks. Limit 0 = the API's default (10).
type DescribeTasksRequest struct {
	Limit                         int
	Filter                        *TaskFilter
	PageToken, StartTime, EndTime string
}

// DescribeTasksResponse is one page of tasks. PageToken is empty on the last
// page. Total is the API's count, an integer written as a string (kept as the
// server wrote it, also when it answers with a JSON number).
type DescribeTasksResponse struct {
	Total     string
	Data      []TaskData
	PageToken string
	RequestId string
}

// TaskData is one moderation task.
type TaskData struct {
	DataId, TaskId, Name, BizType, Status, Type, Suggestion string
	Labels                                                  []TaskLabel
	MediaInfo                                               *MediaInfo
	InputInfo                                               *InputInfo
	CreatedAt, UpdatedAt                                    string
}

// TaskLabel is one moderation label of a task.
type TaskLabel struct {
	Label, Suggestion string
	Score             int64
	SubLabel          string
}

// MediaInfo describes the moderated media.
type MediaInfo struct {
	Codecs        string
	Duration      int64
	Width, Height int64
	Thumbnail     string
}

// InputInfo is the task's input.
type InputInfo struct {
	Type, Url  string
	BucketInfo *BucketInfo `json:",omitempty"`
}

// BucketInfo locates a COS object.
type BucketInfo struct{ Bucket, Region, Object string }

type amsFilter struct {
	BizType    string `json:",omitempty"`
	Type       string `json:",omitempty"`
	Suggestion string `json:",omitempty"`
	TaskStatus string `json:",omitempty"`
}

type vmFilter struct {
	BizType    []string `json:",omitempty"`
	Type       string   `json:",omitempty"`
	Suggestion string   `json:",omitempty"`
	TaskStatus string   `json:",omitempty"`
}

type describeTasksWire struct {
	Limit     int    `json:",omitempty"`
	Filter    any    `json:",omitempty"`
	PageToken string `json:",omitempty"`
	StartTime string `json:",omitempty"`
	EndTime   string `json:",omitempty"`
}

type describeTasksAnswer[T any] struct {
	Total     json.RawMessage
	Data      []T
	PageToken string
	RequestId string
}

// TaskSummary is the part of a moderation task that says what it is and how
// old: what a sweep needs, without the labels, media and input details.
type TaskSummary struct {
	DataId, TaskId, BizType, Status, Type, CreatedAt string
}

// DescribeTaskSummariesResponse is one page of DescribeTaskSummaries.
type DescribeTaskSummariesResponse struct {
	Total     string
	Data      []TaskSummary
	PageToken string
	RequestId string
}

// DescribeTasks returns one page of tasks.
func (m *Moderation) DescribeTasks(ctx context.Context, req DescribeTasksRequest) (DescribeTasksResponse, error) {
	ans, total, err := describeTasks[TaskData](ctx, m, req)
	if err != nil {
		return DescribeTasksResponse{}, err
	}
	return DescribeTasksResponse{Total: total, Data: ans.Data, PageToken: ans.PageToken, RequestId: ans.RequestId}, nil
}

// DescribeTaskSummaries is DescribeTasks decoding only each task's
// TaskSummary: a page costs a fraction of the memory, which matters to a
// sweep that pages through many thousands of tasks.
func (m *Moderation) DescribeTaskSummaries(ctx context.Context, req DescribeTasksRequest) (DescribeTaskSummariesResponse, error) {
	ans, total, err := describeTasks[TaskSummary](ctx, m, req)
	if err != nil {
		return DescribeTaskSummariesResponse{}, err
	}
	return DescribeTaskSummariesResponse{Total: total, Data: ans.Data, PageToken: ans.PageToken, RequestId: ans.RequestId}, nil
}

// describeTasks calls DescribeTasks and decodes each task into a T.
func describeTasks[T any](ctx context.Context, m *Moderation, req DescribeTasksRequest) (ans describeTasksAnswer[T], total string, err error) {
	const action = "DescribeTasks"
	bad := func(format string, args ...any) error {
		return &Error{Service: m.c.service, Action: action, Code: "InvalidParameterValue", Message: fmt.Sprintf(format, args...)}
	}
	if req.Limit < 0 {
		return ans, "", bad("Limit %d: want 0 (API default) or more", req.Limit)
	}
	w := describeTasksWire{Limit: req.Limit, PageToken: req.PageToken, StartTime: req.StartTime, EndTime: req.EndTime}
	if f := req.Filter; f != nil {
		var biz []string
		for _, b := range f.BizTypes {
			if b = strings.TrimSpace(b); b != "" {
				biz = append(biz, b)
			}
		}
		if m.c.service == "ams" {
			if len(biz) > 1 {
				return ans, "", bad("ams filters on one BizType at a time, got %d (%s): query each separately", len(biz), strings.Join(biz, ", "))
			}
			af := amsFilter{Type: f.Type, Suggestion: f.Suggestion, TaskStatus: f.TaskStatus}
			if len(biz) == 1 {
				af.BizType = biz[0]
			}
			if af != (amsFilter{}) {
				w.Filter = af
			}
		} else {
			vf := vmFilter{BizType: biz, Type: f.Type, Suggestion: f.Suggestion, TaskStatus: f.TaskStatus}
			if len(biz) > 0 || vf.Type != "" || vf.Suggestion != "" || vf.TaskStatus != "" {
				w.Filter = vf
			}
		}
	}
	if err := m.c.Call(ctx, action, w, &ans); err != nil {
		return ans, "", err
	}
	total, err = totalString(ans.Total)
	if err != nil {
		return ans, "", &Error{Service: m.c.service, Action: action, Code: CodeInvalidResponse, RequestID: ans.RequestId, Message: err.Error()}
	}
	return ans, total, nil
}

// totalString accepts Total as the documented string ("382"), a JSON number
// (kept digit for digit) or absent.
func totalString(raw json.RawMessage) (string, error) {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" {
		return "", nil
	}
	if s[0] == '"' {
		var v string
		if err := json.Unmarshal(raw, &v); err != nil {
			return "", fmt.Errorf("answer field Total %s: %v", s, err)
		}
		return v, nil
	}
	if _, err := strconv.ParseUint(s, 10, 64); err != nil {
		return "", fmt.Errorf("answer field Total %.40s: want an integer", s)
	}
	return s, nil
}

// TaskDetail is the state of one moderation task, from DescribeTaskDetail.
// Status is FINISH, PENDING, RUNNING, ERROR or CANCELLED.
type TaskDetail struct {
	TaskId, DataId, BizType, Name, Status, Type, Suggestion string
	CreatedAt, UpdatedAt                                    string
	RequestId                                               string
}

// Ended reports whether the task's Status says it will not run any more
// (FINISH, ERROR or CANCELLED). A status it does not know is not ended.
func (d TaskDetail) Ended() bool {
	switch d.Status {
	case "FINISH", "ERROR", "CANCELLED":
		return true
	}
	return false
}

// DescribeTaskDetail returns the state of one task. The action and its
// fields are the published ones of both services (tencentcloud-sdk-go
// tencentcloud/{ams,vm}/v20201229/models.go:
// DescribeTaskDetailRequest{TaskId, ShowAllSegments} and
// DescribeTaskDetailResponseParams{TaskId, DataId, BizType, Name, Status,
// Type, Suggestion, Labels, ..., CreatedAt, UpdatedAt, RequestId}). Every
// field "may return null"; an answer about another TaskId is refused
// (CodeInvalidResponse), one without a Status is returned as is.
func (m *Moderation) DescribeTaskDetail(ctx context.Context, taskID string) (TaskDetail, error) {
	const action = "DescribeTaskDetail"
	var out TaskDetail
	if strings.TrimSpace(taskID) == "" {
		return out, &Error{Service: m.c.service, Action: action, Code: "MissingParameter", Message: "empty TaskId"}
	}
	if err := m.c.Call(ctx, action, struct{ TaskId string }{taskID}, &out); err != nil {
		return TaskDetail{}, err
	}
	if out.TaskId != "" && out.TaskId != taskID {
		return TaskDetail{}, &Error{Service: m.c.service, Action: action, Code: CodeInvalidResponse, RequestID: out.RequestId,
			Message: fmt.Sprintf("answer is about task %.80q, not the task asked for", out.TaskId)}
	}
	return out, nil
}

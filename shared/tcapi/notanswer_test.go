package tcapi

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestAnswersThatAreNotTencentSuccesses sends every 200 answer that is
// neither a Tencent success nor a Tencent error through each call: each must
// be CodeInvalidResponse after one request (retrying cannot help), never a
// panic (the SDK panics on a body of null) and never a success.
func TestAnswersThatAreNotTencentSuccesses(t *testing.T) {
	bodies := map[string]string{
		"null":                       `null`,
		"empty object":               `{}`,
		"array":                      `[]`,
		"number":                     `42`,
		"Response null":              `{"Response":null}`,
		"Response empty":             `{"Response":{}}`,
		"Response a string":          `{"Response":"ok"}`,
		"Response without RequestId": `{"Response":{"TaskId":"t-1","Status":"RUNNING"}}`,
		"Error without Code":         `{"Response":{"Error":{"Message":"x"},"RequestId":"rid"}}`,
	}
	calls := map[string]func(ctx context.Context, m *Moderation, tr *TRTC) error{
		"CancelTask": func(ctx context.Context, m *Moderation, _ *TRTC) error {
			_, err := m.CancelTask(ctx, "t-1")
			return err
		},
		"DescribeTaskSummaries": func(ctx context.Context, m *Moderation, _ *TRTC) error {
			_, err := m.DescribeTaskSummaries(ctx, DescribeTasksRequest{})
			return err
		},
		"DescribeTaskDetail": func(ctx context.Context, m *Moderation, _ *TRTC) error {
			_, err := m.DescribeTaskDetail(ctx, "t-1")
			return err
		},
		"DeleteCloudTranscription": func(ctx context.Context, _ *Moderation, tr *TRTC) error {
			_, err := tr.DeleteCloudTranscription(ctx, 1400000000, "t-1")
			return err
		},
		"DescribeCloudTranscription": func(ctx context.Context, _ *Moderation, tr *TRTC) error {
			_, err := tr.DescribeCloudTranscription(ctx, 1400000000, "t-1")
			return err
		},
	}
	for bname, body := range bodies {
		for cname, call := range calls {
			t.Run(bname+"/"+cname, func(t *testing.T) {
				srv := newAPIServer(t, func(_ int, w http.ResponseWriter, _ recorded) {
					w.Header().Set("Content-Type", "application/json")
					_, _ = io.WriteString(w, body)
				})
				m, err := NewModeration("ams", testCred, fastOptions(srv.URL))
				if err != nil {
					t.Fatal(err)
				}
				tr, err := NewTRTC(testCred, fastOptions(srv.URL))
				if err != nil {
					t.Fatal(err)
				}
				err = call(context.Background(), m, tr)
				var e *Error
				if !errors.As(err, &e) || e.Code != CodeInvalidResponse {
					t.Fatalf("err = %v, want %s", err, CodeInvalidResponse)
				}
				if srv.count() != 1 {
					t.Errorf("%d requests, want 1 (an answer that is not Tencent's is not retried)", srv.count())
				}
			})
		}
	}
}

// TestDescribeTasksDataNotAList: a page whose Data is not a list is not a page.
func TestDescribeTasksDataNotAList(t *testing.T) {
	for _, data := range []string{`"x"`, `{}`, `42`, `[1]`} {
		t.Run(data, func(t *testing.T) {
			srv := newAPIServer(t, func(_ int, w http.ResponseWriter, _ recorded) {
				writeRaw(w, `{"Total":"1","Data":`+data+`,"PageToken":"","RequestId":"rid"}`)
			})
			m := newTestModeration(t, "ams", fastOptions(srv.URL))
			_, err := m.DescribeTaskSummaries(context.Background(), DescribeTasksRequest{})
			if !HasCode(err, CodeInvalidResponse) {
				t.Fatalf("err = %v, want %s", err, CodeInvalidResponse)
			}
		})
	}
}

func TestDescribeTaskDetail(t *testing.T) {
	tests := []struct {
		name, answer string
		want         TaskDetail
		wantCode     string
	}{
		{"running", `{"TaskId":"t-1","Status":"RUNNING","Type":"AUDIO","RequestId":"rid"}`,
			TaskDetail{TaskId: "t-1", Status: "RUNNING", Type: "AUDIO", RequestId: "rid"}, ""},
		{"TaskId null (documented as possible)", `{"TaskId":null,"Status":"FINISH","RequestId":"rid"}`,
			TaskDetail{Status: "FINISH", RequestId: "rid"}, ""},
		{"another task", `{"TaskId":"t-2","Status":"FINISH","RequestId":"rid"}`, TaskDetail{}, CodeInvalidResponse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newAPIServer(t, func(_ int, w http.ResponseWriter, _ recorded) { writeRaw(w, tt.answer) })
			m := newTestModeration(t, "vm", fastOptions(srv.URL))
			got, err := m.DescribeTaskDetail(context.Background(), "t-1")
			if tt.wantCode != "" {
				if !HasCode(err, tt.wantCode) {
					t.Fatalf("err = %v, want %s", err, tt.wantCode)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
			r := srv.requests()[0]
			checkSigned(t, r, "vm", ModerationVersion, "DescribeTaskDetail", "ap-guangzhou")
			if p := r.params(t); p["TaskId"] != "t-1" || len(p) != 1 {
				t.Errorf("params %v, want {TaskId: t-1}", p)
			}
		})
	}
	for _, tt := range []struct {
		status string
		ended  bool
	}{{"FINISH", true}, {"ERROR", true}, {"CANCELLED", true}, {"PENDING", false}, {"RUNNING", false}, {"", false}, {"PAUSED", false}} {
		if got := (TaskDetail{Status: tt.status}).Ended(); got != tt.ended {
			t.Errorf("Ended(%q) = %v, want %v", tt.status, got, tt.ended)
		}
	}
}

// TestCIAnswersNotAboutTheJob: a 2xx CI answer must name the job asked for.
func TestCIAnswersNotAboutTheJob(t *testing.T) {
	bodies := map[string]string{
		"empty Response": `<Response/>`,
		"no JobsDetail":  `<Response><RequestId>rid</RequestId></Response>`,
		"another job":    `<Response><JobsDetail><JobId>av-other</JobId><State>Cancelled</State></JobsDetail><RequestId>rid</RequestId></Response>`,
		"empty JobId":    `<Response><JobsDetail><JobId></JobId></JobsDetail></Response>`,
	}
	for name, body := range bodies {
		for _, get := range []bool{false, true} {
			t.Run(name+map[bool]string{false: "/cancel", true: "/get"}[get], func(t *testing.T) {
				srv := newStubServer(t, func(_ int, w http.ResponseWriter, _ recorded) { writeXMLBody(w, http.StatusOK, body) })
				c := newTestCI(t, srv.URL)
				var err error
				if get {
					_, err = c.GetLiveAudit(context.Background(), "av-asked")
				} else {
					_, err = c.CancelLiveAudit(context.Background(), "av-asked")
				}
				if !HasCode(err, CodeInvalidResponse) || len(srv.requests()) != 1 {
					t.Fatalf("err = %v after %d requests, want %s after 1", err, len(srv.requests()), CodeInvalidResponse)
				}
				if strings.Contains(name, "another") && !strings.Contains(err.Error(), "av-other") {
					t.Errorf("message %q does not name the job the answer was about", err)
				}
			})
		}
	}
}

func TestStateUnknown(t *testing.T) {
	e := func(code string, cause error) error {
		return &Error{Service: "ams", Action: "CancelTask", Code: code, Err: cause, Attempts: 1}
	}
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{e("FailedOperation", nil), true},
		{e("FailedOperation.TaskEnded", nil), true},
		{e("ResourceInUse", nil), true},
		{e("InternalError", nil), true},
		{e(CodeBadGateway, nil), true},
		{e(CodeNetworkError, nil), true},
		{e("ResourceNotFound", nil), false},
		{e("AuthFailure.SignatureExpire", nil), false},
		{e("UnauthorizedOperation", nil), false},
		{e("RequestLimitExceeded", nil), false},
		{e("InvalidParameterValue", nil), false},
		{e("MissingParameter.TaskId", nil), false},
		{e("UnsupportedRegion", nil), false},
		{e("AccessDenied", nil), false},
		{e(CodeInvalidResponse, nil), false},
		{e(CodeHTTPError, nil), false},
		{e(CodeDeadlineExceeded, context.DeadlineExceeded), false},
		{e("InternalError", context.DeadlineExceeded), false}, // gave up at the deadline
		{errors.New("not a tcapi error"), false},
		{nil, false},
	} {
		if got := StateUnknown(tt.err); got != tt.want {
			t.Errorf("StateUnknown(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

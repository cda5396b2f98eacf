package cancel

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/scf-janitor/scf-janitor/shared/scf"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
	"github.com/scf-janitor/scf-janitor/shared/tcapi/cossign"
)

// scripted answers one cancel with cancelErr and the lookup with the given
// status (or lookupErr), for each kind of job.
type scripted struct {
	cancelErr error
	status    string
	lookupErr error
	lookups   int
}

func (s *scripted) CancelTask(context.Context, string) (tcapi.CancelTaskResponse, error) {
	return tcapi.CancelTaskResponse{}, s.cancelErr
}

func (s *scripted) DescribeTaskDetail(_ context.Context, id string) (tcapi.TaskDetail, error) {
	s.lookups++
	return tcapi.TaskDetail{TaskId: id, Status: s.status, RequestId: "rid-lookup"}, s.lookupErr
}

func (s *scripted) CancelLiveAudit(context.Context, string) (tcapi.CancelLiveAuditResponse, error) {
	return tcapi.CancelLiveAuditResponse{}, s.cancelErr
}

func (s *scripted) GetLiveAudit(_ context.Context, id string) (tcapi.LiveAuditJob, error) {
	s.lookups++
	return tcapi.LiveAuditJob{JobId: id, State: s.status, RequestId: "rid-lookup"}, s.lookupErr
}

func (s *scripted) DeleteCloudTranscription(context.Context, uint64, string) (tcapi.DeleteCloudTranscriptionResponse, error) {
	return tcapi.DeleteCloudTranscriptionResponse{}, s.cancelErr
}

func (s *scripted) DescribeCloudTranscription(_ context.Context, _ uint64, id string) (tcapi.DescribeCloudTranscriptionResponse, error) {
	s.lookups++
	return tcapi.DescribeCloudTranscriptionResponse{TaskId: id, Status: s.status, RequestId: "rid-lookup"}, s.lookupErr
}

func scriptedHandler(newHandler func(Options) *Handler, s *scripted) *Handler {
	h := newHandler(Options{COSSigner: cossign.Transport})
	h.clients = clients{
		moderation: func(string, tcapi.Credentials, tcapi.Options) (taskCanceler, error) { return s, nil },
		ci:         func(tcapi.Credentials, tcapi.CIOptions) (liveAuditCanceler, error) { return s, nil },
		trtc:       func(tcapi.Credentials, tcapi.Options) (transcriptionStopper, error) { return s, nil },
	}
	return h
}

// scriptedRefusal sends body to newHandler's handler over s and returns the
// error it answers with.
func scriptedRefusal(t *testing.T, newHandler func(Options) *Handler, s *scripted, body string) *Error {
	t.Helper()
	h := scriptedHandler(newHandler, s)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ctx = scf.NewContext(ctx, &scf.FunctionContext{RequestID: "scf-rid", Env: map[string]string{
		"TENCENTCLOUD_SECRETID": "AKIDX", "TENCENTCLOUD_SECRETKEY": "key", "JANITOR_LOG_LEVEL": ""}})
	_, err := h.Handle(ctx, []byte(body))
	e, ok := err.(*Error)
	if !ok {
		t.Fatalf("err = %v (%T), want *Error", err, err)
	}
	return e
}

// refusalCase is a cancel that Tencent refuses: what the scripted cancel
// and state lookup answer, and what the handler must then answer.
type refusalCase struct {
	name      string
	cancelErr error
	status    string // what the lookup says, when lookupErr is nil
	lookupErr error
	lookups   int    // lookups made
	want      int    // the answer's HTTP status
	code      string // the answer's Code
	rid       string // the answer's RequestID; "" = not checked
	words     []string
}

// check sends body to newHandler's handler over the case's script and checks
// the answer's status, code, words, RequestID and the lookups made; it
// returns the answer.
func (tc refusalCase) check(t *testing.T, newHandler func(Options) *Handler, body string) *Error {
	t.Helper()
	s := &scripted{cancelErr: tc.cancelErr, status: tc.status, lookupErr: tc.lookupErr}
	e := scriptedRefusal(t, newHandler, s, body)
	wantErr(t, e, tc.want, tc.code, tc.words...)
	if s.lookups != tc.lookups {
		t.Errorf("%d lookups, want %d", s.lookups, tc.lookups)
	}
	if tc.rid != "" && e.RequestID != tc.rid {
		t.Errorf("RequestID %q, want %q", e.RequestID, tc.rid)
	}
	return e
}

// TestStateLookup: a cancel Tencent refuses with a code that does not say
// why is answered from the job's state; a code that does say why is not
// looked up.
func TestStateLookup(t *testing.T) {
	kinds := []struct {
		newHandler          func(Options) *Handler
		body                string
		service             string
		running, ended, odd string
		endedCode           string
		gone                string // what a 404 after a lookup that found nothing says
	}{
		{NewCancelTask, `{"TaskId":"task-1","Service":"vm"}`, "vm", "RUNNING", "FINISH", "PAUSED", CodeTaskEnded, "looking it up found nothing"},
		{NewCancelLiveAudit, `{"JobId":"av1","Bucket":"examplebucket-1250000000","Region":"ap-beijing"}`, "ci", "Auditing", "Success", "Paused", CodeJobEnded, "looking it up found nothing"},
		// TRTC forgets a task once it has exited (TestTranscriptionLookupError).
		{NewStopTranscription, `{"TaskId":"tt-1","SdkAppId":1400000000,"Region":"ap-beijing"}`, "trtc", "InProgress", "Exited", "Paused", CodeTaskEnded, "has ended, or never existed"},
	}
	tencentErr := func(service, code string, attempts int) error {
		return &tcapi.Error{Service: service, Action: "Cancel", Code: code, Message: "said tencent", RequestID: "rid-cancel", Attempts: attempts}
	}
	notFound := func(service string) error {
		return &tcapi.Error{Service: service, Action: "Describe", Code: "ResourceNotFound", Message: "gone", RequestID: "rid-lookup", Attempts: 1}
	}
	for _, k := range kinds {
		cases := []refusalCase{
			{"FailedOperation, ended", tencentErr(k.service, "FailedOperation", 1), k.ended, nil, 1, 409, k.endedCode,
				"", []string{"already ended (status " + k.ended + ")", "FailedOperation: said tencent"}},
			{"FailedOperation on a retry, ended", tencentErr(k.service, "FailedOperation", 3), k.ended, nil, 1, 409, k.endedCode,
				"", []string{"status " + k.ended, "attempt 3", "earlier attempt most likely cancelled it"}},
			{"lost answers, ended", tencentErr(k.service, tcapi.CodeBadGateway, 4), k.ended, nil, 1, 409, k.endedCode, "", []string{"attempt 4"}},
			{"ResourceInUse, ended", tencentErr(k.service, "ResourceInUse", 1), k.ended, nil, 1, 409, k.endedCode, "", nil},
			{"old specific code, ended", tencentErr(k.service, k.endedCode, 1), k.ended, nil, 1, 409, k.endedCode, "", nil},
			{"FailedOperation, running", tencentErr(k.service, "FailedOperation", 1), k.running, nil, 1, 502, "FailedOperation", "", []string{"retry later"}},
			{"FailedOperation, gone", tencentErr(k.service, "FailedOperation", 1), "", notFound(k.service), 1, 404, "ResourceNotFound", "", []string{k.gone}},
			{"FailedOperation, status not judged", tencentErr(k.service, "FailedOperation", 1), k.odd, nil, 1, 502, "FailedOperation", "", nil},
			{"FailedOperation, lookup fails", tencentErr(k.service, "FailedOperation", 1), "",
				tencentErr(k.service, "UnauthorizedOperation", 1), 1, 502, "FailedOperation", "", []string{"retry later"}},
			{"old specific code, lookup fails", tencentErr(k.service, k.endedCode, 1), "", tencentErr(k.service, "InternalError", 4), 1, 409, k.endedCode, "", nil},
			{"auth failure is not looked up", tencentErr(k.service, "AuthFailure.SignatureFailure", 1), k.ended, nil, 0, 502, "AuthFailure.SignatureFailure", "", nil},
			{"throttling is not looked up", tencentErr(k.service, "RequestLimitExceeded", 4), k.ended, nil, 0, 429, "RequestLimitExceeded", "", nil},
			{"a bad parameter is not looked up", tencentErr(k.service, "InvalidParameterValue", 1), k.ended, nil, 0, 400, "InvalidParameterValue", "", nil},
			{"not found is not looked up", tencentErr(k.service, "ResourceNotFound", 1), k.ended, nil, 0, 404, "ResourceNotFound", "", nil},
			{"an answer that is not Tencent's is not looked up", tencentErr(k.service, tcapi.CodeInvalidResponse, 1), k.ended, nil, 0, 502, tcapi.CodeInvalidResponse, "", nil},
		}
		for _, tc := range cases {
			t.Run(k.service+"/"+tc.name, func(t *testing.T) {
				e := tc.check(t, k.newHandler, k.body)
				if tc.want == http.StatusConflict && e.RequestID != "rid-cancel" {
					t.Errorf("RequestID %q, want the cancel's", e.RequestID)
				}
				if tc.want == http.StatusConflict && !strings.Contains(e.Message, k.ended) && tc.status != "" {
					t.Errorf("message %q does not give the observed status", e.Message)
				}
			})
		}
	}
}

// TestTranscriptionLookupError: DescribeCloudTranscription "only works while
// the task runs; after it exits a query returns an error" (tccli
// trtc/v20190722/api.json), in no documented code. So after a refused delete,
// a lookup that Tencent answers with an error about the task (whichever code)
// means the task has ended, or never existed: 404, never "no such task" nor a
// 5xx. A lookup error that says nothing about the task (credentials,
// throttling, time, a transient InternalError, an answer that is not
// Tencent's) leaves the delete's own error; a lookup that answers keeps its
// meaning.
func TestTranscriptionLookupError(t *testing.T) {
	const body = `{"TaskId":"tt-1","SdkAppId":1400000000,"Region":"ap-beijing"}`
	tencentErr := func(action, code string, attempts int) error {
		return &tcapi.Error{Service: "trtc", Action: action, Code: code, Message: "said " + action, RequestID: "rid-" + action, Attempts: attempts}
	}
	refused := func(code string, attempts int) error { return tencentErr("DeleteCloudTranscription", code, attempts) }
	lookup := func(code string) error { return tencentErr("DescribeCloudTranscription", code, 1) }
	ended := []string{"transcription task tt-1 has ended, or never existed, in TRTC application 1400000000 (ap-beijing)",
		"FailedOperation: said DeleteCloudTranscription", "said DescribeCloudTranscription", "nothing to stop"}
	for _, tc := range []refusalCase{
		{"lookup ResourceNotFound", refused("FailedOperation", 1), "", lookup("ResourceNotFound"), 1, 404, "ResourceNotFound", "rid-DescribeCloudTranscription", ended},
		{"lookup FailedOperation", refused("FailedOperation", 1), "", lookup("FailedOperation"), 1, 404, "ResourceNotFound", "rid-DescribeCloudTranscription", ended},
		{"lookup FailedOperation.CTUnsupportMethod", refused("FailedOperation", 1), "", lookup("FailedOperation.CTUnsupportMethod"), 1, 404, "ResourceNotFound", "", ended},
		// An outage fails the delete and the lookup alike: that says nothing
		// about the task.
		{"lookup InternalError.CTInternalError", refused("FailedOperation", 1), "", lookup("InternalError.CTInternalError"), 1, 502, "FailedOperation", "", []string{"retry later"}},
		{"lookup ResourceUnavailable", refused("InternalError", 4), "", lookup("ResourceUnavailable"), 1, 502, "InternalError", "", nil},
		{"lookup InvalidParameter", refused("InternalError", 4), "", lookup("InvalidParameter"), 1, 404, "ResourceNotFound", "", []string{"has ended, or never existed"}},
		{"refused on a retry, lookup error", refused("FailedOperation", 3), "", lookup("FailedOperation"), 1, 404, "ResourceNotFound", "",
			[]string{"has ended, or never existed", "attempt 3", "an earlier attempt most likely stopped it"}},
		{"lookup not permitted", refused("FailedOperation", 1), "", lookup("AuthFailure.UnauthorizedOperation"), 1, 502, "FailedOperation", "rid-DeleteCloudTranscription", []string{"retry later"}},
		{"lookup UnauthorizedOperation", refused("FailedOperation", 1), "", lookup("UnauthorizedOperation"), 1, 502, "FailedOperation", "", []string{"retry later"}},
		{"lookup throttled", refused("FailedOperation", 1), "", lookup("RequestLimitExceeded"), 1, 502, "FailedOperation", "", nil},
		{"lookup network error", refused("FailedOperation", 1), "", lookup(tcapi.CodeNetworkError), 1, 502, "FailedOperation", "", nil},
		{"lookup answered by a proxy", refused("FailedOperation", 1), "", lookup(tcapi.CodeBadGateway), 1, 502, "FailedOperation", "", nil},
		{"lookup ran out of time", refused("FailedOperation", 1), "", lookup(tcapi.CodeDeadlineExceeded), 1, 502, "FailedOperation", "", nil},
		{"lookup InProgress", refused("FailedOperation", 1), "InProgress", nil, 1, 502, "FailedOperation", "", []string{"retry later"}},
		{"delete says TaskEnded itself, lookup error", refused(CodeTaskEnded, 1), "", lookup("ResourceNotFound"), 1, 409, CodeTaskEnded, "rid-DeleteCloudTranscription", []string{"already ended"}},
		{"lookup Exited", refused("FailedOperation", 1), "Exited", nil, 1, 409, CodeTaskEnded, "rid-DeleteCloudTranscription", []string{"already ended (status Exited)"}},
		{"delete ResourceNotFound", refused("ResourceNotFound", 1), "", nil, 0, 404, "ResourceNotFound", "rid-DeleteCloudTranscription",
			[]string{"transcription task tt-1 has ended, or never existed, in TRTC application 1400000000 (ap-beijing)", "said DeleteCloudTranscription"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := tc.check(t, NewStopTranscription, body)
			if tc.want == http.StatusNotFound && (strings.Contains(e.Message, "has no ") || strings.Contains(e.Message, "found nothing")) {
				t.Errorf("404 message %q says there is no such task; want ended, or never existed", e.Message)
			}
		})
	}
}

// TestNoLookupWithoutTime: with the deadline gone there is no lookup; the
// cancel's error stands.
func TestNoLookupWithoutTime(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := &tcapi.Error{Service: "ams", Code: "FailedOperation", Attempts: 1}
	if worthLookingUp(ctx, err) {
		t.Error("a done context is worth a lookup")
	}
	if worthLookingUp(context.Background(), &tcapi.Error{Service: "ams", Code: "InternalError", Err: context.DeadlineExceeded, Attempts: 2}) {
		t.Error("a call that gave up at the deadline is worth a lookup")
	}
}

// TestLiveAuditState: CI states are judged failing closed: only states
// known to be final count as ended.
func TestLiveAuditState(t *testing.T) {
	for _, tt := range []struct {
		state          string
		ended, running bool
	}{
		{"Submitted", false, true}, {"Snapshoting", false, true}, {"Auditing", false, true},
		{"Success", true, false}, {"Failed", true, false}, {"Cancelled", true, false},
		{"", false, false}, {"Paused", false, false}, {"auditing", false, false},
	} {
		t.Run(tt.state, func(t *testing.T) {
			if ended, running := liveAuditState(tt.state); ended != tt.ended || running != tt.running {
				t.Errorf("liveAuditState(%q) = ended %v, running %v; want %v, %v", tt.state, ended, running, tt.ended, tt.running)
			}
		})
	}
}

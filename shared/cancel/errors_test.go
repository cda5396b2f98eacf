package cancel

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

func TestFromTencent(t *testing.T) {
	tg := target{what: "task", id: "task-audio-1", where: "ams", fields: "TaskId and Service"}
	te := func(service, code string, retryable bool, cause error) error {
		return &tcapi.Error{Service: service, Action: "CancelTask", Code: code, Message: "msg from tencent", RequestID: "rid-1",
			Retryable: retryable, Err: cause, Attempts: 3}
	}
	ended1 := &tcapi.Error{Service: "ams", Action: "CancelTask", Code: "FailedOperation.TaskEnded", Message: "ended", RequestID: "rid-1", Attempts: 1}
	tests := []struct {
		name   string
		err    error
		status int
		code   string
		words  []string
	}{
		{"not found", te("ams", "ResourceNotFound", false, nil), 404, "ResourceNotFound", []string{"ams has no task task-audio-1", "check TaskId and Service"}},
		{"ci not found", te("ci", "ResourceNotFound", false, nil), 404, "ResourceNotFound", nil},
		{"ci no such bucket", te("ci", "NoSuchBucket", false, nil), 404, "NoSuchBucket", []string{"Bucket and Region"}},
		{"ci job ended", te("ci", "FailedOperation.JobEnded", false, nil), 409, "FailedOperation.JobEnded", nil},
		{"ended on a retry", te("ams", "FailedOperation.TaskEnded", false, nil), 409, "FailedOperation.TaskEnded",
			[]string{"attempt 3", "earlier attempt of this request most likely cancelled it"}},
		{"ended on the first attempt", ended1, 409, "FailedOperation.TaskEnded", []string{"has already ended, so there is nothing to cancel"}},
		{"other failed operation", te("ams", "FailedOperation", false, nil), 502, "FailedOperation", nil},
		{"invalid parameter", te("ams", "InvalidParameter", false, nil), 400, "InvalidParameter", []string{"msg from tencent"}},
		{"invalid parameter value", te("vm", "InvalidParameterValue.TaskId", false, nil), 400, "InvalidParameterValue.TaskId", nil},
		{"missing parameter", te("trtc", "MissingParameter.TaskId", false, nil), 400, "MissingParameter.TaskId", nil},
		{"ci invalid argument", te("ci", "InvalidArgument", false, nil), 400, "InvalidArgument", nil},
		{"unsupported region", te("trtc", "UnsupportedRegion", false, nil), 400, "UnsupportedRegion", []string{"msg from tencent", "Region"}},
		{"throttled", te("ams", "RequestLimitExceeded", true, nil), 429, "RequestLimitExceeded", []string{"retry after 1s", "3 attempts"}},
		{"throttled until deadline", te("ams", "RequestLimitExceeded", true, context.DeadlineExceeded), 429, "RequestLimitExceeded", nil},
		{"auth failure", te("ams", "AuthFailure.SignatureFailure", false, nil), 502, "AuthFailure.SignatureFailure", []string{"execution role", "not the caller's fault"}},
		{"unauthorized", te("trtc", "UnauthorizedOperation", false, nil), 502, "UnauthorizedOperation", []string{"execution role"}},
		{"ci access denied", te("ci", "AccessDenied", false, nil), 502, "AccessDenied", []string{"execution role"}},
		{"ci signature", te("ci", "SignatureDoesNotMatch", false, nil), 502, "SignatureDoesNotMatch", []string{"execution role"}},
		{"internal error", te("ams", "InternalError", true, nil), 502, "InternalError", nil},
		{"bad gateway", te("ams", tcapi.CodeBadGateway, true, nil), 502, tcapi.CodeBadGateway, nil},
		{"network", te("ams", tcapi.CodeNetworkError, true, nil), 502, tcapi.CodeNetworkError, nil},
		{"not a Tencent answer", te("vm", tcapi.CodeHTTPError, false, nil), 502, tcapi.CodeHTTPError, []string{"not a Tencent Cloud API answer", "JANITOR_VM_ENDPOINT"}},
		{"ci answer of the wrong shape", te("ci", tcapi.CodeInvalidResponse, false, nil), 502, tcapi.CodeInvalidResponse, []string{"JANITOR_CI_ENDPOINT"}},
		{"deadline", te("ams", tcapi.CodeDeadlineExceeded, false, context.DeadlineExceeded), 504, CodeDeadlineExceeded, []string{"time limit"}},
		{"canceled", te("ams", tcapi.CodeCanceled, false, context.Canceled), 504, CodeDeadlineExceeded, nil},
		{"retryable gave up at deadline", te("ams", "InternalError", true, errors.Join(errors.New("x"), context.DeadlineExceeded)), 504, CodeDeadlineExceeded, nil},
		{"final error wrapping deadline stays", te("ams", "ResourceNotFound", false, context.DeadlineExceeded), 404, "ResourceNotFound", nil},
		{"wrapped", fmt.Errorf("cancel: %w", te("ams", "ResourceNotFound", false, nil)), 404, "ResourceNotFound", nil},
		{"bare deadline", context.DeadlineExceeded, 504, CodeDeadlineExceeded, nil},
		{"bare error", errors.New("boom"), 502, "InternalError", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := fromTencent(tt.err, tg)
			wantErr(t, e, tt.status, tt.code, tt.words...)
			if !e.Upstream {
				t.Error("Upstream = false")
			}
			if tt.status == http.StatusTooManyRequests && e.RetryAfter != time.Second {
				t.Errorf("RetryAfter = %s", e.RetryAfter)
			}
			var tce *tcapi.Error
			if errors.As(tt.err, &tce) && e.RequestID != "rid-1" {
				t.Errorf("RequestID = %q, want Tencent's", e.RequestID)
			}
			if !strings.HasPrefix(e.Error(), e.Code+": ") {
				t.Errorf("Error() = %q", e.Error())
			}
		})
	}
}

func TestOneLine(t *testing.T) {
	tests := []struct{ in, want string }{
		{"four", "four"},
		{"a\nb\t", "a b "},
		{"abcdef", "abcd..."},
		{"ab€def", "ab..."}, // never cuts a rune in half
	}
	for _, tt := range tests {
		if got := oneLine(tt.in, 4); got != tt.want {
			t.Errorf("oneLine(%q, 4) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

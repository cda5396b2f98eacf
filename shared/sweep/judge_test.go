package sweep

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

// TestJudgeCancel: how each answer to a cancel (and the lookup of the
// task's state after a refusal) settles the task.
func TestJudgeCancel(t *testing.T) {
	tcErr := func(code string, attempts int) error {
		return &tcapi.Error{Service: "ams", Action: "CancelTask", Code: code, Message: "msg", RequestID: "req-1", Attempts: attempts}
	}
	ended := func(status string) *lookedUp { return &lookedUp{status: status, ended: true} }
	info, warn := slog.LevelInfo, slog.LevelWarn
	tests := []struct {
		name string
		err  error
		st   *lookedUp
		want settled
	}{
		{"success", nil, nil, settled{action: ActionCancelled, level: info, msg: "task cancelled"}},
		{"never sent: deadline before the first attempt", tcErr(tcapi.CodeDeadlineExceeded, 0), nil, settled{}},
		{"never sent: cancelled before the first attempt", tcErr(tcapi.CodeCanceled, 0), nil, settled{}},
		{"deadline during the call", tcErr(tcapi.CodeDeadlineExceeded, 1), nil,
			settled{action: ActionFailed, code: tcapi.CodeDeadlineExceeded, err: "msg (RequestId req-1)", level: warn, msg: "task cancel failed"}},
		{"context deadline, not a tcapi error", fmt.Errorf("cancel: %w", context.DeadlineExceeded), nil,
			settled{action: ActionFailed, code: tcapi.CodeDeadlineExceeded, err: "cancel: context deadline exceeded", level: warn, msg: "task cancel failed", timedOut: true}},
		{"refused, then found ended", tcErr("FailedOperation", 1), ended("FINISH"),
			settled{action: ActionSkipped, reason: "already ended (status FINISH)", code: "FailedOperation", status: "FINISH", level: info, msg: "task already ended"}},
		{"refused on the first attempt, then found CANCELLED", tcErr("FailedOperation", 1), ended("CANCELLED"),
			settled{action: ActionSkipped, reason: "already ended (status CANCELLED)", code: "FailedOperation", status: "CANCELLED", level: info, msg: "task already ended"}},
		{"refused on a retry, then found CANCELLED", tcErr("FailedOperation", 2), ended("CANCELLED"),
			settled{action: ActionCancelled, level: info, msg: "task cancelled",
				reason: "FailedOperation on attempt 2, then status CANCELLED: an earlier attempt whose answer was lost most likely cancelled it",
				note:   "confirmed by DescribeTaskDetail after FailedOperation on retry"}},
		{"refused, then not found", tcErr("ResourceInUse", 1), &lookedUp{gone: true},
			settled{action: ActionSkipped, reason: "not found (ResourceNotFound on DescribeTaskDetail after ResourceInUse)", code: "ResourceInUse", level: info, msg: "task gone"}},
		{"TaskEnded on a retry", tcErr("FailedOperation.TaskEnded", 3), nil,
			settled{action: ActionCancelled, level: info, msg: "task cancelled",
				reason: "TaskEnded on retry: an earlier attempt whose answer was lost most likely cancelled it", note: "confirmed by TaskEnded on retry"}},
		{"TaskEnded on the first attempt", tcErr("FailedOperation.TaskEnded", 1), nil,
			settled{action: ActionSkipped, reason: "FailedOperation.TaskEnded: already ended or gone", code: "FailedOperation.TaskEnded", level: info, msg: "task already ended"}},
		{"not found", tcErr("ResourceNotFound", 1), nil,
			settled{action: ActionSkipped, reason: "ResourceNotFound: already ended or gone", code: "ResourceNotFound", level: info, msg: "task already ended"}},
		{"not found, sub-code", tcErr("ResourceNotFound.Task", 1), nil,
			settled{action: ActionSkipped, reason: "ResourceNotFound.Task: already ended or gone", code: "ResourceNotFound.Task", level: info, msg: "task already ended"}},
		{"refused, lookup says nothing", tcErr("FailedOperation", 1), nil,
			settled{action: ActionFailed, code: "FailedOperation", err: "msg (RequestId req-1)", level: warn, msg: "task cancel failed"}},
		{"credentials", tcErr("AuthFailure.UnauthorizedOperation", 1), nil,
			settled{action: ActionFailed, code: "AuthFailure.UnauthorizedOperation", err: "msg (RequestId req-1)", level: warn, msg: "task cancel failed"}},
		{"not a Tencent answer", tcErr(tcapi.CodeInvalidResponse, 1), nil,
			settled{action: ActionFailed, code: tcapi.CodeInvalidResponse, err: "msg (RequestId req-1)", level: warn, msg: "task cancel failed"}},
		{"plain error", errors.New("connection reset"), nil,
			settled{action: ActionFailed, code: "Error", err: "connection reset", level: warn, msg: "task cancel failed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, judgeCancel(tt.err, tt.st), cmp.AllowUnexported(settled{})); diff != "" {
				t.Errorf("judgeCancel (-want +got):\n%s", diff)
			}
		})
	}
}

// TestPanickedCancel: a cancel call that panicked fails its task with
// CodePanic and the panic's value, clipped.
func TestPanickedCancel(t *testing.T) {
	long := fmt.Sprintf("%0300d", 7)
	got := panicked("vm", long)
	want := settled{action: ActionFailed, code: CodePanic, err: long[:200] + "...", level: slog.LevelWarn, msg: "task cancel failed"}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(settled{})); diff != "" {
		t.Errorf("panicked (-want +got):\n%s", diff)
	}
}

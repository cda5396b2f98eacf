package cancel

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

// Our codes for a cancel of a job that had already ended. They are
// scf-janitor's, not Tencent's: Tencent documents no code for cancelling an
// ended job (FACTS.md §8), so the functions ask for the job's state and
// answer with these when it says the job has ended.
const (
	CodeTaskEnded = "FailedOperation.TaskEnded" // cancel-task, stop-transcription
	CodeJobEnded  = "FailedOperation.JobEnded"  // cancel-live-audit
)

// worthLookingUp reports whether a failed cancel should be followed by a
// lookup of the job's state (tcapi.StateUnknown) and there is still time.
func worthLookingUp(ctx context.Context, err error) bool {
	return ctx.Err() == nil && tcapi.StateUnknown(err)
}

// lookupAnswered reports whether a failed lookup is Tencent's answer about
// the job, as opposed to one about the function itself (its credentials or
// permissions, throttling, the region, the time left), a transient failure a
// retry may cure (InternalError, ResourceUnavailable: during an outage the
// cancel and the lookup both fail, and that says nothing about the job), or
// an answer that is not Tencent's (a network error, a proxy's page).
func lookupAnswered(err error) bool {
	var te *tcapi.Error
	if !errors.As(err, &te) || te.Retryable || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return false
	}
	return !tcapi.HasCode(te,
		"AuthFailure", "UnauthorizedOperation", "SignatureDoesNotMatch", "AccessDenied", "InvalidAccessKeyId",
		"RequestTimeTooSkewed", "ExpiredToken", "InvalidToken", "RequestLimitExceeded", "UnsupportedRegion",
		"InternalError", "ResourceUnavailable",
		tcapi.CodeNetworkError, tcapi.CodeDeadlineExceeded, tcapi.CodeCanceled, tcapi.CodeBadGateway,
		tcapi.CodeHTTPError, tcapi.CodeInvalidResponse, tcapi.CodeClientError)
}

// state is what a lookup said about a job.
type state struct {
	status    string // as Tencent wrote it ("" when the job is gone)
	ended     bool   // the status says the job will not run any more
	gone      bool   // the lookup answered ResourceNotFound (404 for CI)
	requestID string // the lookup's RequestId
}

// lookupState interprets a lookup's outcome. ok is false when it says
// nothing usable (it failed, or the status is one we cannot judge): the
// cancel's own error then stands.
func lookupState(status string, ended, running bool, requestID string, err error) (state, bool) {
	if err != nil {
		if tcapi.HasCode(err, "ResourceNotFound", "NoSuchJob") {
			var te *tcapi.Error
			errors.As(err, &te)
			return state{gone: true, requestID: te.RequestID}, true
		}
		return state{}, false
	}
	if !ended && !running {
		return state{}, false
	}
	return state{status: status, ended: ended, requestID: requestID}, true
}

// fromState answers a failed cancel from the job's state: ended -> 409 with
// our code, gone -> 404, running (or unknown) -> nil (the cancel's own error
// stands).
func fromState(cancelErr error, s state, t target, endedCode string) *Error {
	var te *tcapi.Error
	errors.As(cancelErr, &te)
	tencent := te.Code
	if te.Message != "" {
		tencent += ": " + te.Message
	}
	switch {
	case s.gone:
		return &Error{Status: http.StatusNotFound, Code: "ResourceNotFound", RequestID: firstOf(s.requestID, te.RequestID), Upstream: true,
			Message: fmt.Sprintf("%s has no %s %s: the cancel failed (%s) and looking it up found nothing; check %s", t.where, t.what, t.id, tencent, t.fields)}
	case s.ended && te.Attempts > 1:
		return &Error{Status: http.StatusConflict, Code: endedCode, RequestID: firstOf(te.RequestID, s.requestID), Upstream: true,
			Message: fmt.Sprintf("%s %s has ended (status %s): Tencent refused attempt %d of this request (%s), so an earlier attempt "+
				"most likely cancelled it (its answer was lost); nothing more to do", t.what, t.id, s.status, te.Attempts, tencent)}
	case s.ended:
		return &Error{Status: http.StatusConflict, Code: endedCode, RequestID: firstOf(te.RequestID, s.requestID), Upstream: true,
			Message: fmt.Sprintf("%s %s has already ended (status %s), so there is nothing to cancel (Tencent answered the cancel with %s)",
				t.what, t.id, s.status, tencent)}
	}
	return nil
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// Whether a job's status says it is still running or has ended. A status
// that is neither cannot be judged (the cancel's own error stands).

// moderationRunning: DescribeTaskDetail Status PENDING or RUNNING (ended:
// FINISH, ERROR, CANCELLED; tcapi.TaskDetail.Ended).
func moderationRunning(status string) bool { return status == "PENDING" || status == "RUNNING" }

// transcriptionRunning: DescribeCloudTranscription Status Idle or InProgress
// (ended: Exited).
func transcriptionRunning(status string) bool { return status == "Idle" || status == "InProgress" }

// liveAuditState judges a CI live moderation job's State, failing closed. The
// query doc ("查询直播审核任务结果", tencentcloud.com 1045/49342) lists no live
// states; Tencent's own SDK lists a moderation job's states as Submitted,
// Snapshoting, Success, Failed and Auditing (cos-java-sdk-v5
// com/qcloud/cos/model/ciModel/auditing/AuditingJobsDetail.java). Submitted,
// Snapshoting and Auditing are running; Success, Failed and Cancelled (what a
// cancelled job most likely shows; not documented) have ended. Any other
// state is not judged, so the cancel's own error stands rather than a claim
// that the job has ended while it may still run.
func liveAuditState(st string) (ended, running bool) {
	switch st {
	case "Submitted", "Snapshoting", "Auditing":
		return false, true
	case "Success", "Failed", "Cancelled", "Canceled":
		return true, false
	}
	return false, false
}

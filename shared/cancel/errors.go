package cancel

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/scf-janitor/scf-janitor/shared/config"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

// Error is a failed invocation: the HTTP status a caller gets, a
// Tencent-shaped Code and an actionable Message. Direct invocations return
// it as the handler's error, so its text starts with the code:
//
//	ResourceNotFound: ams has no task task-audio-x: check TaskId and Service (RequestId 5b5e...)
//
// Messages never contain credentials or webhook secrets.
type Error struct {
	Status  int    // HTTP status
	Code    string // Tencent's code when the error came from Tencent, else ours (see docs/functions.md)
	Message string
	// RequestID is Tencent's RequestId when Tencent answered, else empty (the
	// response then carries the SCF request id).
	RequestID string
	// RetryAfter, when positive, is sent as the Retry-After header (429).
	RetryAfter time.Duration
	// Upstream is true when the error is Tencent's answer (or the lack of
	// one), false when it was decided locally.
	Upstream bool
}

// Error returns "Code: Message (RequestId id)".
func (e *Error) Error() string {
	s := e.Code + ": " + e.Message
	if e.RequestID != "" {
		s += " (RequestId " + e.RequestID + ")"
	}
	return s
}

// ErrorCode returns Code: a direct invocation's error then reports it as its
// errorType (scf.ErrorCoder).
func (e *Error) ErrorCode() string { return e.Code }

// Codes this package produces itself. Upstream errors keep Tencent's code.
const (
	CodeMissingParameter      = "MissingParameter"
	CodeInvalidParameter      = "InvalidParameter"
	CodeInvalidParameterValue = "InvalidParameterValue"
	CodeUnknownParameter      = "UnknownParameter"
	CodeMethodNotAllowed      = "UnsupportedOperation.MethodNotAllowed"
	CodeUnsupportedTrigger    = "UnsupportedOperation.Trigger"
	CodeRequestTooLarge       = "RequestSizeLimitExceeded"
	CodeSignatureMissing      = "AuthFailure.SignatureMissing"
	CodeSignatureInvalid      = "AuthFailure.InvalidSignature"
	CodeSignatureFailure      = "AuthFailure.SignatureFailure"
	CodeSignatureExpire       = "AuthFailure.SignatureExpire"
	CodeSecretNotConfigured   = "AuthFailure.WebhookSecretNotConfigured"
	CodeMissingCredentials    = "InternalError.MissingCredentials"
	CodeConfiguration         = "InternalError.Configuration"
	CodeDeadlineExceeded      = "DeadlineExceeded"
)

func badRequest(code, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: code, Message: fmt.Sprintf(format, args...)}
}

// withError returns a parser's answer with its *Error as an error, nil when
// there is none (a nil *Error in an error would not be nil).
func withError[R any](r R, e *Error) (R, error) {
	if e != nil {
		return r, e
	}
	return r, nil
}

func configError(format string, args ...any) *Error {
	return &Error{Status: http.StatusInternalServerError, Code: CodeConfiguration, Message: fmt.Sprintf(format, args...)}
}

// retryAfter is what a throttled caller is told to wait: Tencent's limits are
// per second.
const retryAfter = time.Second

// target describes the job a call was about, for messages: "ams task
// task-audio-x", "live audit job av123 in examplebucket-125...".
type target struct {
	what   string // "task", "live audit job", "transcription task"
	id     string
	where  string // "ams", "bucket examplebucket-1250000000 (ap-beijing)", "SdkAppId 1400000000 (ap-guangzhou)"
	fields string // the request fields that identify it, for hints: "TaskId and Service"
	// permission names what the execution role must allow, for hints.
	permission string
	// forgetsEnded: Tencent stops knowing the job once it has ended (TRTC
	// transcription), so "not found" means "ended, or never existed".
	forgetsEnded bool
}

// fromTencent maps a failed Tencent call to the caller's Error.
func fromTencent(err error, t target) *Error {
	var te *tcapi.Error
	if !errors.As(err, &te) {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			return &Error{Status: http.StatusGatewayTimeout, Code: CodeDeadlineExceeded, Upstream: true,
				Message: fmt.Sprintf("the invocation's time limit ran out before Tencent answered for %s %s; retry, or raise the function's timeout", t.what, t.id)}
		}
		return &Error{Status: http.StatusBadGateway, Code: "InternalError", Upstream: true,
			Message: fmt.Sprintf("calling Tencent for %s %s failed: %v", t.what, t.id, err)}
	}
	e := &Error{Code: te.Code, RequestID: te.RequestID, Upstream: true}
	tencent := te.Message
	if tencent == "" {
		tencent = "(no message)"
	}
	has := func(prefixes ...string) bool { return tcapi.HasCode(te, prefixes...) }
	switch {
	case has("RequestLimitExceeded"):
		e.Status, e.RetryAfter = http.StatusTooManyRequests, retryAfter
		e.Message = fmt.Sprintf("Tencent is still rate-limiting %s after %s; retry after %s (%s)",
			te.Service+" "+te.Action, attempts(te.Attempts), retryAfter, tencent)
	case te.Code == tcapi.CodeDeadlineExceeded || te.Code == tcapi.CodeCanceled ||
		(te.Retryable && errors.Is(te, context.DeadlineExceeded)):
		e.Status, e.Code = http.StatusGatewayTimeout, CodeDeadlineExceeded
		e.Message = fmt.Sprintf("the invocation's time limit ran out before Tencent confirmed cancelling %s %s (%s); "+
			"check its state before retrying, or raise the function's timeout", t.what, t.id, tencent)
	case has("ResourceNotFound", "NoSuchKey", "NoSuchJob") && t.forgetsEnded:
		e.Status = http.StatusNotFound
		e.Message = fmt.Sprintf("%s %s has ended, or never existed, in %s: Tencent no longer knows it (%s); nothing to stop "+
			"(if it should be running, check %s)", t.what, t.id, t.where, tencent, t.fields)
	case has("ResourceNotFound", "NoSuchKey", "NoSuchJob"):
		e.Status = http.StatusNotFound
		e.Message = fmt.Sprintf("%s has no %s %s: check %s (%s)", t.where, t.what, t.id, t.fields, tencent)
	case has("NoSuchBucket"):
		e.Status = http.StatusNotFound
		e.Message = fmt.Sprintf("%s does not exist: check Bucket and Region (%s)", t.where, tencent)
	case has("FailedOperation.TaskEnded", "FailedOperation.JobEnded"):
		e.Status = http.StatusConflict
		if te.Attempts > 1 {
			// An earlier attempt of this very call may have reached Tencent
			// and cancelled the job before its answer was lost.
			e.Message = fmt.Sprintf("%s %s has ended: Tencent said so on attempt %d, so an earlier attempt of this request "+
				"most likely cancelled it (its answer was lost); nothing more to do (%s)", t.what, t.id, te.Attempts, tencent)
			break
		}
		e.Message = fmt.Sprintf("%s %s has already ended, so there is nothing to cancel (%s)", t.what, t.id, tencent)
	case has("InvalidParameter", "InvalidParameterValue", "MissingParameter", "UnknownParameter", "InvalidArgument"):
		e.Status = http.StatusBadRequest
		e.Message = fmt.Sprintf("Tencent rejected the request for %s %s: %s", t.what, t.id, tencent)
	case has("UnsupportedRegion"):
		// API 3.0's common error "接口不支持所传地域": the region asked for
		// (the request's, or a default) does not serve this action for this
		// account. The docs disagree on TRTC's regions, so Tencent decides.
		e.Status = http.StatusBadRequest
		e.Message = fmt.Sprintf("Tencent does not serve %s in the region asked for %s %s: %s; send another Region",
			te.Service+" "+te.Action, t.what, t.id, tencent)
	case has("AuthFailure", "UnauthorizedOperation", "SignatureDoesNotMatch", "AccessDenied",
		"InvalidAccessKeyId", "RequestTimeTooSkewed", "ExpiredToken", "InvalidToken"):
		e.Status = http.StatusBadGateway
		e.Message = fmt.Sprintf("Tencent refused the function's own credentials (%s); this is not the caller's fault: "+
			"check the function's execution role and its permission for %s", tencent, t.permissionOr(te.Service+":"+te.Action))
	case te.Code == tcapi.CodeHTTPError || te.Code == tcapi.CodeInvalidResponse:
		// Retrying will not help: something other than Tencent Cloud answered.
		e.Status = http.StatusBadGateway
		e.Message = fmt.Sprintf("the answer for %s %s was not a Tencent Cloud API answer (%s); if %s is set, "+
			"check that it points at Tencent Cloud or the local emulator", t.what, t.id, tencent, endpointSetting(te.Service))
	default:
		e.Status = http.StatusBadGateway
		e.Message = fmt.Sprintf("Tencent failed to cancel %s %s (%s); retry later", t.what, t.id, tencent)
	}
	return e
}

// endpointSetting names the variable that overrides service's endpoint.
func endpointSetting(service string) string {
	switch service {
	case "vm":
		return config.EnvVMEndpoint
	case "trtc":
		return config.EnvTRTCEndpoint
	case "ci":
		return config.EnvCIEndpoint
	}
	return config.EnvAMSEndpoint
}

func (t target) permissionOr(def string) string {
	if t.permission != "" {
		return t.permission
	}
	return def
}

func attempts(n int) string {
	if n == 1 {
		return "1 attempt"
	}
	return fmt.Sprintf("%d attempts", n)
}

// oneLine shortens untrusted text for messages and logs.
func oneLine(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "..."
	}
	return s
}

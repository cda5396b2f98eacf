package tcapi

import (
	"context"
	"errors"
	"fmt"
	"html"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Codes this package produces itself (the others come from Tencent).
const (
	CodeNetworkError     = "NetworkError"     // transport failure: refused, reset, per-request timeout, broken body
	CodeDeadlineExceeded = "DeadlineExceeded" // the caller's context deadline passed
	CodeCanceled         = "Canceled"         // the caller's context was canceled
	CodeBadGateway       = "BadGateway"       // non-JSON / 5xx answer without a Tencent error (e.g. a proxy's 502 page)
	CodeHTTPError        = "HTTPError"        // 4xx answer without a Tencent error (wrong endpoint?)
	CodeInvalidResponse  = "InvalidResponse"  // a 2xx answer whose body does not match the documented shape
	CodeClientError      = "ClientError"      // a request this package could not build

	codeRequestLimitExceeded = "RequestLimitExceeded"
)

// Error is the one error type of every call in this package. It keeps
// Tencent's Code, Message and RequestId, says whether the failure is worth
// retrying, and wraps the cause (network error, context error). Its text never
// contains a SecretKey or session token.
type Error struct {
	Service, Action, Code, Message, RequestID string
	HTTPStatus                                int  // 0 when unknown
	Retryable                                 bool // transient: a later attempt may succeed
	Err                                       error
	// Attempts is how many HTTP requests were made before this error was
	// returned (0 when the call failed before sending anything).
	Attempts int
}

// Error returns "ams CancelTask: ResourceNotFound: <message> (RequestId <id>)".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Service)
	if e.Action != "" {
		b.WriteString(" ")
		b.WriteString(e.Action)
	}
	b.WriteString(": ")
	b.WriteString(e.Code)
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.RequestID != "" {
		b.WriteString(" (RequestId ")
		b.WriteString(e.RequestID)
		b.WriteString(")")
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// ErrorCode returns Tencent's Code (scf.ErrorCoder: a function's direct
// invocation that fails with it reports the code as its errorType).
func (e *Error) ErrorCode() string { return e.Code }

// HasCode reports whether err is (or wraps) an *Error whose Code equals one of
// the prefixes or starts with prefix + ".": HasCode(err, "AuthFailure") matches
// "AuthFailure.SignatureExpire".
func HasCode(err error, prefixes ...string) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	return codeHasPrefix(e.Code, prefixes...)
}

func codeHasPrefix(code string, prefixes ...string) bool {
	for _, p := range prefixes {
		if code == p || strings.HasPrefix(code, p+".") {
			return true
		}
	}
	return false
}

// retryableCode is the retry policy for codes a server answered with.
func retryableCode(code string) bool {
	return codeHasPrefix(code, codeRequestLimitExceeded, "InternalError", "ResourceUnavailable",
		CodeNetworkError, CodeBadGateway)
}

// contextError builds the error for a call stopped by ctx. last, when not nil,
// is the failure seen before the context ended; its details are kept in the
// message.
func contextError(ctx context.Context, service, action string, last *Error, attempts int) *Error {
	cerr := ctx.Err()
	if cerr == nil {
		cerr = context.DeadlineExceeded
	}
	e := &Error{Service: service, Action: action, Code: CodeDeadlineExceeded, Err: cerr, Attempts: attempts}
	if errors.Is(cerr, context.Canceled) {
		e.Code = CodeCanceled
	}
	if cause := context.Cause(ctx); cause != nil && cause != cerr {
		e.Err = errors.Join(cerr, cause)
	}
	if e.Code == CodeDeadlineExceeded {
		e.Message = "deadline exceeded after " + plural(attempts, "attempt")
	} else {
		e.Message = "canceled after " + plural(attempts, "attempt")
	}
	if last != nil {
		e.Message += "; last error: " + last.Code
		if last.Message != "" {
			e.Message += ": " + last.Message
		}
		e.RequestID = last.RequestID
		e.HTTPStatus = last.HTTPStatus
	}
	return e
}

// giveUp marks last as the final answer of a call whose next retry would pass
// the deadline: the code stays (it says what went wrong) and errors.Is(err,
// context.DeadlineExceeded) becomes true (it says why we stopped).
func giveUp(last *Error, attempts int, reason string) *Error {
	e := *last
	e.Attempts = attempts
	e.Message = strings.TrimSpace(e.Message + " (gave up after " + plural(attempts, "attempt") + ": " + reason + ")")
	if e.Err != nil {
		e.Err = errors.Join(e.Err, context.DeadlineExceeded)
	} else {
		e.Err = context.DeadlineExceeded
	}
	return &e
}

func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}

var (
	reScriptStyle = regexp.MustCompile(`(?is)<(script|style)[^>]*>.*?</(script|style)>`)
	reTag         = regexp.MustCompile(`(?s)<[^>]*>`)
	reSpace       = regexp.MustCompile(`\s+`)
)

// excerpt turns a response body (often an HTML error page) into a short,
// single-line, readable text.
func excerpt(body []byte, max int) string {
	s := string(body)
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "?")
	}
	if strings.Contains(s, "<") {
		s = reScriptStyle.ReplaceAllString(s, " ")
		s = reTag.ReplaceAllString(s, " ")
		s = html.UnescapeString(s)
	}
	s = strings.TrimSpace(reSpace.ReplaceAllString(s, " "))
	if s == "" {
		return "(empty body)"
	}
	if utf8.RuneCountInString(s) > max {
		r := []rune(s)
		s = string(r[:max]) + "..."
	}
	return s
}

// StateUnknown reports whether a failed cancel (CancelTask,
// DeleteCloudTranscription, CI cancel) leaves the job's state unknown, so
// that only asking for it (DescribeTaskDetail, DescribeCloudTranscription,
// the CI query) can tell whether the job has ended: the answer is not about
// the credentials, throttling, the request's parameters, the region or a
// missing job, nor a deadline or an answer that is not Tencent's. Tencent
// documents no code for cancelling a job that has already ended, so a plain
// FailedOperation, a ResourceInUse, an InternalError or a lost answer may
// each mean it.
func StateUnknown(err error) bool {
	var e *Error
	if !errors.As(err, &e) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return false
	}
	return !codeHasPrefix(e.Code,
		"AuthFailure", "UnauthorizedOperation", "SignatureDoesNotMatch", "AccessDenied", "InvalidAccessKeyId",
		"RequestTimeTooSkewed", "ExpiredToken", "InvalidToken",
		codeRequestLimitExceeded,
		"InvalidParameter", "InvalidParameterValue", "MissingParameter", "UnknownParameter", "InvalidArgument", "UnsupportedRegion",
		"ResourceNotFound", "NoSuchKey", "NoSuchJob", "NoSuchBucket",
		CodeDeadlineExceeded, CodeCanceled, CodeHTTPError, CodeInvalidResponse, CodeClientError)
}

package sweep

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

// This file judges: a listed task (is it stale?) and a cancel's answer (what
// became of the task?). Both are pure functions of their inputs.

// verdict of the client-side recheck.
type verdict int

const (
	notStale verdict = iota // filtered out: not a candidate
	cannotJudge
	stale
	upcoming // in the warning window: reported, never cancelled, not a candidate
)

// rules are what the recheck judges a listed task by: the settings and the
// run's instants.
type rules struct {
	set     Settings
	cutoff  time.Time // created before it: stale
	warnEnd time.Time // the newest creation time in the warning window
}

// judge rechecks a listed task: the server's filters are trusted for nothing.
func (ru rules) judge(t tcapi.TaskSummary) (verdict, string, time.Time) {
	if len(ru.set.Types) > 0 && !slices.Contains(ru.set.Types, t.Type) {
		return notStale, "", time.Time{}
	}
	if slices.Contains(ru.set.ExcludeBizTypes, t.BizType) {
		return notStale, "", time.Time{}
	}
	if len(ru.set.BizTypes) > 0 && !slices.Contains(ru.set.BizTypes, t.BizType) {
		return notStale, "", time.Time{}
	}
	if ru.set.WarnBefore > 0 {
		if v, created, young := ru.judgeYoung(t); young {
			return v, "", created
		}
	}
	if !slices.Contains(knownStatuses, t.Status) {
		return cannotJudge, fmt.Sprintf("unknown status %q", clip(t.Status, 40)), time.Time{}
	}
	if !slices.Contains(ru.set.Statuses, t.Status) {
		return notStale, "", time.Time{}
	}
	created, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(t.CreatedAt))
	if err != nil {
		return cannotJudge, fmt.Sprintf("unparseable CreatedAt %q", clip(t.CreatedAt, 40)), time.Time{}
	}
	if !created.Before(ru.cutoff) {
		return notStale, "", created
	}
	if strings.TrimSpace(t.TaskId) == "" {
		return cannotJudge, "empty TaskId", created
	}
	return stale, "", created
}

// judgeYoung judges a task, already past the type and BizType filters, that
// is not stale by its CreatedAt (young): it is upcoming when it is in the
// warning window with a cancellable status and a TaskId, and otherwise not
// a candidate (an unknown status does not matter until the task is stale).
// A stale task, or one whose CreatedAt cannot be parsed, is not young and is
// judged by the rules without a window.
//
// The window is [maxAge - warnBefore, maxAge] of age: its lower edge is
// inclusive, and its upper edge is the stale rule's (created strictly before
// the cutoff is stale), so a task exactly maxAge old is still upcoming.
func (ru rules) judgeYoung(t tcapi.TaskSummary) (v verdict, created time.Time, young bool) {
	created, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(t.CreatedAt))
	if err != nil || created.Before(ru.cutoff) {
		return notStale, time.Time{}, false
	}
	if created.After(ru.warnEnd) || !slices.Contains(ru.set.Statuses, t.Status) || strings.TrimSpace(t.TaskId) == "" {
		return notStale, created, true
	}
	return upcoming, created, true
}

// lookedUp is what DescribeTaskDetail said after a cancel Tencent refused
// without saying why (tcapi.StateUnknown).
type lookedUp struct {
	status string
	ended  bool // FINISH, ERROR or CANCELLED
	gone   bool // ResourceNotFound
}

// settled is how a cancel's answer settles its task, and its log line.
type settled struct {
	// action is ActionCancelled, ActionSkipped or ActionFailed; "" means
	// the cancel was never sent (the limiter's wait would have passed the
	// deadline): the task is neither counted nor logged.
	action   string
	reason   string // the report's Reason
	code     string // the Tencent (or tcapi) code, for the log and Failures
	err      string // a failure's message
	status   string // the looked-up status of an ended task
	note     string
	level    slog.Level
	msg      string
	timedOut bool // failed because the deadline ended the call
}

// judgeCancel settles a cancel from its error (nil: cancelled) and, when
// one was made, the lookup of the task's state after a refusal.
func judgeCancel(err error, st *lookedUp) settled {
	var te *tcapi.Error
	if !errors.As(err, &te) {
		te = nil
	}
	if te != nil && te.Attempts == 0 &&
		(te.Code == tcapi.CodeDeadlineExceeded || te.Code == tcapi.CodeCanceled) {
		return settled{} // never sent: the limiter wait would have passed the deadline
	}
	s := settled{action: ActionSkipped, level: slog.LevelInfo}
	switch {
	case err == nil:
		s.action, s.msg = ActionCancelled, "task cancelled"
	case st != nil && st.ended && te != nil && te.Attempts > 1 && st.status == "CANCELLED":
		// A retry was refused and the task is now CANCELLED: the earlier
		// attempt whose answer was lost most likely cancelled it.
		s.action, s.msg = ActionCancelled, "task cancelled"
		s.reason = fmt.Sprintf("%s on attempt %d, then status CANCELLED: an earlier attempt whose answer was lost most likely cancelled it", te.Code, te.Attempts)
		s.note = "confirmed by DescribeTaskDetail after " + te.Code + " on retry"
	case st != nil && st.ended:
		s.code, _ = errorCode(err)
		s.msg, s.status = "task already ended", st.status
		s.reason = "already ended (status " + clip(st.status, 40) + ")"
	case st != nil && st.gone:
		s.code, _ = errorCode(err)
		s.msg = "task gone"
		s.reason = "not found (ResourceNotFound on DescribeTaskDetail after " + s.code + ")"
	case te != nil && te.Attempts > 1 && tcapi.HasCode(err, "FailedOperation.TaskEnded"):
		// A retry found the task ended: the earlier attempt whose answer was
		// lost (reset, 502, timeout) most likely cancelled it. Count it as a
		// cancel (it also counts toward maxCancels) and say why.
		s.action, s.msg = ActionCancelled, "task cancelled"
		s.reason = "TaskEnded on retry: an earlier attempt whose answer was lost most likely cancelled it"
		s.note = "confirmed by TaskEnded on retry"
	case tcapi.HasCode(err, "ResourceNotFound", "FailedOperation.TaskEnded"):
		s.code, _ = errorCode(err)
		s.msg = "task already ended"
		s.reason = s.code + ": already ended or gone"
	default:
		s.action = ActionFailed
		s.code, s.err = errorCode(err)
		s.level, s.msg = slog.LevelWarn, "task cancel failed"
		s.timedOut = errors.Is(err, context.DeadlineExceeded)
	}
	return s
}

// panicked settles a task whose cancel call panicked: failed, with
// CodePanic and the panic's value.
func panicked(service string, v any) settled {
	return judgeCancel(&tcapi.Error{Service: service, Action: "CancelTask", Code: CodePanic, Message: clip(fmt.Sprint(v), 200)}, nil)
}

// errorCode returns the Tencent (or tcapi) code and message of err.
func errorCode(err error) (code, msg string) {
	var te *tcapi.Error
	if errors.As(err, &te) {
		m := te.Message
		if te.RequestID != "" {
			m += " (RequestId " + te.RequestID + ")"
		}
		return te.Code, m
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return tcapi.CodeDeadlineExceeded, err.Error()
	case errors.Is(err, context.Canceled):
		return tcapi.CodeCanceled, err.Error()
	}
	return "Error", err.Error()
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

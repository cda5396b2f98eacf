package sweep

import (
	"encoding/json"
	"fmt"
	"time"
)

// MaxReportTasks is how many entries Report.Tasks (and Report.Failures) keep;
// the rest are only counted (TasksOmitted, FailuresOmitted).
const MaxReportTasks = 1000

// Actions of a candidate in Report.Tasks.
const (
	ActionCancelled   = "cancelled"
	ActionSkipped     = "skipped"
	ActionFailed      = "failed"
	ActionWouldCancel = "would-cancel"
)

// Report is the result of one sweep: the function's return value and its final
// log line. The fields up to Tasks are the documented format, in that order;
// the ones after it are additions (see docs/sweep.md).
//
// Invariant: Candidates == Cancelled + Skipped + Failed + WouldCancel
// (WouldCancel is non-zero only in a dry run).
type Report struct {
	DryRun     bool
	Cutoff     string // RFC 3339, UTC: tasks created before it are stale
	Services   []string
	Pages      int // DescribeTasks pages received
	Scanned    int // task rows read from those pages (a row seen twice counts twice)
	Candidates int // distinct stale tasks acted on: cancelled, skipped, failed or would-cancel
	Cancelled  int
	Skipped    int // cannot be judged (unparseable CreatedAt, unknown status) or already ended / not found on cancel
	Failed     int
	Truncated  bool // stopped early because the invocation deadline came near
	Capped     bool // stopped because MaxCancels was reached with stale tasks left
	Throttled  int64
	DurationMs int64
	Failures   []Failure
	Tasks      []TaskResult

	WouldCancel     int // dry run: stale tasks that a real run would cancel
	TasksOmitted    int // candidates not listed in Tasks (it keeps the first MaxReportTasks)
	FailuresOmitted int // failures not listed in Failures
	Passes          int // listing passes (a pass is repeated while it finds new candidates)
	Errors          []ListError
	// PageSize is the DescribeTasks Limit used: the setting, or less when
	// Tencent rejected it (halved down to 10).
	PageSize int

	// Upcoming counts the tasks in the warning window (Settings.WarnBefore):
	// they pass every filter and will be stale within WarnBefore. They are
	// listed in UpcomingTasks (the first MaxReportTasks; the rest counted in
	// UpcomingOmitted), never cancelled, and are not Candidates.
	Upcoming        int
	UpcomingTasks   []UpcomingTask
	UpcomingOmitted int
	// CancelledTaskHours is the sum of the cancelled tasks' ages when
	// cancelled (TaskResult.Age), in hours rounded to two decimals: the
	// task-hours the run stopped billing, to multiply by a price per hour.
	// With several accounts it is rounded from the exact total.
	CancelledTaskHours float64

	// Accounts has one entry per account swept (or, with fan-out, dispatched);
	// set by the handler (accounts.go). NotifyError says why a notification
	// was not delivered ("" = delivered or none due). ReportError says why
	// the report was not written to COS ("" = written, or no
	// JANITOR_REPORT_BUCKET); the archived copy is the report before it.
	Accounts    []AccountReport `json:",omitempty"`
	NotifyError string          `json:",omitempty"`
	ReportError string          `json:",omitempty"`

	// cancelledAge is the exact sum behind CancelledTaskHours, kept so that
	// merged accounts round their total once.
	cancelledAge taskHours
}

// Failure is a cancel that failed after the client's retries.
type Failure struct {
	Service, TaskId, Code, Message string
	Account                        string `json:",omitempty"` // in a sweep of several accounts
}

// TaskResult is what happened to one candidate.
type TaskResult struct {
	Service, TaskId, DataId, BizType, Type, Status, CreatedAt string
	Action                                                    string
	Reason                                                    string `json:",omitempty"` // why it was skipped (or a cancel confirmed by TaskEnded on retry)
	Account                                                   string `json:",omitempty"` // in a sweep of several accounts
	// Age is a cancelled task's age when cancelled: the run's reference
	// instant (Cutoff + maxAge) minus CreatedAt.
	Age Duration `json:",omitempty"`
}

// UpcomingTask is a task in the warning window: it passed every filter and
// will be cancelled by the first run after CancelAfter (CreatedAt + maxAge,
// RFC 3339 UTC) unless it ends or is excluded first.
type UpcomingTask struct {
	Service, TaskId, DataId, BizType, Type string
	Age                                    Duration // at the run's reference instant (Cutoff + maxAge)
	CancelAfter                            string
	Account                                string `json:",omitempty"` // in a sweep of several accounts
}

// Duration is a time.Duration written in JSON as a Go duration string
// ("2h30m0s").
type Duration time.Duration

// MarshalJSON writes d as a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads a Go duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration %s: want a Go duration string such as \"2h30m0s\"", firstLine(b))
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %q: want a Go duration string such as \"2h30m0s\"", s)
	}
	*d = Duration(v)
	return nil
}

func (d Duration) String() string { return time.Duration(d).String() }

// taskHours sums task ages exactly, without overflow (whole hours plus the
// rest): a million cancels of tasks days old would overflow nanoseconds.
type taskHours struct {
	hours int64
	rest  time.Duration // 0 to just under an hour
}

func (h *taskHours) add(d time.Duration) {
	if d <= 0 {
		return
	}
	h.hours += int64(d / time.Hour)
	h.rest += d % time.Hour
	if h.rest >= time.Hour {
		h.hours++
		h.rest -= time.Hour
	}
}

func (h *taskHours) addSum(o taskHours) {
	h.hours += o.hours
	h.add(o.rest)
}

// rounded is the sum in hours, rounded half up to two decimals in integer
// arithmetic (so that 0.005 h, 18 s, is 0.01 and not a float's guess).
func (h taskHours) rounded() float64 {
	hundredths := h.hours*100 + int64((h.rest*100+time.Hour/2)/time.Hour)
	return float64(hundredths) / 100
}

// ListError is a listing that stopped early: a DescribeTasks failure after
// retries, a repeated PageToken or the page limit. The other listings go on.
type ListError struct {
	Service string
	Filter  string // the listing, e.g. "TaskStatus=RUNNING Type=LIVE_AUDIO"
	Code    string
	Message string
	Account string `json:",omitempty"` // in a sweep of several accounts
}

// summary is the report without its per-task lists, for the final log line
// (every cancelled or failed task has its own line already).
type summary struct {
	DryRun          bool
	Cutoff          string
	Services        []string
	Pages           int
	Scanned         int
	Candidates      int
	Cancelled       int
	Skipped         int
	Failed          int
	Truncated       bool
	Capped          bool
	Throttled       int64
	DurationMs      int64
	WouldCancel     int
	TasksOmitted    int
	FailuresOmitted int
	Passes          int
	Errors          []ListError
	PageSize        int
	Upcoming        int
	UpcomingOmitted int
	// CancelledTaskHours: see Report.
	CancelledTaskHours float64
	Accounts           []AccountReport `json:",omitempty"`
	NotifyError        string          `json:",omitempty"`
	ReportError        string          `json:",omitempty"`
}

func (r *Report) summary() summary {
	return summary{
		DryRun: r.DryRun, Cutoff: r.Cutoff, Services: r.Services, Pages: r.Pages, Scanned: r.Scanned,
		Candidates: r.Candidates, Cancelled: r.Cancelled, Skipped: r.Skipped, Failed: r.Failed,
		Truncated: r.Truncated, Capped: r.Capped, Throttled: r.Throttled, DurationMs: r.DurationMs,
		WouldCancel: r.WouldCancel, TasksOmitted: r.TasksOmitted, FailuresOmitted: r.FailuresOmitted,
		Passes: r.Passes, Errors: r.Errors, PageSize: r.PageSize, Upcoming: r.Upcoming, UpcomingOmitted: r.UpcomingOmitted,
		CancelledTaskHours: r.CancelledTaskHours, Accounts: r.Accounts, NotifyError: r.NotifyError, ReportError: r.ReportError,
	}
}

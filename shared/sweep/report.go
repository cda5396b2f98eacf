package sweep

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

	// Accounts has one entry per account swept (or, with fan-out, dispatched);
	// set by the handler (accounts.go). NotifyError says why a notification
	// was not delivered ("" = delivered or none due).
	Accounts    []AccountReport `json:",omitempty"`
	NotifyError string          `json:",omitempty"`
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
	Accounts        []AccountReport `json:",omitempty"`
	NotifyError     string          `json:",omitempty"`
}

func (r *Report) summary() summary {
	return summary{
		DryRun: r.DryRun, Cutoff: r.Cutoff, Services: r.Services, Pages: r.Pages, Scanned: r.Scanned,
		Candidates: r.Candidates, Cancelled: r.Cancelled, Skipped: r.Skipped, Failed: r.Failed,
		Truncated: r.Truncated, Capped: r.Capped, Throttled: r.Throttled, DurationMs: r.DurationMs,
		WouldCancel: r.WouldCancel, TasksOmitted: r.TasksOmitted, FailuresOmitted: r.FailuresOmitted,
		Passes: r.Passes, Errors: r.Errors, PageSize: r.PageSize, Accounts: r.Accounts, NotifyError: r.NotifyError,
	}
}

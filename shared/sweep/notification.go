package sweep

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/scf-janitor/scf-janitor/shared/notify"
)

// notifyItems is how many cancelled/failed (and upcoming) tasks a json
// notification lists; notifyUpcoming how many upcoming tasks a chat
// notification lists before "and N more upcoming".
const (
	notifyItems    = 50
	notifyUpcoming = 20
)

// excludeHint says how to keep an upcoming task from being cancelled: the
// BizType exclusion (README.md and docs/sweep.md name it so).
const excludeHint = "to keep one running, add its BizType to JANITOR_SWEEP_EXCLUDE_BIZTYPES (every task of that BizType is then kept)"

// matchedEvents returns the NotifyOn events that r matches (none = no
// notification).
func matchedEvents(set Settings, r *Report) []string {
	stopped := r.Truncated || r.Capped || len(r.Errors) > 0
	var out []string
	for _, ev := range set.notifyEventsOn() {
		var hit bool
		switch ev {
		case NotifyOnCancelled:
			hit = r.Cancelled > 0
		case NotifyOnFailed:
			hit = r.Failed > 0
		case NotifyOnStopped:
			hit = stopped
		case NotifyOnDryRun:
			hit = r.DryRun && r.WouldCancel > 0
		case NotifyOnUpcoming:
			hit = r.Upcoming > 0
		case NotifyOnAlways:
			hit = true
		}
		if hit {
			out = append(out, ev)
		}
	}
	return out
}

// notifyJSON is the json format's body: the report's summary fields, why it
// was sent, and the first cancelled and failed tasks.
type notifyJSON struct {
	Function  string
	RequestId string
	Events    []string
	summary
	Tasks    []TaskResult // first notifyItems cancelled or failed tasks
	Failures []Failure    // first notifyItems failures
	// UpcomingTasks are the first notifyItems upcoming tasks, and
	// HowToExclude says how to keep one (set when there are any).
	UpcomingTasks []UpcomingTask
	HowToExclude  string `json:",omitempty"`
}

// message renders r for a notification.
func message(function, requestID string, events []string, r *Report) notify.Message {
	var m notify.Message
	title := fmt.Sprintf("**%s**", function)
	switch {
	case len(r.Accounts) == 1:
		title += " account " + r.Accounts[0].Account
	case len(r.Accounts) > 1:
		title += fmt.Sprintf(" %d accounts", len(r.Accounts))
	}
	if r.DryRun {
		title += " (dry run)"
	}
	m.Head = append(m.Head, title+": "+strings.Join(events, ", "))
	counts := fmt.Sprintf("cancelled %d, skipped %d, failed %d", r.Cancelled, r.Skipped, r.Failed)
	if r.DryRun {
		counts = fmt.Sprintf("would cancel %d, skipped %d", r.WouldCancel, r.Skipped)
	}
	m.Head = append(m.Head, fmt.Sprintf("%s of %d stale tasks; %d rows scanned, %d throttled, %d ms",
		counts, r.Candidates, r.Scanned, r.Throttled, r.DurationMs))
	m.Head = append(m.Head, fmt.Sprintf("task-hours stopped: %.2f (the cancelled tasks' ages added up)", r.CancelledTaskHours))
	if r.Upcoming > 0 {
		m.Head = append(m.Head, fmt.Sprintf("upcoming: %d tasks will be cancelled once stale (each after its time below); %s",
			r.Upcoming, excludeHint))
	}
	var stops []string
	if r.Truncated {
		stops = append(stops, "stopped before the deadline (the next run continues)")
	}
	if r.Capped {
		stops = append(stops, "stopped at the cancel cap")
	}
	if n := len(r.Errors); n > 0 {
		stops = append(stops, fmt.Sprintf("%d listings or accounts stopped early", n))
	}
	if len(stops) > 0 {
		m.Head = append(m.Head, strings.Join(stops, "; "))
	}
	if r.ReportError != "" {
		m.Head = append(m.Head, r.ReportError)
	}
	if requestID != "" {
		m.Head = append(m.Head, "request "+requestID)
	}
	if len(r.Accounts) > 1 {
		for _, a := range r.Accounts {
			line := fmt.Sprintf("- account %s: cancelled %d, failed %d, upcoming %d, task-hours %.2f",
				a.Account, a.Cancelled, a.Failed, a.Upcoming, a.CancelledTaskHours)
			if a.Dispatched {
				line = fmt.Sprintf("- account %s: dispatched (request %s)", a.Account, a.InvokeRequestId)
			}
			for _, e := range a.Errors {
				line += fmt.Sprintf("; %s %s: %s", e.Service, e.Code, clip(e.Message, 120))
			}
			m.Items = append(m.Items, line)
		}
	}
	if len(r.Accounts) <= 1 { // with several accounts, each account's line lists its errors
		for _, e := range r.Errors {
			m.Items = append(m.Items, fmt.Sprintf("- listing stopped: %s %s %s: %s", e.Service, e.Filter, e.Code, clip(e.Message, 120)))
		}
	}
	for _, f := range r.Failures {
		m.Items = append(m.Items, fmt.Sprintf("- failed %s %s%s: %s", f.Service, f.TaskId, accountSuffix(f.Account), f.Code))
	}
	m.More += r.FailuresOmitted
	m.Items = append(m.Items, upcomingItems(r)...)
	for _, t := range r.Tasks {
		switch t.Action {
		case ActionCancelled:
			m.Items = append(m.Items, fmt.Sprintf("- %s %s %s%s (%s, %s, created %s, age %s)", t.Action, t.Service, t.TaskId, accountSuffix(t.Account), t.Type, t.BizType, t.CreatedAt, t.Age))
		case ActionWouldCancel:
			m.Items = append(m.Items, fmt.Sprintf("- %s %s %s%s (%s, %s, created %s)", t.Action, t.Service, t.TaskId, accountSuffix(t.Account), t.Type, t.BizType, t.CreatedAt))
		}
	}
	m.More += r.TasksOmitted

	m.Data = notifyData(function, requestID, events, r)
	return m
}

// notifyData is the json format's body of r.
func notifyData(function, requestID string, events []string, r *Report) notifyJSON {
	data := notifyJSON{Function: function, RequestId: requestID, Events: events, summary: r.summary(),
		Tasks: []TaskResult{}, Failures: []Failure{},
		UpcomingTasks: slices.Clone(r.UpcomingTasks[:min(len(r.UpcomingTasks), notifyItems)])}
	if data.UpcomingTasks == nil {
		data.UpcomingTasks = []UpcomingTask{}
	}
	if r.Upcoming > 0 {
		data.HowToExclude = "An upcoming task will be cancelled once stale; " + excludeHint + "."
	}
	data.summary.NotifyError = ""
	for _, t := range r.Tasks {
		if len(data.Tasks) < notifyItems && (t.Action == ActionCancelled || t.Action == ActionFailed) {
			data.Tasks = append(data.Tasks, t)
		}
	}
	data.Failures = append(data.Failures, r.Failures[:min(len(r.Failures), notifyItems)]...)
	return data
}

// upcomingItems are the chat lines of the first notifyUpcoming upcoming
// tasks, and one line counting the rest.
func upcomingItems(r *Report) []string {
	var out []string
	for _, u := range r.UpcomingTasks[:min(len(r.UpcomingTasks), notifyUpcoming)] {
		out = append(out, fmt.Sprintf("- upcoming %s %s%s (%s, %s, age %s, cancelled after %s)",
			u.Service, u.TaskId, accountSuffix(u.Account), u.Type, u.BizType, u.Age, u.CancelAfter))
	}
	if rest := r.Upcoming - len(out); rest > 0 {
		out = append(out, fmt.Sprintf("- and %d more upcoming (see the report's UpcomingTasks or the function's log)", rest))
	}
	return out
}

func accountSuffix(a string) string {
	if a == "" {
		return ""
	}
	return " in " + a
}

// notifier is the configured notification sender, or nil.
func notifier(set Settings, secret string, transport http.RoundTripper, log *slog.Logger) *notify.Sender {
	if len(set.NotifyURLs) == 0 {
		return nil
	}
	s := &notify.Sender{URLs: slices.Clone(set.NotifyURLs), Format: set.NotifyFormat, Secret: secret, Logger: log}
	if transport != nil {
		s.Client = &http.Client{Transport: transport}
	}
	return s
}

// notifyBudget is the time kept for the notification at the end of an
// invocation: notify.DefaultBudget, at most a quarter of the time left.
func notifyBudget(ctx context.Context) time.Duration {
	b := notify.DefaultBudget
	if dl, ok := ctx.Deadline(); ok {
		b = min(b, time.Until(dl)/4)
	}
	return b
}

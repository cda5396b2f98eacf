package sweep

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

// This file is the run loop's book-keeping: what it does with each listed
// task and each outcome, in the report and the dedupe set. Only the run loop
// calls it. A candidate's report entries are appended before its counters
// change (integer updates, which cannot panic), and its log line comes last:
// a panic in between leaves the counts as they were.

// consider handles one listed task; false means stop (cap or deadline).
func (r *run) consider(p *passRun, service string, t tcapi.TaskSummary) bool {
	r.rep.Scanned++
	v, reason, created := r.rules.judge(t)
	if v == notStale {
		return true
	}
	key := service + "\x00" + t.TaskId
	switch v {
	case upcoming:
		if r.noteUpcoming(service, t, key, created) {
			r.logTask(slog.LevelInfo, "task upcoming: it will be cancelled once stale", service, t, created,
				slog.String("cancel_after", r.cancelAfter(created)))
		}
		return true
	case cannotJudge:
		if r.skipUnjudged(service, t, key, reason) {
			r.logAttrs(slog.LevelWarn, "task skipped: cannot judge it",
				slog.String("service", service), slog.String("task_id", t.TaskId), slog.String("data_id", t.DataId),
				slog.String("biz_type", t.BizType), slog.String("reason", reason))
		}
		return true
	}
	if r.seen.has(key) {
		return true
	}
	if !r.reserve(p) {
		return false
	}
	if r.set.DryRun {
		r.addTask(service, t, ActionWouldCancel, "", 0)
		r.seen.set(key, stateKept)
		r.rep.Candidates++
		r.rep.WouldCancel++
		r.fresh++
		r.logTask(slog.LevelInfo, "task would be cancelled (dry run)", service, t, created)
		return true
	}
	r.seen.set(key, stateQueued)
	r.rep.Candidates++
	r.fresh++
	return r.send(p, item{service: service, task: t, key: key, age: r.ref.Sub(created)})
}

// noteUpcoming records a task in the warning window, unless it was listed
// already this run (false). It is remembered for the run like a kept
// candidate, but is not one.
func (r *run) noteUpcoming(service string, t tcapi.TaskSummary, key string, created time.Time) bool {
	if r.seen.has(key) {
		return false
	}
	if len(r.rep.UpcomingTasks) < r.s.maxReport() {
		r.rep.UpcomingTasks = append(r.rep.UpcomingTasks, UpcomingTask{
			Service: service, TaskId: t.TaskId, DataId: t.DataId, BizType: t.BizType, Type: t.Type,
			Age: Duration(r.ref.Sub(created)), CancelAfter: r.cancelAfter(created),
		})
	} else {
		r.rep.UpcomingOmitted++
	}
	r.seen.set(key, stateUpcoming)
	r.rep.Upcoming++
	return true
}

// cancelAfter is when a task created at created becomes stale: a run whose
// reference instant is after it cancels it.
func (r *run) cancelAfter(created time.Time) string {
	return created.Add(r.set.MaxAge).UTC().Format(time.RFC3339Nano)
}

// skipUnjudged settles a task that cannot be judged as skipped, unless it
// was a candidate already (false).
func (r *run) skipUnjudged(service string, t tcapi.TaskSummary, key, reason string) bool {
	if r.seen.has(key) {
		return false
	}
	r.addTask(service, t, ActionSkipped, reason, 0)
	r.seen.set(key, stateKept)
	r.rep.Candidates++
	r.rep.Skipped++
	r.fresh++
	return true
}

// reserve takes one of the MaxCancels slots for a cancel (in flight or
// done). It settles outcomes while in-flight cancels may still give a slot
// back (a cancel answered "not found" does not count), and reports false
// when the cap is reached (Capped) or time is up (Truncated).
func (r *run) reserve(p *passRun) bool {
	for {
		got, capped := r.takeSlot()
		if got {
			return true
		}
		if capped {
			r.logAttrs(slog.LevelWarn, "cancel cap reached: stopping", slog.Int("max_cancels", r.set.MaxCancels))
			return false
		}
		// Every slot held is a cancel sent: its outcome will come.
		select {
		case o := <-p.outcomes:
			r.settle(p, o)
		case <-r.gate.Done():
			r.timeUp()
			return false
		}
	}
}

// takeSlot takes a slot if one is free (got); capped means none will be
// (the run stops).
func (r *run) takeSlot() (got, capped bool) {
	used := r.rep.Cancelled + r.inflight
	if r.set.DryRun {
		used = r.rep.WouldCancel
	}
	if used < r.set.MaxCancels {
		if !r.set.DryRun {
			r.inflight++
		}
		return true, false
	}
	if r.inflight == 0 {
		r.rep.Capped, r.stopped = true, true
		return false, true
	}
	return false, false
}

// send hands a queued candidate to the workers, settling outcomes while they
// are busy; false when time ran out first (the candidate is dropped).
func (r *run) send(p *passRun, it item) bool {
	p.unsent = it.key
	for {
		select {
		case p.work <- it:
			p.unsent = ""
			p.pending++
			return true
		case o := <-p.outcomes:
			r.settle(p, o)
		case <-r.gate.Done():
			p.unsent = ""
			r.drop(it.key)
			return false
		}
	}
}

// timeUp stops the run: the deadline is near.
func (r *run) timeUp() {
	r.stopped, r.rep.Truncated = true, true
}

// drop undoes a queued candidate that was never sent (out of time): it is
// neither counted nor remembered, and the next run finds it again.
func (r *run) drop(key string) {
	r.seen.remove(key)
	r.rep.Candidates--
	r.fresh--
	r.inflight--
	r.timeUp()
}

// settle takes in one outcome from a worker.
func (r *run) settle(p *passRun, o outcome) {
	p.pending--
	r.apply(o)
}

// apply records an outcome (its worker has logged it).
func (r *run) apply(o outcome) {
	for _, pr := range o.panics {
		r.recordPanic(pr)
	}
	if o.dropped {
		r.drop(o.key)
		return
	}
	r.record(o)
}

// record settles a sent cancel: cancelled, skipped or failed.
func (r *run) record(o outcome) {
	s := o.settled
	var age time.Duration
	if s.action == ActionCancelled {
		age = o.age
	}
	r.addTask(o.service, o.task, s.action, s.reason, age)
	switch s.action {
	case ActionFailed:
		r.appendFailure(Failure{Service: o.service, TaskId: o.task.TaskId, Code: s.code, Message: s.err})
		r.seen.set(o.key, stateKept)
		r.rep.Failed++
		if s.timedOut && r.gate.Err() != nil {
			r.rep.Truncated = true
		}
	case ActionCancelled:
		r.seen.forgetLater(o.key, o.fetch)
		r.rep.cancelledAge.add(o.age)
		r.rep.CancelledTaskHours = r.rep.cancelledAge.rounded()
		r.rep.Cancelled++
	default:
		r.seen.forgetLater(o.key, o.fetch)
		r.rep.Skipped++
	}
	r.inflight--
}

// settleLost counts as failed, with CodePanic, every candidate that a panic
// left queued (whether it was cancelled is unknown), so that the counts add
// up. It runs once no goroutine of the run is left, and only after a panic.
func (r *run) settleLost() {
	if !r.panicked {
		return
	}
	for _, key := range r.seen.queued() {
		service, id, _ := strings.Cut(key, "\x00")
		r.appendTask(TaskResult{Service: service, TaskId: id, Action: ActionFailed, Reason: "outcome lost to a panic (see Errors)"})
		r.appendFailure(Failure{Service: service, TaskId: id, Code: CodePanic,
			Message: "the sweeper panicked while handling this task: whether it was cancelled is unknown"})
		r.seen.set(key, stateKept)
		r.rep.Failed++
	}
}

// addTask appends to the report's task list (capped).
func (r *run) addTask(service string, t tcapi.TaskSummary, action, reason string, age time.Duration) {
	r.appendTask(TaskResult{
		Service: service, TaskId: t.TaskId, DataId: t.DataId, BizType: t.BizType, Type: t.Type,
		Status: t.Status, CreatedAt: t.CreatedAt, Action: action, Reason: reason, Age: Duration(age),
	})
}

// appendTask and appendFailure add a report entry, or count it as omitted
// once the list is full.
func (r *run) appendTask(tr TaskResult) {
	if len(r.rep.Tasks) >= r.s.maxReport() {
		r.rep.TasksOmitted++
		return
	}
	r.rep.Tasks = append(r.rep.Tasks, tr)
}

func (r *run) appendFailure(f Failure) {
	if len(r.rep.Failures) >= r.s.maxReport() {
		r.rep.FailuresOmitted++
		return
	}
	r.rep.Failures = append(r.rep.Failures, f)
}

// listError records a listing the lister stopped.
func (r *run) listError(e ListError) {
	r.rep.Errors = append(r.rep.Errors, e)
	r.logAttrs(slog.LevelError, "listing stopped",
		slog.String("service", e.Service), slog.String("filter", e.Filter), slog.String("code", e.Code), slog.String("error", e.Message))
}

// recordPanic turns a recovered panic into a report error (and a log line).
// Nothing in it may panic: the error is recorded first, and a logger that
// panics too is ignored.
func (r *run) recordPanic(pr *panicReport) {
	msg := pr.where + ": panic: " + pr.value
	r.panicked = true
	r.rep.Errors = append(r.rep.Errors, ListError{Service: strings.Join(r.set.Services, ","), Code: CodePanic, Message: clip(msg, 512)})
	quietly(func() {
		r.log.LogAttrs(r.callCtx, slog.LevelError, "sweeper goroutine panicked", slog.String("where", pr.where),
			slog.String("error", msg), slog.String("stack", string(pr.stack)))
	})
}

func (r *run) logTask(level slog.Level, msg, service string, t tcapi.TaskSummary, created time.Time, extra ...slog.Attr) {
	r.logAttrs(level, msg, r.taskAttrs(service, t, created, extra...)...)
}

// taskAttrs are a task's log attributes, then extra.
func (r *run) taskAttrs(service string, t tcapi.TaskSummary, created time.Time, extra ...slog.Attr) []slog.Attr {
	attrs := []slog.Attr{
		slog.String("service", service), slog.String("task_id", t.TaskId), slog.String("data_id", t.DataId),
		slog.String("biz_type", t.BizType), slog.String("type", t.Type),
	}
	if !created.IsZero() {
		attrs = append(attrs, slog.String("age", r.ref.Sub(created).Round(time.Second).String()))
	}
	return append(attrs, extra...)
}

// logAttrs logs one line of the run loop's. A logger that panics panics the
// run loop (the pass ends and the run stops; see abort), except while it
// cleans up after a panic, when the line is dropped.
func (r *run) logAttrs(level slog.Level, msg string, attrs ...slog.Attr) {
	if r.quiet {
		quietly(func() { r.log.LogAttrs(r.callCtx, level, msg, attrs...) })
		return
	}
	r.log.LogAttrs(r.callCtx, level, msg, attrs...)
}

func (r *run) finalLog(ctx context.Context) {
	level := slog.LevelInfo
	switch {
	case len(r.rep.Errors) > 0:
		level = slog.LevelError
	case r.rep.Failed > 0:
		level = slog.LevelWarn
	}
	r.log.LogAttrs(ctx, level, "sweep finished", slog.Any("report", r.rep.summary()))
}

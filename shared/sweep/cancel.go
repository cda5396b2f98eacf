package sweep

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

// This file cancels: a pool of workers per pass takes candidates from the run
// loop and sends back each one's outcome. Workers touch no state of the run.

// item is a candidate handed to a worker.
type item struct {
	service string
	task    tcapi.TaskSummary
	key     string
	age     time.Duration // at the run's reference instant
}

// outcome is what became of an item, sent back to the run loop: exactly
// one per item.
type outcome struct {
	item
	dropped bool    // never sent (out of time, or the run loop gave up): undo the candidate
	settled settled // the judged answer, unless dropped
	fetch   uint64  // page fetches started when the cancel finished (see seenSet.evict)
	panics  []*panicReport
}

// work cancels the items it receives until the channel is closed. abort is
// cancelled when the run loop gives up: the items not started yet are then
// dropped.
func (r *run) work(abort context.Context, in <-chan item, out chan<- outcome) {
	for it := range in {
		out <- r.cancelOne(abort, it)
	}
}

// cancelOne cancels one task, judges the answer and logs it. A panic in the
// call (the client's, a bug) fails that task with CodePanic; one in its log
// line (the logger's) leaves the outcome as judged. Either is sent along
// with the outcome, and the worker goes on.
func (r *run) cancelOne(abort context.Context, it item) outcome {
	where := "cancel " + it.service + " " + it.task.TaskId
	var o outcome
	if pr := protect(where, func() { o = r.call(abort, it) }); pr != nil {
		o = outcome{item: it, settled: panicked(it.service, pr.value), fetch: r.fetches.Load(), panics: []*panicReport{pr}}
	}
	if !o.dropped {
		if pr := protect(where, func() { r.logOutcome(o) }); pr != nil {
			o.panics = append(o.panics, pr)
		}
	}
	return o
}

// call cancels one task and judges the answer.
func (r *run) call(abort context.Context, it item) outcome {
	o := outcome{item: it}
	if r.gate.Err() != nil || abort.Err() != nil {
		o.dropped = true
		return o
	}
	c := r.s.Clients[it.service]
	_, err := c.CancelTask(r.callCtx, it.task.TaskId)
	var st *lookedUp
	if d, ok := c.(detailer); ok && err != nil && r.callCtx.Err() == nil && tcapi.StateUnknown(err) {
		st = r.lookUp(d, it.task.TaskId)
	}
	o.fetch = r.fetches.Load()
	o.settled = judgeCancel(err, st)
	o.dropped = o.settled.action == ""
	return o
}

// lookUp asks for the state of a task whose cancel Tencent refused without
// saying why; nil when the answer does not settle it.
func (r *run) lookUp(d detailer, taskID string) *lookedUp {
	det, err := d.DescribeTaskDetail(r.callCtx, taskID)
	switch {
	case err == nil && det.Ended():
		return &lookedUp{status: det.Status, ended: true}
	case tcapi.HasCode(err, "ResourceNotFound"):
		return &lookedUp{gone: true}
	}
	return nil
}

// logOutcome logs a settled cancel (a worker's: the logger is safe for
// concurrent use).
func (r *run) logOutcome(o outcome) {
	s := o.settled
	created, _ := time.Parse(time.RFC3339Nano, strings.TrimSpace(o.task.CreatedAt))
	var extra [4]slog.Attr
	n := 0
	if s.code != "" {
		extra[n], n = slog.String("code", s.code), n+1
	}
	if s.err != "" {
		extra[n], n = slog.String("error", s.err), n+1
	}
	if s.status != "" {
		extra[n], n = slog.String("status", s.status), n+1
	}
	if s.note != "" {
		extra[n], n = slog.String("note", s.note), n+1
	}
	r.log.LogAttrs(r.callCtx, s.level, s.msg, r.taskAttrs(o.service, o.task, created, extra[:n]...)...)
}

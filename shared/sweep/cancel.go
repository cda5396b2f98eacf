package sweep

import (
	"context"
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
	panic   *panicReport
}

// work cancels the items it receives until the channel is closed. abort is
// cancelled when the run loop gives up: the items not started yet are then
// dropped.
func (r *run) work(abort context.Context, in <-chan item, out chan<- outcome) {
	for it := range in {
		out <- r.cancelOne(abort, it)
	}
}

// cancelOne cancels one task and judges the answer. A panic in it (the
// client's, a bug) fails that task with CodePanic; the worker goes on.
func (r *run) cancelOne(abort context.Context, it item) (o outcome) {
	o.item = it
	defer func() {
		if v := recover(); v != nil {
			o.panic = recovered("cancel "+it.service+" "+it.task.TaskId, v)
			o.dropped, o.settled, o.fetch = false, panicked(it.service, v), r.fetches.Load()
		}
	}()
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

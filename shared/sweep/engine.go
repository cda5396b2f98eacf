package sweep

import (
	"context"
	"fmt"
	"hash/maphash"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

// The engine is one goroutine, the run loop (the caller of Sweeper.Run),
// which owns the run's state: the report, the dedupe set, the cancel slots.
// In each pass a lister goroutine (listing.go) sends it pages and a pool of
// workers (cancel.go) takes candidates from it and sends back outcomes; the
// run loop judges the pages (judge.go) and keeps the books (ledger.go). The
// other goroutines share nothing with it but channels, the run's immutable
// settings and instants, and a counter of page fetches. A panic in a
// goroutine is recovered there: the lister's and the workers' are sent to
// the run loop as messages, the run loop's own ends the pass (abort), and
// every goroutine of a pass has returned before the pass does.

// taskLister and canceler are the two calls the sweeper makes;
// *tcapi.Moderation has both.
type taskLister interface {
	DescribeTaskSummaries(ctx context.Context, req tcapi.DescribeTasksRequest) (tcapi.DescribeTaskSummariesResponse, error)
}

type canceler interface {
	CancelTask(ctx context.Context, taskID string) (tcapi.CancelTaskResponse, error)
}

// Client is what the sweeper needs from one moderation service
// (*tcapi.Moderation implements it). When it also has Stats() tcapi.Stats,
// the report's Throttled counts its RequestLimitExceeded answers.
type Client interface {
	taskLister
	canceler
}

type statser interface{ Stats() tcapi.Stats }

// detailer looks up one task's state (*tcapi.Moderation has it). When a
// Client also has it, a cancel Tencent refuses without saying why
// (tcapi.StateUnknown) is judged from the task's state: ended -> Skipped
// "already ended (status X)", gone -> Skipped. Without it, the cancel's
// error is judged by its code alone.
type detailer interface {
	DescribeTaskDetail(ctx context.Context, taskID string) (tcapi.TaskDetail, error)
}

// CodePanic is the report code of a sweeper goroutine that panicked (a bug,
// or a library's): the run goes on without it.
const CodePanic = "Panic"

// minPageSize is the smallest DescribeTasks Limit the sweeper falls back to
// when Tencent rejects a larger one: the documented default.
const minPageSize = 10

// Engine defaults.
const (
	DefaultMaxPages  = 10000 // pages per listing
	DefaultMaxPasses = 32
)

// Sweeper lists stale tasks and cancels them. Rate limiting is the clients'
// business (tcapi.Options.Limiters); the sweeper bounds concurrency.
type Sweeper struct {
	Clients   map[string]Client // by service: "ams", "vm"
	Now       func() time.Time  // default time.Now; read once per run
	Logger    *slog.Logger      // default: discard
	MaxPages  int               // per listing; default DefaultMaxPages
	MaxPasses int               // default DefaultMaxPasses
	MaxReport int               // entries kept in Report.Tasks and Report.Failures; default MaxReportTasks
}

// Run sweeps once with set and returns the report. Invalid settings (see
// Settings.Validate) sweep nothing: the report's Errors says why. It never returns early on a failed call: failures are in
// the report. ctx's deadline bounds the run (minus set.SafetyMargin).
func (s *Sweeper) Run(ctx context.Context, set Settings) *Report {
	return &s.sweep(ctx, set).rep
}

// run is one call of Sweeper.Run.
type run struct {
	s     *Sweeper
	set   Settings
	log   *slog.Logger
	rules rules // the recheck's settings and instants
	now   time.Time
	start time.Time
	// ref is the instant ages are measured at (cutoff + maxAge); listEnd is
	// the listings' EndTime.
	ref     time.Time
	listEnd time.Time
	seed    maphash.Seed

	// gate is done when nothing new may start, callCtx bounds the calls in
	// flight.
	gate    context.Context
	callCtx context.Context

	fetches atomic.Uint64 // DescribeTasks calls started (page sequence numbers)

	// The run loop's alone (the lister has paging while a pass runs).
	rep      Report
	seen     *seenSet
	paging   paging
	inflight int  // cancel slots held: cancels sent, or about to be
	stopped  bool // capped or out of time: no further pass
	fresh    int  // new candidates in the current pass
	panicked bool // a panic was recovered: settleLost has work to do
	quiet    bool // cleaning up after a panic: a log line that panics is dropped
}

func (s *Sweeper) newRun(ctx context.Context, set Settings) *run {
	log := s.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &run{
		s: s, set: set, log: log, rules: rules{set: set},
		gate: ctx, callCtx: ctx,
		seen:   newSeenSet(),
		paging: paging{pageSize: set.PageSize, broken: map[string]bool{}},
		rep: Report{
			DryRun: set.DryRun, Services: slices.Clone(set.Services), PageSize: set.PageSize,
			Failures: []Failure{}, Tasks: []TaskResult{}, Errors: []ListError{}, UpcomingTasks: []UpcomingTask{},
		},
	}
}

// sweep is Run, returning the run's state (tests look at its dedupe set).
func (s *Sweeper) sweep(ctx context.Context, set Settings) (r *run) {
	started := time.Now()
	r = s.newRun(ctx, set)
	defer func() {
		// A panic here outside a pass (a pass recovers its own and waits for
		// its goroutines: the clock, Stats, the final log line, a bug) ends
		// the run with a report that says so, never a crash. No goroutine of
		// the run is left by then.
		if v := recover(); v != nil {
			r.quiet = true
			r.recordPanic(recovered("sweep", v))
			r.settleLost()
			r.rep.DurationMs = time.Since(started).Milliseconds()
			quietly(func() { r.finalLog(ctx) })
		}
	}()
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	r.setTimes(now().UTC())
	r.seed = maphash.MakeSeed()
	if err := set.Validate(); err != nil {
		// Fail closed: an invalid configuration sweeps nothing.
		r.rep.Errors = append(r.rep.Errors, ListError{Service: strings.Join(set.Services, ","), Code: "InvalidSettings", Message: err.Error()})
		r.rep.DurationMs = time.Since(started).Milliseconds()
		r.finalLog(ctx)
		return r
	}
	before := s.stats()
	stop := r.setContexts(ctx)
	defer stop()
	r.passes()
	r.settleLost()
	after := s.stats()
	r.rep.Throttled = after.Throttled - before.Throttled
	r.rep.DurationMs = time.Since(started).Milliseconds()
	r.finalLog(ctx)
	return r
}

// setTimes derives the run's instants from now, once.
func (r *run) setTimes(now time.Time) {
	r.now = now
	r.rules.cutoff = r.now.Add(-r.set.MaxAge).Truncate(time.Second)
	r.start = r.now.Add(-r.set.Lookback).Truncate(time.Second)
	// Ages are measured at one instant, the one the stale rule implies:
	// created before the cutoff <=> age (ref - created) over maxAge.
	r.ref = r.rules.cutoff.Add(r.set.MaxAge)
	r.rules.warnEnd = r.rules.cutoff.Add(r.set.WarnBefore)
	r.listEnd = r.rules.cutoff
	if r.set.WarnBefore > 0 {
		// The window's newest tasks (created at warnEnd) are listed whether
		// or not Tencent's EndTime is inclusive, which DescribeTasks does
		// not document; the recheck drops the second past it.
		r.listEnd = r.rules.warnEnd.Add(time.Second)
	}
	r.rep.Cutoff = r.rules.cutoff.Format(time.RFC3339)
}

// setContexts derives the run's two contexts from ctx's deadline: no call
// starts after it minus the safety margin (gate), and calls in flight are
// abandoned at half the margin (callCtx).
func (r *run) setContexts(ctx context.Context) (stop func()) {
	dl, ok := ctx.Deadline()
	if !ok {
		return func() {}
	}
	margin := r.set.SafetyMargin
	if left := time.Until(dl); margin > left/4 {
		margin = left / 4 // a short invocation still gets most of its time
	}
	gate, stopGate := context.WithDeadline(ctx, dl.Add(-margin))
	callCtx, stopCalls := context.WithDeadline(ctx, dl.Add(-margin/2))
	r.gate, r.callCtx = gate, callCtx
	return func() { stopGate(); stopCalls() }
}

// passes lists again while a pass finds new candidates and time remains.
func (r *run) passes() {
	maxPasses := r.s.MaxPasses
	if maxPasses <= 0 {
		maxPasses = DefaultMaxPasses
	}
	for pass := 1; ; pass++ {
		r.rep.Passes = pass
		fresh := r.pass()
		if r.stopped || r.set.DryRun || fresh == 0 {
			return
		}
		if pass >= maxPasses {
			r.rep.Errors = append(r.rep.Errors, ListError{Service: strings.Join(r.set.Services, ","), Code: "PassLimit",
				Message: fmt.Sprintf("stopped after %d passes that each found new candidates; the next run continues", maxPasses)})
			return
		}
		if r.gate.Err() != nil {
			r.rep.Truncated = true
			return
		}
	}
}

func (s *Sweeper) stats() tcapi.Stats {
	var sum tcapi.Stats
	for _, c := range s.Clients {
		if st, ok := c.(statser); ok {
			x := st.Stats()
			sum.Attempts += x.Attempts
			sum.Retries += x.Retries
			sum.Throttled += x.Throttled
		}
	}
	return sum
}

// passRun is one pass's channels and goroutines.
type passRun struct {
	pages       chan listed  // lister -> run loop
	work        chan item    // run loop -> workers
	outcomes    chan outcome // workers -> run loop
	stopListing context.CancelFunc
	stopWork    context.CancelFunc // workers drop what they have not started
	workOpen    bool
	pending     int    // items sent to workers whose outcome has not come back
	unsent      string // key of a candidate that holds a slot and is not sent yet
	wg          sync.WaitGroup
}

func (p *passRun) closeWork() {
	if p.workOpen {
		p.workOpen = false
		close(p.work)
	}
}

// pass lists every combination once while workers cancel what it finds, and
// returns how many new candidates it found. A panic in the run loop ends
// the run (abort); either way every goroutine of the pass has returned
// before pass does.
func (r *run) pass() int {
	r.fresh = 0
	listCtx, stopListing := context.WithCancel(r.callCtx)
	abort, stopWork := context.WithCancel(context.Background())
	p := &passRun{
		pages: make(chan listed, 1), work: make(chan item, r.set.Concurrency), outcomes: make(chan outcome, r.set.Concurrency),
		stopListing: stopListing, stopWork: stopWork, workOpen: true,
	}
	l := &lister{r: r, ctx: listCtx, out: p.pages, state: &r.paging}
	p.wg.Go(l.produce)
	for range r.set.Concurrency {
		p.wg.Go(func() { r.work(abort, p.work, p.outcomes) })
	}
	if pr := protect("sweep", func() { r.consume(p); r.finish(p) }); pr != nil {
		r.recordPanic(pr)
		r.abort(p)
	}
	stopListing()
	stopWork()
	p.wg.Wait()
	r.rep.Pages, r.rep.PageSize = r.paging.pages, r.paging.pageSize
	return r.fresh
}

// consume handles what the lister and the workers send until the lister is
// done.
func (r *run) consume(p *passRun) {
	gate := r.gate.Done()
	for {
		select {
		case ev, ok := <-p.pages:
			if !ok {
				return
			}
			r.onListed(p, ev)
		case o := <-p.outcomes:
			r.settle(p, o)
		case <-gate:
			gate = nil
			r.timeUp()
			p.stopListing()
		}
	}
}

// finish lets the workers end and settles the outcomes still to come.
func (r *run) finish(p *passRun) {
	p.closeWork()
	for p.pending > 0 {
		r.settle(p, <-p.outcomes)
	}
}

// abort ends a pass whose run loop panicked: the listing stops, the workers
// drop what they have not started, and the cancels in flight are settled.
// Nothing in it panics out: each settling is protected (a panic there leaves
// its task queued, for settleLost) and log lines that panic are dropped.
func (r *run) abort(p *passRun) {
	r.quiet, r.stopped = true, true
	p.stopListing()
	p.stopWork()
	if key := p.unsent; key != "" {
		p.unsent = ""
		r.guard("sweep", func() { r.drop(key) })
	}
	p.closeWork()
	pages := p.pages
	for pages != nil || p.pending > 0 {
		select {
		case ev, ok := <-pages:
			if !ok {
				pages = nil
				continue
			}
			if ev.panic != nil || ev.err != nil || ev.outOfTime { // pages are dropped
				r.guard("sweep", func() { r.onListed(p, ev) })
			}
		case o := <-p.outcomes:
			p.pending--
			r.guard("settle "+o.service+" "+o.task.TaskId, func() { r.apply(o) })
		}
	}
}

// onListed handles one message from the lister.
func (r *run) onListed(p *passRun, ev listed) {
	switch {
	case ev.panic != nil:
		r.recordPanic(ev.panic)
	case ev.err != nil:
		r.listError(*ev.err)
	case ev.outOfTime:
		r.timeUp()
	default:
		r.onPage(p, ev)
	}
}

// onPage judges a page's tasks and hands the stale ones to the workers.
func (r *run) onPage(p *passRun, ev listed) {
	if r.gate.Err() != nil {
		r.timeUp()
	}
	if r.stopped {
		p.stopListing() // the rest is drained so that the lister can finish
		return
	}
	r.seen.evict(ev.seq)
	for _, t := range ev.tasks {
		if !r.consider(p, ev.service, t) {
			p.stopListing()
			break
		}
	}
	r.seen.notePeak()
}

// protect runs f and returns the panic it recovered, if any.
func protect(where string, f func()) (pr *panicReport) {
	defer func() {
		if v := recover(); v != nil {
			pr = recovered(where, v)
		}
	}()
	f()
	return nil
}

// guard runs f and records a panic of its own.
func (r *run) guard(where string, f func()) {
	if pr := protect(where, f); pr != nil {
		r.recordPanic(pr)
	}
}

// quietly runs f, a log call in a recover handler, and drops a panic of its
// own: a broken logger must not turn a recovered panic into a crash.
func quietly(f func()) {
	defer func() { _ = recover() }()
	f()
}

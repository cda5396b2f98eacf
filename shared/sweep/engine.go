package sweep

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"maps"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

// lister and canceler are the two calls the sweeper makes; *tcapi.Moderation
// has both.
type lister interface {
	DescribeTaskSummaries(ctx context.Context, req tcapi.DescribeTasksRequest) (tcapi.DescribeTaskSummariesResponse, error)
}

type canceler interface {
	CancelTask(ctx context.Context, taskID string) (tcapi.CancelTaskResponse, error)
}

// Client is what the sweeper needs from one moderation service
// (*tcapi.Moderation implements it). When it also has Stats() tcapi.Stats,
// the report's Throttled counts its RequestLimitExceeded answers.
type Client interface {
	lister
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
	// keepRecent is how many cancelled task ids stay in the dedupe set after
	// they could no longer show up in a listing (see run.evict).
	keepRecent = 256
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

	observe func(seen int) // tests: size of the dedupe set after each page
	// inLock (tests only) is called first in each section of a run that
	// holds its lock, with the section's name: a test makes it panic to
	// check that the lock is released and the panic reported.
	inLock func(section string)
}

// Run sweeps once with set and returns the report. Invalid settings (see
// Settings.Validate) sweep nothing: the report's Errors says why. It never returns early on a failed call: failures are in
// the report. ctx's deadline bounds the run (minus set.SafetyMargin).
func (s *Sweeper) Run(ctx context.Context, set Settings) (rep *Report) {
	started := time.Now()
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	log := s.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &run{
		s: s, set: set, log: log,
		now:    now().UTC(),
		seen:   map[string]uint8{},
		broken: map[string]bool{},
		notify: make(chan struct{}, 1),
		rep: Report{
			DryRun: set.DryRun, Services: slices.Clone(set.Services),
			Failures: []Failure{}, Tasks: []TaskResult{}, Errors: []ListError{}, UpcomingTasks: []UpcomingTask{},
		},
	}
	r.pageSize = set.PageSize
	r.rep.PageSize = set.PageSize
	defer func() {
		// A panic in this goroutine outside a pass (a pass recovers its own
		// and waits for its goroutines) ends the run with a report that
		// says so, never a crash. No goroutine of the run is left by then.
		if v := recover(); v != nil {
			r.recordPanic("sweep", v)
			r.settleLost()
			r.rep.DurationMs = time.Since(started).Milliseconds()
			rep = &r.rep
			quietly(func() { r.finalLog(ctx) })
		}
	}()
	r.setTimes()
	r.rep.Cutoff = r.cutoff.Format(time.RFC3339)
	r.seed = maphash.MakeSeed()
	if err := set.Validate(); err != nil {
		// Fail closed: an invalid configuration sweeps nothing.
		r.rep.Errors = append(r.rep.Errors, ListError{Service: strings.Join(set.Services, ","), Code: "InvalidSettings", Message: err.Error()})
		r.rep.DurationMs = time.Since(started).Milliseconds()
		r.finalLog(ctx)
		return &r.rep
	}

	before := s.stats()

	// gate is done when no new call may start; callCtx bounds calls in flight.
	gate, callCtx := ctx, ctx
	var stopGate, stopCalls context.CancelFunc = func() {}, func() {}
	if dl, ok := ctx.Deadline(); ok {
		margin := set.SafetyMargin
		if left := time.Until(dl); margin > left/4 {
			margin = left / 4 // a short invocation still gets most of its time
		}
		gate, stopGate = context.WithDeadline(ctx, dl.Add(-margin))
		callCtx, stopCalls = context.WithDeadline(ctx, dl.Add(-margin/2))
	}
	defer stopGate()
	defer stopCalls()
	r.gate, r.callCtx = gate, callCtx

	maxPasses := s.MaxPasses
	if maxPasses <= 0 {
		maxPasses = DefaultMaxPasses
	}
	for pass := 1; ; pass++ {
		r.rep.Passes = pass
		fresh := r.pass()
		if r.stopped || set.DryRun || fresh == 0 {
			break
		}
		if pass >= maxPasses {
			r.rep.Errors = append(r.rep.Errors, ListError{Service: strings.Join(set.Services, ","), Code: "PassLimit",
				Message: fmt.Sprintf("stopped after %d passes that each found new candidates; the next run continues", maxPasses)})
			break
		}
		if r.gate.Err() != nil {
			r.rep.Truncated = true
			break
		}
	}
	r.settleLost()
	after := s.stats()
	r.rep.Throttled = after.Throttled - before.Throttled
	r.rep.DurationMs = time.Since(started).Milliseconds()
	r.finalLog(ctx)
	return &r.rep
}

// setTimes derives the run's instants from now, once.
func (r *run) setTimes() {
	r.cutoff = r.now.Add(-r.set.MaxAge).Truncate(time.Second)
	r.start = r.now.Add(-r.set.Lookback).Truncate(time.Second)
	// Ages are measured at one instant, the one the stale rule implies:
	// created before the cutoff <=> age (ref - created) over maxAge.
	r.ref = r.cutoff.Add(r.set.MaxAge)
	r.warnEnd = r.cutoff.Add(r.set.WarnBefore)
	r.listEnd = r.cutoff
	if r.set.WarnBefore > 0 {
		// The window's newest tasks (created at warnEnd) are listed whether
		// or not Tencent's EndTime is inclusive, which DescribeTasks does
		// not document; the recheck drops the second past it.
		r.listEnd = r.warnEnd.Add(time.Second)
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

// Dedupe states.
const (
	stateQueued    uint8 = iota + 1 // cancel not finished yet
	stateKept                       // skipped, failed or would-cancel: may be listed again, remembered for the run
	stateCancelled                  // gone from the server's listing; forgotten once no page can still show it
	stateUpcoming                   // in the warning window: reported once, remembered for the run
)

type run struct {
	s      *Sweeper
	set    Settings
	log    *slog.Logger
	now    time.Time
	cutoff time.Time // created before it: stale
	start  time.Time
	// ref is the instant ages are measured at (cutoff + maxAge); warnEnd
	// is the newest creation time in the warning window (cutoff +
	// warnBefore); listEnd is the listings' EndTime.
	ref     time.Time
	warnEnd time.Time
	listEnd time.Time
	seed    maphash.Seed

	// The run's two contexts live here because a run is one call of
	// Sweeper.Run: gate is done when nothing new may start, callCtx bounds
	// the calls in flight.
	gate    context.Context
	callCtx context.Context

	fetches atomic.Uint64 // DescribeTasks calls started (page sequence numbers)
	// aborted is set when the page consumer panicked: the workers finish the
	// cancels in flight and start none of the queued ones.
	aborted atomic.Bool

	// mu guards what follows. Every section that holds it is a small method
	// that defers the unlock, so a panic in one (a bug) releases it and the
	// recover handlers, which take it to record the panic, cannot deadlock.
	mu         sync.Mutex
	rep        Report
	seen       map[string]uint8 // service + "\x00" + TaskId
	recent     []evictable      // cancelled ids in completion order
	deleted    int              // ids deleted from seen since it was last rebuilt
	inflight   int
	notify     chan struct{}   // a cancel finished
	stopped    bool            // capped or out of time: no further pass
	unfinished bool            // work was left undone because of the deadline
	fresh      int             // new candidates in the current pass
	broken     map[string]bool // listings stopped by a paging error: not listed again this run
	pageSize   int             // DescribeTasks Limit: set.PageSize, halved while Tencent rejects it
	panicked   bool            // a panic was recovered: settleLost has work to do
}

// section is called first in every section that holds r.mu, after its
// deferred unlock (a nil check unless a test set Sweeper.inLock).
func (r *run) section(name string) {
	if h := r.s.inLock; h != nil {
		h(name)
	}
}

type evictable struct {
	key   string
	fetch uint64 // fetches started when the cancel finished
}

type page struct {
	seq     uint64
	service string
	tasks   []tcapi.TaskSummary
}

type item struct {
	service string
	task    tcapi.TaskSummary
	key     string
	age     time.Duration // at r.ref
}

// listing is one DescribeTasks filter combination: the API takes one value
// per filter field, so each (service, status, type, BizType) is listed on
// its own (vm takes every BizType in one array).
type listing struct {
	service string
	filter  tcapi.TaskFilter
}

func (l listing) String() string {
	parts := []string{"TaskStatus=" + l.filter.TaskStatus}
	if l.filter.Type != "" {
		parts = append(parts, "Type="+l.filter.Type)
	}
	if len(l.filter.BizTypes) > 0 {
		parts = append(parts, "BizType="+strings.Join(l.filter.BizTypes, ","))
	}
	return strings.Join(parts, " ")
}

func (r *run) listings() []listing {
	types := r.set.Types
	if len(types) == 0 {
		types = []string{""}
	}
	biz := r.set.includedBizTypes()
	var out []listing
	for _, svc := range r.set.Services {
		var groups [][]string
		switch {
		case len(biz) == 0:
			groups = [][]string{nil}
		case svc == "ams": // one BizType per request
			for _, b := range biz {
				groups = append(groups, []string{b})
			}
		default:
			groups = [][]string{biz}
		}
		for _, st := range r.set.Statuses {
			for _, ty := range types {
				for _, g := range groups {
					out = append(out, listing{service: svc, filter: tcapi.TaskFilter{TaskStatus: st, Type: ty, BizTypes: g}})
				}
			}
		}
	}
	return out
}

// pass lists every combination once while workers cancel what it finds, and
// returns how many new candidates it found.
func (r *run) pass() int {
	r.resetFresh()

	listCtx, stopListing := context.WithCancel(r.callCtx)
	defer stopListing()
	pages := make(chan page, 1)
	work := make(chan item, r.set.Concurrency)

	var wg sync.WaitGroup
	closeWork := sync.OnceFunc(func() { close(work) })
	defer func() {
		// A panic in the page consumer (this goroutine) ends the run with a
		// report error, and never leaves a goroutine of the run behind: the
		// listing stops, the workers drop what is queued, and every one of
		// them has returned before the run does.
		v := recover()
		if v == nil {
			return
		}
		r.recordPanic("sweep", v)
		r.aborted.Store(true)
		stopListing()
		closeWork()
		wg.Wait()
		r.stop()
	}()
	wg.Go(func() { r.produce(listCtx, pages) })
	for range r.set.Concurrency {
		wg.Go(func() { r.work(work) })
	}
	for p := range pages {
		if r.stoppedNow() {
			stopListing()
			continue // drain so the producer can finish
		}
		r.evict(p.seq)
		for _, t := range p.tasks {
			if !r.consider(p.service, t, work) {
				stopListing()
				break
			}
		}
		if r.s.observe != nil {
			r.s.observe(r.seenCount())
		}
	}
	closeWork()
	wg.Wait()
	return r.freshCount()
}

func (r *run) resetFresh() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.section("resetFresh")
	r.fresh = 0
}

func (r *run) freshCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.section("freshCount")
	return r.fresh
}

func (r *run) seenCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.section("seenCount")
	return len(r.seen)
}

// stop ends the run after this pass (a recover handler's: no test hook).
func (r *run) stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stopped = true
}

func (r *run) stoppedNow() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.section("stoppedNow")
	if r.gate.Err() != nil {
		r.stopped, r.unfinished, r.rep.Truncated = true, true, true
	}
	return r.stopped
}

// produce fetches the pages of every listing in turn, one at a time: the
// pages channel holds one page, so listing runs a page ahead of cancelling.
func (r *run) produce(ctx context.Context, pages chan<- page) {
	defer close(pages)
	defer func() {
		if v := recover(); v != nil {
			r.recordPanic("listing", v)
		}
	}()
	maxPages := r.s.MaxPages
	if maxPages <= 0 {
		maxPages = DefaultMaxPages
	}
	for _, l := range r.listings() {
		if r.isBroken(l) {
			continue
		}
		c := r.s.Clients[l.service]
		if c == nil {
			r.listError(l, "ClientError", "no client for service "+l.service)
			continue
		}
		filter := l.filter
		req := tcapi.DescribeTasksRequest{
			Filter:    &filter,
			StartTime: r.start.Format(time.RFC3339), EndTime: r.listEnd.Format(time.RFC3339),
		}
		var loop pageLoop
		for n := 0; ; n++ {
			if r.stoppedNow() || ctx.Err() != nil {
				return
			}
			if n >= maxPages {
				r.listError(l, "PageLimit", fmt.Sprintf("stopped after %d pages (the page limit); the next run continues", maxPages))
				r.markBroken(l)
				break
			}
			seq := r.fetches.Add(1)
			resp, err := r.describe(ctx, c, l, req)
			if err != nil {
				if r.stoppedNow() || ctx.Err() != nil {
					return // out of time (reported as Truncated), or stopped on purpose
				}
				code, msg := errorCode(err)
				r.listError(l, code, "DescribeTasks: "+msg)
				break
			}
			r.pageReceived()
			select {
			case pages <- page{seq: seq, service: l.service, tasks: resp.Data}:
			case <-ctx.Done():
				return
			}
			if resp.PageToken == "" {
				break
			}
			if loop.repeated(maphash.String(r.seed, resp.PageToken)) {
				r.listError(l, "PageTokenRepeated", fmt.Sprintf("PageToken %q came back after %d pages; listing stopped to avoid a loop", clip(resp.PageToken, 64), n+1))
				r.markBroken(l)
				break
			}
			req.PageToken = resp.PageToken
		}
	}
}

// describe fetches one page with the run's page size. Tencent documents no
// maximum Limit (default 10): when it rejects the request as a bad parameter
// and the page size is above 10, the page size is halved (down to 10) for the
// rest of the run, and the page asked for again. The report's PageSize is
// the size that was used in the end.
func (r *run) describe(ctx context.Context, c lister, l listing, req tcapi.DescribeTasksRequest) (tcapi.DescribeTaskSummariesResponse, error) {
	for {
		size := r.currentPageSize()
		req.Limit = size
		resp, err := c.DescribeTaskSummaries(ctx, req)
		// Only a first page: on a later one, a bad parameter is more likely
		// the PageToken than the Limit that the first page was served with.
		if err == nil || size <= minPageSize || req.PageToken != "" || !tcapi.HasCode(err, "InvalidParameter", "InvalidParameterValue", "LimitExceeded") {
			return resp, err
		}
		code, msg := errorCode(err)
		next := r.halvePageSize(size)
		r.log.LogAttrs(r.callCtx, slog.LevelWarn, "page size rejected: halving it",
			slog.String("service", l.service), slog.String("filter", l.String()), slog.Int("page_size", size),
			slog.Int("next_page_size", next), slog.String("code", code), slog.String("error", msg))
	}
}

func (r *run) isBroken(l listing) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.section("isBroken")
	return r.broken[l.service+" "+l.String()]
}

func (r *run) pageReceived() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.section("pageReceived")
	r.rep.Pages++
}

func (r *run) currentPageSize() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.section("currentPageSize")
	return r.pageSize
}

// halvePageSize halves the page size after size was rejected (unless
// another listing did already) and returns the one to use next.
func (r *run) halvePageSize(size int) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.section("halvePageSize")
	if r.pageSize == size {
		r.pageSize = max(minPageSize, size/2)
		r.rep.PageSize = r.pageSize
	}
	return r.pageSize
}

// recordPanic turns a recovered panic into a report error (and a log line).
// It runs in recover handlers, so nothing in it may panic: the error is
// recorded first, and a logger that panics too is ignored.
func (r *run) recordPanic(where string, v any) {
	msg := fmt.Sprintf("%s: panic: %v", where, v) // fmt recovers a panicking String or Error method
	r.addPanic(ListError{Service: strings.Join(r.set.Services, ","), Code: CodePanic, Message: clip(msg, 512)})
	stack := debug.Stack()
	quietly(func() {
		r.log.LogAttrs(r.callCtx, slog.LevelError, "sweeper goroutine panicked", slog.String("where", where),
			slog.String("error", msg), slog.String("stack", string(stack)))
	})
}

// addPanic records a panic's report error (a recover handler's: no test hook).
func (r *run) addPanic(e ListError) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.panicked = true
	r.rep.Errors = append(r.rep.Errors, e)
}

// quietly runs f, a log call in a recover handler, and drops a panic of its
// own: a broken logger must not turn a recovered panic into a crash.
func quietly(f func()) {
	defer func() { _ = recover() }()
	f()
}

// pageLoop spots a listing whose PageToken comes back, in constant memory
// (a set of every token would grow with the pages of a listing). It keeps the
// last few tokens, which catches a short loop at once, and a checkpoint token
// moved to the current one after 1, 2, 4, 8... pages (Brent's cycle
// detection), which catches a loop of any length within about twice its
// length, long before the page limit.
type pageLoop struct {
	recent [16]uint64 // hashes of the last tokens
	n      int        // tokens seen
	mark   uint64     // checkpoint, valid once n > 0
	power  int        // tokens between checkpoint moves
	since  int        // tokens since the checkpoint moved
}

// repeated records the hash of the next PageToken and reports whether it
// was seen before (among the recent ones, or as the checkpoint).
func (l *pageLoop) repeated(h uint64) bool {
	if slices.Contains(l.recent[:min(l.n, len(l.recent))], h) || (l.n > 0 && h == l.mark) {
		return true
	}
	l.recent[l.n%len(l.recent)] = h
	l.n++
	if l.since++; l.since >= l.power {
		l.mark, l.power, l.since = h, max(1, 2*l.power), 0
	}
	return false
}

// markBroken keeps a listing whose paging cannot be trusted out of later
// passes (a failed call, by contrast, is tried again in the next pass).
func (r *run) markBroken(l listing) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.section("markBroken")
	r.broken[l.service+" "+l.String()] = true
}

func (r *run) listError(l listing, code, msg string) {
	r.log.LogAttrs(r.callCtx, slog.LevelError, "listing stopped",
		slog.String("service", l.service), slog.String("filter", l.String()), slog.String("code", code), slog.String("error", msg))
	r.mu.Lock()
	defer r.mu.Unlock()
	r.section("listError")
	r.rep.Errors = append(r.rep.Errors, ListError{Service: l.service, Filter: l.String(), Code: code, Message: msg})
}

// evict forgets cancelled ids that no page from now on can contain: a page
// whose fetch started after a cancel finished no longer lists that task. The
// keepRecent most recent ones are kept anyway, in case the listing lags.
func (r *run) evict(seq uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.section("evict")
	n := 0
	for n < len(r.recent)-keepRecent && r.recent[n].fetch < seq {
		if r.seen[r.recent[n].key] == stateCancelled {
			delete(r.seen, r.recent[n].key)
		}
		n++
	}
	if n > 0 {
		clear(r.recent[:n])
		r.recent = r.recent[n:]
		r.deleted += n
	}
	// A Go map keeps its table size (and its deleted slots) after deletes:
	// rebuild it once it has seen more deletes than it holds ids, so its
	// memory follows the ids it holds, not the ids it ever held. A rebuild
	// copies a few hundred ids every few hundred cancels.
	if r.deleted > len(r.seen)+keepRecent {
		r.seen = maps.Clone(r.seen)
		r.deleted = 0
	}
}

// verdict of the client-side recheck.
type verdict int

const (
	notStale verdict = iota // filtered out: not a candidate
	cannotJudge
	stale
	upcoming // in the warning window: reported, never cancelled, not a candidate
)

// judge rechecks a listed task: the server's filters are trusted for nothing.
func (r *run) judge(t tcapi.TaskSummary) (verdict, string, time.Time) {
	if len(r.set.Types) > 0 && !slices.Contains(r.set.Types, t.Type) {
		return notStale, "", time.Time{}
	}
	if slices.Contains(r.set.ExcludeBizTypes, t.BizType) {
		return notStale, "", time.Time{}
	}
	if len(r.set.BizTypes) > 0 && !slices.Contains(r.set.BizTypes, t.BizType) {
		return notStale, "", time.Time{}
	}
	if r.set.WarnBefore > 0 {
		if v, created, young := r.judgeYoung(t); young {
			return v, "", created
		}
	}
	if !slices.Contains(knownStatuses, t.Status) {
		return cannotJudge, fmt.Sprintf("unknown status %q", clip(t.Status, 40)), time.Time{}
	}
	if !slices.Contains(r.set.Statuses, t.Status) {
		return notStale, "", time.Time{}
	}
	created, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(t.CreatedAt))
	if err != nil {
		return cannotJudge, fmt.Sprintf("unparseable CreatedAt %q", clip(t.CreatedAt, 40)), time.Time{}
	}
	if !created.Before(r.cutoff) {
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
func (r *run) judgeYoung(t tcapi.TaskSummary) (v verdict, created time.Time, young bool) {
	created, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(t.CreatedAt))
	if err != nil || created.Before(r.cutoff) {
		return notStale, time.Time{}, false
	}
	if created.After(r.warnEnd) || !slices.Contains(r.set.Statuses, t.Status) || strings.TrimSpace(t.TaskId) == "" {
		return notStale, created, true
	}
	return upcoming, created, true
}

// consider handles one listed task; false means stop (cap or deadline).
func (r *run) consider(service string, t tcapi.TaskSummary, work chan<- item) bool {
	r.scanned()
	v, reason, created := r.judge(t)
	if v == notStale {
		return true
	}
	key := service + "\x00" + t.TaskId
	if v == upcoming {
		if r.noteUpcoming(service, t, key, created) {
			r.logTask(slog.LevelInfo, "task upcoming: it will be cancelled once stale", service, t, created,
				slog.String("cancel_after", r.cancelAfter(created)))
		}
		return true
	}
	if v == cannotJudge {
		if r.skipUnjudged(service, t, key, reason) {
			r.log.LogAttrs(r.callCtx, slog.LevelWarn, "task skipped: cannot judge it",
				slog.String("service", service), slog.String("task_id", t.TaskId), slog.String("data_id", t.DataId),
				slog.String("biz_type", t.BizType), slog.String("reason", reason))
		}
		return true
	}
	if r.known(key) {
		return true
	}
	if !r.reserve() {
		return false
	}
	if r.queue(service, t, key) {
		r.logTask(slog.LevelInfo, "task would be cancelled (dry run)", service, t, created)
		return true
	}
	select {
	case work <- item{service: service, task: t, key: key, age: r.ref.Sub(created)}:
		return true
	case <-r.gate.Done():
		r.drop(key, true)
		return false
	}
}

// The sections below that settle a candidate append its report entries
// first and change the counters last (integer updates, which cannot
// panic): a panic in one leaves the counts as they were.

func (r *run) scanned() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.section("scanned")
	r.rep.Scanned++
}

// noteUpcoming records a task in the warning window, unless it was listed
// already this run (false). It is remembered for the run like a kept
// candidate, but is not one.
func (r *run) noteUpcoming(service string, t tcapi.TaskSummary, key string, created time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.section("noteUpcoming")
	if _, dup := r.seen[key]; dup {
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
	r.seen[key] = stateUpcoming
	r.rep.Upcoming++
	return true
}

// cancelAfter is when a task created at created becomes stale: a run whose
// reference instant is after it cancels it.
func (r *run) cancelAfter(created time.Time) string {
	return created.Add(r.set.MaxAge).UTC().Format(time.RFC3339Nano)
}

// known reports whether key was a candidate already this run.
func (r *run) known(key string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.section("known")
	_, dup := r.seen[key]
	return dup
}

// skipUnjudged settles a task that cannot be judged as skipped, unless it
// was a candidate already (false).
func (r *run) skipUnjudged(service string, t tcapi.TaskSummary, key, reason string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.section("skipUnjudged")
	if _, dup := r.seen[key]; dup {
		return false
	}
	r.addTask(service, t, ActionSkipped, reason, 0)
	r.seen[key] = stateKept
	r.rep.Candidates++
	r.rep.Skipped++
	r.fresh++
	return true
}

// queue counts a candidate that holds a slot: in a dry run it is settled as
// would-cancel (true), otherwise it is queued for a worker.
func (r *run) queue(service string, t tcapi.TaskSummary, key string) (dry bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.section("queue")
	if r.set.DryRun {
		r.addTask(service, t, ActionWouldCancel, "", 0)
		r.seen[key] = stateKept
		r.rep.Candidates++
		r.rep.WouldCancel++
		r.fresh++
		return true
	}
	r.seen[key] = stateQueued
	r.rep.Candidates++
	r.fresh++
	return false
}

// reserve takes one of the MaxCancels slots for a cancel (in flight or
// done). It waits while in-flight cancels may still give a slot back (a cancel
// answered "not found" does not count), and reports false when the cap is
// reached (Capped) or time is up (Truncated).
func (r *run) reserve() bool {
	for {
		got, capped := r.takeSlot()
		if got {
			return true
		}
		if capped {
			r.log.LogAttrs(r.callCtx, slog.LevelWarn, "cancel cap reached: stopping",
				slog.Int("max_cancels", r.set.MaxCancels))
			return false
		}
		select {
		case <-r.notify:
		case <-r.gate.Done():
			r.outOfTime()
			return false
		}
	}
}

// takeSlot takes a slot if one is free (got); capped means none will be
// (the run stops).
func (r *run) takeSlot() (got, capped bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.section("takeSlot")
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

func (r *run) outOfTime() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.section("outOfTime")
	r.stopped, r.unfinished, r.rep.Truncated = true, true, true
}

// drop undoes a queued candidate that was never sent (out of time): it is
// neither counted nor remembered, and the next run finds it again.
func (r *run) drop(key string, reserved bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.section("drop")
	delete(r.seen, key)
	r.rep.Candidates--
	r.fresh--
	if reserved {
		r.inflight--
	}
	r.stopped, r.unfinished, r.rep.Truncated = true, true, true
	r.signal()
}

func (r *run) signal() {
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

func (r *run) work(work <-chan item) {
	for it := range work {
		r.cancelOne(it)
	}
}

// lookedUp is what DescribeTaskDetail said after a cancel Tencent refused
// without saying why.
type lookedUp struct {
	status string
	ended  bool // FINISH, ERROR or CANCELLED
	gone   bool // ResourceNotFound
}

// Where a cancel was when it panicked.
const (
	stageCalling  = iota // calling Tencent: the task fails with CodePanic
	stageSettling        // recording its outcome: the outcome is lost (settleLost)
	stageSettled         // logging: nothing to undo
)

// cancelOne cancels one task. A panic in it (the client, a fake, a bug)
// fails that task with CodePanic and the worker goes on.
func (r *run) cancelOne(it item) {
	stage := stageCalling
	defer func() {
		if v := recover(); v != nil {
			r.recordPanic("cancel "+it.service+" "+it.task.TaskId, v)
			if stage == stageCalling && r.settlePanicked(it, v) {
				return
			}
			if stage != stageSettled {
				r.abandon()
			}
		}
	}()
	if r.gate.Err() != nil || r.aborted.Load() {
		stage = stageSettling
		r.drop(it.key, true)
		return
	}
	c := r.s.Clients[it.service]
	_, err := c.CancelTask(r.callCtx, it.task.TaskId)
	var st *lookedUp
	if d, ok := c.(detailer); ok && err != nil && r.callCtx.Err() == nil && tcapi.StateUnknown(err) {
		det, lerr := d.DescribeTaskDetail(r.callCtx, it.task.TaskId)
		switch {
		case lerr == nil && det.Ended():
			st = &lookedUp{status: det.Status, ended: true}
		case tcapi.HasCode(lerr, "ResourceNotFound"):
			st = &lookedUp{gone: true}
		}
	}
	stage = stageSettling
	o := r.settle(it, err, st)
	stage = stageSettled
	r.logOutcome(it, o)
}

// settlePanicked settles a task whose cancel call panicked as failed with
// CodePanic, and reports whether it did (a recover handler's: a second
// panic is recorded, not raised).
func (r *run) settlePanicked(it item, v any) (settled bool) {
	defer func() {
		if w := recover(); w != nil {
			r.recordPanic("settle "+it.service+" "+it.task.TaskId, w)
		}
	}()
	o := r.settle(it, &tcapi.Error{Service: it.service, Action: "CancelTask", Code: CodePanic, Message: clip(fmt.Sprint(v), 200)}, nil)
	settled = true
	r.logOutcome(it, o)
	return settled
}

// abandon gives back the slot of a cancel whose outcome a panic lost; the
// task stays queued in seen and settleLost counts it at the end of the run
// (a recover handler's: no test hook).
func (r *run) abandon() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.inflight--
	r.signal()
}

// settleLost counts as failed, with CodePanic, every candidate that a panic
// left queued (whether it was cancelled is unknown), so that the counts add
// up. It runs once no goroutine of the run is left, and only after a panic.
func (r *run) settleLost() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.panicked {
		return
	}
	var lost []string
	for key, st := range r.seen {
		if st == stateQueued {
			lost = append(lost, key)
		}
	}
	slices.Sort(lost)
	for _, key := range lost {
		service, id, _ := strings.Cut(key, "\x00")
		r.appendTask(TaskResult{Service: service, TaskId: id, Action: ActionFailed, Reason: "outcome lost to a panic (see Errors)"})
		r.appendFailure(Failure{Service: service, TaskId: id, Code: CodePanic,
			Message: "the sweeper panicked while handling this task: whether it was cancelled is unknown"})
		r.seen[key] = stateKept
		r.rep.Failed++
	}
}

// outcome is how a cancel was settled, for its log line.
type outcome struct {
	dropped bool // never sent: neither counted nor logged
	level   slog.Level
	msg     string
	code    string
	err     string
	status  string
	note    string
}

// settle records the outcome of a cancel (err and st, the looked-up state).
func (r *run) settle(it item, err error, st *lookedUp) outcome {
	var te *tcapi.Error
	if !errors.As(err, &te) {
		te = nil
	}
	if te != nil && te.Attempts == 0 &&
		(te.Code == tcapi.CodeDeadlineExceeded || te.Code == tcapi.CodeCanceled) {
		r.drop(it.key, true) // never sent: the limiter wait would have passed the deadline
		return outcome{dropped: true}
	}
	o := outcome{level: slog.LevelInfo}
	action, reason := ActionSkipped, ""
	switch {
	case err == nil:
		action, o.msg = ActionCancelled, "task cancelled"
	case st != nil && st.ended && te != nil && te.Attempts > 1 && st.status == "CANCELLED":
		// A retry was refused and the task is now CANCELLED: the earlier
		// attempt whose answer was lost most likely cancelled it.
		action, o.msg = ActionCancelled, "task cancelled"
		reason = fmt.Sprintf("%s on attempt %d, then status CANCELLED: an earlier attempt whose answer was lost most likely cancelled it", te.Code, te.Attempts)
		o.note = "confirmed by DescribeTaskDetail after " + te.Code + " on retry"
	case st != nil && st.ended:
		o.code, _ = errorCode(err)
		o.msg, o.status = "task already ended", st.status
		reason = "already ended (status " + clip(st.status, 40) + ")"
	case st != nil && st.gone:
		o.code, _ = errorCode(err)
		o.msg = "task gone"
		reason = "not found (ResourceNotFound on DescribeTaskDetail after " + o.code + ")"
	case te != nil && te.Attempts > 1 && tcapi.HasCode(err, "FailedOperation.TaskEnded"):
		// A retry found the task ended: the earlier attempt whose answer was
		// lost (reset, 502, timeout) most likely cancelled it. Count it as a
		// cancel (it also counts toward maxCancels) and say why.
		action, o.msg = ActionCancelled, "task cancelled"
		reason = "TaskEnded on retry: an earlier attempt whose answer was lost most likely cancelled it"
		o.note = "confirmed by TaskEnded on retry"
	case tcapi.HasCode(err, "ResourceNotFound", "FailedOperation.TaskEnded"):
		o.code, _ = errorCode(err)
		o.msg = "task already ended"
		reason = o.code + ": already ended or gone"
	default:
		action = ActionFailed
		o.code, o.err = errorCode(err)
		o.level, o.msg = slog.LevelWarn, "task cancel failed"
	}
	r.record(it, action, reason, o.code, o.err, errors.Is(err, context.DeadlineExceeded))
	return o
}

// record settles a sent cancel: action is cancelled, skipped or failed
// (with code and msg); timedOut marks a failure that the deadline caused.
func (r *run) record(it item, action, reason, code, msg string, timedOut bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.section("record")
	var age time.Duration
	if action == ActionCancelled {
		age = it.age
	}
	r.addTask(it.service, it.task, action, reason, age)
	switch action {
	case ActionFailed:
		r.appendFailure(Failure{Service: it.service, TaskId: it.task.TaskId, Code: code, Message: msg})
		r.seen[it.key] = stateKept
		r.rep.Failed++
		if timedOut && r.gate.Err() != nil {
			r.rep.Truncated, r.unfinished = true, true
		}
	case ActionCancelled:
		r.forgetLater(it.key)
		r.rep.cancelledAge.add(it.age)
		r.rep.CancelledTaskHours = r.rep.cancelledAge.rounded()
		r.rep.Cancelled++
	default:
		r.forgetLater(it.key)
		r.rep.Skipped++
	}
	r.inflight--
	r.signal()
}

func (r *run) logOutcome(it item, o outcome) {
	if o.dropped {
		return
	}
	created, _ := time.Parse(time.RFC3339Nano, strings.TrimSpace(it.task.CreatedAt))
	var extra [4]slog.Attr
	n := 0
	if o.code != "" {
		extra[n], n = slog.String("code", o.code), n+1
	}
	if o.err != "" {
		extra[n], n = slog.String("error", o.err), n+1
	}
	if o.status != "" {
		extra[n], n = slog.String("status", o.status), n+1
	}
	if o.note != "" {
		extra[n], n = slog.String("note", o.note), n+1
	}
	r.logTask(o.level, o.msg, it.service, it.task, created, extra[:n]...)
}

// forgetLater marks key cancelled; evict drops it once no page can list it.
// Called with r.mu held.
func (r *run) forgetLater(key string) {
	r.seen[key] = stateCancelled
	r.recent = append(r.recent, evictable{key: key, fetch: r.fetches.Load()})
}

// addTask appends to the report's task list (capped). Called with r.mu held.
func (r *run) addTask(service string, t tcapi.TaskSummary, action, reason string, age time.Duration) {
	r.section("addTask")
	r.appendTask(TaskResult{
		Service: service, TaskId: t.TaskId, DataId: t.DataId, BizType: t.BizType, Type: t.Type,
		Status: t.Status, CreatedAt: t.CreatedAt, Action: action, Reason: reason, Age: Duration(age),
	})
}

// appendTask and appendFailure add a report entry, or count it as omitted
// once the list is full. Called with r.mu held.
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

func (r *run) logTask(level slog.Level, msg, service string, t tcapi.TaskSummary, created time.Time, extra ...slog.Attr) {
	attrs := []slog.Attr{
		slog.String("service", service), slog.String("task_id", t.TaskId), slog.String("data_id", t.DataId),
		slog.String("biz_type", t.BizType), slog.String("type", t.Type),
	}
	if !created.IsZero() {
		attrs = append(attrs, slog.String("age", r.ref.Sub(created).Round(time.Second).String()))
	}
	r.log.LogAttrs(r.callCtx, level, msg, append(attrs, extra...)...)
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

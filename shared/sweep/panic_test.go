package sweep

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

// The engine's seams are what it calls that is not its own code: the
// clients' methods, the logger and the clock. A panic in any of them, at any
// call, must end as a report error with counts that add up, with no
// goroutine of the run left and no call in flight. The tests here inject
// panics there, in scenarios that reach every line the engine logs.

// injector counts the calls of each seam and panics in the one chosen: at
// its first call, or at every call.
type injector struct {
	mu     sync.Mutex
	calls  map[string]int
	target string
	every  bool
	hits   int
}

func newInjector(target string, every bool) *injector {
	return &injector{calls: map[string]int{}, target: target, every: every}
}

// at is called first in every seam call.
func (in *injector) at(seam string) {
	in.mu.Lock()
	in.calls[seam]++
	hit := seam == in.target && (in.every || in.calls[seam] == 1)
	if hit {
		in.hits++
	}
	in.mu.Unlock()
	if hit {
		panic("injected in " + seam)
	}
}

func (in *injector) snapshot() (calls map[string]int, hits int) {
	in.mu.Lock()
	defer in.mu.Unlock()
	return maps.Clone(in.calls), in.hits
}

// seamClient is a client whose every method goes through the injector
// first. inner must be a detailer.
type seamClient struct {
	inner Client
	in    *injector
}

func (c seamClient) DescribeTaskSummaries(ctx context.Context, req tcapi.DescribeTasksRequest) (tcapi.DescribeTaskSummariesResponse, error) {
	c.in.at("DescribeTaskSummaries")
	return c.inner.DescribeTaskSummaries(ctx, req)
}

func (c seamClient) CancelTask(ctx context.Context, id string) (tcapi.CancelTaskResponse, error) {
	c.in.at("CancelTask")
	return c.inner.CancelTask(ctx, id)
}

func (c seamClient) DescribeTaskDetail(ctx context.Context, id string) (tcapi.TaskDetail, error) {
	c.in.at("DescribeTaskDetail")
	return c.inner.(detailer).DescribeTaskDetail(ctx, id)
}

func (c seamClient) Stats() tcapi.Stats {
	c.in.at("Stats")
	return tcapi.Stats{}
}

// seamLog is a slog handler that goes through the injector with each
// record's message ("log: <message>").
type seamLog struct{ in *injector }

func (h seamLog) Enabled(context.Context, slog.Level) bool { return true }
func (h seamLog) Handle(_ context.Context, r slog.Record) error {
	h.in.at("log: " + r.Message)
	return nil
}
func (h seamLog) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h seamLog) WithGroup(string) slog.Handler      { return h }

// seamScenario is a run that goes through some of the seams.
type seamScenario struct {
	fake    *fakeAPI
	client  Client // wraps fake; a detailer
	set     Settings
	ctx     context.Context
	sw      Sweeper
	cleanup func()
	// racy are seams a run of the scenario may or may not reach, depending
	// on how its goroutines are scheduled: no panic is injected there.
	racy []string
}

// timesOut ends the run's time (cancels its context) as each cancel is
// sent, while the run loop waits for a cancel slot.
type timesOut struct {
	*detailFake
	cancel context.CancelFunc
}

func (c timesOut) CancelTask(ctx context.Context, id string) (tcapi.CancelTaskResponse, error) {
	c.cancel()
	return c.detailFake.CancelTask(ctx, id)
}

// running is the scenarios' settings: RUNNING tasks only.
func running(*fakeAPI) Settings {
	set := testSettings()
	set.Statuses = []string{"RUNNING"}
	return set
}

// plainScenario runs over f with the scenarios' settings (running) as edit
// changes them, through a detailFake and in a context that never ends.
func plainScenario(f *fakeAPI, edit func(*Settings)) *seamScenario {
	set := running(f)
	edit(&set)
	return &seamScenario{fake: f, client: &detailFake{fakeAPI: f}, set: set, ctx: context.Background()}
}

var seamScenarios = map[string]func() *seamScenario{
	// Cancels, a task that cannot be judged, a page size Tencent rejects
	// once (halved), a page limit (the listing stops), and refused cancels:
	// one ended, one gone, one failed.
	"cancel": func() *seamScenario {
		f := newFake("ams")
		ids := f.add(25, "RUNNING", "LIVE_AUDIO", "", 3*time.Hour)
		f.tasks[0].CreatedAt = "not a time"
		f.describeErr = func(call int) error {
			if call == 1 {
				return &tcapi.Error{Service: "ams", Action: "DescribeTasks", Code: "InvalidParameterValue", Message: "Limit too large"}
			}
			return nil
		}
		f.cancelErr = func(tk tcapi.TaskSummary) error {
			switch tk.TaskId {
			case ids[1], ids[2]:
				return &tcapi.Error{Service: "ams", Action: "CancelTask", Code: "FailedOperation", Message: "failed", Attempts: 1}
			case ids[3]:
				return &tcapi.Error{Service: "ams", Action: "CancelTask", Code: "InternalError", Message: "boom", Attempts: 3}
			}
			return nil
		}
		d := &detailFake{fakeAPI: f, details: map[string]func() (tcapi.TaskDetail, error){
			ids[1]: func() (tcapi.TaskDetail, error) { return tcapi.TaskDetail{Status: "FINISH", RequestId: "req"}, nil },
			ids[2]: func() (tcapi.TaskDetail, error) {
				return tcapi.TaskDetail{}, &tcapi.Error{Service: "ams", Action: "DescribeTaskDetail", Code: "ResourceNotFound", Message: "gone"}
			},
		}}
		set := running(f)
		set.PageSize = 20
		return &seamScenario{fake: f, client: d, set: set, ctx: context.Background(), sw: Sweeper{MaxPages: 2}}
	},
	"dry run": func() *seamScenario {
		f := newFake("ams")
		f.add(15, "RUNNING", "LIVE_AUDIO", "", 3*time.Hour)
		return plainScenario(f, func(set *Settings) { set.DryRun = true })
	},
	"capped": func() *seamScenario {
		f := newFake("ams")
		f.add(6, "RUNNING", "LIVE_AUDIO", "", 3*time.Hour)
		return plainScenario(f, func(set *Settings) { set.MaxCancels = 2 })
	},
	// A warning window: stale tasks are cancelled, younger ones in the
	// window are upcoming.
	"upcoming": func() *seamScenario {
		f := newFake("ams")
		f.add(5, "RUNNING", "LIVE_AUDIO", "", 3*time.Hour)
		f.add(5, "RUNNING", "LIVE_AUDIO", "", 90*time.Minute)
		return plainScenario(f, func(set *Settings) { set.WarnBefore = time.Hour })
	},
	// A cancel the limiter never sent (deadline): it is dropped.
	"never sent": func() *seamScenario {
		f := newFake("ams")
		ids := f.add(6, "RUNNING", "LIVE_AUDIO", "", 3*time.Hour)
		f.cancelErr = func(tk tcapi.TaskSummary) error {
			if tk.TaskId == ids[0] {
				return &tcapi.Error{Service: "ams", Action: "CancelTask", Code: tcapi.CodeDeadlineExceeded, Message: "limiter wait past the deadline"}
			}
			return nil
		}
		return plainScenario(f, func(set *Settings) { set.Concurrency = 1 })
	},
	// The run's time is up while the run loop waits for a cancel slot: the
	// one cancel allowed ends it. (Whether the run loop sees the time up or
	// the cap first is the scheduler's choice.)
	"out of time": func() *seamScenario {
		f := newFake("ams")
		f.add(3, "RUNNING", "LIVE_AUDIO", "", 3*time.Hour)
		set := running(f)
		set.MaxCancels = 1
		ctx, cancel := context.WithCancel(context.Background())
		return &seamScenario{fake: f, client: timesOut{&detailFake{fakeAPI: f}, cancel}, set: set, ctx: ctx, cleanup: cancel,
			racy: []string{"log: cancel cap reached: stopping"}}
	},
}

// runScenario runs a scenario with its seams going through in.
func runScenario(t *testing.T, name string, in *injector) (*Report, *seamScenario) {
	t.Helper()
	sc := seamScenarios[name]()
	if sc.cleanup != nil {
		defer sc.cleanup()
	}
	sw := sc.sw
	sw.Clients = map[string]Client{"ams": seamClient{inner: sc.client, in: in}}
	sw.Logger = slog.New(seamLog{in})
	sw.Now = func() time.Time {
		in.at("Now")
		return epoch
	}
	return runBounded(t, &sw, sc.ctx, sc.set), sc
}

// engineSeams are the seams the scenarios must reach: the client's methods,
// the clock, and every line the engine logs (but the one it logs after a
// panic).
var engineSeams = []string{
	"DescribeTaskSummaries", "CancelTask", "DescribeTaskDetail", "Stats", "Now",
	"log: task cancelled", "log: task cancel failed", "log: task already ended", "log: task gone",
	"log: task skipped: cannot judge it", "log: task would be cancelled (dry run)",
	"log: task upcoming: it will be cancelled once stale", "log: listing stopped",
	"log: page size rejected: halving it", "log: cancel cap reached: stopping", "log: sweep finished",
}

// seamsOf runs each scenario once without a panic and returns the seams it
// reaches, but its racy ones.
func seamsOf(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, name := range slices.Sorted(maps.Keys(seamScenarios)) {
		in := newInjector("", false)
		r, sc := runScenario(t, name, in)
		checkInvariant(t, r)
		if len(r.Errors) > 0 && r.Errors[0].Code == CodePanic {
			t.Fatalf("scenario %s panicked without an injection: %+v", name, r.Errors)
		}
		calls, _ := in.snapshot()
		for _, s := range sc.racy {
			delete(calls, s)
		}
		out[name] = slices.Sorted(maps.Keys(calls))
	}
	return out
}

// TestScenariosReachEverySeam: the panic tests below cover every seam of
// the engine.
func TestScenariosReachEverySeam(t *testing.T) {
	reached := map[string]bool{}
	for _, seams := range seamsOf(t) {
		for _, s := range seams {
			reached[s] = true
		}
	}
	for _, s := range engineSeams {
		if !reached[s] {
			t.Errorf("no scenario reaches %q", s)
		}
	}
}

// TestPanicAtEverySeamIsReported: a panic at any seam, at its first call or
// at every call, ends as a report with a Panic error per panic it let
// through, whose counts add up; the run neither deadlocks nor crashes, no
// goroutine of the run is left and no cancel is in flight after it.
func TestPanicAtEverySeamIsReported(t *testing.T) {
	for name, seams := range seamsOf(t) {
		for _, seam := range seams {
			for _, every := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/%s/every=%v", name, seam, every), func(t *testing.T) {
					in := newInjector(seam, every)
					r, sc := runScenario(t, name, in)
					_, hits := in.snapshot()
					if hits == 0 {
						t.Fatalf("seam %s never called", seam)
					}
					checkPanicked(t, r, sc, seam, hits)
				})
			}
		}
	}
}

// checkPanicked checks the report of a run in which seam panicked hits
// times. Each panic of a client or the clock is one Panic error; of the
// logger's, the first ends the pass and later ones (logged while the run
// cleans up) are dropped.
func checkPanicked(t *testing.T, r *Report, sc *seamScenario, seam string, hits int) {
	t.Helper()
	if left := runGoroutines(); len(left) > 0 {
		t.Fatalf("%d goroutine(s) of the run still running after Run returned:\n%s", len(left), strings.Join(left, "\n\n"))
	}
	checkInvariant(t, r)
	panics := 0
	for _, e := range r.Errors {
		if e.Code == CodePanic && strings.Contains(e.Message, "panic: injected in "+seam) {
			panics++
		}
	}
	if logged := strings.HasPrefix(seam, "log: "); logged && (panics == 0 || panics > hits) || !logged && panics != hits {
		t.Errorf("%d injected panics, %d Panic errors in the report: %+v", hits, panics, r.Errors)
	}
	sc.fake.mu.Lock()
	defer sc.fake.mu.Unlock()
	if sc.fake.inflight != 0 {
		t.Errorf("%d cancel(s) still in flight after Run returned", sc.fake.inflight)
	}
	// Every task the API cancelled is in the report: cancelled, or failed
	// when a panic lost its outcome.
	actions := map[string]string{}
	for _, tk := range r.Tasks {
		actions[tk.TaskId] = tk.Action
	}
	for _, tk := range sc.fake.tasks {
		if a := actions[tk.TaskId]; tk.Status == "CANCELLED" && a != ActionCancelled && a != ActionFailed {
			t.Errorf("task %s was cancelled, reported %q", tk.TaskId, a)
		}
	}
}

// runBounded runs sw and fails the test, showing the run's goroutines, if
// it has not returned after a minute (a deadlock: a run here takes
// milliseconds).
func runBounded(t *testing.T, sw *Sweeper, ctx context.Context, set Settings) *Report {
	t.Helper()
	done := make(chan *Report, 1)
	go func() { done <- sw.Run(ctx, set) }()
	select {
	case r := <-done:
		return r
	case <-time.After(time.Minute):
		t.Fatalf("Run has not returned after a minute: deadlocked? goroutines:\n%s", strings.Join(runGoroutines(), "\n\n"))
		return nil
	}
}

// TestLostOutcomeCountedFailed: when a panic loses the outcome of cancels
// (a bug in the run loop's book-keeping: no seam can), the report still
// accounts for every candidate: each one left queued is Failed with
// CodePanic and listed.
func TestLostOutcomeCountedFailed(t *testing.T) {
	set := testSettings()
	r := (&Sweeper{}).newRun(context.Background(), set)
	r.setTimes(epoch)
	ids := []string{"t0", "t1", "t2", "t3"}
	for _, id := range ids {
		r.seen.set("ams\x00"+id, stateQueued)
		r.rep.Candidates++
		r.inflight++
	}
	for _, id := range ids[2:] { // these two came back
		r.apply(outcome{item: item{service: "ams", task: tcapi.TaskSummary{TaskId: id}, key: "ams\x00" + id}, settled: judgeCancel(nil, nil)})
	}
	r.recordPanic(recovered("sweep", "lost"))
	r.settleLost()
	checkInvariant(t, &r.rep)
	if r.rep.Candidates != 4 || r.rep.Cancelled != 2 || r.rep.Failed != 2 {
		t.Fatalf("candidates %d, cancelled %d, failed %d: want 4 = 2 cancelled + 2 lost", r.rep.Candidates, r.rep.Cancelled, r.rep.Failed)
	}
	want := []Failure{
		{Service: "ams", TaskId: "t0", Code: CodePanic, Message: "the sweeper panicked while handling this task: whether it was cancelled is unknown"},
		{Service: "ams", TaskId: "t1", Code: CodePanic, Message: "the sweeper panicked while handling this task: whether it was cancelled is unknown"},
	}
	if !slices.Equal(r.rep.Failures, want) {
		t.Errorf("failures %+v, want %+v", r.rep.Failures, want)
	}
	if got := taskIDs(&r.rep, ActionFailed); !slices.Equal(got, []string{"t0", "t1"}) {
		t.Errorf("failed tasks %v", got)
	}
}

// panicHandler is a slog handler that panics on every record.
type panicHandler struct{}

func (panicHandler) Enabled(context.Context, slog.Level) bool  { return true }
func (panicHandler) Handle(context.Context, slog.Record) error { panic("logger bug") }
func (h panicHandler) WithAttrs([]slog.Attr) slog.Handler      { return h }
func (h panicHandler) WithGroup(string) slog.Handler           { return h }

func panicLogger() *slog.Logger { return slog.New(panicHandler{}) }

// panicOn is a slog handler that panics with value on the nth record whose
// message is msg.
type panicOn struct {
	msg   string
	nth   int
	value string
	mu    sync.Mutex
	seen  int
}

func (h *panicOn) Enabled(context.Context, slog.Level) bool { return true }
func (h *panicOn) Handle(_ context.Context, r slog.Record) error {
	if r.Message != h.msg {
		return nil
	}
	h.mu.Lock()
	h.seen++
	n := h.seen
	h.mu.Unlock()
	if n == h.nth {
		panic(h.value)
	}
	return nil
}
func (h *panicOn) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *panicOn) WithGroup(string) slog.Handler      { return h }

// TestPanickingLoggerDoesNotCrash: a logger that panics (a broken handler)
// fails the log lines, never the run: every recover handler logs, so one
// that let the logger's panic through would crash the process.
func TestPanickingLoggerDoesNotCrash(t *testing.T) {
	for _, dry := range []bool{false, true} {
		t.Run(fmt.Sprint("dry=", dry), func(t *testing.T) {
			f := newFake("ams")
			f.add(5, "RUNNING", "LIVE_AUDIO", "", 3*time.Hour)
			set := testSettings()
			set.Statuses = []string{"RUNNING"}
			set.DryRun = dry
			sw := &Sweeper{Clients: map[string]Client{"ams": f}, Now: fixedClock, Logger: panicLogger()}
			r := runBounded(t, sw, context.Background(), set)
			checkInvariant(t, r)
			if len(r.Errors) == 0 || r.Errors[0].Code != CodePanic || !strings.Contains(r.Errors[0].Message, "logger bug") {
				t.Errorf("errors %+v, want the logger's panic", r.Errors)
			}
			if left := runGoroutines(); len(left) > 0 {
				t.Fatalf("goroutines of the run left:\n%s", strings.Join(left, "\n\n"))
			}
		})
	}
}

// panicStats is a client whose Stats panics on the given call (1-based).
type panicStats struct {
	*fakeAPI
	on    int
	calls *int
}

func (p panicStats) Stats() tcapi.Stats {
	if *p.calls++; *p.calls == p.on {
		panic("stats bug")
	}
	return tcapi.Stats{}
}

// TestStatsPanicIsReported: Run reads the clients' Stats before and after
// its passes, outside any pass: a panic there too ends as a report error.
func TestStatsPanicIsReported(t *testing.T) {
	for _, tt := range []struct {
		name      string
		on        int
		cancelled int
	}{{"before the passes", 1, 0}, {"after the passes", 2, 5}} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake("ams")
			f.add(5, "RUNNING", "LIVE_AUDIO", "", 3*time.Hour)
			calls := 0
			sw := &Sweeper{Clients: map[string]Client{"ams": panicStats{fakeAPI: f, on: tt.on, calls: &calls}}, Now: fixedClock}
			r := runBounded(t, sw, context.Background(), testSettings())
			checkInvariant(t, r)
			if r.Cancelled != tt.cancelled || len(r.Errors) != 1 || r.Errors[0].Code != CodePanic || !strings.Contains(r.Errors[0].Message, "sweep: panic: stats bug") {
				t.Errorf("cancelled %d, errors %+v", r.Cancelled, r.Errors)
			}
			if left := runGoroutines(); len(left) > 0 {
				t.Fatalf("goroutines of the run left:\n%s", strings.Join(left, "\n\n"))
			}
		})
	}
}

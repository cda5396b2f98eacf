package sweep

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

// lockScenario sets up a run that goes through some of the locked
// sections. before, when set, is called on each section entered before the
// injected panic is decided (a scenario drives the run from there).
type lockScenario struct {
	clients map[string]Client
	fake    *fakeAPI
	set     Settings
	ctx     context.Context
	sw      Sweeper
	before  func(section string, n int)
	cleanup func()
}

// blockingCancels holds every CancelTask until release is closed.
type blockingCancels struct {
	*fakeAPI
	release chan struct{}
}

func (b blockingCancels) CancelTask(ctx context.Context, id string) (tcapi.CancelTaskResponse, error) {
	<-b.release
	return b.fakeAPI.CancelTask(ctx, id)
}

var lockScenarios = map[string]func() *lockScenario{
	// Cancels, a task that cannot be judged, a page size Tencent rejects
	// once (halved) and a page limit (the listing stops, marked broken).
	"cancel": func() *lockScenario {
		f := newFake("ams")
		f.add(25, "RUNNING", "LIVE_AUDIO", "", 3*time.Hour)
		f.tasks[0].CreatedAt = "not a time"
		f.describeErr = func(call int) error {
			if call == 1 {
				return &tcapi.Error{Service: "ams", Action: "DescribeTasks", Code: "InvalidParameterValue", Message: "Limit too large"}
			}
			return nil
		}
		set := testSettings()
		set.Statuses = []string{"RUNNING"}
		set.PageSize = 20
		return &lockScenario{fake: f, clients: map[string]Client{"ams": f}, set: set, ctx: context.Background(),
			sw: Sweeper{MaxPages: 2, observe: func(int) {}}}
	},
	"dry run": func() *lockScenario {
		f := newFake("ams")
		f.add(15, "RUNNING", "LIVE_AUDIO", "", 3*time.Hour)
		set := testSettings()
		set.Statuses = []string{"RUNNING"}
		set.DryRun = true
		return &lockScenario{fake: f, clients: map[string]Client{"ams": f}, set: set, ctx: context.Background()}
	},
	// A warning window: stale tasks are cancelled, younger ones in the
	// window are upcoming.
	"upcoming": func() *lockScenario {
		f := newFake("ams")
		f.add(5, "RUNNING", "LIVE_AUDIO", "", 3*time.Hour)
		f.add(5, "RUNNING", "LIVE_AUDIO", "", 90*time.Minute)
		set := testSettings()
		set.Statuses = []string{"RUNNING"}
		set.WarnBefore = time.Hour
		return &lockScenario{fake: f, clients: map[string]Client{"ams": f}, set: set, ctx: context.Background()}
	},
	// A cancel the limiter never sent (deadline): a worker drops it.
	"never sent": func() *lockScenario {
		f := newFake("ams")
		ids := f.add(6, "RUNNING", "LIVE_AUDIO", "", 3*time.Hour)
		f.cancelErr = func(tk tcapi.TaskSummary) error {
			if tk.TaskId == ids[0] {
				return &tcapi.Error{Service: "ams", Action: "CancelTask", Code: tcapi.CodeDeadlineExceeded, Message: "limiter wait past the deadline"}
			}
			return nil
		}
		set := testSettings()
		set.Statuses = []string{"RUNNING"}
		set.Concurrency = 1
		return &lockScenario{fake: f, clients: map[string]Client{"ams": f}, set: set, ctx: context.Background()}
	},
	// The run's time is up while the consumer waits for a cancel slot: the
	// one cancel allowed is held until then.
	"out of time": func() *lockScenario {
		f := newFake("ams")
		f.add(3, "RUNNING", "LIVE_AUDIO", "", 3*time.Hour)
		set := testSettings()
		set.Statuses = []string{"RUNNING"}
		set.MaxCancels = 1
		ctx, cancel := context.WithCancel(context.Background())
		release := make(chan struct{})
		var once sync.Once
		return &lockScenario{fake: f, clients: map[string]Client{"ams": blockingCancels{f, release}}, set: set, ctx: ctx,
			before: func(section string, n int) {
				switch {
				case section == "takeSlot" && n == 2: // the one slot is taken: time runs out
					cancel()
				case section == "outOfTime":
					once.Do(func() { close(release) })
				}
			},
			cleanup: func() { cancel(); once.Do(func() { close(release) }) }}
	},
}

// TestPanicUnderLockIsReported: a panic in any section of a run that holds
// its lock (a bug there) releases the lock. The run returns a report with a
// Panic error whose counts add up, and no goroutine of the run is left; it
// neither deadlocks (the recover handlers take the lock) nor crashes.
func TestPanicUnderLockIsReported(t *testing.T) {
	tests := []struct{ section, scenario string }{
		{"resetFresh", "cancel"}, {"freshCount", "cancel"}, {"seenCount", "cancel"}, {"stoppedNow", "cancel"},
		{"isBroken", "cancel"}, {"pageReceived", "cancel"}, {"currentPageSize", "cancel"}, {"halvePageSize", "cancel"},
		{"markBroken", "cancel"}, {"listError", "cancel"}, {"evict", "cancel"}, {"scanned", "cancel"},
		{"known", "cancel"}, {"skipUnjudged", "cancel"}, {"queue", "cancel"}, {"takeSlot", "cancel"},
		{"record", "cancel"}, {"addTask", "cancel"},
		{"queue", "dry run"}, {"addTask", "dry run"},
		{"noteUpcoming", "upcoming"}, {"record", "upcoming"},
		{"drop", "never sent"}, {"record", "never sent"},
		{"outOfTime", "out of time"},
	}
	t.Run("every section is tested", func(t *testing.T) {
		src, err := os.ReadFile("engine.go")
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`r\.section\("(\w+)"\)`).FindAllStringSubmatch(string(src), -1) {
			if !slices.ContainsFunc(tests, func(tt struct{ section, scenario string }) bool { return tt.section == m[1] }) {
				t.Errorf("section %q has no case here", m[1])
			}
		}
	})
	for _, tt := range tests {
		for _, every := range []bool{false, true} {
			name := tt.section + "/" + tt.scenario + "/first"
			if every {
				name = tt.section + "/" + tt.scenario + "/every"
			}
			t.Run(name, func(t *testing.T) {
				sc := lockScenarios[tt.scenario]()
				if sc.cleanup != nil {
					defer sc.cleanup()
				}
				var mu sync.Mutex
				entered := map[string]int{}
				injected := 0
				sw := sc.sw
				sw.Clients, sw.Now = sc.clients, fixedClock
				sw.inLock = func(section string) {
					mu.Lock()
					entered[section]++
					n := entered[section]
					mu.Unlock()
					if sc.before != nil {
						sc.before(section, n)
					}
					if section == tt.section && (every || n == 1) {
						mu.Lock()
						injected++
						mu.Unlock()
						panic("injected in " + section)
					}
				}
				r := runBounded(t, &sw, sc.ctx, sc.set)

				mu.Lock()
				hits := injected
				mu.Unlock()
				if hits == 0 {
					t.Fatalf("section %s never entered (entered: %v)", tt.section, entered)
				}
				if left := runGoroutines(); len(left) > 0 {
					t.Fatalf("%d goroutine(s) of the run still running after Run returned:\n%s", len(left), strings.Join(left, "\n\n"))
				}
				checkInvariant(t, r)
				panics := 0
				for _, e := range r.Errors {
					if e.Code == CodePanic && strings.Contains(e.Message, "panic: injected in "+tt.section) {
						panics++
					}
				}
				if panics != hits {
					t.Errorf("%d injected panics, %d Panic errors in the report: %+v", hits, panics, r.Errors)
				}
				sc.fake.mu.Lock()
				inflight := sc.fake.inflight
				sc.fake.mu.Unlock()
				if inflight != 0 {
					t.Errorf("%d cancel(s) still in flight after Run returned", inflight)
				}
				// Every task the API cancelled is in the report: cancelled,
				// or failed when a panic lost its outcome.
				actions := map[string]string{}
				for _, tk := range r.Tasks {
					actions[tk.TaskId] = tk.Action
				}
				sc.fake.mu.Lock()
				for _, tk := range sc.fake.tasks {
					if a := actions[tk.TaskId]; tk.Status == "CANCELLED" && a != ActionCancelled && a != ActionFailed {
						t.Errorf("task %s was cancelled, reported %q", tk.TaskId, a)
					}
				}
				sc.fake.mu.Unlock()
			})
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
// (a bug while recording them), the report still accounts for every
// candidate: each one is Failed with CodePanic, listed, and the run's later
// cancels are not held up by the slots those cancels took.
func TestLostOutcomeCountedFailed(t *testing.T) {
	f := newFake("ams")
	ids := f.add(8, "RUNNING", "LIVE_AUDIO", "", 3*time.Hour)
	set := testSettings()
	set.Statuses = []string{"RUNNING"}
	set.MaxCancels = 4 // the lost cancels' slots must come back for the rest to run
	set.Concurrency = 1
	records := 0
	sw := &Sweeper{Clients: map[string]Client{"ams": f}, Now: fixedClock, inLock: func(section string) {
		if section == "record" {
			if records++; records <= 2 {
				panic("lost")
			}
		}
	}}
	r := runBounded(t, sw, context.Background(), set)
	checkInvariant(t, r)
	if r.Candidates != 6 || r.Cancelled != 4 || r.Failed != 2 || !r.Capped {
		t.Fatalf("candidates %d, cancelled %d, failed %d, capped %v: want 6 = 4 cancelled + 2 lost, capped",
			r.Candidates, r.Cancelled, r.Failed, r.Capped)
	}
	want := []Failure{
		{Service: "ams", TaskId: ids[0], Code: CodePanic, Message: "the sweeper panicked while handling this task: whether it was cancelled is unknown"},
		{Service: "ams", TaskId: ids[1], Code: CodePanic, Message: "the sweeper panicked while handling this task: whether it was cancelled is unknown"},
	}
	if !slices.Equal(r.Failures, want) {
		t.Errorf("failures %+v, want %+v", r.Failures, want)
	}
	if got := taskIDs(r, ActionFailed); !slices.Equal(got, sorted(ids[0], ids[1])) {
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

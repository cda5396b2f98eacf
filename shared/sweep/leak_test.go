package sweep

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/emulator"
	"github.com/scf-janitor/scf-janitor/internal/testkit/logtest"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

// runGoroutines returns the stacks of the goroutines running code of a sweep
// run (goleak-style: by what they run, not by how many there are, so other
// tests' goroutines do not matter). The tests that call it are serial: Go
// starts the parallel ones (t.Parallel) only after every serial test has
// returned, so no other test's run can show up here.
func runGoroutines() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "sweep.(*run).") || strings.Contains(g, "sweep.(*lister).") {
			out = append(out, g)
		}
	}
	return out
}

// TestConsumerPanicLeavesNoGoroutine: when the run loop (the page consumer)
// panics, here in the logger while it logs a task it cannot judge, the run
// returns a report with the panic, and by then the lister and every cancel
// worker have returned; no call is left in flight.
func TestConsumerPanicLeavesNoGoroutine(t *testing.T) {
	tests := []struct {
		name    string
		panicAt int // the "task skipped: cannot judge it" line the logger panics on (one a page, its last task)
		delay   time.Duration
	}{
		{"first page, slow cancels", 1, 20 * time.Millisecond},
		{"third page, fast cancels", 3, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake("ams")
			f.add(200, "RUNNING", "LIVE_AUDIO", "", 3*time.Hour)
			for i := 19; i < len(f.tasks); i += 20 {
				f.tasks[i].CreatedAt = "not a time" // the run loop logs it
			}
			f.cancelDelay = tt.delay
			set := testSettings()
			set.Statuses = []string{"RUNNING"}
			set.PageSize = 20
			sw := &Sweeper{Clients: map[string]Client{"ams": f}, Now: fixedClock,
				Logger: slog.New(&panicOn{msg: "task skipped: cannot judge it", nth: tt.panicAt, value: "injected"})}
			r := sw.Run(context.Background(), set)

			if left := runGoroutines(); len(left) > 0 {
				t.Fatalf("%d goroutine(s) of the run still running after Run returned:\n%s", len(left), strings.Join(left, "\n\n"))
			}
			f.mu.Lock()
			inflight := f.inflight
			f.mu.Unlock()
			if inflight != 0 {
				t.Errorf("%d cancel(s) still in flight after Run returned", inflight)
			}
			checkInvariant(t, r)
			var panics []string
			for _, e := range r.Errors {
				if e.Code == CodePanic {
					panics = append(panics, e.Message)
				}
			}
			if len(panics) != 1 || !strings.HasPrefix(panics[0], "sweep: panic: injected") {
				t.Errorf("panic errors %q, want one \"sweep: panic: injected\"", panics)
			}
			if r.Passes != 1 || r.Cancelled == 0 || r.Cancelled >= 200 {
				t.Errorf("passes %d, cancelled %d: want the run to stop in its first pass after some cancels", r.Passes, r.Cancelled)
			}
		})
	}
}

// panicInvoker panics on every Invoke.
type panicInvoker struct{}

func (panicInvoker) Invoke(context.Context, tcapi.InvokeRequest) (tcapi.InvokeResponse, error) {
	panic("invoker bug")
}

// panicForRoles is a MultiSweep.Clients that gives the account without a
// role AMS client f and panics ("clients bug") for any account with one.
func panicForRoles(f Client) func(context.Context, Account, []string) (map[string]Client, error) {
	return func(_ context.Context, a Account, _ []string) (map[string]Client, error) {
		if a.Role != "" {
			panic("clients bug")
		}
		return map[string]Client{"ams": f}, nil
	}
}

// TestAccountPanicFailsThatAccountOnly: a panic while setting up one
// account (its clients, its AssumeRole) or dispatching it is that account's
// report error; the others are swept, and nothing crashes.
func TestAccountPanicFailsThatAccountOnly(t *testing.T) {
	f := newFake("ams")
	f.add(5, "RUNNING", "LIVE_AUDIO", "", 3*time.Hour)
	set := testSettings()
	m := &MultiSweep{
		Accounts: []Account{{ID: "self"}, {ID: "100000000002", Role: "qcs::cam::uin/100000000002:roleName/R"}},
		Now:      fixedClock,
		Clients:  panicForRoles(f),
	}
	r := m.Run(context.Background(), set)
	checkInvariant(t, r)
	if r.Cancelled != 5 || len(r.Accounts) != 2 || r.Accounts[0].Cancelled != 5 {
		t.Fatalf("cancelled %d, accounts %+v", r.Cancelled, r.Accounts)
	}
	if e := r.Accounts[1].Errors; len(e) != 1 || e[0].Code != CodePanic || !strings.Contains(e[0].Message, "panic: clients bug") {
		t.Errorf("panicking account's errors %+v", e)
	}
	if left := runGoroutines(); len(left) > 0 {
		t.Fatalf("goroutines of the run left:\n%s", strings.Join(left, "\n\n"))
	}

	fo := &Fanout{Invoker: panicInvoker{}, Function: "sweep-tasks"}
	rep := fo.Run(context.Background(), set, m.Accounts, nil)
	if len(rep.Errors) != 2 || rep.Errors[0].Code != CodePanic || rep.Accounts[1].Dispatched {
		t.Errorf("fan-out with a panicking invoker: %+v", rep.Errors)
	}
}

// TestPanickingLoggerAroundAccounts: with a logger that panics, a panicking
// account (MultiSweep) or dispatch (Fanout) is still that account's report
// error: the recover handlers record before they log, and their own log
// line's panic cannot crash the process from the account's goroutine.
func TestPanickingLoggerAroundAccounts(t *testing.T) {
	f := newFake("ams")
	f.add(5, "RUNNING", "LIVE_AUDIO", "", 3*time.Hour)
	set := testSettings()
	accts := []Account{{ID: "self"}, {ID: "100000000002", Role: "qcs::cam::uin/100000000002:roleName/R"}}
	m := &MultiSweep{Accounts: accts, Now: fixedClock, Logger: panicLogger(),
		Clients: panicForRoles(f),
	}
	r := m.Run(context.Background(), set)
	checkInvariant(t, r)
	if len(r.Accounts) != 2 || r.Accounts[0].Cancelled != 5 {
		t.Fatalf("accounts %+v", r.Accounts)
	}
	if e := r.Accounts[1].Errors; len(e) != 1 || e[0].Code != CodePanic || !strings.Contains(e[0].Message, "panic: clients bug") {
		t.Errorf("panicking account's errors %+v", e)
	}
	if left := runGoroutines(); len(left) > 0 {
		t.Fatalf("goroutines of the run left:\n%s", strings.Join(left, "\n\n"))
	}

	fo := &Fanout{Invoker: panicInvoker{}, Function: "sweep-tasks", Logger: panicLogger()}
	rep := fo.Run(context.Background(), set, accts, nil)
	if len(rep.Errors) != 2 || rep.Errors[0].Code != CodePanic || rep.Errors[1].Code != CodePanic {
		t.Errorf("fan-out with a panicking invoker and logger: %+v", rep.Errors)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestHandlerNotifyPanicKeepsTheReport: a panic while posting the
// notification (here the transport's) is the report's NotifyError, with the
// robot's key hidden; the sweep's report stands and the process lives on.
func TestHandlerNotifyPanicKeepsTheReport(t *testing.T) {
	t.Parallel()
	e := newEmu(t, emulator.Options{})
	addStale(e, 4)
	rb := newRobot(t, 0)
	robotURL, _ := url.Parse(rb.ts.URL)
	transport := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.URL.Host == robotURL.Host {
			panic("transport bug posting to " + r.URL.String())
		}
		return http.DefaultTransport.RoundTrip(r)
	})
	logger, logs := logtest.New("sweep-tasks")
	h := NewHandler(HandlerOptions{Logger: logger, Now: e.clock, Transport: transport})
	out, err := h.Handle(invocationCtx(t, e, map[string]string{"JANITOR_NOTIFY_URL": rb.ts.URL + "/cgi-bin/webhook/send?key=robot-key-789"}), timerEvent(""))
	if err != nil {
		t.Fatalf("a panicking notification failed the invocation: %v", err)
	}
	r := out.(*Report)
	checkInvariant(t, r)
	if r.Cancelled != 4 {
		t.Errorf("cancelled %d, want 4", r.Cancelled)
	}
	if !strings.Contains(r.NotifyError, "panic: transport bug") || !strings.Contains(r.NotifyError, "notify "+rb.ts.URL+": ") {
		t.Errorf("NotifyError %q", r.NotifyError)
	}
	b, _ := json.Marshal(r)
	logtest.AssertNoSecrets(t, logs.String()+string(b), "robot-key-789")
	if len(rb.received()) != 0 {
		t.Error("the robot received a notification through a transport that panics")
	}
}

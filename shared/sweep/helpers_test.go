package sweep

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/emulator"
	"github.com/scf-janitor/scf-janitor/internal/testkit/logtest"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

// epoch is the tests' "now": the injected clock starts here and advances with
// real time (the emulator's rate buckets are driven by its clock).
var epoch = time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)

// testClock returns epoch plus the real time elapsed since it was made.
func testClock() func() time.Time {
	start := time.Now()
	return func() time.Time { return epoch.Add(time.Since(start)) }
}

// emu is an emulator behind an httptest server and tcapi clients on it.
type emu struct {
	srv   *emulator.Server
	ts    *httptest.Server
	clock func() time.Time
}

func newEmu(tb testing.TB, opts emulator.Options) *emu {
	tb.Helper()
	if opts.Now == nil {
		opts.Now = testClock()
	}
	if opts.Rate == 0 {
		opts.Rate = -1 // unlimited unless a test sets a limit
	}
	srv := emulator.New(opts)
	ts := httptest.NewServer(srv)
	tb.Cleanup(ts.Close)
	return &emu{srv: srv, ts: ts, clock: opts.Now}
}

// clients returns tcapi moderation clients of every service, sharing limiters
// at rate per second (fast retries, so fault tests stay quick).
func (e *emu) clients(tb testing.TB, rate float64) map[string]Client {
	tb.Helper()
	lim := tcapi.NewLimiters(rate, 1)
	out := map[string]Client{}
	for _, svc := range []string{"ams", "vm"} {
		m, err := tcapi.NewModeration(svc, tcapi.Credentials{SecretID: emulator.DefaultSecretID, SecretKey: emulator.DefaultSecretKey},
			tcapi.Options{Endpoint: e.ts.URL, Limiters: lim, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond, Timeout: 5 * time.Second})
		if err != nil {
			tb.Fatal(err)
		}
		out[svc] = m
	}
	return out
}

// add stores a stuck task (its status never moves by itself) created age ago.
func (e *emu) add(svc, typ, status, biz string, age time.Duration) string {
	t := e.srv.AddTask(emulator.Task{
		Service: svc, Type: typ, Status: status, BizType: biz, DataId: fmt.Sprintf("data-%s-%s", status, age),
		CreatedAt: epoch.Add(-age), Stuck: true,
	})
	return t.TaskId
}

// addStale stores n running AMS live-audio tasks, all stale: 3 hours old plus
// one second per task.
func (e *emu) addStale(n int) {
	for i := range n {
		e.add("ams", emulator.TypeLiveAudio, emulator.StatusRunning, "", 3*time.Hour+time.Duration(i)*time.Second)
	}
}

// cancelled returns the ids of the emulator's CANCELLED tasks, sorted.
func (e *emu) cancelled() []string {
	var ids []string
	for _, t := range e.srv.Tasks("") {
		if t.Status == emulator.StatusCancelled {
			ids = append(ids, t.TaskId)
		}
	}
	sort.Strings(ids)
	return ids
}

func testSettings() Settings {
	s := DefaultSettings()
	s.Rate = 1000
	return s
}

// checkInvariant fails the test when the report's counts do not add up.
func checkInvariant(tb testing.TB, r *Report) {
	tb.Helper()
	if sum := r.Cancelled + r.Skipped + r.Failed + r.WouldCancel; r.Candidates != sum {
		tb.Errorf("invariant broken: Candidates %d != Cancelled %d + Skipped %d + Failed %d + WouldCancel %d",
			r.Candidates, r.Cancelled, r.Skipped, r.Failed, r.WouldCancel)
	}
	if !r.DryRun && r.WouldCancel != 0 {
		tb.Errorf("WouldCancel %d in a real run", r.WouldCancel)
	}
	if got := len(r.Tasks) + r.TasksOmitted; got != r.Candidates {
		tb.Errorf("Tasks %d + TasksOmitted %d != Candidates %d", len(r.Tasks), r.TasksOmitted, r.Candidates)
	}
	if got := len(r.Failures) + r.FailuresOmitted; got != r.Failed {
		tb.Errorf("Failures %d + FailuresOmitted %d != Failed %d", len(r.Failures), r.FailuresOmitted, r.Failed)
	}
	if r.Cancelled > 0 && r.DryRun {
		tb.Errorf("dry run cancelled %d tasks", r.Cancelled)
	}
	counts := map[string]int{}
	for _, t := range r.Tasks {
		counts[t.Action]++
	}
	if r.TasksOmitted == 0 {
		want := map[string]int{ActionCancelled: r.Cancelled, ActionSkipped: r.Skipped, ActionFailed: r.Failed, ActionWouldCancel: r.WouldCancel}
		for a, n := range want {
			if counts[a] != n {
				tb.Errorf("Tasks has %d %q entries, counters say %d", counts[a], a, n)
			}
		}
	}
}

// taskIDs returns the ids of report entries with the action, sorted.
func taskIDs(r *Report, action string) []string {
	var ids []string
	for _, t := range r.Tasks {
		if t.Action == action {
			ids = append(ids, t.TaskId)
		}
	}
	sort.Strings(ids)
	return ids
}

func sorted(ids ...string) []string {
	out := slices.Clone(ids)
	sort.Strings(out)
	return out
}

func newLogger(b *logtest.Buffer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func runSweep(tb testing.TB, clients map[string]Client, clock func() time.Time, set Settings) *Report {
	tb.Helper()
	if err := set.Validate(); err != nil {
		tb.Fatal(err)
	}
	sw := &Sweeper{Clients: clients, Now: clock}
	r := sw.Run(context.Background(), set)
	checkInvariant(tb, r)
	return r
}

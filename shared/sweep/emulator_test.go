package sweep

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/scf-janitor/scf-janitor/internal/emulator"
)

// fixture is a mix of tasks around every rule of the sweeper.
type fixture struct {
	amsLiveOld, amsAudioPendingOld, amsRunningBizA, amsRunningBizB, amsRunningExcluded string
	amsYoung, amsFinished, amsCancelled, amsError, amsBeyondLookback, amsUnparseable   string
	vmLiveOld, vmVideoPendingBizA, vmYoung                                             string
}

func newFixture(e *emu) fixture {
	const old, young = 3 * time.Hour, 30 * time.Minute
	f := fixture{
		amsLiveOld:         e.add("ams", emulator.TypeLiveAudio, emulator.StatusRunning, "", old),
		amsAudioPendingOld: e.add("ams", emulator.TypeAudio, emulator.StatusPending, "", old+time.Minute),
		amsRunningBizA:     e.add("ams", emulator.TypeAudio, emulator.StatusRunning, "bizA", old+2*time.Minute),
		amsRunningBizB:     e.add("ams", emulator.TypeLiveAudio, emulator.StatusRunning, "bizB", old+3*time.Minute),
		amsRunningExcluded: e.add("ams", emulator.TypeLiveAudio, emulator.StatusRunning, "keep", old+4*time.Minute),
		amsYoung:           e.add("ams", emulator.TypeLiveAudio, emulator.StatusRunning, "", young),
		amsFinished:        e.add("ams", emulator.TypeAudio, emulator.StatusFinish, "", old),
		amsCancelled:       e.add("ams", emulator.TypeAudio, emulator.StatusCancelled, "", old),
		amsError:           e.add("ams", emulator.TypeAudio, emulator.StatusError, "", old),
		amsBeyondLookback:  e.add("ams", emulator.TypeLiveAudio, emulator.StatusRunning, "", 80*time.Hour),
		vmLiveOld:          e.add("vm", emulator.TypeLiveVideo, emulator.StatusRunning, "", old),
		vmVideoPendingBizA: e.add("vm", emulator.TypeVideo, emulator.StatusPending, "bizA", old),
		vmYoung:            e.add("vm", emulator.TypeLiveVideo, emulator.StatusRunning, "", young),
	}
	u := e.srv.AddTask(emulator.Task{Service: "ams", Type: emulator.TypeLiveAudio, Status: emulator.StatusRunning,
		CreatedAt: epoch.Add(-old), CreatedAtRaw: "yesterday at noon", Stuck: true})
	f.amsUnparseable = u.TaskId
	return f
}

func TestExactSetCancelled(t *testing.T) {
	type want struct {
		cancelled []string
		skipped   []string
	}
	cases := []struct {
		name string
		set  func(*Settings)
		want func(f fixture) want
	}{
		{"defaults: ams, pending and running, excluded BizType kept",
			func(s *Settings) { s.ExcludeBizTypes = []string{"keep"} },
			func(f fixture) want {
				return want{sorted(f.amsLiveOld, f.amsAudioPendingOld, f.amsRunningBizA, f.amsRunningBizB), []string{f.amsUnparseable}}
			}},
		{"running only",
			func(s *Settings) { s.Statuses = []string{"RUNNING"} },
			func(f fixture) want {
				return want{sorted(f.amsLiveOld, f.amsRunningBizA, f.amsRunningBizB, f.amsRunningExcluded), []string{f.amsUnparseable}}
			}},
		{"pending only",
			func(s *Settings) { s.Statuses = []string{"PENDING"} },
			func(f fixture) want { return want{[]string{f.amsAudioPendingOld}, nil} }},
		{"type filter",
			func(s *Settings) { s.Types = []string{"AUDIO"} },
			func(f fixture) want { return want{sorted(f.amsAudioPendingOld, f.amsRunningBizA), nil} }},
		{"BizType include list, one listing per BizType on ams",
			func(s *Settings) { s.BizTypes = []string{"bizA", "bizB", "keep"}; s.ExcludeBizTypes = []string{"keep"} },
			func(f fixture) want { return want{sorted(f.amsRunningBizA, f.amsRunningBizB), nil} }},
		{"both services",
			func(s *Settings) { s.Services = []string{"ams", "vm"}; s.ExcludeBizTypes = []string{"keep"} },
			func(f fixture) want {
				return want{sorted(f.amsLiveOld, f.amsAudioPendingOld, f.amsRunningBizA, f.amsRunningBizB, f.vmLiveOld, f.vmVideoPendingBizA),
					[]string{f.amsUnparseable}}
			}},
		{"vm BizType array",
			func(s *Settings) { s.Services = []string{"vm"}; s.BizTypes = []string{"bizA", "bizZ"} },
			func(f fixture) want { return want{[]string{f.vmVideoPendingBizA}, nil} }},
		{"live types on both services",
			func(s *Settings) {
				s.Services = []string{"ams", "vm"}
				s.Types = []string{"LIVE_AUDIO", "LIVE_VIDEO"}
				s.ExcludeBizTypes = []string{"keep", "bizB"}
			},
			func(f fixture) want { return want{sorted(f.amsLiveOld, f.vmLiveOld), []string{f.amsUnparseable}} }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEmu(t, emulator.Options{})
			f := newFixture(e)
			set := testSettings()
			tc.set(&set)
			r := runSweep(t, e.clients(t, 1000), e.clock, set)
			w := tc.want(f)
			// Tasks the fixture made CANCELLED before the run stay so; the
			// run must have cancelled exactly the wanted ones.
			got := e.cancelled()
			wantCancelled := sorted(append(slices.Clone(w.cancelled), f.amsCancelled)...)
			if diff := cmp.Diff(wantCancelled, got); diff != "" {
				t.Errorf("CANCELLED tasks in the emulator (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(w.cancelled, taskIDs(r, ActionCancelled)); diff != "" {
				t.Errorf("report cancelled (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(w.skipped, taskIDs(r, ActionSkipped)); diff != "" {
				t.Errorf("report skipped (-want +got):\n%s", diff)
			}
			if r.Cancelled != len(w.cancelled) || r.Failed != 0 || r.Truncated || r.Capped || len(r.Errors) != 0 {
				t.Errorf("report = %+v", r)
			}
			if r.Cutoff != epoch.Add(-2*time.Hour).Format(time.RFC3339) {
				t.Errorf("Cutoff %s", r.Cutoff)
			}
			for _, tr := range r.Tasks {
				if tr.TaskId == f.amsUnparseable && !strings.Contains(tr.Reason, "CreatedAt") {
					t.Errorf("unparseable task reason %q", tr.Reason)
				}
			}
		})
	}
}

func TestDryRunCancelsNothing(t *testing.T) {
	e := newEmu(t, emulator.Options{})
	f := newFixture(e)
	set := testSettings()
	set.DryRun = true
	set.Services = []string{"ams", "vm"}
	r := runSweep(t, e.clients(t, 1000), e.clock, set)
	if got := e.cancelled(); !cmp.Equal(got, []string{f.amsCancelled}) {
		t.Fatalf("dry run changed the emulator: CANCELLED %v", got)
	}
	want := sorted(f.amsLiveOld, f.amsAudioPendingOld, f.amsRunningBizA, f.amsRunningBizB, f.amsRunningExcluded, f.vmLiveOld, f.vmVideoPendingBizA)
	if diff := cmp.Diff(want, taskIDs(r, ActionWouldCancel)); diff != "" {
		t.Errorf("would-cancel (-want +got):\n%s", diff)
	}
	if !r.DryRun || r.WouldCancel != len(want) || r.Cancelled != 0 || r.Passes != 1 {
		t.Errorf("report = %+v", r)
	}
}

func TestCapHonoured(t *testing.T) {
	for _, dry := range []bool{false, true} {
		t.Run(map[bool]string{false: "real", true: "dry run"}[dry], func(t *testing.T) {
			e := newEmu(t, emulator.Options{})
			e.addStale(40)
			set := testSettings()
			set.MaxCancels = 7
			set.Concurrency = 4
			set.DryRun = dry
			set.PageSize = 5
			r := runSweep(t, e.clients(t, 1000), e.clock, set)
			got := len(e.cancelled())
			switch {
			case !r.Capped:
				t.Errorf("Capped false: %+v", r)
			case dry && (got != 0 || r.WouldCancel != 7):
				t.Errorf("dry run: %d cancelled, WouldCancel %d", got, r.WouldCancel)
			case !dry && (got != 7 || r.Cancelled != 7):
				t.Errorf("cancelled %d in the emulator, report %d; want 7", got, r.Cancelled)
			}
		})
	}
}

func TestCapNotReportedWhenNothingLeft(t *testing.T) {
	e := newEmu(t, emulator.Options{})
	e.addStale(5)
	set := testSettings()
	set.MaxCancels = 5
	r := runSweep(t, e.clients(t, 1000), e.clock, set)
	if r.Cancelled != 5 || r.Capped {
		t.Errorf("Cancelled %d Capped %v, want 5 false", r.Cancelled, r.Capped)
	}
}

func TestPagingModesCancelEveryStaleTask(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{emulator.PagingCursor, emulator.PagingOffset} {
		t.Run(mode, func(t *testing.T) {
			e := newEmu(t, emulator.Options{Paging: mode})
			stale := map[string]bool{}
			for i := range 300 {
				typ, st := emulator.TypeLiveAudio, emulator.StatusRunning
				if i%3 == 0 {
					typ, st = emulator.TypeAudio, emulator.StatusPending
				}
				stale[e.add("ams", typ, st, "", 2*time.Hour+time.Duration(i+1)*time.Minute)] = true
			}
			for i := range 40 {
				e.add("ams", emulator.TypeLiveAudio, emulator.StatusRunning, "", time.Duration(i+1)*time.Minute)
			}
			set := testSettings()
			set.PageSize = 20
			set.Concurrency = 6
			r := runSweep(t, e.clients(t, 1000), e.clock, set)
			got := e.cancelled()
			if len(got) != len(stale) {
				t.Errorf("%d cancelled, want %d", len(got), len(stale))
			}
			for _, id := range got {
				if !stale[id] {
					t.Errorf("young task %s cancelled", id)
				}
			}
			if r.Cancelled != len(stale) || r.Skipped != 0 || len(r.Errors) != 0 {
				t.Errorf("report: %+v", r)
			}
			t.Logf("%s: %d passes, %d pages", mode, r.Passes, r.Pages)
		})
	}
}

func TestFaultsKeepInvariant(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		faults emulator.Faults
	}{
		{"internal errors", emulator.Faults{InternalErrorRate: 0.4}},
		{"bad gateway", emulator.Faults{BadGatewayRate: 0.4}},
		{"connection resets", emulator.Faults{ResetRate: 0.4}},
		{"all at once", emulator.Faults{InternalErrorRate: 0.2, BadGatewayRate: 0.2, ResetRate: 0.2}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEmu(t, emulator.Options{Faults: tc.faults, Seed: 7})
			e.addStale(60)
			set := testSettings()
			set.PageSize = 10
			r := runSweep(t, e.clients(t, 1000), e.clock, set)
			// Every task the report calls cancelled is cancelled; nothing
			// else is, except a retried cancel whose first try landed
			// (then the retry sees TaskEnded and it counts as skipped).
			cancelled := map[string]bool{}
			for _, id := range e.cancelled() {
				cancelled[id] = true
			}
			for _, tr := range r.Tasks {
				if tr.Action == ActionCancelled && !cancelled[tr.TaskId] {
					t.Errorf("report says %s cancelled, emulator disagrees", tr.TaskId)
				}
			}
			if r.Cancelled == 0 {
				t.Errorf("nothing cancelled under %s: %+v", tc.name, r)
			}
			for _, f := range r.Failures {
				if f.Code == "" || f.TaskId == "" {
					t.Errorf("failure without code or id: %+v", f)
				}
			}
			// A clean follow-up run cancels what is left: no state between runs.
			e.srv.SetFaults(emulator.Faults{})
			r2 := runSweep(t, e.clients(t, 1000), e.clock, set)
			if n := len(e.cancelled()); n != 60 {
				t.Errorf("after a clean run %d of 60 cancelled (report 2: %+v)", n, r2)
			}
			t.Logf("faulty run: cancelled %d skipped %d failed %d errors %d; follow-up cancelled %d",
				r.Cancelled, r.Skipped, r.Failed, len(r.Errors), r2.Cancelled)
		})
	}
}

// sweepAtRates sweeps 60 stale tasks from an emulator that answers emuRate
// calls a second, with a client limiter of ourRate a second and the test
// settings as edit changes them.
func sweepAtRates(t *testing.T, emuRate, ourRate float64, edit func(*Settings)) (*Report, *emu) {
	t.Helper()
	clock := testClock()
	e := newEmu(t, emulator.Options{Now: clock, Rate: emuRate})
	e.addStale(60)
	set := testSettings()
	edit(&set)
	return runSweep(t, e.clients(t, ourRate), clock, set), e
}

func TestThrottlingCountedAndSurvived(t *testing.T) {
	t.Parallel()
	// Our limiter allows 400/s against the emulator's 40/s: throttling is certain.
	r, e := sweepAtRates(t, 40, 400, func(set *Settings) { set.Concurrency = 16 })
	st := e.srv.Stats().Actions
	wantThrottled := st["ams.CancelTask"].Throttled + st["ams.DescribeTasks"].Throttled
	if r.Throttled == 0 || r.Throttled != wantThrottled {
		t.Errorf("report Throttled %d, emulator answered RequestLimitExceeded %d times", r.Throttled, wantThrottled)
	}
	for _, f := range r.Failures {
		if f.Code != "RequestLimitExceeded" {
			t.Errorf("unexpected failure %+v", f)
		}
	}
	t.Logf("throttled %d, cancelled %d, failed %d", r.Throttled, r.Cancelled, r.Failed)
}

func TestRateLimitedSweepIsNeverThrottled(t *testing.T) {
	t.Parallel()
	r, e := sweepAtRates(t, 100, 80, func(set *Settings) { set.PageSize = 10 })
	if r.Throttled != 0 || r.Cancelled != 60 {
		t.Errorf("Throttled %d Cancelled %d, want 0 and 60", r.Throttled, r.Cancelled)
	}
	for action, s := range e.srv.Stats().Actions {
		if s.MaxPerSecond > 100 {
			t.Errorf("%s: %d requests in one second, limit 100", action, s.MaxPerSecond)
		}
	}
}

func TestDeadlineTruncates(t *testing.T) {
	t.Parallel()
	e := newEmu(t, emulator.Options{Faults: emulator.Faults{Latency: 20 * time.Millisecond}})
	e.addStale(200)
	set := testSettings()
	set.Concurrency = 2
	set.SafetyMargin = 200 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 800*time.Millisecond)
	defer cancel()
	sw := &Sweeper{Clients: e.clients(t, 1000), Now: e.clock}
	start := time.Now()
	r := sw.Run(ctx, set)
	took := time.Since(start)
	checkInvariant(t, r)
	if !r.Truncated {
		t.Fatalf("not truncated: %+v", r)
	}
	if took >= 800*time.Millisecond {
		t.Errorf("run took %s, past its deadline", took)
	}
	if ctx.Err() != nil {
		t.Error("run returned after its context deadline")
	}
	got := len(e.cancelled())
	if r.Cancelled == 0 || r.Cancelled >= 200 {
		t.Errorf("cancelled %d, want some but not all", r.Cancelled)
	}
	// A cancel abandoned in flight may have landed: only those may differ.
	abandoned := 0
	for _, f := range r.Failures {
		if f.Code == "DeadlineExceeded" {
			abandoned++
		} else {
			t.Errorf("unexpected failure %+v", f)
		}
	}
	if got < r.Cancelled || got > r.Cancelled+abandoned {
		t.Errorf("emulator cancelled %d, report %d (+%d abandoned)", got, r.Cancelled, abandoned)
	}
	// The next run continues where this one stopped.
	set.Concurrency = 8
	r2 := runSweep(t, e.clients(t, 1000), e.clock, set)
	if n := len(e.cancelled()); n != 200 {
		t.Errorf("after the follow-up run %d of 200 cancelled (%+v)", n, r2)
	}
}

func TestCanceledContextStopsCleanly(t *testing.T) {
	e := newEmu(t, emulator.Options{})
	e.add("ams", emulator.TypeLiveAudio, emulator.StatusRunning, "", 3*time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := (&Sweeper{Clients: e.clients(t, 1000), Now: e.clock}).Run(ctx, testSettings())
	checkInvariant(t, r)
	if r.Cancelled != 0 || len(e.cancelled()) != 0 || !r.Truncated {
		t.Errorf("report %+v", r)
	}
	if len(r.Errors) != 0 {
		t.Errorf("a stopped run is not a listing error: %+v", r.Errors)
	}
}

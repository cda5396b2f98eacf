package sweep

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/scf-janitor/scf-janitor/internal/emulator"
	"github.com/scf-janitor/scf-janitor/shared/notify"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

// warnSettings: maxAge 2h (the default), a 30-minute warning window, RUNNING
// tasks only.
func warnSettings() Settings {
	set := testSettings()
	set.Statuses = []string{"RUNNING"}
	set.WarnBefore = 30 * time.Minute
	return set
}

// TestWarnWindowEdges: with maxAge 2h and warnBefore 30m, a task is upcoming
// from exactly 1h30m old (inclusive) until the stale rule takes it (created
// strictly before the cutoff, i.e. more than 2h old at the run's reference
// instant, Cutoff + maxAge): a task exactly 2h old is still upcoming, one a
// millisecond older is cancelled. The same with a clock that is not on a
// whole second (the cutoff is truncated to the second; ages are measured at
// Cutoff + maxAge).
func TestWarnWindowEdges(t *testing.T) {
	cases := []struct {
		name     string
		age      time.Duration
		upcoming bool
		stale    bool
	}{
		{"a second over maxAge", 2*time.Hour + time.Second, false, true},
		{"a millisecond over maxAge", 2*time.Hour + time.Millisecond, false, true},
		{"exactly maxAge (the stale rule is strict)", 2 * time.Hour, true, false},
		{"inside the window", 105 * time.Minute, true, false},
		{"exactly maxAge - warnBefore", 90 * time.Minute, true, false},
		{"a millisecond under maxAge - warnBefore", 90*time.Minute - time.Millisecond, false, false},
		{"a second under maxAge - warnBefore", 90*time.Minute - time.Second, false, false},
		{"young", 10 * time.Minute, false, false},
	}
	clocks := map[string]func() time.Time{
		"whole second": fixedClock,
		"fraction":     func() time.Time { return epoch.Add(700 * time.Millisecond) },
	}
	for clockName, clock := range clocks {
		for _, tc := range cases {
			t.Run(clockName+"/"+tc.name, func(t *testing.T) {
				f := newFake("ams")
				id := f.add(1, "RUNNING", "LIVE_AUDIO", "bizA", tc.age)[0]
				r := runSweep(t, map[string]Client{"ams": f}, clock, warnSettings())
				checkInvariant(t, r)
				checkUpcoming(t, r)
				if got := r.Upcoming == 1; got != tc.upcoming {
					t.Errorf("Upcoming %d, want upcoming %v", r.Upcoming, tc.upcoming)
				}
				if got := r.Cancelled == 1 && r.Candidates == 1; got != tc.stale {
					t.Errorf("Cancelled %d Candidates %d, want stale %v", r.Cancelled, r.Candidates, tc.stale)
				}
				if want := map[bool]string{true: "CANCELLED", false: "RUNNING"}[tc.stale]; f.status(id) != want {
					t.Errorf("task is %s, want %s", f.status(id), want)
				}
				if tc.upcoming {
					want := UpcomingTask{Service: "ams", TaskId: id, DataId: "data-" + id, BizType: "bizA", Type: "LIVE_AUDIO",
						Age: Duration(tc.age), CancelAfter: epoch.Add(-tc.age).Add(2 * time.Hour).Format(time.RFC3339Nano)}
					if diff := cmp.Diff([]UpcomingTask{want}, r.UpcomingTasks); diff != "" {
						t.Errorf("UpcomingTasks (-want +got):\n%s", diff)
					}
				}
				if tc.stale && (len(r.Tasks) != 1 || r.Tasks[0].Age != Duration(tc.age)) {
					t.Errorf("Tasks %+v: want the cancelled task with Age %s", r.Tasks, tc.age)
				}
			})
		}
	}
}

// checkUpcoming checks the upcoming list's counts; upcoming tasks are never
// in Tasks (checkInvariant: they are not candidates).
func checkUpcoming(tb testing.TB, r *Report) {
	tb.Helper()
	if got := len(r.UpcomingTasks) + r.UpcomingOmitted; got != r.Upcoming {
		tb.Errorf("UpcomingTasks %d + UpcomingOmitted %d != Upcoming %d", len(r.UpcomingTasks), r.UpcomingOmitted, r.Upcoming)
	}
	for _, u := range r.UpcomingTasks {
		if slices.ContainsFunc(r.Tasks, func(t TaskResult) bool { return t.TaskId == u.TaskId && t.Service == u.Service }) {
			tb.Errorf("upcoming task %s is also in Tasks", u.TaskId)
		}
	}
}

// TestWarnWindowListsAndFilters: with a window, each listing's EndTime is
// one second past its newest creation time (Cutoff + warnBefore), so it is
// listed whether Tencent's EndTime is inclusive or not; every filter applies
// to upcoming tasks; a dry run reports upcoming tasks too; and a task listed
// twice is reported once.
func TestWarnWindowListsAndFilters(t *testing.T) {
	var ends []string
	f := newFake("ams")
	up := f.add(3, "RUNNING", "LIVE_AUDIO", "bizA", 100*time.Minute)
	f.add(1, "RUNNING", "LIVE_AUDIO", "keep", 100*time.Minute) // excluded BizType
	f.add(1, "RUNNING", "AUDIO", "bizA", 100*time.Minute)      // other type
	f.add(1, "FINISH", "LIVE_AUDIO", "bizA", 100*time.Minute)  // ended
	f.add(1, "RUNNING", "LIVE_AUDIO", "bizA", 80*time.Minute)  // too young
	stale := f.add(2, "RUNNING", "LIVE_AUDIO", "bizA", 3*time.Hour)
	f.overlap = 2
	spy := listerSpy{f, &ends}
	for _, dry := range []bool{true, false} { // the dry run first: it changes nothing
		t.Run(fmt.Sprintf("dryRun=%v", dry), func(t *testing.T) {
			ends = nil
			set := warnSettings()
			set.Statuses = []string{"RUNNING", "PENDING"}
			set.Types = []string{"LIVE_AUDIO"}
			set.ExcludeBizTypes = []string{"keep"}
			set.PageSize = 3
			set.DryRun = dry
			r := runSweep(t, map[string]Client{"ams": spy}, fixedClock, set)
			checkInvariant(t, r)
			checkUpcoming(t, r)
			var got []string
			for _, u := range r.UpcomingTasks {
				got = append(got, u.TaskId)
			}
			if diff := cmp.Diff(up, got); diff != "" || r.Upcoming != 3 {
				t.Errorf("Upcoming %d, UpcomingTasks (-want +got):\n%s", r.Upcoming, diff)
			}
			if r.Candidates != 2 || r.Skipped != 0 {
				t.Errorf("Candidates %d Skipped %d, want the 2 stale tasks only", r.Candidates, r.Skipped)
			}
			if dry && r.WouldCancel != 2 || !dry && r.Cancelled != 2 {
				t.Errorf("WouldCancel %d Cancelled %d", r.WouldCancel, r.Cancelled)
			}
			for _, e := range ends {
				if e != "2026-03-14T10:30:01Z" {
					t.Errorf("EndTime %s, want 2026-03-14T10:30:01Z (Cutoff 10:00:00 + warnBefore 30m + 1s)", e)
				}
			}
			for _, id := range up {
				if f.status(id) != "RUNNING" {
					t.Errorf("upcoming task %s is %s", id, f.status(id))
				}
			}
		})
	}
	for _, id := range stale {
		if f.status(id) != "CANCELLED" {
			t.Errorf("stale task %s is %s", id, f.status(id))
		}
	}
}

// listerSpy records each listing's EndTime.
type listerSpy struct {
	*fakeAPI
	ends *[]string
}

func (s listerSpy) DescribeTaskSummaries(ctx context.Context, req tcapi.DescribeTasksRequest) (tcapi.DescribeTaskSummariesResponse, error) {
	*s.ends = append(*s.ends, req.EndTime)
	return s.fakeAPI.DescribeTaskSummaries(ctx, req)
}

// TestUpcomingThenCancelled: a task warned about is cancelled by the first
// run whose reference instant is after its CancelAfter, and not before.
func TestUpcomingThenCancelled(t *testing.T) {
	f := newFake("ams")
	id := f.add(1, "RUNNING", "LIVE_AUDIO", "", 90*time.Minute)[0]
	r := runSweep(t, map[string]Client{"ams": f}, fixedClock, warnSettings())
	if r.Upcoming != 1 || r.UpcomingTasks[0].CancelAfter != "2026-03-14T12:30:00Z" {
		t.Fatalf("first run: Upcoming %d %+v", r.Upcoming, r.UpcomingTasks)
	}
	steps := []struct {
		at        time.Duration // after epoch
		cancelled bool
	}{
		{30 * time.Minute, false},                      // exactly CancelAfter: still upcoming
		{30*time.Minute + 999*time.Millisecond, false}, // the same second
		{30*time.Minute + time.Second, true},           // after it
	}
	for _, st := range steps {
		r := runSweep(t, map[string]Client{"ams": f}, func() time.Time { return epoch.Add(st.at) }, warnSettings())
		checkInvariant(t, r)
		if got := r.Cancelled == 1; got != st.cancelled || r.Upcoming+r.Cancelled != 1 {
			t.Fatalf("run at +%s: Cancelled %d Upcoming %d, want cancelled %v", st.at, r.Cancelled, r.Upcoming, st.cancelled)
		}
		if st.cancelled && r.Tasks[0].Age != Duration(2*time.Hour+time.Second) {
			t.Errorf("Age %s, want 2h0m1s", r.Tasks[0].Age)
		}
	}
	if f.status(id) != "CANCELLED" {
		t.Errorf("task is %s", f.status(id))
	}
}

func TestUpcomingListIsCapped(t *testing.T) {
	f := newFake("ams")
	f.add(8, "RUNNING", "LIVE_AUDIO", "", 100*time.Minute)
	sw := &Sweeper{Clients: map[string]Client{"ams": f}, Now: fixedClock, MaxReport: 5}
	r := sw.Run(context.Background(), warnSettings())
	checkUpcoming(t, r)
	if r.Upcoming != 8 || len(r.UpcomingTasks) != 5 || r.UpcomingOmitted != 3 {
		t.Errorf("Upcoming %d, listed %d, omitted %d; want 8, 5, 3", r.Upcoming, len(r.UpcomingTasks), r.UpcomingOmitted)
	}
}

// TestCancelledTaskHours: each cancelled task carries its age at the run's
// reference instant; the report adds them up exactly and rounds once.
// Failed and skipped cancels stop nothing and count nothing.
func TestCancelledTaskHours(t *testing.T) {
	cases := []struct {
		name  string
		ages  []time.Duration
		fail  int // extra tasks whose cancel fails
		gone  int // extra tasks already gone
		hours float64
	}{
		{"2h30m + 3h + 26h15m", []time.Duration{150 * time.Minute, 3 * time.Hour, 26*time.Hour + 15*time.Minute}, 0, 0, 31.75},
		{"rounded once, not per task", []time.Duration{2*time.Hour + 14400*time.Millisecond, 2*time.Hour + 14400*time.Millisecond, 2*time.Hour + 14400*time.Millisecond}, 0, 0, 6.01},
		{"half up", []time.Duration{2*time.Hour + 18*time.Second}, 0, 0, 2.01},
		{"just under half", []time.Duration{2*time.Hour + 17999*time.Millisecond}, 0, 0, 2},
		{"failed and skipped cancels count nothing", []time.Duration{4 * time.Hour}, 2, 1, 4},
		{"nothing cancelled", nil, 1, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake("ams")
			var ids []string
			for _, a := range tc.ages {
				ids = append(ids, f.add(1, "RUNNING", "LIVE_AUDIO", "", a)...)
			}
			bad := f.add(tc.fail, "RUNNING", "LIVE_AUDIO", "", 5*time.Hour)
			gone := f.add(tc.gone, "RUNNING", "LIVE_AUDIO", "", 6*time.Hour)
			f.cancelErr = func(tk tcapi.TaskSummary) error {
				switch {
				case slices.Contains(bad, tk.TaskId):
					return &tcapi.Error{Service: "ams", Action: "CancelTask", Code: "InternalError", Message: "boom"}
				case slices.Contains(gone, tk.TaskId):
					return &tcapi.Error{Service: "ams", Action: "CancelTask", Code: "ResourceNotFound", Message: "gone"}
				}
				return nil
			}
			r := runSweep(t, map[string]Client{"ams": f}, fixedClock, testSettings())
			checkInvariant(t, r)
			if r.CancelledTaskHours != tc.hours || r.Cancelled != len(tc.ages) || r.Failed != tc.fail || r.Skipped != tc.gone {
				t.Errorf("CancelledTaskHours %v Cancelled %d Failed %d Skipped %d; want %v %d %d %d",
					r.CancelledTaskHours, r.Cancelled, r.Failed, r.Skipped, tc.hours, len(tc.ages), tc.fail, tc.gone)
			}
			for _, tr := range r.Tasks {
				i := slices.Index(ids, tr.TaskId)
				switch {
				case tr.Action == ActionCancelled && (i < 0 || tr.Age != Duration(tc.ages[i])):
					t.Errorf("cancelled %s has Age %s", tr.TaskId, tr.Age)
				case tr.Action != ActionCancelled && tr.Age != 0:
					t.Errorf("%s %s has Age %s: only cancelled tasks carry one", tr.Action, tr.TaskId, tr.Age)
				}
			}
			b, _ := json.Marshal(r)
			if want := fmt.Sprintf(`"CancelledTaskHours":%v`, tc.hours); !strings.Contains(string(b), want) {
				t.Errorf("report JSON lacks %s: %s", want, b)
			}
		})
	}
}

func TestTaskHoursArithmetic(t *testing.T) {
	cases := []struct {
		name string
		add  []time.Duration
		n    int // times each is added (0 = once)
		want float64
	}{
		{"none", nil, 0, 0},
		{"18 s is 0.005 h: half up", []time.Duration{18 * time.Second}, 0, 0.01},
		{"just under 18 s", []time.Duration{18*time.Second - time.Nanosecond}, 0, 0},
		{"2h29m42s is 2.495 h", []time.Duration{2*time.Hour + 29*time.Minute + 42*time.Second}, 0, 2.5},
		{"carries into hours", []time.Duration{50 * time.Minute, 50 * time.Minute, 50 * time.Minute}, 0, 2.5},
		{"negative ignored", []time.Duration{-time.Hour, time.Hour}, 0, 1},
		{"a million tasks of 1000 h: no overflow", []time.Duration{1000 * time.Hour}, 1_000_000, 1e9},
		{"a million tasks of 14.4 s", []time.Duration{14400 * time.Millisecond}, 1_000_000, 4000},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var h taskHours
			for range max(tc.n, 1) {
				for _, d := range tc.add {
					h.add(d)
				}
			}
			if got := h.rounded(); got != tc.want {
				t.Errorf("rounded %v, want %v (hours %d rest %s)", got, tc.want, h.hours, h.rest)
			}
			var merged taskHours
			merged.add(59 * time.Minute)
			merged.addSum(h)
			h.add(59 * time.Minute)
			if merged != h {
				t.Errorf("addSum: %+v, want %+v", merged, h)
			}
		})
	}
}

// TestMultiSweepUpcomingAndHours: per account and in total; the total's
// hours are rounded from the exact sum (4.008 h -> 4.01), not added up from
// the accounts' rounded figures (2.00 + 2.00).
func TestMultiSweepUpcomingAndHours(t *testing.T) {
	accts := []Account{{ID: "self"}, {ID: uinA, Role: roleA}}
	fakes := map[string]*fakeAPI{}
	for i, a := range accts {
		f := newFake("ams")
		f.add(1, "RUNNING", "LIVE_AUDIO", "", 2*time.Hour+14400*time.Millisecond)
		f.add(i+1, "RUNNING", "LIVE_AUDIO", "bizA", 100*time.Minute)
		fakes[a.ID] = f
	}
	m := &MultiSweep{Accounts: accts, Now: fixedClock,
		Clients: func(_ context.Context, a Account, _ []string) (map[string]Client, error) {
			return map[string]Client{"ams": fakes[a.ID]}, nil
		}}
	r := m.Run(context.Background(), warnSettings())
	checkInvariant(t, r)
	checkUpcoming(t, r)
	if r.Upcoming != 3 || r.Cancelled != 2 || r.CancelledTaskHours != 4.01 {
		t.Errorf("total: Upcoming %d Cancelled %d CancelledTaskHours %v; want 3 2 4.01", r.Upcoming, r.Cancelled, r.CancelledTaskHours)
	}
	for i, a := range r.Accounts {
		if a.Upcoming != i+1 || a.CancelledTaskHours != 2 {
			t.Errorf("account %s: Upcoming %d CancelledTaskHours %v; want %d 2", a.Account, a.Upcoming, a.CancelledTaskHours, i+1)
		}
	}
	var byAccount []string
	for _, u := range r.UpcomingTasks {
		byAccount = append(byAccount, u.Account)
	}
	if want := []string{"self", uinA, uinA}; !slices.Equal(byAccount, want) {
		t.Errorf("UpcomingTasks accounts %v, want %v", byAccount, want)
	}
}

// TestReportJSONRoundTrip: the whole report, lists included, is one JSON
// document that reads back as it was (what a report archive stores).
func TestReportJSONRoundTrip(t *testing.T) {
	f := newFake("ams")
	f.add(2, "RUNNING", "LIVE_AUDIO", "", 150*time.Minute)
	f.add(2, "RUNNING", "LIVE_AUDIO", "bizA", 100*time.Minute)
	r := runSweep(t, map[string]Client{"ams": f}, fixedClock, warnSettings())
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(r, &back, cmpopts.IgnoreUnexported(Report{})); diff != "" {
		t.Errorf("round trip (-before +after):\n%s", diff)
	}
	for _, want := range []string{`"Age":"2h30m0s"`, `"Age":"1h40m0s"`, `"CancelAfter":"2026-03-14T12:20:00Z"`, `"Upcoming":2`, `"CancelledTaskHours":5`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("report JSON lacks %s: %s", want, b)
		}
	}
	var d Duration
	if err := json.Unmarshal([]byte(`"soon"`), &d); err == nil || !strings.Contains(err.Error(), "Go duration") {
		t.Errorf("bad duration: %v", err)
	}
}

// upcomingReport is a report with cancelled tasks and n upcoming ones.
func upcomingReport(cancelled, n int) *Report {
	r := &Report{Cutoff: "2026-03-14T10:00:00Z", Services: []string{"ams"}, Failures: []Failure{}, Tasks: []TaskResult{},
		Errors: []ListError{}, UpcomingTasks: []UpcomingTask{}}
	for i := range cancelled {
		if i < MaxReportTasks {
			r.Tasks = append(r.Tasks, TaskResult{Service: "ams", TaskId: fmt.Sprintf("at-cancelled-%04d", i), Type: "LIVE_AUDIO",
				Status: "RUNNING", CreatedAt: "2026-03-14T09:00:00Z", Action: ActionCancelled, Age: Duration(3 * time.Hour)})
		} else {
			r.TasksOmitted++
		}
		r.cancelledAge.add(3 * time.Hour)
	}
	r.Candidates, r.Cancelled, r.CancelledTaskHours = cancelled, cancelled, r.cancelledAge.rounded()
	for i := range n {
		r.UpcomingTasks = append(r.UpcomingTasks, UpcomingTask{Service: "ams", TaskId: fmt.Sprintf("at-upcoming-%04d", i),
			DataId: "d", BizType: "live-room", Type: "LIVE_AUDIO", Age: Duration(100 * time.Minute), CancelAfter: "2026-03-14T12:20:00Z"})
	}
	r.Upcoming = n
	return r
}

// TestNotificationShowsUpcomingAndHours: every format carries the hours and
// the upcoming tasks with how to keep one; the chat formats list at most
// notifyUpcoming of them, before the cancelled tasks, and count the rest.
func TestNotificationShowsUpcomingAndHours(t *testing.T) {
	cases := []struct {
		name                string
		cancelled, upcoming int
		listed              int
		more                string
	}{
		{"few", 2, 3, 3, ""},
		{"many upcoming", 2, 25, notifyUpcoming, "- and 5 more upcoming (see the report's UpcomingTasks or the function's log)"},
		{"many cancelled too", 1500, 30, notifyUpcoming, "- and 10 more upcoming (see the report's UpcomingTasks or the function's log)"},
		{"none upcoming", 2, 0, 0, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := upcomingReport(tc.cancelled, tc.upcoming)
			set := DefaultSettings()
			set.NotifyOn = []string{NotifyOnUpcoming}
			events := matchedEvents(set, r)
			if got := len(events) == 1 && events[0] == NotifyOnUpcoming; got != (tc.upcoming > 0) {
				t.Errorf("events %v with %d upcoming", events, tc.upcoming)
			}
			m := message("sweep-tasks", "req-1", []string{"upcoming"}, r)
			hours := fmt.Sprintf("task-hours stopped: %.2f", float64(3*tc.cancelled))
			for _, format := range []string{notify.FormatWeCom, notify.FormatSlack} {
				body, err := m.Body(format)
				if err != nil {
					t.Fatal(err)
				}
				var v struct {
					Text     string
					Markdown struct{ Content string }
				}
				if err := json.Unmarshal(body, &v); err != nil {
					t.Fatal(err)
				}
				text := v.Text + v.Markdown.Content
				if !strings.Contains(text, hours) {
					t.Errorf("%s: no %q in\n%s", format, hours, text)
				}
				hint := strings.Contains(text, "add its BizType to JANITOR_SWEEP_EXCLUDE_BIZTYPES")
				if hint != (tc.upcoming > 0) {
					t.Errorf("%s: exclusion hint shown %v with %d upcoming", format, hint, tc.upcoming)
				}
				if got := strings.Count(text, "- upcoming ams at-upcoming-"); got != tc.listed {
					t.Errorf("%s: %d upcoming lines, want %d", format, got, tc.listed)
				}
				if tc.listed > 0 && !strings.Contains(text, "- upcoming ams at-upcoming-0000 (LIVE_AUDIO, live-room, age 1h40m0s, cancelled after 2026-03-14T12:20:00Z)") {
					t.Errorf("%s: upcoming line missing:\n%s", format, text)
				}
				if tc.more != "" && !strings.Contains(text, tc.more) {
					t.Errorf("%s: no %q", format, tc.more)
				}
				if strings.Contains(text, "- cancelled ") && !strings.Contains(text, "age 3h0m0s)") {
					t.Errorf("%s: cancelled lines lack their age", format)
				}
			}
			body, err := m.Body(notify.FormatJSON)
			if err != nil {
				t.Fatal(err)
			}
			var j struct {
				Upcoming, UpcomingOmitted int
				CancelledTaskHours        float64
				UpcomingTasks             []UpcomingTask
				HowToExclude              string
			}
			if err := json.Unmarshal(body, &j); err != nil {
				t.Fatal(err)
			}
			if j.Upcoming != tc.upcoming || len(j.UpcomingTasks) != min(tc.upcoming, notifyItems) || j.UpcomingTasks == nil ||
				j.CancelledTaskHours != float64(3*tc.cancelled) ||
				strings.Contains(j.HowToExclude, "JANITOR_SWEEP_EXCLUDE_BIZTYPES") != (tc.upcoming > 0) {
				t.Errorf("json body %s", body)
			}
		})
	}
}

// TestHandlerWarnsThenCancels: through the handler and the emulator, a run
// with a warning window reports the upcoming task without cancelling it and
// notifies for "upcoming"; a run after its CancelAfter cancels it.
func TestHandlerWarnsThenCancels(t *testing.T) {
	t.Parallel()
	e := newEmu(t, emulator.Options{})
	staleID := e.add("ams", "LIVE_AUDIO", "RUNNING", "", 3*time.Hour)
	upID := e.add("ams", "LIVE_AUDIO", "RUNNING", "live-room", 105*time.Minute)
	env := map[string]string{
		"JANITOR_SWEEP_WARN_BEFORE": "30m", "JANITOR_NOTIFY_ON": "upcoming",
		"JANITOR_NOTIFY_URL": e.ts.URL + "/_emulator/notifications",
	}
	h := NewHandler(HandlerOptions{Now: fixedClock})
	out, err := h.Handle(invocationCtx(t, e, env), timerEvent(""))
	if err != nil {
		t.Fatal(err)
	}
	r := out.(*Report)
	checkInvariant(t, r)
	checkUpcoming(t, r)
	if r.Upcoming != 1 || r.UpcomingTasks[0].TaskId != upID || r.UpcomingTasks[0].CancelAfter != "2026-03-14T12:15:00Z" ||
		r.UpcomingTasks[0].Age != Duration(105*time.Minute) {
		t.Errorf("Upcoming %d %+v", r.Upcoming, r.UpcomingTasks)
	}
	if r.Cancelled != 1 || r.CancelledTaskHours != 3 || len(r.Accounts) != 1 || r.Accounts[0].Upcoming != 1 || r.Accounts[0].CancelledTaskHours != 3 {
		t.Errorf("Cancelled %d CancelledTaskHours %v Accounts %+v", r.Cancelled, r.CancelledTaskHours, r.Accounts)
	}
	if got := e.cancelled(); !slices.Equal(got, []string{staleID}) {
		t.Errorf("emulator cancelled %v, want only %s", got, staleID)
	}
	ns := e.srv.Notifications()
	if len(ns) != 1 || !strings.Contains(string(ns[0].Body), `"Events":["upcoming"]`) || !strings.Contains(string(ns[0].Body), upID) ||
		!strings.Contains(string(ns[0].Body), "JANITOR_SWEEP_EXCLUDE_BIZTYPES") {
		t.Fatalf("notifications %d: %+v", len(ns), ns)
	}

	later := NewHandler(HandlerOptions{Now: func() time.Time { return epoch.Add(16 * time.Minute) }})
	out, err = later.Handle(invocationCtx(t, e, env), timerEvent(""))
	if err != nil {
		t.Fatal(err)
	}
	r = out.(*Report)
	checkInvariant(t, r)
	if r.Cancelled != 1 || r.Upcoming != 0 || r.Tasks[0].TaskId != upID || r.Tasks[0].Age != Duration(121*time.Minute) {
		t.Errorf("later run: Cancelled %d Upcoming %d Tasks %+v", r.Cancelled, r.Upcoming, r.Tasks)
	}
}

// TestJudgeWindow: the recheck with a window. An unknown or ended status in
// the window is not judged (the task is not stale yet); a stale one still is.
func TestJudgeWindow(t *testing.T) {
	set := warnSettings()
	set.Statuses = []string{"RUNNING", "PENDING"}
	cutoff := epoch.Add(-2 * time.Hour)
	r := rules{set: set, cutoff: cutoff, warnEnd: cutoff.Add(set.WarnBefore)}
	at := func(age time.Duration) string { return epoch.Add(-age).Format(time.RFC3339Nano) }
	cases := []struct {
		name string
		task tcapi.TaskSummary
		want verdict
	}{
		{"window", tcapi.TaskSummary{TaskId: "1", Status: "PENDING", CreatedAt: at(100 * time.Minute)}, upcoming},
		{"window, offset", tcapi.TaskSummary{TaskId: "1", Status: "RUNNING", CreatedAt: "2026-03-14T18:20:00+08:00"}, upcoming},
		{"window, unknown status", tcapi.TaskSummary{TaskId: "1", Status: "PAUSED", CreatedAt: at(100 * time.Minute)}, notStale},
		{"window, finished", tcapi.TaskSummary{TaskId: "1", Status: "FINISH", CreatedAt: at(100 * time.Minute)}, notStale},
		{"window, empty TaskId", tcapi.TaskSummary{Status: "RUNNING", CreatedAt: at(100 * time.Minute)}, notStale},
		{"young, unknown status", tcapi.TaskSummary{TaskId: "1", Status: "PAUSED", CreatedAt: at(time.Minute)}, notStale},
		{"stale, unknown status", tcapi.TaskSummary{TaskId: "1", Status: "PAUSED", CreatedAt: at(3 * time.Hour)}, cannotJudge},
		{"unparseable CreatedAt", tcapi.TaskSummary{TaskId: "1", Status: "RUNNING", CreatedAt: "soon"}, cannotJudge},
		{"stale", tcapi.TaskSummary{TaskId: "1", Status: "RUNNING", CreatedAt: at(3 * time.Hour)}, stale},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got, _, _ := r.judge(tc.task); got != tc.want {
				t.Errorf("judge = %v, want %v", got, tc.want)
			}
		})
	}
}

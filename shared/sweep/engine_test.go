package sweep

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/scf-janitor/scf-janitor/internal/testkit/logtest"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

func TestDuplicatesCancelledOnce(t *testing.T) {
	f := newFake("ams")
	stale := f.add(50, "RUNNING", "LIVE_AUDIO", "", 3*time.Hour)
	f.overlap = 3 // every page repeats the last 3 rows of the one before, as fetched back then
	set := testSettings()
	set.PageSize = 10
	set.Statuses = []string{"RUNNING"}
	r := runSweep(t, map[string]Client{"ams": f}, fixedClock, set)
	total, most := f.cancelCalls()
	if total != 50 || most != 1 {
		t.Errorf("%d CancelTask calls, at most %d for one task; want 50 and 1", total, most)
	}
	if r.Cancelled != 50 || r.Candidates != 50 {
		t.Errorf("Cancelled %d Candidates %d, want 50 50", r.Cancelled, r.Candidates)
	}
	if r.Scanned <= 50 {
		t.Errorf("Scanned %d: the repeated rows should be counted as read", r.Scanned)
	}
	for _, id := range stale {
		if f.status(id) != "CANCELLED" {
			t.Errorf("%s is %s", id, f.status(id))
		}
	}
}

func TestDuplicatesAcrossListingsAndPasses(t *testing.T) {
	// A failed cancel and an unjudgeable task are remembered: later pages and
	// later passes do not count them again.
	f := newFake("ams")
	f.add(5, "RUNNING", "LIVE_AUDIO", "", 3*time.Hour)
	bad := f.add(1, "RUNNING", "LIVE_AUDIO", "", 3*time.Hour)[0]
	f.cancelErr = func(tk tcapi.TaskSummary) error {
		if tk.TaskId == bad {
			return &tcapi.Error{Code: "InternalError", Message: "boom"}
		}
		return nil
	}
	f.mu.Lock()
	f.tasks = append(f.tasks, tcapi.TaskSummary{TaskId: "odd", Status: "RUNNING", CreatedAt: "not a time"})
	f.index["odd"] = len(f.tasks) - 1
	f.mu.Unlock()
	r := runSweep(t, map[string]Client{"ams": f}, fixedClock, testSettings())
	if r.Cancelled != 5 || r.Failed != 1 || r.Skipped != 1 || r.Candidates != 7 {
		t.Errorf("report %+v", r)
	}
	if r.Passes != 2 {
		t.Errorf("Passes %d, want 2 (the second finds nothing new)", r.Passes)
	}
	if f.cancels[bad] != 1 || f.cancels["odd"] != 0 {
		t.Errorf("cancel calls: failing task %d, unjudgeable task %d", f.cancels[bad], f.cancels["odd"])
	}
}

func TestRepeatedPageTokenStops(t *testing.T) {
	f := newFake("ams")
	f.add(3, "RUNNING", "LIVE_AUDIO", "", 3*time.Hour)
	f.token = func(int) string { return "same" }
	done := make(chan *Report, 1)
	go func() {
		done <- (&Sweeper{Clients: map[string]Client{"ams": f}, Now: fixedClock}).Run(context.Background(), testSettings())
	}()
	var r *Report
	select {
	case r = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("sweep loops on a repeated PageToken")
	}
	checkInvariant(t, r)
	if len(r.Errors) != 2 { // PENDING and RUNNING listings
		t.Fatalf("Errors %+v, want one per listing", r.Errors)
	}
	for _, e := range r.Errors {
		if e.Code != "PageTokenRepeated" || !strings.Contains(e.Message, "same") {
			t.Errorf("error %+v", e)
		}
	}
	if r.Pages != 4 || r.Cancelled != 3 {
		t.Errorf("Pages %d Cancelled %d, want 4 and 3", r.Pages, r.Cancelled)
	}
}

func TestPageLimitStops(t *testing.T) {
	f := newFake("ams")
	f.add(2, "PENDING", "AUDIO", "", 3*time.Hour)
	f.token = func(n int) string { return strconv.Itoa(n) } // never ends
	set := testSettings()
	set.Statuses = []string{"PENDING"}
	r := (&Sweeper{Clients: map[string]Client{"ams": f}, Now: fixedClock, MaxPages: 5}).Run(context.Background(), set)
	checkInvariant(t, r)
	if len(r.Errors) != 1 || r.Errors[0].Code != "PageLimit" || r.Pages != 5 {
		t.Errorf("Pages %d Errors %+v", r.Pages, r.Errors)
	}
}

func TestListingFailureReported(t *testing.T) {
	f := newFake("ams")
	f.add(2, "RUNNING", "LIVE_AUDIO", "", 3*time.Hour)
	f.add(2, "PENDING", "AUDIO", "", 3*time.Hour)
	f.describeErr = func(call int) error {
		if call == 1 { // the PENDING listing
			return &tcapi.Error{Service: "ams", Action: "DescribeTasks", Code: "AuthFailure.UnauthorizedOperation", Message: "no permission", RequestID: "r1"}
		}
		return nil
	}
	r := runSweep(t, map[string]Client{"ams": f}, fixedClock, testSettings())
	want := []ListError{{Service: "ams", Filter: "TaskStatus=PENDING", Code: "AuthFailure.UnauthorizedOperation",
		Message: "DescribeTasks: no permission (RequestId r1)"}}
	if diff := cmp.Diff(want, r.Errors); diff != "" {
		t.Errorf("Errors (-want +got):\n%s", diff)
	}
	if r.Cancelled != 4 { // the RUNNING listing went on; the second pass listed PENDING again
		t.Errorf("Cancelled %d, want 4", r.Cancelled)
	}
}

func TestCancelOutcomes(t *testing.T) {
	f := newFake("ams")
	ids := f.add(6, "RUNNING", "LIVE_AUDIO", "b", 3*time.Hour)
	f.cancelErr = func(tk tcapi.TaskSummary) error {
		switch tk.TaskId {
		case ids[0]:
			return &tcapi.Error{Code: "ResourceNotFound", Message: "gone"}
		case ids[1]:
			return &tcapi.Error{Code: "FailedOperation.TaskEnded", Message: "ended"}
		case ids[2]:
			return &tcapi.Error{Code: "InternalError", Message: "still failing after retries", RequestID: "r9", Attempts: 4}
		case ids[3]:
			return &tcapi.Error{Code: "FailedOperation.Other", Message: "nope"}
		case ids[5]: // the first attempt's answer was lost; the retry finds it ended
			return &tcapi.Error{Code: "FailedOperation.TaskEnded", Message: "ended", Attempts: 2}
		}
		return nil
	}
	var logs logtest.Buffer
	set := testSettings()
	sw := &Sweeper{Clients: map[string]Client{"ams": f}, Now: fixedClock, Logger: newLogger(&logs)}
	r := sw.Run(context.Background(), set)
	checkInvariant(t, r)
	if r.Cancelled != 2 || r.Skipped != 2 || r.Failed != 2 {
		t.Fatalf("report %+v", r)
	}
	for _, tr := range r.Tasks {
		if tr.TaskId == ids[5] && (tr.Action != ActionCancelled || !strings.Contains(tr.Reason, "retry")) {
			t.Errorf("TaskEnded on retry: %+v", tr)
		}
		if (tr.TaskId == ids[0] || tr.TaskId == ids[1]) && tr.Action != ActionSkipped {
			t.Errorf("not found / ended: %+v", tr)
		}
	}
	wantFailures := []Failure{
		{Service: "ams", TaskId: ids[2], Code: "InternalError", Message: "still failing after retries (RequestId r9)"},
		{Service: "ams", TaskId: ids[3], Code: "FailedOperation.Other", Message: "nope"},
	}
	if diff := cmp.Diff(wantFailures, r.Failures, sortFailures); diff != "" {
		t.Errorf("Failures (-want +got):\n%s", diff)
	}
	// One line per cancelled or failed task, with what an operator needs.
	lines := map[string]int{}
	var final map[string]any
	for _, rec := range logs.Records(t) {
		lines[rec["msg"].(string)]++
		if rec["msg"] == "task cancelled" && rec["task_id"] == ids[4] {
			want := map[string]any{"service": "ams", "task_id": ids[4], "data_id": "data-" + ids[4], "biz_type": "b", "age": "3h0m0s"}
			for k, v := range want {
				if rec[k] != v {
					t.Errorf("cancel log %s = %v, want %v", k, rec[k], v)
				}
			}
		}
		if rec["msg"] == "sweep finished" {
			final = rec
		}
	}
	if lines["task cancelled"] != 2 || lines["task cancel failed"] != 2 || lines["sweep finished"] != 1 {
		t.Errorf("log lines %v", lines)
	}
	rep, _ := final["report"].(map[string]any)
	if final["level"] != "WARN" || rep["Cancelled"] != 2.0 || rep["Failed"] != 2.0 || rep["Tasks"] != nil {
		t.Errorf("final line %v", final)
	}
}

var sortFailures = cmp.Transformer("sort", func(in []Failure) []Failure {
	out := append([]Failure(nil), in...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j].TaskId < out[i].TaskId {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
})

func TestConcurrencyBounded(t *testing.T) {
	f := newFake("ams")
	f.add(60, "RUNNING", "LIVE_AUDIO", "", 3*time.Hour)
	f.cancelDelay = 2 * time.Millisecond
	set := testSettings()
	set.Concurrency = 5
	set.PageSize = 7
	r := runSweep(t, map[string]Client{"ams": f}, fixedClock, set)
	if r.Cancelled != 60 {
		t.Errorf("Cancelled %d", r.Cancelled)
	}
	if f.maxInflight > 5 || f.maxInflight < 2 {
		t.Errorf("max cancels in flight %d, want 2..5", f.maxInflight)
	}
}

func TestReportListsCapped(t *testing.T) {
	f := newFake("ams")
	f.add(MaxReportTasks+25, "RUNNING", "LIVE_AUDIO", "", 3*time.Hour)
	f.cancelErr = func(tcapi.TaskSummary) error { return &tcapi.Error{Code: "InternalError", Message: "x"} }
	set := testSettings()
	set.Statuses = []string{"RUNNING"}
	r := runSweep(t, map[string]Client{"ams": f}, fixedClock, set)
	if len(r.Tasks) != MaxReportTasks || r.TasksOmitted != 25 || len(r.Failures) != MaxReportTasks || r.FailuresOmitted != 25 {
		t.Errorf("Tasks %d (+%d), Failures %d (+%d)", len(r.Tasks), r.TasksOmitted, len(r.Failures), r.FailuresOmitted)
	}
}

func TestDedupeSetStaysBounded(t *testing.T) {
	// Cancelled ids are forgotten once no page can list them again, so the
	// set does not grow with the number of tasks.
	f := newFake("ams")
	f.add(6000, "RUNNING", "LIVE_AUDIO", "", 3*time.Hour)
	set := testSettings()
	set.Statuses = []string{"RUNNING"}
	set.MaxCancels = 10000
	sw := &Sweeper{Clients: map[string]Client{"ams": f}, Now: fixedClock}
	run := sw.sweep(context.Background(), set)
	r, largest := &run.rep, run.seen.peak // the set's size after each page, at most
	checkInvariant(t, r)
	if r.Cancelled != 6000 {
		t.Fatalf("Cancelled %d", r.Cancelled)
	}
	if limit := keepRecent + 2*set.PageSize + 2*set.Concurrency; largest > limit {
		t.Errorf("dedupe set reached %d ids, want at most %d", largest, limit)
	}
}

func TestListingsPerCombination(t *testing.T) {
	set := DefaultSettings()
	set.Services = []string{"ams", "vm"}
	set.Types = []string{"LIVE_AUDIO", "LIVE_VIDEO"}
	set.BizTypes = []string{"a", "b", "x"}
	set.ExcludeBizTypes = []string{"x"}
	var got []string
	for _, l := range listings(set) {
		got = append(got, l.service+" "+l.String())
	}
	want := []string{
		"ams TaskStatus=PENDING Type=LIVE_AUDIO BizType=a", "ams TaskStatus=PENDING Type=LIVE_AUDIO BizType=b",
		"ams TaskStatus=PENDING Type=LIVE_VIDEO BizType=a", "ams TaskStatus=PENDING Type=LIVE_VIDEO BizType=b",
		"ams TaskStatus=RUNNING Type=LIVE_AUDIO BizType=a", "ams TaskStatus=RUNNING Type=LIVE_AUDIO BizType=b",
		"ams TaskStatus=RUNNING Type=LIVE_VIDEO BizType=a", "ams TaskStatus=RUNNING Type=LIVE_VIDEO BizType=b",
		"vm TaskStatus=PENDING Type=LIVE_AUDIO BizType=a,b", "vm TaskStatus=PENDING Type=LIVE_VIDEO BizType=a,b",
		"vm TaskStatus=RUNNING Type=LIVE_AUDIO BizType=a,b", "vm TaskStatus=RUNNING Type=LIVE_VIDEO BizType=a,b",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("listings (-want +got):\n%s", diff)
	}
}

func TestRequestFilterAndWindow(t *testing.T) {
	var reqs []tcapi.DescribeTasksRequest
	l := listerFunc(func(_ context.Context, req tcapi.DescribeTasksRequest) (tcapi.DescribeTaskSummariesResponse, error) {
		reqs = append(reqs, req)
		return tcapi.DescribeTaskSummariesResponse{}, nil
	})
	set := testSettings()
	set.Statuses = []string{"RUNNING"}
	set.MaxAge = 90 * time.Minute
	set.PageSize = 50
	now := func() time.Time { return epoch.Add(1500 * time.Millisecond) }
	r := (&Sweeper{Clients: map[string]Client{"ams": l}, Now: now}).Run(context.Background(), set)
	checkInvariant(t, r)
	want := []tcapi.DescribeTasksRequest{{Limit: 50, Filter: &tcapi.TaskFilter{TaskStatus: "RUNNING"},
		StartTime: "2026-03-11T12:00:01Z", EndTime: "2026-03-14T10:30:01Z"}}
	if diff := cmp.Diff(want, reqs); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	if r.Cutoff != "2026-03-14T10:30:01Z" {
		t.Errorf("Cutoff %s", r.Cutoff)
	}
}

// listerFunc is a Client whose CancelTask must never be called.
type listerFunc func(context.Context, tcapi.DescribeTasksRequest) (tcapi.DescribeTaskSummariesResponse, error)

func (f listerFunc) DescribeTaskSummaries(ctx context.Context, req tcapi.DescribeTasksRequest) (tcapi.DescribeTaskSummariesResponse, error) {
	return f(ctx, req)
}

func (f listerFunc) CancelTask(context.Context, string) (tcapi.CancelTaskResponse, error) {
	panic("CancelTask called")
}

func TestJudgeFailsClosed(t *testing.T) {
	set := testSettings()
	set.Types = []string{"LIVE_AUDIO"}
	set.BizTypes = []string{"a", "x"}
	set.ExcludeBizTypes = []string{"x"}
	r := rules{set: set, cutoff: epoch.Add(-2 * time.Hour)}
	old := epoch.Add(-3 * time.Hour).Format(time.RFC3339)
	cases := []struct {
		name string
		task tcapi.TaskSummary
		want verdict
	}{
		{"stale", tcapi.TaskSummary{TaskId: "1", Status: "RUNNING", Type: "LIVE_AUDIO", BizType: "a", CreatedAt: old}, stale},
		{"stale, milliseconds", tcapi.TaskSummary{TaskId: "1", Status: "PENDING", Type: "LIVE_AUDIO", BizType: "a", CreatedAt: "2026-03-14T08:41:07.947Z"}, stale},
		{"stale, offset", tcapi.TaskSummary{TaskId: "1", Status: "RUNNING", Type: "LIVE_AUDIO", BizType: "a", CreatedAt: "2026-03-14T17:00:00+08:00"}, stale},
		{"exactly at cutoff", tcapi.TaskSummary{TaskId: "1", Status: "RUNNING", Type: "LIVE_AUDIO", BizType: "a", CreatedAt: "2026-03-14T10:00:00Z"}, notStale},
		{"young", tcapi.TaskSummary{TaskId: "1", Status: "RUNNING", Type: "LIVE_AUDIO", BizType: "a", CreatedAt: "2026-03-14T11:00:00Z"}, notStale},
		{"finished", tcapi.TaskSummary{TaskId: "1", Status: "FINISH", Type: "LIVE_AUDIO", BizType: "a", CreatedAt: old}, notStale},
		{"other type", tcapi.TaskSummary{TaskId: "1", Status: "RUNNING", Type: "AUDIO", BizType: "a", CreatedAt: old}, notStale},
		{"excluded BizType", tcapi.TaskSummary{TaskId: "1", Status: "RUNNING", Type: "LIVE_AUDIO", BizType: "x", CreatedAt: old}, notStale},
		{"BizType not included", tcapi.TaskSummary{TaskId: "1", Status: "RUNNING", Type: "LIVE_AUDIO", BizType: "b", CreatedAt: old}, notStale},
		{"unknown status", tcapi.TaskSummary{TaskId: "1", Status: "PAUSED", Type: "LIVE_AUDIO", BizType: "a", CreatedAt: old}, cannotJudge},
		{"lower-case status", tcapi.TaskSummary{TaskId: "1", Status: "running", Type: "LIVE_AUDIO", BizType: "a", CreatedAt: old}, cannotJudge},
		{"empty status", tcapi.TaskSummary{TaskId: "1", Type: "LIVE_AUDIO", BizType: "a", CreatedAt: old}, cannotJudge},
		{"no CreatedAt", tcapi.TaskSummary{TaskId: "1", Status: "RUNNING", Type: "LIVE_AUDIO", BizType: "a"}, cannotJudge},
		{"CreatedAt without zone", tcapi.TaskSummary{TaskId: "1", Status: "RUNNING", Type: "LIVE_AUDIO", BizType: "a", CreatedAt: "2026-03-14 08:00:00"}, cannotJudge},
		{"empty TaskId", tcapi.TaskSummary{Status: "RUNNING", Type: "LIVE_AUDIO", BizType: "a", CreatedAt: old}, cannotJudge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got, reason, _ := r.judge(tc.task); got != tc.want || (got == cannotJudge) != (reason != "") {
				t.Errorf("judge = %v %q, want %v", got, reason, tc.want)
			}
		})
	}
}

func TestReportJSONFieldOrder(t *testing.T) {
	r := (&Sweeper{Clients: map[string]Client{"ams": newFake("ams")}, Now: fixedClock}).Run(context.Background(), testSettings())
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	order := []string{"DryRun", "Cutoff", "Services", "Pages", "Scanned", "Candidates", "Cancelled", "Skipped", "Failed",
		"Truncated", "Capped", "Throttled", "DurationMs", "Failures", "Tasks", "WouldCancel", "TasksOmitted", "FailuresOmitted", "Passes", "Errors"}
	s, last := string(b), -1
	for _, k := range order {
		i := strings.Index(s, `"`+k+`":`)
		if i <= last {
			t.Fatalf("field %s out of order in %s", k, s)
		}
		last = i
	}
	if !strings.Contains(s, `"Failures":[]`) || !strings.Contains(s, `"Tasks":[]`) || !strings.Contains(s, `"Errors":[]`) {
		t.Errorf("empty lists should be [] not null: %s", s)
	}
}

// endless is a server on which every listing finds a task it never showed
// before: the sweeper must stop after MaxPasses, saying so.
type endless struct{ n int }

func (e *endless) DescribeTaskSummaries(_ context.Context, req tcapi.DescribeTasksRequest) (tcapi.DescribeTaskSummariesResponse, error) {
	e.n++
	return tcapi.DescribeTaskSummariesResponse{Data: []tcapi.TaskSummary{{TaskId: "t" + strconv.Itoa(e.n), Status: req.Filter.TaskStatus,
		CreatedAt: epoch.Add(-3 * time.Hour).Format(time.RFC3339)}}}, nil
}

func (e *endless) CancelTask(context.Context, string) (tcapi.CancelTaskResponse, error) {
	return tcapi.CancelTaskResponse{RequestId: "r"}, nil
}

func TestPassLimit(t *testing.T) {
	r := (&Sweeper{Clients: map[string]Client{"ams": &endless{}}, Now: fixedClock, MaxPasses: 3}).Run(context.Background(), testSettings())
	checkInvariant(t, r)
	if r.Passes != 3 || r.Cancelled != 6 || len(r.Errors) != 1 || r.Errors[0].Code != "PassLimit" {
		t.Errorf("Passes %d Cancelled %d Errors %+v", r.Passes, r.Cancelled, r.Errors)
	}
}

func TestInvalidSettingsSweepNothing(t *testing.T) {
	f := newFake("ams")
	f.add(3, "RUNNING", "LIVE_AUDIO", "", 3*time.Hour)
	set := testSettings()
	set.Concurrency = 0
	r := (&Sweeper{Clients: map[string]Client{"ams": f}, Now: fixedClock}).Run(context.Background(), set)
	checkInvariant(t, r)
	if len(r.Errors) != 1 || r.Errors[0].Code != "InvalidSettings" || !strings.Contains(r.Errors[0].Message, "concurrency") || f.describes != 0 {
		t.Errorf("Errors %+v, %d DescribeTasks calls", r.Errors, f.describes)
	}
}

func TestPageLoop(t *testing.T) {
	tests := []struct {
		name         string
		prefix, loop int // distinct tokens before the loop, tokens in the loop (0: no loop)
	}{
		{"same token", 0, 1},
		{"two alternating", 0, 2},
		{"back to the first after 16", 0, 16},
		{"loop of 17 after 5", 5, 17},
		{"loop of 100 after 300", 300, 100},
		{"loop of 1000 after 7", 7, 1000},
		{"no loop in 200000 tokens", 200000, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token := func(i int) uint64 { // the i-th token of the sequence
				if tt.loop > 0 && i >= tt.prefix {
					i = tt.prefix + (i-tt.prefix)%tt.loop
				}
				return uint64(i)*0x9e3779b97f4a7c15 + 1
			}
			var l pageLoop
			limit := tt.prefix + 2*tt.loop + 2*max(tt.prefix, tt.loop) + 16
			for i := 0; i < limit; i++ {
				if l.repeated(token(i)) {
					if tt.loop == 0 {
						t.Fatalf("token %d flagged as repeated in a sequence without repeats", i)
					}
					if i < tt.prefix+tt.loop {
						t.Fatalf("token %d flagged before any token came back", i)
					}
					return
				}
			}
			if tt.loop > 0 {
				t.Errorf("loop not caught within %d tokens", limit)
			}
		})
	}
}

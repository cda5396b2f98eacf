package sweep

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/emulator"
	"github.com/scf-janitor/scf-janitor/shared/scf"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

// detailFake is a fakeAPI that also answers DescribeTaskDetail, from the
// fake's own state unless details says otherwise.
type detailFake struct {
	*fakeAPI
	details map[string]func() (tcapi.TaskDetail, error)
	lookups int
}

func (d *detailFake) DescribeTaskDetail(_ context.Context, id string) (tcapi.TaskDetail, error) {
	d.mu.Lock()
	d.lookups++
	d.mu.Unlock()
	if f, ok := d.details[id]; ok {
		return f()
	}
	return tcapi.TaskDetail{TaskId: id, Status: d.status(id), RequestId: "req"}, nil
}

// TestCancelRefusedAskState: a cancel Tencent refuses without saying why is
// judged from DescribeTaskDetail.
func TestCancelRefusedAskState(t *testing.T) {
	f := newFake("ams")
	ids := f.add(6, "RUNNING", "LIVE_AUDIO", "b", 3*time.Hour)
	plain := func(attempts int) error {
		return &tcapi.Error{Service: "ams", Action: "CancelTask", Code: "FailedOperation", Message: "failed", Attempts: attempts}
	}
	f.cancelErr = func(tk tcapi.TaskSummary) error {
		switch tk.TaskId {
		case ids[0], ids[2], ids[3]:
			return plain(1)
		case ids[1]:
			return plain(2)
		case ids[4]:
			return &tcapi.Error{Service: "ams", Action: "CancelTask", Code: "AuthFailure.UnauthorizedOperation", Message: "no"}
		}
		return nil
	}
	detail := func(status string) func() (tcapi.TaskDetail, error) {
		return func() (tcapi.TaskDetail, error) { return tcapi.TaskDetail{Status: status, RequestId: "req"}, nil }
	}
	d := &detailFake{fakeAPI: f, details: map[string]func() (tcapi.TaskDetail, error){
		ids[0]: detail("FINISH"),
		ids[1]: detail("CANCELLED"),
		ids[2]: func() (tcapi.TaskDetail, error) {
			return tcapi.TaskDetail{}, &tcapi.Error{Service: "ams", Action: "DescribeTaskDetail", Code: "ResourceNotFound", Message: "gone"}
		},
		ids[3]: detail("RUNNING"),
	}}
	r := runSweep(t, map[string]Client{"ams": d}, fixedClock, testSettings())
	want := map[string]struct{ action, reason string }{
		ids[0]: {ActionSkipped, "already ended (status FINISH)"},
		ids[1]: {ActionCancelled, "most likely cancelled it"},
		ids[2]: {ActionSkipped, "not found"},
		ids[3]: {ActionFailed, ""},
		ids[4]: {ActionFailed, ""},
		ids[5]: {ActionCancelled, ""},
	}
	for _, tr := range r.Tasks {
		w := want[tr.TaskId]
		if tr.Action != w.action || !strings.Contains(tr.Reason, w.reason) {
			t.Errorf("%s: %s %q, want %s %q", tr.TaskId, tr.Action, tr.Reason, w.action, w.reason)
		}
	}
	if r.Cancelled != 2 || r.Skipped != 2 || r.Failed != 2 {
		t.Errorf("report %+v", r)
	}
	if d.lookups != 4 { // not after AuthFailure, not after a success
		t.Errorf("%d lookups, want 4", d.lookups)
	}
}

// TestSweepEndedBeforeCancel runs the real client against the emulator's
// default answer (plain FailedOperation): a task listed RUNNING that ends
// before its cancel arrives is Skipped "already ended (status FINISH)", not
// Failed.
func TestSweepEndedBeforeCancel(t *testing.T) {
	e := newEmu(t, emulator.Options{})
	id := e.add("ams", emulator.TypeLiveAudio, emulator.StatusRunning, "", 3*time.Hour)
	clients := e.clients(t, 1000)
	m := clients["ams"].(*tcapi.Moderation)
	clients["ams"] = endsFirst{Moderation: m, end: func(taskID string) {
		tk, _ := e.srv.Task("ams", taskID)
		tk.Status, tk.Stuck = emulator.StatusFinish, true
		e.srv.AddTask(tk)
	}}
	r := runSweep(t, clients, e.clock, testSettings())
	if r.Skipped != 1 || r.Failed != 0 || len(r.Tasks) != 1 || r.Tasks[0].TaskId != id || r.Tasks[0].Reason != "already ended (status FINISH)" {
		t.Fatalf("report %+v", r)
	}
	if n := e.srv.Stats().Actions["ams.DescribeTaskDetail"].Requests; n != 1 {
		t.Errorf("DescribeTaskDetail called %d times, want 1", n)
	}
}

// endsFirst ends a task on the server just before cancelling it.
type endsFirst struct {
	*tcapi.Moderation
	end func(taskID string)
}

func (c endsFirst) CancelTask(ctx context.Context, id string) (tcapi.CancelTaskResponse, error) {
	c.end(id)
	return c.Moderation.CancelTask(ctx, id)
}

// panicky panics in the calls chosen.
type panicky struct {
	*fakeAPI
	onList, onCancel bool
}

func (p panicky) DescribeTaskSummaries(ctx context.Context, req tcapi.DescribeTasksRequest) (tcapi.DescribeTaskSummariesResponse, error) {
	if p.onList {
		bump(nil, "boom") // a nil map write: a real runtime panic
	}
	return p.fakeAPI.DescribeTaskSummaries(ctx, req)
}

func (p panicky) CancelTask(ctx context.Context, id string) (tcapi.CancelTaskResponse, error) {
	if p.onCancel {
		panic(fmt.Sprintf("cancel of %s exploded", id))
	}
	return p.fakeAPI.CancelTask(ctx, id)
}

func bump(m map[string]int, key string) { m[key]++ }

// TestPanicsEndAsReportErrors: a panic in the listing goroutine or in a
// cancel worker is a report error (and a failed task), never a crash, and
// the run goes on.
func TestPanicsEndAsReportErrors(t *testing.T) {
	t.Run("cancel worker", func(t *testing.T) {
		f := newFake("ams")
		f.add(5, "RUNNING", "LIVE_AUDIO", "", 3*time.Hour)
		set := testSettings()
		set.Concurrency = 2
		r := runSweep(t, map[string]Client{"ams": panicky{fakeAPI: f, onCancel: true}}, fixedClock, set)
		if r.Failed != 5 || len(r.Errors) != 5 || r.Errors[0].Code != CodePanic || !strings.Contains(r.Errors[0].Message, "exploded") {
			t.Fatalf("report %+v", r)
		}
		for _, fl := range r.Failures {
			if fl.Code != CodePanic {
				t.Errorf("failure %+v", fl)
			}
		}
	})
	t.Run("listing", func(t *testing.T) {
		f := newFake("vm")
		f.add(3, "RUNNING", "LIVE_VIDEO", "", 3*time.Hour)
		g := newFake("ams")
		g.add(3, "RUNNING", "LIVE_AUDIO", "", 3*time.Hour)
		set := testSettings()
		set.Services = []string{"vm", "ams"}
		r := runSweep(t, map[string]Client{"vm": panicky{fakeAPI: f, onList: true}, "ams": g}, fixedClock, set)
		if len(r.Errors) == 0 || r.Errors[0].Code != CodePanic || !strings.Contains(r.Errors[0].Message, "nil map") {
			t.Fatalf("report %+v", r)
		}
	})
}

// TestPageSizeHalved: when Tencent rejects the page size, the sweeper
// halves it (down to 10) and goes on; the report says which it used.
func TestPageSizeHalved(t *testing.T) {
	for _, tc := range []struct {
		name          string
		max, set      int
		want          int
		wantCancelled int
		wantErrors    int
	}{
		{"server takes 30 at most", 30, 100, 25, 40, 0},
		{"server takes the default only", 10, 100, 10, 40, 0},
		{"setting accepted", 100, 100, 100, 40, 0},
		{"server takes less than 10", 5, 100, 10, 0, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEmu(t, emulator.Options{MaxLimit: tc.max})
			for i := range 40 {
				e.add("ams", emulator.TypeLiveAudio, emulator.StatusRunning, "", 3*time.Hour+time.Duration(i)*time.Second)
			}
			set := testSettings()
			set.PageSize = tc.set
			r := runSweep(t, e.clients(t, 1000), e.clock, set)
			if r.PageSize != tc.want || r.Cancelled != tc.wantCancelled || len(r.Errors) != tc.wantErrors {
				t.Fatalf("PageSize %d, Cancelled %d, Errors %+v; want %d, %d, %d errors", r.PageSize, r.Cancelled, r.Errors, tc.want, tc.wantCancelled, tc.wantErrors)
			}
			b, _ := json.Marshal(r)
			if !strings.Contains(string(b), fmt.Sprintf(`"PageSize":%d`, tc.want)) {
				t.Errorf("report JSON lacks PageSize: %s", b)
			}
		})
	}
}

// TestListingAnswersNotTencent: DescribeTasks answers that are not Tencent
// successes are report errors, never a crash or a cancel.
func TestListingAnswersNotTencent(t *testing.T) {
	for _, body := range []string{`null`, `{}`, `{"Response":null}`, `{"Response":{}}`, `{"Response":{"Total":"1","Data":"x","RequestId":"r"}}`} {
		t.Run(body, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(body))
			}))
			defer srv.Close()
			m, err := tcapi.NewModeration("ams", tcapi.Credentials{SecretID: "AKIDX", SecretKey: "k"},
				tcapi.Options{Endpoint: srv.URL, Limiters: tcapi.NewLimiters(1000, 10), BaseDelay: time.Millisecond, MaxDelay: time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			r := runSweep(t, map[string]Client{"ams": m}, fixedClock, testSettings())
			if r.Cancelled != 0 || len(r.Errors) == 0 {
				t.Fatalf("report %+v", r)
			}
			for _, le := range r.Errors {
				if le.Code != tcapi.CodeInvalidResponse {
					t.Errorf("error %+v, want %s", le, tcapi.CodeInvalidResponse)
				}
			}
		})
	}
}

// TestCancelAnswersNotTencent: CancelTask answers that are not Tencent
// successes are failures (InvalidResponse), never a crash or a cancel; the
// listing (the real emulator behind a proxy) goes on.
func TestCancelAnswersNotTencent(t *testing.T) {
	for _, body := range []string{`null`, `{}`, `{"Response":null}`, `{"Response":{}}`, `[]`} {
		t.Run(body, func(t *testing.T) {
			e := newEmu(t, emulator.Options{})
			for i := range 3 {
				e.add("ams", emulator.TypeLiveAudio, emulator.StatusRunning, "", 3*time.Hour+time.Duration(i)*time.Second)
			}
			target, _ := url.Parse(e.ts.URL)
			rp := httputil.NewSingleHostReverseProxy(target)
			proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("X-TC-Action") == "CancelTask" {
					w.Header().Set("Content-Type", "application/json")
					_, _ = w.Write([]byte(body))
					return
				}
				rp.ServeHTTP(w, r)
			}))
			defer proxy.Close()
			e.ts = &httptest.Server{URL: proxy.URL}
			r := runSweep(t, e.clients(t, 1000), e.clock, testSettings())
			if r.Cancelled != 0 || r.Failed != 3 || len(r.Errors) != 0 {
				t.Fatalf("report %+v", r)
			}
			for _, f := range r.Failures {
				if f.Code != tcapi.CodeInvalidResponse {
					t.Errorf("failure %+v, want %s", f, tcapi.CodeInvalidResponse)
				}
			}
		})
	}
}

// TestRegionFromInvocation: without TENCENTCLOUD_REGION the sweeper calls
// Tencent in the invocation's region (TencentcloudRegion).
func TestRegionFromInvocation(t *testing.T) {
	t.Setenv("TENCENTCLOUD_REGION", "")
	e := newEmu(t, emulator.Options{})
	e.add("ams", emulator.TypeLiveAudio, emulator.StatusRunning, "", 3*time.Hour)
	var mu sync.Mutex
	regions := map[string]int{}
	rec := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		regions[r.Header.Get("X-TC-Region")]++
		mu.Unlock()
		e.srv.ServeHTTP(w, r)
	}))
	defer rec.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ctx = scf.NewContext(ctx, &scf.FunctionContext{RequestID: "req-1", Region: "ap-shanghai", Env: map[string]string{
		"TENCENTCLOUD_SECRETID": emulator.DefaultSecretID, "TENCENTCLOUD_SECRETKEY": emulator.DefaultSecretKey,
		"JANITOR_AMS_ENDPOINT": rec.URL, "JANITOR_SWEEP_RATE": "20",
	}})
	out, err := NewHandler(HandlerOptions{Now: e.clock}).Handle(ctx, []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	if r := out.(*Report); r.Cancelled != 1 {
		t.Fatalf("report %+v", r)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(regions) != 1 || regions["ap-shanghai"] == 0 {
		t.Errorf("X-TC-Region of the requests: %v, want ap-shanghai only", regions)
	}
}

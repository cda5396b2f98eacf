package sweep

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/emulator"
	"github.com/scf-janitor/scf-janitor/internal/testkit/logtest"
	"github.com/scf-janitor/scf-janitor/shared/notify"
	"github.com/scf-janitor/scf-janitor/shared/scf"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
	"github.com/scf-janitor/scf-janitor/shared/webhook"
)

// robot is a chat robot or webhook receiver on a real HTTP server.
type robot struct {
	mu     sync.Mutex
	bodies [][]byte
	heads  []http.Header
	status int // answer this (0 = 200)
	ts     *httptest.Server
}

func newRobot(t *testing.T, status int) *robot {
	r := &robot{status: status}
	r.ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.bodies = append(r.bodies, b)
		r.heads = append(r.heads, req.Header.Clone())
		r.mu.Unlock()
		if r.status != 0 {
			w.WriteHeader(r.status)
			return
		}
		_, _ = io.WriteString(w, `{"errcode":0,"errmsg":"ok"}`)
	}))
	t.Cleanup(r.ts.Close)
	return r
}

func (r *robot) received() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.bodies)
}

func addStale(e *emu, n int) {
	for i := range n {
		e.add("ams", "LIVE_AUDIO", "RUNNING", "", 3*time.Hour+time.Duration(i)*time.Second)
	}
}

func TestHandlerNotifiesWeComWithinItsLimit(t *testing.T) {
	t.Parallel()
	e := newEmu(t, emulator.Options{})
	addStale(e, 60)
	rb := newRobot(t, 0)
	url := rb.ts.URL + "/cgi-bin/webhook/send?key=robot-key-123"
	logger, logs := logtest.New("sweep-tasks")
	h := NewHandler(HandlerOptions{Logger: logger, Now: e.clock})
	out, err := h.Handle(invocationCtx(t, e, map[string]string{"JANITOR_NOTIFY_URL": url, "JANITOR_NOTIFY_FORMAT": "wecom"}), timerEvent(""))
	if err != nil {
		t.Fatal(err)
	}
	r := out.(*Report)
	checkInvariant(t, r)
	if r.Cancelled != 60 || r.NotifyError != "" {
		t.Fatalf("cancelled %d, NotifyError %q", r.Cancelled, r.NotifyError)
	}
	got := rb.received()
	if len(got) != 1 {
		t.Fatalf("%d notifications, want 1", len(got))
	}
	var msg struct {
		Msgtype  string
		Markdown struct{ Content string }
	}
	if err := json.Unmarshal(got[0], &msg); err != nil || msg.Msgtype != "markdown" {
		t.Fatalf("body %s: %v", got[0], err)
	}
	c := msg.Markdown.Content
	if len(c) > notify.MaxWeComBytes {
		t.Fatalf("content is %d bytes, over %d", len(c), notify.MaxWeComBytes)
	}
	lines := strings.Split(c, "\n")
	if !strings.HasPrefix(lines[0], "**sweep-tasks** account self: cancelled") || !strings.Contains(lines[1], "cancelled 60,") {
		t.Errorf("head %q", lines[:2])
	}
	listed := 0
	for _, l := range lines[2 : len(lines)-1] {
		if strings.HasPrefix(l, "- cancelled ams at-") {
			listed++
			if !strings.HasSuffix(l, ")") {
				t.Errorf("cut line %q", l)
			}
		}
	}
	if want := fmt.Sprintf("... and %d more (see the function's log)", 60-listed); lines[len(lines)-1] != want {
		t.Errorf("last line %q, want %q", lines[len(lines)-1], want)
	}
	logtest.AssertNoSecrets(t, logs.String(), "robot-key-123")
}

func TestHandlerNotifiesSignedJSONToTheEmulatorSink(t *testing.T) {
	t.Parallel()
	e := newEmu(t, emulator.Options{})
	addStale(e, 3)
	h := NewHandler(HandlerOptions{Now: e.clock})
	out, err := h.Handle(invocationCtx(t, e, map[string]string{
		"JANITOR_NOTIFY_URL": e.ts.URL + "/_emulator/notifications", "JANITOR_NOTIFY_SECRET": "notify-secret",
	}), timerEvent(""))
	if err != nil {
		t.Fatal(err)
	}
	r := out.(*Report)
	ns := e.srv.Notifications()
	if len(ns) != 1 {
		t.Fatalf("%d notifications, want 1", len(ns))
	}
	n := ns[0]
	if err := (webhook.Verifier{Secrets: []string{"notify-secret"}}).Verify(n.Signature, n.Body); err != nil {
		t.Fatalf("signature: %v", err)
	}
	var body struct {
		Function, RequestId   string
		Events                []string
		Cancelled, Candidates int
		Accounts              []AccountReport
		Tasks                 []TaskResult
		Failures              []Failure
	}
	if err := json.Unmarshal(n.Body, &body); err != nil {
		t.Fatal(err)
	}
	if body.Function != "sweep-tasks" || body.RequestId != "req-1" || !slices.Equal(body.Events, []string{"cancelled"}) ||
		body.Cancelled != 3 || len(body.Tasks) != 3 || len(body.Accounts) != 1 || body.Failures == nil {
		t.Errorf("body %s", n.Body)
	}
	if slices.ContainsFunc(body.Tasks, func(t TaskResult) bool { return t.Action != ActionCancelled }) || r.Cancelled != 3 {
		t.Errorf("tasks %+v", body.Tasks)
	}
}

func TestHandlerNotifyOn(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		stale    int
		env      map[string]string
		override string
		want     int
	}{
		{"nothing happened: default events", 0, nil, "", 0},
		{"nothing happened: always", 0, map[string]string{"JANITOR_NOTIFY_ON": "always"}, "", 1},
		{"cancelled but only failures wanted", 2, map[string]string{"JANITOR_NOTIFY_ON": "failed"}, "", 0},
		{"override wins", 2, map[string]string{"JANITOR_NOTIFY_ON": "failed"}, `{"notifyOn":["cancelled"]}`, 1},
		{"dry run by default: silent", 2, nil, `{"dryRun":true}`, 0},
		{"dry run wanted", 2, nil, `{"dryRun":true,"notifyOn":"dry-run"}`, 1},
		{"capped is stopped", 3, nil, `{"maxCancels":1,"notifyOn":["stopped"]}`, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEmu(t, emulator.Options{})
			addStale(e, tc.stale)
			rb := newRobot(t, 0)
			env := map[string]string{"JANITOR_NOTIFY_URL": rb.ts.URL + "/hook"}
			for k, v := range tc.env {
				env[k] = v
			}
			h := NewHandler(HandlerOptions{Now: e.clock})
			out, err := h.Handle(invocationCtx(t, e, env), timerEvent(tc.override))
			if err != nil {
				t.Fatal(err)
			}
			checkInvariant(t, out.(*Report))
			if got := len(rb.received()); got != tc.want {
				t.Errorf("%d notifications, want %d", got, tc.want)
			}
		})
	}
}

func TestHandlerNotifyFailureChangesNothing(t *testing.T) {
	t.Parallel()
	e := newEmu(t, emulator.Options{})
	addStale(e, 4)
	rb := newRobot(t, http.StatusInternalServerError)
	logger, logs := logtest.New("sweep-tasks")
	h := NewHandler(HandlerOptions{Logger: logger, Now: e.clock})
	out, err := h.Handle(invocationCtx(t, e, map[string]string{"JANITOR_NOTIFY_URL": rb.ts.URL + "/cgi-bin/webhook/send?key=robot-key-456"}), timerEvent(""))
	if err != nil {
		t.Fatalf("a failed notification failed the invocation: %v", err)
	}
	r := out.(*Report)
	checkInvariant(t, r)
	if r.Cancelled != 4 {
		t.Errorf("cancelled %d, want 4", r.Cancelled)
	}
	if n := len(rb.received()); n != 2 {
		t.Errorf("%d attempts, want 2 (one retry on a 5xx)", n)
	}
	if !strings.Contains(r.NotifyError, "HTTP 500") || !strings.Contains(r.NotifyError, "notify "+rb.ts.URL+" (") {
		t.Errorf("NotifyError %q", r.NotifyError)
	}
	b, _ := json.Marshal(r)
	logtest.AssertNoSecrets(t, logs.String()+string(b), "robot-key-456")
	if !strings.Contains(logs.String(), "notification not delivered") {
		t.Error("the failure is not logged")
	}
}

func TestHandlerRefusesBadNotifySettings(t *testing.T) {
	e := newEmu(t, emulator.Options{})
	h := NewHandler(HandlerOptions{Now: e.clock})
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"JANITOR_NOTIFY_URL": "ftp://x/y?key=k1"}, "JANITOR_NOTIFY_URL"},
		{map[string]string{"JANITOR_NOTIFY_FORMAT": "teams"}, "JANITOR_NOTIFY_FORMAT"},
		{map[string]string{"JANITOR_NOTIFY_ON": "sometimes"}, "JANITOR_NOTIFY_ON"},
		{map[string]string{"JANITOR_SWEEP_ROLES": "JanitorRole"}, "JANITOR_SWEEP_ROLES"},
		{map[string]string{"JANITOR_SWEEP_SELF": "false"}, "no account to sweep"},
		{map[string]string{"JANITOR_SWEEP_FANOUT": "sync"}, "JANITOR_SWEEP_FANOUT"},
		{map[string]string{"JANITOR_STS_ENDPOINT": "sts.local"}, "JANITOR_STS_ENDPOINT"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			_, err := h.Handle(invocationCtx(t, e, tc.env), timerEvent(""))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want it to name %s", err, tc.want)
			}
			if strings.Contains(err.Error(), "k1") {
				t.Errorf("error shows the URL's key: %v", err)
			}
		})
	}
}

const (
	uinA  = "100000000002"
	uinB  = "100000000003"
	roleA = "qcs::cam::uin/" + uinA + ":roleName/JanitorSweepTargetRole"
	roleB = "qcs::cam::uin/" + uinB + ":roleName/JanitorSweepTargetRole"
)

func addAccountStale(e *emu, account string, n int) {
	for i := range n {
		e.srv.AddTask(emulator.Task{Account: account, Service: "ams", Type: "LIVE_AUDIO", Status: "RUNNING",
			CreatedAt: epoch.Add(-3*time.Hour - time.Duration(i)*time.Second), Stuck: true})
	}
}

func TestHandlerSweepsAccountsThroughSTS(t *testing.T) {
	t.Parallel()
	// roleB trusts another account only: AssumeRole is refused for it.
	e := newEmu(t, emulator.Options{Roles: []emulator.Role{{Arn: roleA, Trusted: []string{""}}, {Arn: roleB, Trusted: []string{"100000000099"}}}})
	addStale(e, 2)
	addAccountStale(e, uinA, 3)
	addAccountStale(e, uinB, 4)
	logger, logs := logtest.New("sweep-tasks")
	h := NewHandler(HandlerOptions{Logger: logger, Now: e.clock})
	out, err := h.Handle(invocationCtx(t, e, map[string]string{
		"JANITOR_SWEEP_ROLES": roleA + "," + roleB, "JANITOR_STS_ENDPOINT": e.ts.URL, "TENCENTCLOUD_UIN": "100000000001",
	}), timerEvent(""))
	if err != nil {
		t.Fatal(err)
	}
	r := out.(*Report)
	checkInvariant(t, r)
	if r.Cancelled != 5 || len(r.Accounts) != 3 {
		t.Fatalf("cancelled %d in %d accounts, want 5 in 3: %+v", r.Cancelled, len(r.Accounts), r.Accounts)
	}
	self, a, b := r.Accounts[0], r.Accounts[1], r.Accounts[2]
	if self.Account != "100000000001" || self.Cancelled != 2 || a.Account != uinA || a.Role != roleA || a.Cancelled != 3 {
		t.Errorf("accounts %+v", r.Accounts)
	}
	if b.Account != uinB || len(b.Errors) != 1 || b.Errors[0].Code != "UnauthorizedOperation" || b.Cancelled != 0 {
		t.Errorf("refused account %+v", b)
	}
	if len(r.Errors) != 1 || r.Errors[0].Account != uinB {
		t.Errorf("report errors %+v", r.Errors)
	}
	for _, tk := range r.Tasks {
		if tk.Account != "100000000001" && tk.Account != uinA {
			t.Errorf("task %+v has no account", tk)
		}
	}
	for acct, want := range map[string]string{"": "CANCELLED", uinA: "CANCELLED", uinB: "RUNNING"} {
		for _, tk := range e.srv.AccountTasks(acct, "ams") {
			if tk.Status != want {
				t.Errorf("account %q task %s is %s, want %s", acct, tk.TaskId, tk.Status, want)
			}
		}
	}
	logtest.AssertNoSecrets(t, logs.String(), emulator.DefaultSecretKey, testToken)
}

// functionInvoker runs sweep-tasks for the emulator's SCF Invoke API, as
// scf-local's runner does: the invocation's event is a direct invocation of
// the same handler, with the invocation's environment.
type functionInvoker struct {
	t       *testing.T
	region  string // where the function exists
	h       *Handler
	env     func(requestID string) context.Context
	mu      sync.Mutex
	events  []string
	reports []*Report
}

func (f *functionInvoker) HasFunction(region, namespace, name string) bool {
	return region == f.region && namespace == "default" && name == "sweep-tasks"
}

func (f *functionInvoker) Invoke(_ context.Context, req emulator.InvokeRequest) (emulator.InvokeResult, error) {
	if !req.Async {
		f.t.Errorf("invocation %s is synchronous", req.RequestID)
	}
	f.mu.Lock()
	f.events = append(f.events, string(req.Event))
	f.mu.Unlock()
	out, err := f.h.Handle(f.env(req.RequestID), json.RawMessage(req.Event))
	if err != nil {
		return emulator.InvokeResult{ErrType: "Error", ErrMsg: err.Error()}, nil
	}
	f.mu.Lock()
	f.reports = append(f.reports, out.(*Report))
	f.mu.Unlock()
	b, _ := json.Marshal(out)
	return emulator.InvokeResult{Payload: b}, nil
}

func TestHandlerFansOutOneInvocationPerAccount(t *testing.T) {
	t.Parallel()
	e := newEmu(t, emulator.Options{Roles: []emulator.Role{{Arn: roleA}, {Arn: roleB}}})
	addStale(e, 1)
	addAccountStale(e, uinA, 2)
	addAccountStale(e, uinB, 3)
	env := map[string]string{"JANITOR_SWEEP_ROLES": roleA + "," + roleB, "JANITOR_STS_ENDPOINT": e.ts.URL,
		"JANITOR_SWEEP_FANOUT": "async", "JANITOR_NOTIFY_URL": e.ts.URL + "/_emulator/notifications",
		"TENCENTCLOUD_UIN": "100000000001", "JANITOR_SCF_ENDPOINT": e.ts.URL, "TENCENTCLOUD_REGION": "ap-guangzhou"}
	h := NewHandler(HandlerOptions{Now: e.clock})
	fi := &functionInvoker{t: t, region: "ap-guangzhou", h: h, env: func(requestID string) context.Context {
		ctx := invocationCtx(t, e, env)
		fc, _ := scf.FromContext(ctx)
		fc.RequestID = requestID
		return ctx
	}}
	e.srv.SetInvoker(fi)

	out, err := h.Handle(invocationCtx(t, e, env), timerEvent(`{"maxAge":"1h"}`))
	if err != nil {
		t.Fatal(err)
	}
	e.srv.WaitInvocations()
	r := out.(*Report)
	checkInvariant(t, r)
	if r.Cancelled != 0 || r.Candidates != 0 || len(r.Accounts) != 3 || len(r.Errors) != 0 {
		t.Fatalf("parent report %+v", r)
	}
	var ids []string
	for i, a := range r.Accounts {
		if !a.Dispatched || a.InvokeRequestId == "" {
			t.Errorf("account %d not dispatched: %+v", i, a)
		}
		ids = append(ids, a.InvokeRequestId)
	}
	// Each child got the parent's overrides and exactly one account.
	slices.Sort(fi.events)
	want := []string{
		`{"fanout":"none","maxAge":"1h","roles":["` + roleA + `"],"self":false}`,
		`{"fanout":"none","maxAge":"1h","roles":["` + roleB + `"],"self":false}`,
		`{"fanout":"none","maxAge":"1h","roles":[],"self":true}`,
	}
	if !slices.Equal(fi.events, want) {
		t.Errorf("child events\n%s\nwant\n%s", strings.Join(fi.events, "\n"), strings.Join(want, "\n"))
	}
	total := 0
	for _, cr := range fi.reports {
		checkInvariant(t, cr)
		if len(cr.Accounts) != 1 {
			t.Errorf("a child swept %d accounts", len(cr.Accounts))
		}
		total += cr.Cancelled
	}
	if len(fi.reports) != 3 || total != 6 {
		t.Errorf("%d children cancelled %d, want 3 children and 6", len(fi.reports), total)
	}
	for acct, n := range map[string]int{"": 1, uinA: 2, uinB: 3} {
		for _, tk := range e.srv.AccountTasks(acct, "ams") {
			if tk.Status != emulator.StatusCancelled {
				t.Errorf("account %q task %s is %s (of %d)", acct, tk.TaskId, tk.Status, n)
			}
		}
	}
	// Each child notified on its own, under its own request id; the parent
	// (nothing cancelled, nothing failed) did not.
	var notified []string
	for _, n := range e.srv.Notifications() {
		var body struct{ RequestId string }
		_ = json.Unmarshal(n.Body, &body)
		notified = append(notified, body.RequestId)
	}
	slices.Sort(notified)
	slices.Sort(ids)
	if !slices.Equal(notified, ids) {
		t.Errorf("notifications from %v, want one from each child %v", notified, ids)
	}
}

func TestFanoutReportsAFailedDispatch(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"Response":{"Error":{"Code":"ResourceNotFound.Function","Message":"no such function"},"RequestId":"r1"}}`)
	}))
	defer srv.Close()
	inv, err := tcapi.NewSCFInvoker(tcapi.Credentials{SecretID: "id", SecretKey: "key"}, tcapi.Options{Endpoint: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	f := &Fanout{Invoker: inv, Function: "sweep-tasks"}
	r := f.Run(context.Background(), DefaultSettings(), []Account{{ID: "self"}, {ID: uinA, Role: roleA}}, nil)
	checkInvariant(t, r)
	if len(r.Errors) != 2 || r.Errors[0].Code != "ResourceNotFound.Function" || r.Accounts[1].Dispatched {
		t.Errorf("report %+v", r)
	}
	if got := matchedEvents(DefaultSettings(), r); !slices.Equal(got, []string{NotifyOnStopped}) {
		t.Errorf("events %v, want stopped", got)
	}
}

// Several accounts through MultiSweep: totals add up, the report's lists stay
// within MaxReportTasks, the accounts share the cancels in flight, and one
// account's failure leaves the others alone.
func TestMultiSweepMergesAndShares(t *testing.T) {
	t.Parallel()
	fakes := map[string]*fakeAPI{}
	accts := []Account{{ID: "self"}, {ID: uinA, Role: roleA}, {ID: uinB, Role: roleB}, {ID: "broken", Role: "qcs::cam::uin/1:roleName/x"}}
	for _, a := range accts[:3] {
		f := newFake("ams")
		f.add(400, "RUNNING", "LIVE_AUDIO", "", 3*time.Hour)
		f.cancelDelay = time.Millisecond
		fakes[a.ID] = f
	}
	m := &MultiSweep{Accounts: accts, Now: func() time.Time { return epoch },
		Clients: func(_ context.Context, a Account, _ []string) (map[string]Client, error) {
			if f, ok := fakes[a.ID]; ok {
				return map[string]Client{"ams": f}, nil
			}
			return nil, &tcapi.Error{Service: "sts", Action: "AssumeRole", Code: "ResourceNotFound.RoleNotFound", Message: "no role"}
		}}
	set := testSettings()
	set.Concurrency = 8
	r := m.Run(context.Background(), set)
	checkInvariant(t, r)
	// Each account keeps its share of the list (a quarter: four accounts).
	if r.Cancelled != 1200 || len(r.Tasks) != 3*MaxReportTasks/4 || r.TasksOmitted != 1200-3*MaxReportTasks/4 {
		t.Errorf("cancelled %d, Tasks %d, omitted %d", r.Cancelled, len(r.Tasks), r.TasksOmitted)
	}
	if len(r.Accounts) != 4 || r.Accounts[3].Errors[0].Code != "ResourceNotFound.RoleNotFound" || len(r.Errors) != 1 {
		t.Errorf("accounts %+v, errors %+v", r.Accounts, r.Errors)
	}
	for id, f := range fakes {
		if f.maxInflight > share(8, len(accts)) {
			t.Errorf("account %s had %d cancels in flight, more than its share %d", id, f.maxInflight, share(8, len(accts)))
		}
	}
}

// TestHandlerNotifyURLOverride: whoever may invoke the sweeper may pick
// among the deployed notification URLs for a run, but naming another URL
// fails the invocation before anything is called: no sweep, no notification
// to the deployed robot, and nothing (signed or not) to the other address.
func TestHandlerNotifyURLOverride(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		override  func(deployed, other, evil string) string
		direct    bool
		wantErr   []string
		delivered [3]int // deployed, other deployed, evil
	}{
		{"timer names another URL", func(_, _, evil string) string { return `{"notifyUrl":` + q(evil) + `}` }, false,
			[]string{"per-run overrides", `override "notifyUrl"`, "is not one of the deployed notification URLs"}, [3]int{}},
		{"direct invocation names another URL", func(_, _, evil string) string { return `{"notifyUrl":` + q(evil) + `,"notifyOn":"always"}` }, true,
			[]string{`override "notifyUrl"`}, [3]int{}},
		{"another URL next to a deployed one", func(d, _, evil string) string { return `{"notifyUrl":[` + q(d) + `,` + q(evil) + `]}` }, true,
			[]string{`override "notifyUrl"`}, [3]int{}},
		{"one of the deployed", func(_, other, _ string) string { return `{"notifyUrl":` + q(other) + `}` }, true, nil, [3]int{0, 1, 0}},
		{"none this run", func(string, string, string) string { return `{"notifyUrl":[]}` }, false, nil, [3]int{}},
		{"only when", func(string, string, string) string { return `{"notifyOn":["always"]}` }, false, nil, [3]int{1, 1, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEmu(t, emulator.Options{})
			addStale(e, 2)
			deployed, other, evil := newRobot(t, 0), newRobot(t, 0), newRobot(t, 0)
			deployedURL := deployed.ts.URL + "/cgi-bin/webhook/send?key=deployed-key"
			otherURL := other.ts.URL + "/services/T0/B0/other-secret"
			evilURL := evil.ts.URL + "/collect/evil-path?token=evil-token"
			env := map[string]string{"JANITOR_NOTIFY_URL": deployedURL + "," + otherURL, "JANITOR_NOTIFY_FORMAT": "json",
				"JANITOR_NOTIFY_SECRET": "notify-secret"}
			override := tc.override(deployedURL, otherURL, evilURL)
			event := timerEvent(override)
			if tc.direct {
				event = json.RawMessage(override)
			}
			logger, logs := logtest.New("sweep-tasks")
			out, err := NewHandler(HandlerOptions{Logger: logger, Now: e.clock}).Handle(invocationCtx(t, e, env), event)
			got := [3]int{len(deployed.received()), len(other.received()), len(evil.received())}
			if got != tc.delivered {
				t.Errorf("notifications to deployed, other deployed, evil: %v, want %v", got, tc.delivered)
			}
			if tc.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				if r := out.(*Report); r.Cancelled != 2 || r.NotifyError != "" {
					t.Errorf("Cancelled %d, NotifyError %q", r.Cancelled, r.NotifyError)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted: %+v", out)
			}
			var ce *codedError
			if !errors.As(err, &ce) || ce.code != codeInvalidParameterValue {
				t.Errorf("err %T %v, want the %s validation error", err, err, codeInvalidParameterValue)
			}
			for _, w := range append(tc.wantErr, evil.ts.URL+" is not one") {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			for action, s := range e.srv.Stats().Actions {
				if s.Requests > 0 {
					t.Errorf("%s called %d times by a refused run", action, s.Requests)
				}
			}
			logtest.AssertNoSecrets(t, logs.String()+err.Error(), "deployed-key", "other-secret", "evil-path", "evil-token")
		})
	}
}

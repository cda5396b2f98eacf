package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/emulator"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
	"github.com/scf-janitor/scf-janitor/shared/webhook"
)

// TestEndToEnd runs scf-local on the project's own serverless.yml as a user
// would (a built binary, its stdout, HTTP, SIGINT): signed requests cancel a
// moderation task, a live audit and a transcription in the emulator, an
// unsigned one is refused, the sweeper's timer cancels every stale demo task
// and nothing young, and Ctrl-C leaves no process behind.
func TestEndToEnd(t *testing.T) {
	skipShort(t, "builds and runs every function")
	t.Parallel() // its own scf-local on free ports; it waits more than it computes
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	for _, fn := range []string{"cancel-task", "cancel-live-audit", "stop-transcription", "sweep-tasks"} {
		if _, err := os.Stat(filepath.Join(root, "functions", fn)); err != nil {
			t.Skipf("functions/%s is not written yet", fn)
		}
	}
	// Every wait below is bounded: CI runs this on 2 cores with an empty build
	// cache, so builds may be slow, but the test must fail, never hang.
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	bin := scfLocalBinary(t)

	start := time.Now()
	cmd := exec.CommandContext(ctx, bin, "--addr", "127.0.0.1:0", "--emulator-addr", "127.0.0.1:0", "--sweep-now",
		"--cron", "sweep-tasks=*/3 * * * * * *")
	cmd.Dir = root // serverless.yml is found as a user finds it: in the working directory
	// Settings in the developer's shell must not leak in: empty ones count as unset, so
	// each function gets a generated secret and the emulator's account settings.
	cmd.Env = os.Environ()
	for _, v := range []string{"JANITOR_CANCEL_TASK_SECRET", "JANITOR_CANCEL_LIVE_AUDIT_SECRET", "JANITOR_STOP_TRANSCRIPTION_SECRET",
		"JANITOR_CI_BUCKET", "JANITOR_CI_REGION", "JANITOR_TRTC_SDKAPPID"} {
		cmd.Env = append(cmd.Env, v+"=")
	}
	pr, pw, _ := os.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	out := newLines(pr)
	exited := make(chan struct{}) // closed when scf-local has exited; waitErr is then set
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		select {
		case <-exited:
			return
		default:
		}
		_ = cmd.Process.Kill() // its function processes die with it (SIGKILL on parent death)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			t.Errorf("scf-local (pid %d) did not exit within 15s of SIGKILL", cmd.Process.Pid)
		}
	})
	// Building the four functions from an empty build cache takes a while.
	out.wait(t, 5*time.Minute, 1, func(s string) bool { return strings.HasPrefix(s, "ready:") })
	ready := time.Now() // the first sweep (--sweep-now) starts about now
	gw := out.field(t, "gateway:")
	emu := out.field(t, "emulator:")
	secrets := map[string]string{}
	for _, route := range []string{"cancel-task", "cancel-live-audit", "stop-transcription"} {
		out.wait(t, time.Second, 1, func(s string) bool { return strings.Contains(s, "POST "+gw+"/"+route+" ") })
		secrets[route] = printedSecret(t, out, route)
	}
	if secrets["cancel-task"] == secrets["cancel-live-audit"] || secrets["cancel-task"] == secrets["stop-transcription"] {
		t.Fatalf("generated secrets are shared between functions: %v", secrets)
	}
	kids := children(t, cmd.Process.Pid)
	if len(kids) != 4 {
		t.Fatalf("want 4 function processes under scf-local, got %v", kids)
	}

	signed := func(route, body string) http.Header {
		h := http.Header{}
		h.Set("Content-Type", "application/json")
		h.Set(webhook.Header, webhook.Sign(secrets[route], time.Now(), []byte(body)))
		return h
	}
	// The banner's curl line for each webhook function works as printed (on a demo job).
	curlTask := ""
	for _, route := range []string{"cancel-task", "cancel-live-audit", "stop-transcription"} {
		line := printedCurl(t, out, route)
		if route == "cancel-task" {
			if m := regexp.MustCompile(`"TaskId":"([^"]+)"`).FindStringSubmatch(line); m != nil {
				curlTask = m[1]
			}
		}
		withStatus := strings.Replace(line, "curl -sS ", `curl -sS -w '\nstatus=%{http_code}' `, 1)
		res, err := exec.CommandContext(ctx, "bash", "-c", withStatus).CombinedOutput()
		if err != nil || !strings.Contains(string(res), "status=200") {
			t.Errorf("the printed curl line for %s: %v\n%s", route, err, res)
		}
	}
	// A request signed for one function is refused by another.
	{
		body := `{"TaskId":"any","Service":"ams"}`
		if status, _, resp := post(t, gw+"/cancel-task", signed("stop-transcription", body), body); status != http.StatusUnauthorized {
			t.Errorf("cancel-task accepted a body signed with stop-transcription's secret: %d %s", status, resp)
		}
	}
	var task emulator.Task
	emuPost(t, emu+"/_emulator/tasks", emulator.Task{Service: "ams", Type: "LIVE_AUDIO", Status: "RUNNING", BizType: "e2e", CreatedAt: time.Now(), Stuck: true}, &task)
	var job emulator.LiveJob
	emuPost(t, emu+"/_emulator/live-jobs", emulator.LiveJob{DataId: "e2e-room", Url: "rtmp://live.example.com/app/e2e", State: "Auditing", CreationTime: time.Now()}, &job)
	var tr emulator.Transcription
	emuPost(t, emu+"/_emulator/transcriptions", emulator.Transcription{SdkAppId: emulator.DefaultSdkAppID, RoomId: "e2e-room", Region: "ap-guangzhou", Status: "InProgress", StartTime: time.Now()}, &tr)

	t.Run("unsigned request is refused", func(t *testing.T) {
		body := fmt.Sprintf(`{"TaskId":%q,"Service":"ams"}`, task.TaskId)
		status, _, resp := post(t, gw+"/cancel-task", http.Header{"Content-Type": {"application/json"}}, body)
		if status != http.StatusUnauthorized || !strings.Contains(resp, "Error") {
			t.Fatalf("unsigned: %d %s, want 401 with an error body", status, resp)
		}
		if got := emuTask(t, emu, task.TaskId); got.Status != "RUNNING" {
			t.Fatalf("an unsigned request changed the task: %s", got.Status)
		}
	})
	t.Run("cancel-task", func(t *testing.T) {
		body := fmt.Sprintf(`{"TaskId":%q,"Service":"ams"}`, task.TaskId)
		status, _, resp := post(t, gw+"/cancel-task", signed("cancel-task", body), body)
		if status != 200 || !strings.Contains(resp, task.TaskId) || !strings.Contains(resp, "RequestId") {
			t.Fatalf("%d %s", status, resp)
		}
		if got := emuTask(t, emu, task.TaskId); got.Status != "CANCELLED" {
			t.Fatalf("task status %s after cancel-task, want CANCELLED", got.Status)
		}
	})
	t.Run("cancel-live-audit", func(t *testing.T) {
		body := fmt.Sprintf(`{"JobId":%q}`, job.JobId) // Bucket and Region from the function's defaults
		status, _, resp := post(t, gw+"/cancel-live-audit", signed("cancel-live-audit", body), body)
		if status != 200 || !strings.Contains(resp, job.JobId) || !strings.Contains(resp, "e2e-room") {
			t.Fatalf("%d %s: want the JobsDetail with its DataId", status, resp)
		}
		if j, ok := emuFind(t, emu+"/_emulator/live-jobs", func(j emulator.LiveJob) bool { return j.JobId == job.JobId }); ok && j.State != "Cancelled" {
			t.Fatalf("live job state %s, want Cancelled", j.State)
		}
	})
	t.Run("cancel-live-audit in a bucket that does not exist", func(t *testing.T) {
		body := fmt.Sprintf(`{"JobId":%q,"Bucket":"nosuch-1250000000","Region":"ap-guangzhou"}`, job.JobId)
		status, _, resp := post(t, gw+"/cancel-live-audit", signed("cancel-live-audit", body), body)
		if status != http.StatusNotFound || !strings.Contains(resp, `"NoSuchBucket"`) {
			t.Fatalf("%d %s: want the emulator's NoSuchBucket", status, resp)
		}
	})
	t.Run("stop-transcription", func(t *testing.T) {
		body := fmt.Sprintf(`{"TaskId":%q,"SdkAppId":%d,"Region":"ap-guangzhou"}`, tr.TaskId, emulator.DefaultSdkAppID)
		status, _, resp := post(t, gw+"/stop-transcription", signed("stop-transcription", body), body)
		if status != 200 || !strings.Contains(resp, tr.TaskId) {
			t.Fatalf("%d %s", status, resp)
		}
		if x, ok := emuFind(t, emu+"/_emulator/transcriptions", func(x emulator.Transcription) bool { return x.TaskId == tr.TaskId }); ok && x.Status != "Exited" {
			t.Fatalf("transcription status %s, want Exited", x.Status)
		}
	})

	// Cancelling again: the cancel fails, the function asks for the job's
	// state (ams:DescribeTaskDetail, ci:DescribeAuditingJobs,
	// trtc:DescribeCloudTranscription, which the roles' policies must allow)
	// and answers 409 "already ended".
	t.Run("second cancel: 409 from the state lookup", func(t *testing.T) {
		for route, body := range map[string]string{
			"cancel-task":        fmt.Sprintf(`{"TaskId":%q,"Service":"ams"}`, task.TaskId),
			"cancel-live-audit":  fmt.Sprintf(`{"JobId":%q}`, job.JobId),
			"stop-transcription": fmt.Sprintf(`{"TaskId":%q,"SdkAppId":%d,"Region":"ap-guangzhou"}`, tr.TaskId, emulator.DefaultSdkAppID),
		} {
			status, _, resp := post(t, gw+"/"+route, signed(route, body), body)
			if status != http.StatusConflict || !strings.Contains(resp, "already ended") {
				t.Errorf("%s again: %d %s, want 409 already ended", route, status, resp)
			}
		}
	})

	// The sweeper: --sweep-now plus the every-3-seconds --cron override.
	sweeps := out.wait(t, 2*time.Minute, 2, func(s string) bool {
		return strings.Contains(s, "sweep-tasks") && strings.Contains(s, " timer ") && strings.Contains(s, " ok ")
	})
	if !strings.Contains(sweeps[0], "Cancelled=") {
		t.Errorf("sweep line %q has no report summary", sweeps[0])
	}
	var tasks []emulator.Task
	emuGet(t, emu+"/_emulator/tasks?service=ams", &tasks)
	// serverless.yml's sweeper: older than JANITOR_SWEEP_MAX_AGE (2h) is stale; it looks back
	// JANITOR_SWEEP_LOOKBACK (72h), so older tasks are out of its reach, like Tencent's default window.
	const maxAge, lookback = 2 * time.Hour, 72 * time.Hour
	if maxAge != emulator.DemoStaleAge {
		t.Fatalf("the demo data's stale age %v differs from the sweeper's %v", emulator.DemoStaleAge, maxAge)
	}
	// Sweeps ran from about `ready` until now, each with the window (its now - lookback, its now - maxAge).
	// A task inside the first sweep's window must be cancelled; one outside every sweep's window must not.
	checked := time.Now()
	staleCancelled, stale := 0, 0
	for _, x := range tasks {
		mustCancel := x.CreatedAt.After(ready.Add(-lookback+time.Minute)) && x.CreatedAt.Before(ready.Add(-maxAge-time.Minute))
		mustKeep := x.CreatedAt.After(checked.Add(-maxAge+time.Minute)) || x.CreatedAt.Before(ready.Add(-lookback-time.Minute))
		age := checked.Sub(x.CreatedAt).Round(time.Minute)
		switch {
		case mustCancel && (x.Status == "RUNNING" || x.Status == "PENDING"):
			t.Errorf("stale ams task %s (%s, %s old) is still %s after the sweep", x.TaskId, x.Type, age, x.Status)
		case mustCancel && x.Status == "CANCELLED" && x.UpdatedAt.After(start):
			staleCancelled++
		case mustKeep && x.Status == "CANCELLED" && x.UpdatedAt.After(start) && x.TaskId != task.TaskId && x.TaskId != curlTask:
			t.Errorf("ams task %s (%s old, outside the sweep window) was cancelled", x.TaskId, age)
		}
		if mustCancel {
			stale++
		}
	}
	if staleCancelled == 0 {
		t.Errorf("the sweeper cancelled no stale demo task (of %d stale ams tasks)", stale)
	}
	t.Logf("sweeper cancelled %d stale ams tasks; lines: %q", staleCancelled, sweeps[0])

	// The sweeper notified the emulator's sink (scf-local's default JANITOR_NOTIFY_URL).
	var notes []emulator.Notification
	emuGet(t, emu+"/_emulator/notifications", &notes)
	notified := false
	for _, n := range notes {
		var body struct {
			Function  string
			Cancelled int
		}
		if json.Unmarshal(n.Body, &body) == nil && body.Function == "sweep-tasks" && body.Cancelled > 0 {
			notified = true
		}
	}
	if !notified {
		t.Errorf("no sweep notification with cancels at /_emulator/notifications: %d received", len(notes))
	}

	// Each timer run's report is in scf-local's local report bucket, under
	// the documented key with the run's request id (the sweep line's).
	var reports []emulator.COSObject
	emuGet(t, emu+"/_emulator/cos/"+localReportBucket+"/", &reports)
	if fields := strings.Fields(sweeps[0]); len(fields) < 6 || !slices.ContainsFunc(reports, func(o emulator.COSObject) bool {
		m := reReportKey.FindStringSubmatch(o.Key)
		return m != nil && m[5] == fields[5]
	}) {
		t.Errorf("no report of the sweep %q in the local bucket: %+v", sweeps[0], reports)
	}

	// Fan-out through the emulator's SCF Invoke API: a direct invocation with
	// "fanout":"async" asks for a child invocation of sweep-tasks, but the
	// project deploys JANITOR_SWEEP_FANOUT=none, so the sweeper's role has no
	// scf:InvokeFunction (scf-deploy grants it only with async) and, with
	// policies enforced as on Tencent, the dispatch is refused, naming the
	// action. TestSweepFanoutManyAccountsEnforced (policies_test.go) runs a
	// fan-out deployed with async.
	inv, err := tcapi.NewSCFInvoker(tcapi.Credentials{SecretID: emulator.DefaultSecretID, SecretKey: emulator.DefaultSecretKey},
		tcapi.Options{Endpoint: emu, Region: "ap-guangzhou"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := inv.Invoke(ctx, tcapi.InvokeRequest{FunctionName: "sweep-tasks", InvocationType: tcapi.InvokeSync,
		ClientContext: `{"fanout":"async","dryRun":true,"notifyOn":"always"}`})
	if err != nil {
		t.Fatalf("invoke sweep-tasks with fan-out: %v", err)
	}
	var parent struct {
		Accounts []struct {
			Dispatched bool
			Errors     []struct{ Code, Message string }
		}
	}
	if err := json.Unmarshal([]byte(res.Result.RetMsg), &parent); err != nil || len(parent.Accounts) != 1 || parent.Accounts[0].Dispatched ||
		len(parent.Accounts[0].Errors) != 1 || parent.Accounts[0].Errors[0].Code != "UnauthorizedOperation" ||
		!strings.Contains(parent.Accounts[0].Errors[0].Message, "(scf:InvokeFunction)") {
		t.Fatalf("fan-out parent answered %s (%v): want the dispatch refused with UnauthorizedOperation naming scf:InvokeFunction", res.Result.RetMsg, err)
	}

	// Ctrl-C: a clean exit and no function process left.
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
		if waitErr != nil {
			t.Fatalf("exit after SIGINT: %v; output:\n%s", waitErr, out.text())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("scf-local did not exit within 30s of SIGINT; output:\n%s", out.text())
	}
	for _, k := range kids {
		if alive(k.pid) {
			t.Errorf("function process %d (%s) survived scf-local", k.pid, k.exe)
		}
	}
	if strings.Contains(out.text(), "local-emulator-secret-key") {
		t.Error("the emulator's secret key appeared in the output")
	}
}

func emuPost(t *testing.T, url string, in, out any) {
	t.Helper()
	b, _ := json.Marshal(in)
	resp, err := http.Post(url, "application/json", strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
}

func emuGet(t *testing.T, url string, out any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
}

func emuTask(t *testing.T, emu, id string) emulator.Task {
	t.Helper()
	x, ok := emuFind(t, emu+"/_emulator/tasks?service=ams", func(x emulator.Task) bool { return x.TaskId == id })
	if !ok {
		t.Fatalf("task %s not in the emulator", id)
	}
	return x
}

// emuFind returns the first record of the emulator's list at url that match
// accepts, and whether there is one.
func emuFind[T any](t *testing.T, url string, match func(T) bool) (T, bool) {
	t.Helper()
	var list []T
	emuGet(t, url, &list)
	for _, x := range list {
		if match(x) {
			return x, true
		}
	}
	var zero T
	return zero, false
}

//go:build unix

package scflocal_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/scflocal"
	"github.com/scf-janitor/scf-janitor/internal/testkit/scflocaltest"
	"github.com/scf-janitor/scf-janitor/shared/scf"
)

// testfn builds internal/testfn once per test binary.
func testfn(tb testing.TB) string {
	tb.Helper()
	return scflocaltest.Binary(tb, "./internal/testfn")
}

func TestMain(m *testing.M) {
	code := m.Run()
	scflocaltest.Cleanup()
	os.Exit(code)
}

func start(t *testing.T, opts scflocal.ProcessOptions) *scflocal.Process {
	t.Helper()
	p, err := scflocal.StartProcess(context.Background(), testfn(t), opts)
	if err != nil {
		t.Fatalf("StartProcess: %v", err)
	}
	t.Cleanup(func() { p.Stop() })
	return p
}

type reply struct {
	Context     *scf.FunctionContext `json:"context"`
	DeadlineIn  time.Duration        `json:"deadlineIn"`
	ProcessEnv  []string             `json:"processEnv"`
	ChildPID    int                  `json:"childPid"`
	PayloadSeen string               `json:"payloadSeen"`
	Executable  string               `json:"executable"`
}

func invoke(t *testing.T, p *scflocal.Process, inv scflocal.Invocation) (scflocal.Result, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return p.Invoke(ctx, inv)
}

func invokeOK(t *testing.T, p *scflocal.Process, inv scflocal.Invocation) reply {
	t.Helper()
	res, err := invoke(t, p, inv)
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	if res.Error != nil {
		t.Fatalf("function error: %+v", res.Error)
	}
	var r reply
	if err := json.Unmarshal(res.Payload, &r); err != nil {
		t.Fatalf("reply %s: %v", res.Payload, err)
	}
	return r
}

func TestInvokeSendsWhatSCFSends(t *testing.T) {
	t.Setenv("SCFLOCAL_PARENT_ONLY", "parent")
	p := start(t, scflocal.ProcessOptions{Env: []string{"TENCENTCLOUD_REGION=ap-singapore", "SCF_FUNCTIONNAME=testfn"}})
	if err := p.Ping(); err != nil {
		t.Fatal(err)
	}
	r := invokeOK(t, p, scflocal.Invocation{
		Payload: []byte(`{"action":"echo"}`), RequestID: "req-42", Timeout: 5 * time.Second,
		Env:          map[string]string{"TENCENTCLOUD_SECRETID": "AKIDINVOCATION", "JANITOR_X": "1"},
		FunctionName: "testfn", Region: "ap-singapore", AppID: "1250000000", Uin: "100000000001",
	})
	fc := r.Context
	if fc == nil {
		t.Fatal("no FunctionContext")
	}
	if fc.RequestID != "req-42" || fc.FunctionName != "testfn" || fc.Namespace != "default" || fc.FunctionVersion != "$LATEST" ||
		fc.MemoryLimitInMB != scflocal.DefaultMemoryMB || fc.TimeLimitInMs != 5000 || fc.Region != "ap-singapore" ||
		fc.AppID != "1250000000" || fc.Uin != "100000000001" {
		t.Errorf("FunctionContext = %+v", fc)
	}
	if fc.Env["TENCENTCLOUD_SECRETID"] != "AKIDINVOCATION" || fc.Env["JANITOR_X"] != "1" {
		t.Errorf("Env = %v", fc.Env)
	}
	if r.DeadlineIn <= 3*time.Second || r.DeadlineIn > 5*time.Second {
		t.Errorf("deadline in %s, want just under 5s", r.DeadlineIn)
	}
	if r.PayloadSeen != `{"action":"echo"}` {
		t.Errorf("payload = %q", r.PayloadSeen)
	}
	for _, want := range []string{"TENCENTCLOUD_REGION=ap-singapore", "SCF_FUNCTIONNAME=testfn", "_LAMBDA_SERVER_HOST=127.0.0.1"} {
		if !slices.Contains(r.ProcessEnv, want) {
			t.Errorf("process env lacks %s: %v", want, r.ProcessEnv)
		}
	}
	for _, kv := range r.ProcessEnv {
		if strings.HasPrefix(kv, "SCFLOCAL_PARENT_ONLY=") || strings.HasPrefix(kv, "TENCENTCLOUD_SECRETID=") {
			t.Errorf("process env has %s", kv)
		}
	}
	if !strings.HasPrefix(p.Addr(), "127.0.0.1:") {
		t.Errorf("Addr = %q", p.Addr())
	}

	// Defaults: a generated request id, the default timeout, no Environment.
	r = invokeOK(t, p, scflocal.Invocation{Payload: []byte(`{"action":"echo"}`)})
	if len(r.Context.RequestID) != 36 || r.Context.TimeLimitInMs != 3000 || r.Context.Env != nil {
		t.Errorf("defaults: %+v", r.Context)
	}
}

func TestInheritEnv(t *testing.T) {
	t.Setenv("SCFLOCAL_PARENT_ONLY", "parent")
	p := start(t, scflocal.ProcessOptions{InheritEnv: true})
	r := invokeOK(t, p, scflocal.Invocation{Payload: []byte(`{"action":"echo"}`)})
	if !slices.Contains(r.ProcessEnv, "SCFLOCAL_PARENT_ONLY=parent") {
		t.Errorf("InheritEnv: process env lacks the parent's variable")
	}
}

func TestExpiredDeadline(t *testing.T) {
	p := start(t, scflocal.ProcessOptions{})
	r := invokeOK(t, p, scflocal.Invocation{Payload: []byte(`{"action":"echo"}`), Deadline: time.Now().Add(-time.Second)})
	if r.DeadlineIn > 0 {
		t.Errorf("deadline in %s, want it passed", r.DeadlineIn)
	}
}

func TestConcurrentInvokes(t *testing.T) {
	p := start(t, scflocal.ProcessOptions{})
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() {
			id := "req-" + string(rune('a'+i))
			res, err := invoke(t, p, scflocal.Invocation{Payload: []byte(`{"action":"echo"}`), RequestID: id})
			if err != nil || res.Error != nil {
				t.Errorf("invoke %s: %v %+v", id, err, res.Error)
				return
			}
			var r reply
			if err := json.Unmarshal(res.Payload, &r); err != nil || r.Context.RequestID != id {
				t.Errorf("invoke %s got reply for %+v (%v)", id, r.Context, err)
			}
		})
	}
	wg.Wait()
}

func TestProcessDiesMidInvocation(t *testing.T) {
	p := start(t, scflocal.ProcessOptions{})
	_, err := invoke(t, p, scflocal.Invocation{Payload: []byte(`{"action":"exit"}`)})
	if !errors.Is(err, scflocal.ErrStopped) || !strings.Contains(err.Error(), "exit status 3") || !strings.Contains(err.Error(), "testfn: dying") {
		t.Fatalf("err = %v, want ErrStopped with the exit status and output", err)
	}
	if !p.Exited() {
		t.Error("Exited() = false after the process died")
	}
	if err := p.Ping(); err == nil {
		t.Error("Ping succeeded on a dead process")
	}
	if err := p.Restart(context.Background()); err != nil {
		t.Fatalf("Restart: %v", err)
	}
	invokeOK(t, p, scflocal.Invocation{Payload: []byte(`{"action":"echo"}`)})
}

func TestOverrunningInvocationIsStopped(t *testing.T) {
	p := start(t, scflocal.ProcessOptions{StopTimeout: 500 * time.Millisecond})
	oldPid := p.Pid()
	begin := time.Now()
	res, err := invoke(t, p, scflocal.Invocation{Payload: []byte(`{"action":"hang"}`), Timeout: 100 * time.Millisecond})
	elapsed := time.Since(begin)
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	if res.Error == nil || res.Error.Type != "TimeoutError" || !res.Error.ShouldExit {
		t.Fatalf("result error = %+v, want a TimeoutError with ShouldExit", res.Error)
	}
	if max := 100*time.Millisecond + scflocal.TimeoutGrace + 2*time.Second; elapsed > max {
		t.Errorf("Invoke took %s, want under %s", elapsed, max)
	}
	if !p.Exited() || processAlive(oldPid) {
		t.Error("the overrunning process is still running")
	}
	if err := p.Restart(context.Background()); err != nil {
		t.Fatal(err)
	}
	if p.Pid() == oldPid {
		t.Error("Restart kept the old pid")
	}
	invokeOK(t, p, scflocal.Invocation{Payload: []byte(`{"action":"echo"}`)})
}

func TestInvokeHonoursContext(t *testing.T) {
	p := start(t, scflocal.ProcessOptions{StopTimeout: 200 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := p.Invoke(ctx, scflocal.Invocation{Payload: []byte(`{"action":"hang"}`), Timeout: time.Minute})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want context.DeadlineExceeded", err)
	}
}

func TestStopLeavesNoProcesses(t *testing.T) {
	p := start(t, scflocal.ProcessOptions{})
	pid := p.Pid()
	r := invokeOK(t, p, scflocal.Invocation{Payload: []byte(`{"action":"spawn"}`)})
	if r.ChildPID == 0 || !processAlive(r.ChildPID) {
		t.Fatalf("child not running: %+v", r)
	}
	if err := p.Stop(); err != nil {
		t.Errorf("Stop: %v", err)
	}
	if processAlive(pid) {
		t.Errorf("function process %d still running", pid)
	}
	waitGone(t, r.ChildPID)
	if err := p.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	if _, err := invoke(t, p, scflocal.Invocation{Payload: []byte(`{}`)}); !errors.Is(err, scflocal.ErrStopped) {
		t.Errorf("Invoke after Stop: %v, want ErrStopped", err)
	}
	if p.Addr() != "" || p.Pid() != 0 || !p.Exited() {
		t.Errorf("after Stop: Addr %q Pid %d Exited %v", p.Addr(), p.Pid(), p.Exited())
	}
}

func TestStopKillsAProcessIgnoringSIGTERM(t *testing.T) {
	p := start(t, scflocal.ProcessOptions{StopTimeout: 200 * time.Millisecond})
	pid := p.Pid()
	invokeOK(t, p, scflocal.Invocation{Payload: []byte(`{"action":"ignore-term"}`)})
	err := p.Stop()
	if err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("Stop = %v, want an error saying it killed the process", err)
	}
	if processAlive(pid) {
		t.Errorf("process %d survived Stop", pid)
	}
}

func TestStartFailures(t *testing.T) {
	t.Run("exits at start", func(t *testing.T) {
		_, err := scflocal.StartProcess(context.Background(), testfn(t), scflocal.ProcessOptions{Env: []string{"TESTFN_FAIL_AT_START=1"}})
		if err == nil || !strings.Contains(err.Error(), "exited before answering Ping") || !strings.Contains(err.Error(), "testfn: refusing to start") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("never serves", func(t *testing.T) {
		_, err := scflocal.StartProcess(context.Background(), testfn(t), scflocal.ProcessOptions{
			Env: []string{"TESTFN_NO_SERVE=1"}, StartTimeout: 300 * time.Millisecond, StopTimeout: 200 * time.Millisecond,
		})
		if err == nil || !strings.Contains(err.Error(), "no answer to Ping") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("no such binary", func(t *testing.T) {
		_, err := scflocal.StartProcess(context.Background(), filepath.Join(t.TempDir(), "missing"), scflocal.ProcessOptions{})
		if err == nil {
			t.Error("no error")
		}
	})
}

func TestBuildFailureShowsCompilerOutput(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module broken\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n\nfunc main() { undefinedThing() }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, build := range map[string]func(context.Context, string, string, ...string) error{
		"Build": scflocal.Build, "BuildLocal": scflocal.BuildLocal,
	} {
		err := build(context.Background(), dir, filepath.Join(dir, "out"))
		if err == nil || !strings.Contains(err.Error(), "undefined: undefinedThing") {
			t.Errorf("%s: err = %v, want the compiler's message", name, err)
		}
	}
}

func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	if err != nil {
		return false
	}
	// A zombie still answers kill 0; treat it as gone.
	b, err := os.ReadFile(filepath.Join("/proc", itoa(pid), "stat"))
	if err == nil {
		fields := strings.Fields(string(b))
		if len(fields) > 2 && fields[2] == "Z" {
			return false
		}
	}
	return true
}

func waitGone(t *testing.T, pid int) {
	t.Helper()
	for range 100 {
		if !processAlive(pid) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("process %d still running", pid)
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

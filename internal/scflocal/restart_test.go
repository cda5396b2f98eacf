//go:build unix

package scflocal_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/scflocal"
)

// restarts collects OnRestart events.
type restarts struct {
	mu  sync.Mutex
	evs []scflocal.RestartEvent
}

func (r *restarts) add(ev scflocal.RestartEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.evs = append(r.evs, ev)
}

func (r *restarts) list() []scflocal.RestartEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]scflocal.RestartEvent(nil), r.evs...)
}

// TestKill9UnderLoadRestartsOnce kills the function process while several
// callers keep invoking it: exactly one new process starts, the callers
// whose invocation was on the dead process get a transport error, and every
// other invocation (including those arriving during the restart) succeeds.
func TestKill9UnderLoadRestartsOnce(t *testing.T) {
	var rs restarts
	p := start(t, scflocal.ProcessOptions{AutoRestart: true, OnRestart: rs.add})
	const callers = 8
	var ok, failed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				res, err := invoke(t, p, scflocal.Invocation{Payload: []byte(`{"action":"sleep","ms":5}`), Timeout: 20 * time.Second})
				switch {
				case err != nil:
					failed.Add(1)
				case res.Error != nil:
					t.Errorf("function error: %+v", res.Error)
				default:
					ok.Add(1)
				}
			}
		})
	}
	waitFor(t, func() bool { return ok.Load() >= 20 })
	old := p.Pid()
	if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return len(rs.list()) == 1 })
	before := ok.Load()
	waitFor(t, func() bool { return ok.Load() >= before+50 })
	close(stop)
	wg.Wait()

	if got := p.Starts(); got != 2 {
		t.Errorf("Starts() = %d after one kill -9, want 2 (the first and one replacement); restarts %+v", got, rs.list())
	}
	evs := rs.list()
	if len(evs) != 1 || evs[0].Err != nil || evs[0].Pid == 0 || evs[0].Pid == old || evs[0].Reason == "" {
		t.Errorf("restart events %+v, want one successful replacement with a reason", evs)
	}
	if f := failed.Load(); f > callers {
		t.Errorf("%d invocations failed, want at most the %d that can be in flight on the killed process", f, callers)
	}
	t.Logf("ok %d, failed %d, restart took %s because %s", ok.Load(), failed.Load(), evs[0].Took, evs[0].Reason)
}

// TestPanicReplacesBehindInFlight: after a panic (ShouldExit) the invocations
// already queued on that instance still complete there, new ones go to one
// new instance, and the old one is stopped once drained.
func TestPanicReplacesBehindInFlight(t *testing.T) {
	var rs restarts
	p := start(t, scflocal.ProcessOptions{AutoRestart: true, OnRestart: rs.add})
	old := p.Pid()
	// A slow invocation holds the instance; a panic and more calls queue behind it.
	var wg sync.WaitGroup
	results := make([]string, 6)
	for i := range results {
		payload := `{"action":"sleep","ms":300}`
		switch {
		case i == 1:
			payload = `{"action":"panic"}`
		case i > 1:
			payload = `{"action":"echo"}`
		}
		wg.Go(func() {
			res, err := invoke(t, p, scflocal.Invocation{Payload: []byte(payload), Timeout: 20 * time.Second})
			switch {
			case err != nil:
				results[i] = "transport: " + err.Error()
			case res.Error != nil:
				results[i] = "error: " + res.Error.Type
			default:
				results[i] = "ok"
			}
		})
		if i == 0 {
			time.Sleep(50 * time.Millisecond) // the slow one first (order only; no timing is asserted)
		}
	}
	wg.Wait()
	for i, r := range results {
		want := "ok"
		if i == 1 {
			want = "error: string"
		}
		if r != want {
			t.Errorf("invocation %d: %s, want %s", i, r, want)
		}
	}
	waitFor(t, func() bool { return !processAlive(old) })
	invokeOK(t, p, scflocal.Invocation{Payload: []byte(`{"action":"echo"}`)})
	if got := p.Starts(); got != 2 {
		t.Errorf("Starts() = %d, want 2", got)
	}
	if p.Pid() == old {
		t.Error("the instance that panicked still serves")
	}
}

// TestWaitForReplacementWithinDeadline: an invocation arriving while the
// replacement starts waits for it; one whose deadline passes first gets a
// TimeoutError without reaching the function.
func TestWaitForReplacementWithinDeadline(t *testing.T) {
	slow := start(t, scflocal.ProcessOptions{AutoRestart: true, Env: []string{"TESTFN_START_DELAY_MS=1500"}})
	if err := syscall.Kill(slow.Pid(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return slow.Exited() })
	// Deadline already over: no wait, a TimeoutError.
	res, err := invoke(t, slow, scflocal.Invocation{Payload: []byte(`{"action":"echo"}`), Deadline: time.Now().Add(-time.Millisecond)})
	if err != nil || res.Error == nil || res.Error.Type != "TimeoutError" || res.Error.ShouldExit {
		t.Fatalf("got %+v, %v: want a TimeoutError for an invocation whose deadline passed while waiting", res.Error, err)
	}
	// A generous deadline waits for the (slow) new instance.
	r := invokeOK(t, slow, scflocal.Invocation{Payload: []byte(`{"action":"echo"}`), Timeout: 30 * time.Second})
	if r.Context == nil {
		t.Fatal("no reply")
	}
	if got := slow.Starts(); got != 2 {
		t.Errorf("Starts() = %d, want 2", got)
	}
}

func TestResultLogAndPeakRSS(t *testing.T) {
	p := start(t, scflocal.ProcessOptions{})
	res, err := invoke(t, p, scflocal.Invocation{Payload: []byte(`{"action":"log"}`), RequestID: "req-log", WantLog: true})
	if err != nil || res.Error != nil {
		t.Fatalf("%v %+v", err, res.Error)
	}
	if !strings.Contains(res.Log, "testfn: log req-log") {
		t.Errorf("Log = %q, want the function's output; all output %q", res.Log, p.Output())
	}
	var r reply
	if err := json.Unmarshal(res.Payload, &r); err != nil {
		t.Fatal(err)
	}
	if res.PeakRSS < 1<<20 || res.PeakRSS > 1<<30 {
		t.Errorf("PeakRSS = %d bytes, want a Go process's (MBs)", res.PeakRSS)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 60s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestReload switches to a rebuilt binary: in-flight invocations finish on
// the old process, new ones reach the new binary, and a binary that cannot
// start leaves the old one serving.
func TestReload(t *testing.T) {
	p := start(t, scflocal.ProcessOptions{AutoRestart: true})
	old := p.Pid()
	next := filepath.Join(t.TempDir(), "testfn-v2")
	b, err := os.ReadFile(testfn(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(next, b, 0o755); err != nil {
		t.Fatal(err)
	}
	slow := make(chan error, 1)
	go func() {
		res, err := invoke(t, p, scflocal.Invocation{Payload: []byte(`{"action":"sleep","ms":500}`), Timeout: 20 * time.Second})
		if err == nil && res.Error != nil {
			err = errors.New(res.Error.Message)
		}
		slow <- err
	}()
	time.Sleep(100 * time.Millisecond) // let the slow call start (it only makes the drain visible; nothing depends on its timing)
	if err := p.Reload(context.Background(), next); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	if err := <-slow; err != nil {
		t.Errorf("the invocation in flight during the reload: %v, want it finished by the old process", err)
	}
	r := invokeOK(t, p, scflocal.Invocation{Payload: []byte(`{"action":"echo"}`)})
	if r.Executable != next || p.Pid() == old {
		t.Errorf("after Reload the function runs %s (pid %d, was %d), want %s", r.Executable, p.Pid(), old, next)
	}
	waitFor(t, func() bool { return !processAlive(old) })

	cur := p.Pid()
	if err := p.Reload(context.Background(), filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("Reload of a missing binary succeeded")
	}
	if r := invokeOK(t, p, scflocal.Invocation{Payload: []byte(`{"action":"echo"}`)}); r.Executable != next || p.Pid() != cur {
		t.Errorf("after a failed Reload: %s pid %d, want the previous %s pid %d", r.Executable, p.Pid(), next, cur)
	}
}

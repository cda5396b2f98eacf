package scf_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/rpc"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/google/go-cmp/cmp"

	"github.com/scf-janitor/scf-janitor/internal/testkit/stoptest"
	"github.com/scf-janitor/scf-janitor/shared/scf"
)

// serve runs scf.Serve for h on a loopback listener and returns an rpc
// client; everything is torn down at the end of the test.
func serve(t *testing.T, h any) *rpc.Client {
	t.Helper()
	client, _ := serveWithCancel(t, h)
	return client
}

func serveWithCancel(t *testing.T, h any) (*rpc.Client, func() error) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- scf.Serve(ctx, lis, lambda.NewHandler(h)) }()
	client, err := rpc.Dial("tcp", lis.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	var serveErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case serveErr = <-done:
			case <-time.After(10 * time.Second):
				serveErr = errors.New("Serve did not return")
			}
		})
		return serveErr
	}
	// The client closes last: closing it while a reply is on its way would
	// end that call with rpc.ErrShutdown, whatever Serve sent.
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("Serve: %v", err)
		}
		client.Close()
	})
	return client, stop
}

func call(t *testing.T, c *rpc.Client, req *scf.InvokeRequest) scf.InvokeResponse {
	t.Helper()
	var resp scf.InvokeResponse
	if err := c.Call("Function.Invoke", req, &resp); err != nil {
		t.Fatalf("Function.Invoke: %v", err)
	}
	return resp
}

func deadlineIn(d time.Duration) scf.Deadline {
	dl := time.Now().Add(d)
	return scf.Deadline{Seconds: dl.Unix(), Nanos: int64(dl.Nanosecond())}
}

func TestPing(t *testing.T) {
	c := serve(t, func() {})
	if err := c.Call("Function.Ping", scf.PingRequest{}, &scf.PingResponse{}); err != nil {
		t.Fatal(err)
	}
}

func TestInvokeContext(t *testing.T) {
	var got *scf.FunctionContext
	var gotDeadline time.Time
	var lambdaID string
	c := serve(t, func(ctx context.Context, in json.RawMessage) (json.RawMessage, error) {
		got, _ = scf.FromContext(ctx)
		gotDeadline, _ = ctx.Deadline()
		if lc, ok := lambdacontext.FromContext(ctx); ok {
			lambdaID = lc.AwsRequestID
		}
		return in, nil
	})
	dl := time.Now().Add(2 * time.Second).Truncate(time.Microsecond)
	resp := call(t, c, &scf.InvokeRequest{
		Payload: []byte(`{"echo":true}`), RequestId: "req-1", TraceId: "trace-1",
		Deadline:  scf.Deadline{Seconds: dl.Unix(), Nanos: int64(dl.Nanosecond())},
		Namespace: "default", FunctionName: "cancel-task", FunctionVersion: "$LATEST",
		MemoryLimitInMb: 128, TimeLimitInMs: 2000, Environment: `{"A":"1"}`,
		TencentcloudRegion: "ap-guangzhou", TencentcloudAppID: "1250000000", TencentcloudUin: "100000000001",
	})
	if resp.Error != nil || string(resp.Payload) != `{"echo":true}` {
		t.Fatalf("resp = %s, %+v", resp.Payload, resp.Error)
	}
	want := scf.FunctionContext{
		RequestID: "req-1", TraceID: "trace-1", FunctionName: "cancel-task", Namespace: "default",
		FunctionVersion: "$LATEST", Region: "ap-guangzhou", AppID: "1250000000", Uin: "100000000001",
		MemoryLimitInMB: 128, TimeLimitInMs: 2000, Deadline: dl.UTC(), Env: map[string]string{"A": "1"},
	}
	if got == nil || got.Env["A"] != "1" {
		t.Fatalf("FunctionContext = %+v", got)
	}
	if diff := cmp.Diff(want, *got); diff != "" {
		t.Errorf("FunctionContext mismatch (-want +got):\n%s", diff)
	}
	if !gotDeadline.Equal(dl) {
		t.Errorf("ctx deadline = %s, want %s", gotDeadline, dl)
	}
	if lambdaID != "req-1" {
		t.Errorf("lambdacontext request id = %q", lambdaID)
	}
}

func TestGetenvIsPerInvocation(t *testing.T) {
	t.Setenv("JANITOR_FROM_PROCESS", "process")
	type out struct{ Secret, FromProcess, Overridden string }
	c := serve(t, func(ctx context.Context) (out, error) {
		v, ok := scf.LookupEnv(ctx, "JANITOR_EMPTY")
		if ok && v != "" {
			return out{}, errors.New("empty value not kept")
		}
		return out{
			Secret:      scf.Getenv(ctx, "TENCENTCLOUD_SECRETKEY"),
			FromProcess: scf.Getenv(ctx, "JANITOR_FROM_PROCESS"),
			Overridden:  scf.GetenvFunc(ctx)("JANITOR_OVERRIDE"),
		}, nil
	})
	t.Setenv("JANITOR_OVERRIDE", "process")
	for i, tt := range []struct {
		env  string
		want out
	}{
		{`{"TENCENTCLOUD_SECRETKEY":"k1","JANITOR_OVERRIDE":"invocation","JANITOR_EMPTY":""}`, out{"k1", "process", "invocation"}},
		{`{"TENCENTCLOUD_SECRETKEY":"k2"}`, out{"k2", "process", "process"}},
		{``, out{"", "process", "process"}},
		{`{"TENCENTCLOUD_SECRETKEY":null,"N":5}`, out{"", "process", "process"}},
	} {
		resp := call(t, c, &scf.InvokeRequest{Payload: []byte(`{}`), Deadline: deadlineIn(time.Second), Environment: tt.env})
		if resp.Error != nil {
			t.Fatalf("invocation %d: %+v", i, resp.Error)
		}
		var got out
		if err := json.Unmarshal(resp.Payload, &got); err != nil {
			t.Fatal(err)
		}
		if got != tt.want {
			t.Errorf("invocation %d (env %s): got %+v, want %+v", i, tt.env, got, tt.want)
		}
	}
}

func TestGetenvOutsideInvocation(t *testing.T) {
	t.Setenv("JANITOR_X", "os")
	if got := scf.Getenv(context.Background(), "JANITOR_X"); got != "os" {
		t.Errorf("Getenv = %q", got)
	}
	if _, ok := scf.FromContext(context.Background()); ok {
		t.Error("FromContext found a FunctionContext in Background")
	}
}

func TestInvalidEnvironment(t *testing.T) {
	var called atomic.Bool
	c := serve(t, func() { called.Store(true) })
	resp := call(t, c, &scf.InvokeRequest{Deadline: deadlineIn(time.Second), Environment: `["not","an","object"]`})
	if resp.Error == nil || resp.Error.Type != "InvalidEnvironment" || !strings.Contains(resp.Error.Message, "Environment") {
		t.Errorf("error = %+v", resp.Error)
	}
	if called.Load() {
		t.Error("handler ran with an invalid Environment")
	}
}

type cancelError struct{ id string }

func (e *cancelError) Error() string { return "cancel " + e.id + ": not found" }

type codedError struct{ code string }

func (e *codedError) Error() string     { return "failed with " + e.code }
func (e *codedError) ErrorCode() string { return e.code }

func TestHandlerErrors(t *testing.T) {
	c := serve(t, func(ctx context.Context, in struct{ Kind string }) (string, error) {
		switch in.Kind {
		case "typed":
			return "", &cancelError{id: "t-1"}
		case "typed-wrapped":
			return "", fmt.Errorf("handler: %w", &cancelError{id: "t-2"})
		case "coded-wrapped":
			return "", fmt.Errorf("handler: %w", &codedError{code: "ResourceNotFound.Task"})
		case "plain-wrapped":
			return "", fmt.Errorf("handler: %w", errors.New("plain"))
		case "wrapped":
			return "", &scf.InvokeError{Type: "ResourceNotFound", Message: "no such task"}
		case "deadline":
			<-ctx.Done()
			return "", ctx.Err()
		}
		return "ok", nil
	})
	tests := []struct {
		payload string
		want    scf.InvokeError
	}{
		{`{"Kind":"typed"}`, scf.InvokeError{Type: "cancelError", Message: "cancel t-1: not found"}},
		{`{"Kind":"typed-wrapped"}`, scf.InvokeError{Type: "cancelError", Message: "handler: cancel t-2: not found"}},
		{`{"Kind":"coded-wrapped"}`, scf.InvokeError{Type: "ResourceNotFound.Task", Message: "handler: failed with ResourceNotFound.Task"}},
		{`{"Kind":"plain-wrapped"}`, scf.InvokeError{Type: "errorString", Message: "handler: plain"}},
		{`{"Kind":"wrapped"}`, scf.InvokeError{Type: "ResourceNotFound", Message: "no such task"}},
		{`{"Kind":"deadline"}`, scf.InvokeError{Type: "deadlineExceededError", Message: "context deadline exceeded"}},
		{`not json`, scf.InvokeError{Type: "SyntaxError", Message: "invalid character 'o' in literal null (expecting 'u')"}},
	}
	for _, tt := range tests {
		t.Run(tt.payload, func(t *testing.T) {
			resp := call(t, c, &scf.InvokeRequest{Payload: []byte(tt.payload), Deadline: deadlineIn(200 * time.Millisecond)})
			if resp.Error == nil {
				t.Fatalf("payload %s, want error %+v", resp.Payload, tt.want)
			}
			if resp.Error.Type != tt.want.Type || resp.Error.Message != tt.want.Message || resp.Error.ShouldExit {
				t.Errorf("error = %+v, want %+v", *resp.Error, tt.want)
			}
		})
	}
}

func panicky(kind string) {
	switch kind {
	case "index":
		var empty []int
		_ = empty[len(kind)]
	case "error":
		panic(errors.New("boom"))
	default:
		panic("boom")
	}
}

func TestPanic(t *testing.T) {
	c := serve(t, func(in struct{ Kind string }) (string, error) {
		if in.Kind != "" {
			panicky(in.Kind)
		}
		return "still serving", nil
	})
	for _, tt := range []struct{ kind, typ, msg string }{
		{"string", "string", "boom"},
		{"error", "errorString", "boom"},
		{"index", "boundsError", "runtime error: index out of range [5] with length 0"},
	} {
		resp := call(t, c, &scf.InvokeRequest{Payload: []byte(`{"Kind":"` + tt.kind + `"}`), Deadline: deadlineIn(time.Second)})
		e := resp.Error
		if e == nil || !e.ShouldExit || e.Type != tt.typ || e.Message != tt.msg {
			t.Fatalf("%s: error = %+v", tt.kind, e)
		}
		if len(e.StackTrace) == 0 || !strings.HasSuffix(e.StackTrace[0].Label, ".panicky") ||
			!strings.HasSuffix(e.StackTrace[0].Path, "serve_test.go") || e.StackTrace[0].Line == 0 {
			t.Errorf("%s: stack trace should start in panicky: %+v", tt.kind, e.StackTrace[0])
		}
		resp = call(t, c, &scf.InvokeRequest{Payload: []byte(`{}`), Deadline: deadlineIn(time.Second)})
		if resp.Error != nil || string(resp.Payload) != `"still serving"` {
			t.Errorf("after a panic: %s, %+v", resp.Payload, resp.Error)
		}
	}
}

func TestInvocationsRunOneAtATime(t *testing.T) {
	var running, maxRunning atomic.Int32
	c := serve(t, func() {
		n := running.Add(1)
		for {
			m := maxRunning.Load()
			if n <= m || maxRunning.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(5 * time.Millisecond)
		running.Add(-1)
	})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			resp := call(t, c, &scf.InvokeRequest{Payload: []byte(`{}`), Deadline: deadlineIn(10 * time.Second)})
			if resp.Error != nil {
				t.Errorf("invoke: %+v", resp.Error)
			}
		})
	}
	wg.Wait()
	if got := maxRunning.Load(); got != 1 {
		t.Errorf("%d invocations ran at once, want 1", got)
	}
}

func TestWaitingInvocationTimesOut(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	c := serve(t, func(in struct{ Block bool }) {
		if in.Block {
			started <- struct{}{}
			<-release
		}
	})
	first := c.Go("Function.Invoke", &scf.InvokeRequest{Payload: []byte(`{"Block":true}`), Deadline: deadlineIn(10 * time.Second)},
		&scf.InvokeResponse{}, nil)
	<-started
	resp := call(t, c, &scf.InvokeRequest{RequestId: "second", Payload: []byte(`{}`), Deadline: deadlineIn(50 * time.Millisecond)})
	if resp.Error == nil || resp.Error.Type != "TimeoutError" || !strings.Contains(resp.Error.Message, "second") {
		t.Errorf("second invocation: %+v", resp.Error)
	}
	close(release)
	<-first.Done
	if first.Error != nil || first.Reply.(*scf.InvokeResponse).Error != nil {
		t.Errorf("first invocation: %v %+v", first.Error, first.Reply)
	}
}

func TestExpiredDeadlineStillRunsWithDoneContext(t *testing.T) {
	c := serve(t, func(ctx context.Context) (string, error) { return "ran", ctx.Err() })
	resp := call(t, c, &scf.InvokeRequest{Deadline: deadlineIn(-time.Second)})
	if resp.Error == nil || resp.Error.Message != "context deadline exceeded" {
		t.Errorf("error = %+v, want the handler to see a done context", resp.Error)
	}
}

func TestServeShutdownWaitsForRunningInvocation(t *testing.T) {
	started := make(chan struct{})
	var finished atomic.Bool
	c, stop := serveWithCancel(t, func() (string, error) {
		close(started)
		time.Sleep(100 * time.Millisecond)
		finished.Store(true)
		return "done", nil
	})
	inflight := c.Go("Function.Invoke", &scf.InvokeRequest{Deadline: deadlineIn(5 * time.Second)}, &scf.InvokeResponse{}, nil)
	select {
	case <-started:
	case <-inflight.Done:
		t.Fatalf("invocation ended before the handler started: %v %+v", inflight.Error, inflight.Reply)
	}
	if err := stop(); err != nil {
		t.Fatalf("Serve returned %v", err)
	}
	if !finished.Load() {
		t.Error("Serve returned before the running invocation finished")
	}
	<-inflight.Done
	if inflight.Error != nil || string(inflight.Reply.(*scf.InvokeResponse).Payload) != `"done"` {
		t.Errorf("in-flight call: error %v, reply %+v", inflight.Error, inflight.Reply)
	}
}

func TestServeNilHandler(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	if err := scf.Serve(context.Background(), lis, nil); err == nil {
		t.Error("Serve(nil handler) = nil")
	}
}

func ExampleGetenv() {
	// Inside a handler, ctx carries the invocation's Environment.
	ctx := scf.NewContext(context.Background(), &scf.FunctionContext{
		Env: map[string]string{"TENCENTCLOUD_REGION": "ap-singapore"},
	})
	fmt.Println(scf.Getenv(ctx, "TENCENTCLOUD_REGION"))
	// Output: ap-singapore
}

// flakyListener fails its first Accept calls with EMFILE, as a process out
// of file descriptors does.
type flakyListener struct {
	net.Listener
	failures atomic.Int32
}

func (l *flakyListener) Accept() (net.Conn, error) {
	if l.failures.Add(-1) >= 0 {
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept", syscall.EMFILE)}
	}
	return l.Listener.Accept()
}

func TestServeSurvivesTransientAcceptErrors(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lis := &flakyListener{Listener: inner}
	lis.failures.Store(3)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- scf.Serve(ctx, lis, lambda.NewHandler(func() (string, error) { return "up", nil })) }()
	client, err := rpc.Dial("tcp", inner.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	resp := call(t, client, &scf.InvokeRequest{Deadline: deadlineIn(10 * time.Second)})
	if resp.Error != nil || string(resp.Payload) != `"up"` {
		t.Errorf("invoke after EMFILE: %+v", resp)
	}
	if err := stoptest.Stop(t, "Serve", cancel, done, 10*time.Second); err != nil {
		t.Errorf("Serve = %v, want nil after cancel", err)
	}
}

func TestServeReturnsPermanentAcceptErrors(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lis.Close() // Accept fails with net.ErrClosed: not transient
	err = scf.Serve(context.Background(), lis, lambda.NewHandler(func() {}))
	if err == nil || !strings.Contains(err.Error(), "scf: accept") {
		t.Errorf("Serve on a closed listener = %v, want an accept error", err)
	}
}

package emulator

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"

	"github.com/scf-janitor/scf-janitor/internal/testkit/racecheck"
)

// fakeInvoker is the functions of TestSDKInvoke: "echo" answers its event,
// "fail" returns an error, "crash" cannot complete.
type fakeInvoker struct {
	mu    sync.Mutex
	calls []InvokeRequest
	done  chan InvokeRequest
}

func (f *fakeInvoker) HasFunction(region, namespace, name string) bool {
	return region == "ap-guangzhou" && namespace == "default" && (name == "echo" || name == "fail" || name == "crash")
}

func (f *fakeInvoker) Invoke(ctx context.Context, req InvokeRequest) (InvokeResult, error) {
	f.mu.Lock()
	f.calls = append(f.calls, req)
	f.mu.Unlock()
	defer func() {
		if f.done != nil {
			f.done <- req
		}
	}()
	switch req.Function {
	case "fail":
		return InvokeResult{ErrType: "InvalidParameterValue", ErrMsg: "no <TaskId>", Duration: 1500 * time.Microsecond, MemUsage: 9 << 20, Log: "fail: logged\n"}, nil
	case "crash":
		return InvokeResult{}, errors.New("function process exited (signal: killed)\n\tlast output")
	}
	return InvokeResult{Payload: req.Event, Duration: 2500 * time.Microsecond, MemUsage: 10 << 20, Log: strings.Repeat("x", 5000) + "echo: done\n"}, nil
}

type sdkResult struct {
	Result struct {
		FunctionRequestId string
		Duration          *float64
		BillDuration      *int64
		MemUsage          *int64
		RetMsg            *string
		ErrMsg            *string
		Log               *string
		InvokeResult      *int64
	}
	RequestId string
}

func scfCall(t *testing.T, c *common.Client, action string, params map[string]any) (sdkResult, error) {
	t.Helper()
	var out sdkResult
	err := call(t, c, "scf", action, params, &out)
	return out, err
}

// TestSDKInvoke drives Invoke and InvokeFunction with the official SDK's
// common client: TC3-signed, fields and Result as in tencentcloud-sdk-go's
// scf/v20180416/models.go.
func TestSDKInvoke(t *testing.T) {
	fake := &fakeInvoker{}
	e := newEnv(t, Options{Invoker: fake})
	c := e.sdk(t, "ap-guangzhou", nil)

	t.Run("Invoke synchronous, with the log", func(t *testing.T) {
		r, err := scfCall(t, c, "Invoke", map[string]any{"FunctionName": "echo", "ClientContext": `{"TaskId":"t-1"}`, "LogType": "Tail"})
		if err != nil {
			t.Fatal(err)
		}
		res := r.Result
		if !uuidRE.MatchString(res.FunctionRequestId) || res.RetMsg == nil || *res.RetMsg != `{"TaskId":"t-1"}` ||
			res.InvokeResult == nil || *res.InvokeResult != 0 || res.ErrMsg == nil || *res.ErrMsg != "" {
			t.Fatalf("result %+v", res)
		}
		if *res.Duration != 2.5 || *res.BillDuration != 3 || *res.MemUsage != 10<<20 {
			t.Errorf("Duration %v BillDuration %v MemUsage %v: want 2.5 ms, 3 ms billed, 10 MiB", *res.Duration, *res.BillDuration, *res.MemUsage)
		}
		if res.Log == nil || len(*res.Log) != 4096 || !strings.HasSuffix(*res.Log, "echo: done\n") {
			t.Errorf("Log: want the last 4 KB of the function's output")
		}
		last := fake.calls[len(fake.calls)-1]
		if last.Async || !last.WantLog || last.Namespace != "default" || last.RequestID != res.FunctionRequestId {
			t.Errorf("the invoker got %+v", last)
		}
	})

	t.Run("InvokeFunction takes Event, not ClientContext", func(t *testing.T) {
		r, err := scfCall(t, c, "InvokeFunction", map[string]any{"FunctionName": "echo", "Event": `{"a":1}`})
		if err != nil || *r.Result.RetMsg != `{"a":1}` || r.Result.Log == nil || *r.Result.Log != "" {
			t.Fatalf("%+v %v: want the event back, no log without LogType Tail", r.Result, err)
		}
		_, err = scfCall(t, c, "InvokeFunction", map[string]any{"FunctionName": "echo", "ClientContext": `{}`})
		wantCode(t, err, "UnknownParameter")
		_, err = scfCall(t, c, "InvokeFunction", map[string]any{"FunctionName": "echo", "InvocationType": "Event"})
		wantCode(t, err, "UnknownParameter")
	})

	t.Run("no event is {}", func(t *testing.T) {
		r, err := scfCall(t, c, "Invoke", map[string]any{"FunctionName": "echo"})
		if err != nil || *r.Result.RetMsg != `{}` {
			t.Fatalf("%+v %v", r.Result, err)
		}
	})

	t.Run("function error", func(t *testing.T) {
		r, err := scfCall(t, c, "Invoke", map[string]any{"FunctionName": "fail", "ClientContext": `{}`})
		if err != nil {
			t.Fatal(err)
		}
		res := r.Result
		if res.ErrMsg == nil || *res.ErrMsg != `{"errorMessage":"no <TaskId>","errorType":"InvalidParameterValue"}` || *res.InvokeResult == 0 || res.RetMsg != nil {
			t.Fatalf("result %+v: want ErrMsg with the function's error and a non-zero InvokeResult", res)
		}
	})

	t.Run("asynchronous", func(t *testing.T) {
		fake.done = make(chan InvokeRequest, 1)
		defer func() { fake.done = nil }()
		r, err := scfCall(t, c, "Invoke", map[string]any{"FunctionName": "echo", "InvocationType": "Event", "ClientContext": `{"n":1}`, "LogType": "Tail"})
		if err != nil {
			t.Fatal(err)
		}
		res := r.Result
		if !uuidRE.MatchString(res.FunctionRequestId) || res.RetMsg != nil || res.Duration != nil || res.Log != nil || res.InvokeResult != nil {
			t.Fatalf("async result %+v: want only FunctionRequestId", res)
		}
		got := <-fake.done
		if !got.Async || got.RequestID != res.FunctionRequestId || string(got.Event) != `{"n":1}` {
			t.Errorf("the invoker got %+v", got)
		}
		e.srv.WaitInvocations()
	})

	for _, tt := range []struct {
		name   string
		action string
		params map[string]any
		code   string
	}{
		{"unknown function", "Invoke", map[string]any{"FunctionName": "nope"}, "ResourceNotFound.Function"},
		{"other namespace", "Invoke", map[string]any{"FunctionName": "echo", "Namespace": "prod"}, "ResourceNotFound.Function"},
		{"no function name", "Invoke", map[string]any{}, "MissingParameter"},
		{"unknown version", "Invoke", map[string]any{"FunctionName": "echo", "Qualifier": "3"}, "ResourceNotFound.Qualifier"},
		{"bad invocation type", "Invoke", map[string]any{"FunctionName": "echo", "InvocationType": "Later"}, "InvalidParameterValue"},
		{"bad log type", "InvokeFunction", map[string]any{"FunctionName": "echo", "LogType": "All"}, "InvalidParameterValue"},
		{"event not JSON", "Invoke", map[string]any{"FunctionName": "echo", "ClientContext": "{not json"}, "InvalidParameter.Payload"},
		{"async over 128 KB", "Invoke", map[string]any{"FunctionName": "echo", "InvocationType": "Event", "ClientContext": `"` + strings.Repeat("x", 128<<10) + `"`}, "InvalidParameterValue.LimitExceeded"},
		{"sync over 6 MB", "InvokeFunction", map[string]any{"FunctionName": "echo", "Event": `"` + strings.Repeat("x", 6<<20) + `"`}, "InvalidParameterValue.LimitExceeded"},
		{"process failed", "Invoke", map[string]any{"FunctionName": "crash"}, "FailedOperation.InvokeFunction"},
		{"wrong type", "Invoke", map[string]any{"FunctionName": 7}, "InvalidParameter"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "sync over 6 MB" {
				racecheck.SkipUnderRace(t, "a 6 MB event through the SDK's JSON")
			}
			_, err := scfCall(t, c, tt.action, tt.params)
			wantCode(t, err, tt.code)
		})
	}

	t.Run("a sync event just under 6 MB runs", func(t *testing.T) {
		racecheck.SkipUnderRace(t, "a 6 MB event through the SDK's JSON and back")
		ev := `"` + strings.Repeat("x", 6<<20-2) + `"`
		r, err := scfCall(t, c, "InvokeFunction", map[string]any{"FunctionName": "echo", "Event": ev})
		if err != nil || len(*r.Result.RetMsg) != len(ev) {
			t.Fatalf("%v", err)
		}
	})

	t.Run("signature checked", func(t *testing.T) {
		bad := e.sdk(t, "", common.NewCredential(DefaultSecretID, "wrong-key"))
		_, err := scfCall(t, bad, "Invoke", map[string]any{"FunctionName": "echo"})
		wantCode(t, err, "AuthFailure.SignatureFailure")
	})

	t.Run("no invoker", func(t *testing.T) {
		e.srv.SetInvoker(nil)
		defer e.srv.SetInvoker(fake)
		_, err := scfCall(t, c, "Invoke", map[string]any{"FunctionName": "echo"})
		wantCode(t, err, "ResourceNotFound.Function")
	})
}

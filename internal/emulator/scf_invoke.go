package emulator

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"
)

// scfInvokeActions run through the Invoker (docs/emulator.md#scf-invoke-api).
var scfInvokeActions = map[string]actionFunc{
	"Invoke":         (*Server).actInvoke,
	"InvokeFunction": (*Server).actInvokeFunction,
}

// Invoker runs the functions behind the Invoke API.
type Invoker interface {
	// HasFunction reports whether the default account has the function.
	HasFunction(region, namespace, name string) bool
	// Invoke runs one invocation; the error is for one that could not complete.
	Invoke(ctx context.Context, req InvokeRequest) (InvokeResult, error)
}

// InvokeRequest is one invocation through the Invoke API.
type InvokeRequest struct {
	RequestID string // the FunctionRequestId answered to the caller
	Namespace string // "default" when the caller gave none
	Function  string
	Event     []byte // the event, valid JSON
	Async     bool   // InvocationType Event: nobody waits for the result
	WantLog   bool   // LogType Tail
}

// InvokeResult is what an invocation gave.
type InvokeResult struct {
	Payload  []byte // the function's JSON result (RetMsg)
	ErrType  string // the function's error ("" when it succeeded)
	ErrMsg   string
	Duration time.Duration
	MemUsage int64  // bytes: the function process's peak resident set size
	Log      string // the function's output during the call (WantLog)
}

// SetInvoker sets (nil removes) the Invoker; safe while serving.
func (s *Server) SetInvoker(inv Invoker) {
	s.invokerMu.Lock()
	defer s.invokerMu.Unlock()
	s.invoker = inv
}

func (s *Server) currentInvoker() Invoker {
	s.invokerMu.Lock()
	defer s.invokerMu.Unlock()
	return s.invoker
}

// Limits from SDK scf models.go (InvokeRequest.ClientContext: "同步调用最大支持
// 6MB，异步调用最大支持 128 KB"; LogType Tail: "返回值会包含4KB的日志").
const (
	maxSyncEventBytes  = 6 << 20
	maxAsyncEventBytes = 128 << 10
	maxTailLogBytes    = 4 << 10
)

// invokeResult is SDK scf models.go Result ("异步调用返回为空": async, the id only).
type invokeResult struct {
	FunctionRequestId string
	Duration          *float64 `json:",omitempty"`
	BillDuration      *int64   `json:",omitempty"`
	MemUsage          *int64   `json:",omitempty"`
	RetMsg            *string  `json:",omitempty"`
	ErrMsg            *string  `json:",omitempty"`
	Log               *string  `json:",omitempty"`
	InvokeResult      *int64   `json:",omitempty"`
}

// invokeFailed is InvokeResult for a function that returned an error
// (models.go documents only "0为正确"; assumption).
const invokeFailed = 1

// invokeParams are the parameters Invoke and InvokeFunction share.
type invokeParams struct{ FunctionName, Qualifier, LogType, Namespace, RoutingKey string }

func (s *Server) actInvoke(c *apiCall) (any, *apiError) {
	var p struct {
		invokeParams
		InvocationType string
		ClientContext  *string
	}
	if e := decodeParams(c.body, &p, true); e != nil {
		return nil, e
	}
	var async bool
	switch p.InvocationType {
	case "", "RequestResponse":
	case "Event":
		async = true
	default:
		return nil, errf("InvalidParameterValue", "InvocationType must be RequestResponse (synchronous, the default) or Event (asynchronous), got "+quote(p.InvocationType)+".")
	}
	return s.invoke(c, p.invokeParams, "$LATEST", deref(p.ClientContext, "{}"), "ClientContext", async)
}

// actInvokeFunction: synchronous, Qualifier default $DEFAULT (models.go).
func (s *Server) actInvokeFunction(c *apiCall) (any, *apiError) {
	var p struct {
		invokeParams
		Event *string
	}
	if e := decodeParams(c.body, &p, true); e != nil {
		return nil, e
	}
	return s.invoke(c, p.invokeParams, "$DEFAULT", deref(p.Event, "{}"), "Event", false)
}

func (s *Server) invoke(c *apiCall, p invokeParams, defaultQualifier, event, eventField string, async bool) (any, *apiError) {
	name, namespace, qualifier, logType := p.FunctionName, cmp.Or(p.Namespace, "default"), cmp.Or(p.Qualifier, defaultQualifier), p.LogType
	if name == "" {
		return nil, errMissing("MissingParameter", "FunctionName")
	}
	if qualifier != "$LATEST" && qualifier != "$DEFAULT" {
		return nil, errf("ResourceNotFound.Qualifier", "Qualifier "+quote(qualifier)+" does not exist for function "+name+": scf-local serves $LATEST (and the $DEFAULT alias) only.")
	}
	switch logType {
	case "", "None", "Tail":
	default:
		return nil, errf("InvalidParameterValue", "LogType must be None or Tail, got "+quote(logType)+".")
	}
	limit, kind := maxSyncEventBytes, "synchronous"
	if async {
		limit, kind = maxAsyncEventBytes, "asynchronous"
	}
	if len(event) > limit {
		return nil, errf("InvalidParameterValue.LimitExceeded", fmt.Sprintf("%s is %d bytes: a %s invocation's event is limited to %d bytes.", eventField, len(event), kind, limit))
	}
	if !json.Valid([]byte(event)) {
		return nil, errf("InvalidParameter.Payload", eventField+" must be the event as a JSON string, such as \"{\\\"key\\\":\\\"value\\\"}\".")
	}
	inv := s.currentInvoker()
	if inv == nil {
		return nil, errf("ResourceNotFound.Function", "Function "+name+" does not exist: this emulator runs no functions (scf-local serves the Invoke API for the functions it runs).")
	}
	if c.region == "" {
		return nil, errf("MissingParameter", "The request is missing the required header X-TC-Region (SCF is a regional service).")
	}
	if c.account != "" || !inv.HasFunction(c.region, namespace, name) {
		return nil, errf("ResourceNotFound.Function", "Function "+name+" does not exist in namespace "+namespace+" of "+c.region+" in this account.")
	}
	req := InvokeRequest{RequestID: newRequestID(), Namespace: namespace, Function: name, Event: []byte(event), Async: async, WantLog: logType == "Tail" && !async}
	if async {
		s.invokeAsync(c.ctx, inv, req)
		return map[string]any{"Result": invokeResult{FunctionRequestId: req.RequestID}}, nil
	}
	res, err := inv.Invoke(c.ctx, req)
	if err != nil {
		if c.ctx.Err() != nil {
			return nil, &apiError{Code: "InternalError", Message: "The invocation was abandoned: the request ended first.", status: 499}
		}
		return nil, errf("FailedOperation.InvokeFunction", "Invoking "+name+" failed ("+req.RequestID+"): "+firstLineOf(err.Error()))
	}
	return map[string]any{"Result": resultOf(req.RequestID, res, req.WantLog)}, nil
}

func resultOf(requestID string, res InvokeResult, wantLog bool) invokeResult {
	ms := float64(res.Duration.Microseconds()) / 1000
	// Billed to the millisecond (doc 583/12285).
	bill := int64(math.Ceil(ms))
	// ErrMsg and Log "" as in tccli scf examples.json Invoke.
	ret, code, noErr, noLog := string(res.Payload), int64(0), "", ""
	out := invokeResult{FunctionRequestId: requestID, Duration: &ms, BillDuration: &bill, MemUsage: &res.MemUsage, RetMsg: &ret,
		ErrMsg: &noErr, Log: &noLog, InvokeResult: &code}
	if res.ErrType != "" || res.ErrMsg != "" {
		var b strings.Builder
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false) // "<jobId>" stays readable inside the string
		_ = enc.Encode(map[string]string{"errorMessage": res.ErrMsg, "errorType": res.ErrType})
		msg, failed := strings.TrimSuffix(b.String(), "\n"), int64(invokeFailed)
		out.ErrMsg, out.InvokeResult, out.RetMsg = &msg, &failed, nil
	}
	if wantLog {
		log := res.Log
		if len(log) > maxTailLogBytes {
			log = log[len(log)-maxTailLogBytes:]
		}
		out.Log = &log
	}
	return out
}

func (s *Server) invokeAsync(ctx context.Context, inv Invoker, req InvokeRequest) {
	s.asyncInvokes.Add(1)
	go func() {
		defer s.asyncInvokes.Done()
		_, _ = inv.Invoke(context.WithoutCancel(ctx), req) // the Invoker reports its outcome (scf-local: its invocation line)
	}()
}

// WaitInvocations waits for the asynchronous invocations under way.
func (s *Server) WaitInvocations() { s.asyncInvokes.Wait() }

func quote(s string) string { b, _ := json.Marshal(s); return string(b) }

func firstLineOf(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// invokerState is the Server's part of the Invoke API.
type invokerState struct {
	invokerMu    sync.Mutex
	invoker      Invoker
	asyncInvokes sync.WaitGroup
}

package scf

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/rpc"
	"os"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// ServiceName is the net/rpc service name SCF calls: "Function.Ping" and
// "Function.Invoke".
const ServiceName = "Function"

// shutdownGrace bounds how long Serve waits for replies to be written when
// it shuts down.
const shutdownGrace = 5 * time.Second

// maxStackFrames bounds the stack trace returned for a panic.
const maxStackFrames = 32

// function is the net/rpc receiver registered as "Function".
//
// Invocations are served one at a time, as SCF does on one instance (it
// scales by starting more instances, never by overlapping invocations in
// one). net/rpc runs every call in its own goroutine, so without this a
// handler would have to be safe for concurrent use, and a local runner could
// observe behaviour SCF never produces. A call that is still waiting for its
// turn when its deadline passes fails with a TimeoutError without running.
type function struct {
	h      lambda.Handler
	turn   chan struct{} // capacity 1: held while a handler runs
	closed chan struct{} // closed when Serve shuts down
	once   sync.Once
	stderr io.Writer // panics are reported here too
	now    func() time.Time
}

func newFunction(h lambda.Handler) *function {
	return &function{
		h:      h,
		turn:   make(chan struct{}, 1),
		closed: make(chan struct{}),
		stderr: os.Stderr,
		now:    time.Now,
	}
}

// Ping answers the platform's liveness check.
func (f *function) Ping(_ *PingRequest, resp *PingResponse) error {
	*resp = PingResponse{}
	return nil
}

// Invoke runs the handler once. It always replies (returns nil): handler
// errors and panics are reported in resp.Error, never as an rpc error.
func (f *function) Invoke(req *InvokeRequest, resp *InvokeResponse) error {
	*resp = InvokeResponse{}
	fc, err := newFunctionContext(req, f.now())
	if err != nil {
		resp.Error = &InvokeError{Message: err.Error(), Type: "InvalidEnvironment"}
		return nil
	}
	ctx := context.Background()
	var cancel context.CancelFunc
	if fc.Deadline.IsZero() {
		ctx, cancel = context.WithCancel(ctx)
	} else {
		ctx, cancel = context.WithDeadline(ctx, fc.Deadline)
	}
	defer cancel()
	ctx = NewContext(ctx, fc)
	// Code written for aws-lambda-go finds the request id where it expects it.
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: fc.RequestID})

	if !f.tryTurn() {
		select {
		case f.turn <- struct{}{}:
		case <-ctx.Done():
			resp.Error = &InvokeError{
				Message: "invocation " + fc.RequestID + " timed out waiting for the previous invocation to finish",
				Type:    "TimeoutError",
			}
			return nil
		case <-f.closed:
			resp.Error = &InvokeError{Message: "function is shutting down", Type: "ShutdownError", ShouldExit: true}
			return nil
		}
	}
	defer func() { <-f.turn }()

	resp.Payload, resp.Error = f.call(ctx, req.Payload)
	return nil
}

// tryTurn takes the turn if it is free, so an idle function runs an
// invocation even when its deadline has already passed (the handler then
// sees a done context, as on SCF).
func (f *function) tryTurn() bool {
	select {
	case <-f.closed:
		return false
	default:
	}
	select {
	case f.turn <- struct{}{}:
		return true
	default:
		return false
	}
}

// call runs the handler, turning an error or a panic into an InvokeError.
func (f *function) call(ctx context.Context, payload []byte) (out []byte, ierr *InvokeError) {
	defer func() {
		if v := recover(); v != nil {
			out = nil
			ierr = panicError(v)
			fmt.Fprintf(f.stderr, "scf: handler panicked: %s\n", ierr.Message)
			for _, fr := range ierr.StackTrace {
				fmt.Fprintf(f.stderr, "\t%s:%d %s\n", fr.Path, fr.Line, fr.Label)
			}
		}
	}()
	out, err := f.h.Invoke(ctx, payload)
	if err != nil {
		return nil, errorResponse(err)
	}
	// lambda.NewHandler returns the bytes of a pooled buffer that it has
	// already put back for reuse; the next invocation would overwrite them
	// while net/rpc is still encoding this reply. Copy while we hold the turn.
	return bytes.Clone(out), nil
}

// shutdown makes waiting and future invocations fail fast and waits for the
// running one to finish.
func (f *function) shutdown() {
	f.once.Do(func() { close(f.closed) })
	f.turn <- struct{}{}
}

func newFunctionContext(req *InvokeRequest, now time.Time) (*FunctionContext, error) {
	fc := &FunctionContext{
		RequestID:       req.RequestId,
		TraceID:         req.TraceId,
		FunctionName:    req.FunctionName,
		Namespace:       req.Namespace,
		FunctionVersion: req.FunctionVersion,
		Region:          req.TencentcloudRegion,
		AppID:           req.TencentcloudAppID,
		Uin:             req.TencentcloudUin,
		MemoryLimitInMB: req.MemoryLimitInMb,
		TimeLimitInMs:   req.TimeLimitInMs,
	}
	switch {
	case req.Deadline.Seconds != 0 || req.Deadline.Nanos != 0:
		fc.Deadline = time.Unix(req.Deadline.Seconds, req.Deadline.Nanos).UTC()
	case req.TimeLimitInMs > 0:
		// SCF always sends a deadline; tolerate callers that only send the limit.
		fc.Deadline = now.Add(time.Duration(req.TimeLimitInMs) * time.Millisecond).UTC()
	}
	env, err := parseEnvironment(req.Environment)
	if err != nil {
		return nil, err
	}
	fc.Env = env
	return fc, nil
}

// parseEnvironment decodes the Environment JSON object. String values are
// used as is; other JSON values (numbers, booleans) as their JSON text; null
// as "".
func parseEnvironment(s string) (map[string]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return nil, fmt.Errorf("invocation Environment is not a JSON object of variables: %w", err)
	}
	env := make(map[string]string, len(raw))
	for k, v := range raw {
		var str string
		switch {
		case json.Unmarshal(v, &str) == nil:
			env[k] = str
		case string(v) == "null":
			env[k] = ""
		default:
			env[k] = string(v)
		}
	}
	return env, nil
}

// transientAcceptError reports an Accept failure that goes away by itself.
func transientAcceptError(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.ENOMEM)
}

func errorResponse(err error) *InvokeError {
	var ie *InvokeError
	if errors.As(err, &ie) && ie != nil {
		return ie
	}
	return &InvokeError{Message: err.Error(), Type: errorType(err)}
}

// ErrorCoder is an error that carries a code, such as a Tencent Cloud API
// error code ("ResourceNotFound", "InvalidParameterValue"). A handler error
// that is or wraps one is reported with the code as its Type (errorType),
// which is what the caller of a direct invocation can act on.
type ErrorCoder interface {
	error
	ErrorCode() string
}

// errorType is the Type of a handler error: the code of the first
// ErrorCoder in its chain, else the type name of the first error in the
// chain that is not one of fmt's or errors' wrappers ("wrapError" says
// nothing).
func errorType(err error) string {
	var coder ErrorCoder
	if errors.As(err, &coder) {
		if code := coder.ErrorCode(); code != "" {
			return code
		}
	}
	for e := err; e != nil; {
		name := typeName(e)
		switch name {
		case "wrapError", "wrapErrors", "joinError":
		default:
			return name
		}
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			e = u.Unwrap()
		case interface{ Unwrap() []error }:
			if errs := u.Unwrap(); len(errs) > 0 {
				e = errs[0]
			} else {
				e = nil
			}
		default:
			e = nil
		}
	}
	return typeName(err)
}

func typeName(v any) string {
	t := reflect.TypeOf(v)
	if t == nil {
		return ""
	}
	if t.Kind() == reflect.Pointer {
		return t.Elem().Name()
	}
	return t.Name()
}

func panicError(v any) *InvokeError {
	return &InvokeError{
		Message:    fmt.Sprintf("%v", v),
		Type:       typeName(v),
		StackTrace: panicStack(),
		ShouldExit: true,
	}
}

// panicStack returns the stack of the panicking goroutine, starting at the
// frame that panicked (runtime frames and this package's recovery frames are
// left out).
func panicStack() []*StackFrame {
	pcs := make([]uintptr, maxStackFrames+16)
	n := runtime.Callers(1, pcs)
	frames := runtime.CallersFrames(pcs[:n])
	var out []*StackFrame
	started := false
	for {
		fr, more := frames.Next()
		if !started {
			// Everything up to and including runtime.gopanic is recovery machinery.
			if fr.Function == "runtime.gopanic" || strings.HasPrefix(fr.Function, "runtime.panic") {
				started = true
			}
			if !more {
				break
			}
			continue
		}
		if strings.HasPrefix(fr.Function, "runtime.") {
			if !more {
				break
			}
			continue
		}
		out = append(out, &StackFrame{Path: fr.File, Line: int32(fr.Line), Label: fr.Function})
		if !more || len(out) == maxStackFrames {
			break
		}
	}
	return out
}

// Serve serves the SCF runtime protocol for h on lis until ctx is done. It is
// what Start uses after listening on $_LAMBDA_SERVER_PORT; tests use it with
// a listener of their own.
//
// When ctx is done Serve stops accepting, lets the running invocation finish,
// fails invocations still waiting for their turn, closes every connection and
// returns nil. Transient accept failures (out of file descriptors, a
// connection aborted before accept) are retried with backoff; any other
// accept failure ends Serve with an error.
func Serve(ctx context.Context, lis net.Listener, h lambda.Handler) error {
	if h == nil {
		return errors.New("scf: nil handler")
	}
	fn := newFunction(h)
	srv := rpc.NewServer()
	if err := srv.RegisterName(ServiceName, fn); err != nil {
		return fmt.Errorf("scf: register rpc service: %w", err)
	}

	var (
		mu    sync.Mutex
		conns = map[net.Conn]struct{}{}
		wg    sync.WaitGroup
	)
	stop := context.AfterFunc(ctx, func() { lis.Close() })
	defer stop()

	var acceptErr error
	var backoff time.Duration
	for {
		conn, err := lis.Accept()
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			if transientAcceptError(err) {
				// Out of file descriptors or a connection aborted before
				// it was accepted: wait and go on serving (as net/http
				// does) rather than end the function.
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				fmt.Fprintf(fn.stderr, "scf: accept: %v; retrying in %s\n", err, backoff)
				t := time.NewTimer(backoff)
				select {
				case <-ctx.Done():
				case <-t.C:
				}
				t.Stop()
				continue
			}
			acceptErr = fmt.Errorf("scf: accept: %w", err)
			break
		}
		backoff = 0
		mu.Lock()
		conns[conn] = struct{}{}
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			srv.ServeConn(conn)
			mu.Lock()
			delete(conns, conn)
			mu.Unlock()
		}()
	}
	lis.Close()
	fn.shutdown()
	// Stop reading requests but let net/rpc write the replies it owes: a
	// read-side shutdown ends ServeConn's read loop, and ServeConn returns
	// once pending replies are sent.
	mu.Lock()
	for c := range conns {
		if cr, ok := c.(interface{ CloseRead() error }); !ok || cr.CloseRead() != nil {
			c.Close()
		}
	}
	mu.Unlock()
	served := make(chan struct{})
	go func() { wg.Wait(); close(served) }()
	select {
	case <-served:
	case <-time.After(shutdownGrace):
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		<-served
	}
	return acceptErr
}

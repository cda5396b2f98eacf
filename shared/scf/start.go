package scf

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"reflect"
	"strconv"
	"syscall"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// Environment variables Start looks at.
const (
	// EnvServerPort is set by the SCF Go1 runtime: the port to serve net/rpc on.
	EnvServerPort = "_LAMBDA_SERVER_PORT"
	// EnvServerHost optionally overrides the listen host (default 0.0.0.0,
	// which SCF needs). Local runners set it to 127.0.0.1 so a function
	// under development is not reachable from the network.
	EnvServerHost = "_LAMBDA_SERVER_HOST"
	// EnvLambdaRuntimeAPI is set by AWS Lambda's provided runtimes.
	EnvLambdaRuntimeAPI = "AWS_LAMBDA_RUNTIME_API"
)

// ErrNoRuntime is returned (wrapped) by Start when the process was not
// started by a function runtime.
var ErrNoRuntime = errors.New("scf: not started by a function runtime")

// Start runs handler as a cloud function and blocks.
//
// handler may have any shape aws-lambda-go's lambda.Start accepts (for
// example func(context.Context, json.RawMessage) (any, error)) or be a
// lambda.Handler; it is adapted with lambda.NewHandler.
//
//   - $_LAMBDA_SERVER_PORT set: serve the SCF Go1 protocol (net/rpc,
//     "Function.Ping"/"Function.Invoke") on 0.0.0.0:$_LAMBDA_SERVER_PORT.
//     Each invocation's Environment is exposed through Getenv and its
//     metadata through FromContext. SIGTERM or SIGINT stops serving after the
//     running invocation; Start then returns nil.
//   - else $AWS_LAMBDA_RUNTIME_API set: run on AWS Lambda through
//     aws-lambda-go (never returns). FromContext then carries the Lambda
//     request id, function name and deadline; Getenv reads the process
//     environment.
//   - neither: return an error wrapping ErrNoRuntime that explains how to run
//     the function locally.
//
// main should print the error and exit non-zero.
func Start(handler any) error {
	return start(context.Background(), handler, os.Getenv, lambda.Start)
}

func start(ctx context.Context, handler any, getenv func(string) string, lambdaStart func(any)) error {
	h, err := toHandler(handler)
	if err != nil {
		return err
	}
	if port := getenv(EnvServerPort); port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("scf: %s=%q: want a TCP port number from 1 to 65535", EnvServerPort, port)
		}
		host := getenv(EnvServerHost)
		if host == "" {
			host = "0.0.0.0"
		}
		lis, err := net.Listen("tcp", net.JoinHostPort(host, port))
		if err != nil {
			return fmt.Errorf("scf: listen for the SCF runtime: %w", err)
		}
		// Only here: on AWS Lambda, aws-lambda-go owns the signals.
		ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, os.Interrupt)
		defer stop()
		return Serve(ctx, lis, h)
	}
	if getenv(EnvLambdaRuntimeAPI) != "" {
		// _LAMBDA_SERVER_PORT is unset here, so aws-lambda-go takes its
		// runtime API path, never its own rpc server.
		lambdaStart(lambdaAdapter{h: h, region: getenv("AWS_REGION")})
		return errors.New("scf: aws-lambda-go returned unexpectedly")
	}
	return fmt.Errorf("%w: neither %s (Tencent SCF Go1) nor %s (AWS Lambda) is set.\n"+
		"This binary is a cloud function; deploy it to SCF, or run it locally with the local runner:\n"+
		"  go run ./cmd/scf-local invoke <function> --event FILE\n"+
		"(or serve it yourself: %s=9001 ./<binary>, then drive it with internal/scflocal)",
		ErrNoRuntime, EnvServerPort, EnvLambdaRuntimeAPI, EnvServerPort)
}

func toHandler(handler any) (lambda.Handler, error) {
	if handler == nil {
		return nil, errors.New("scf: Start: nil handler")
	}
	if h, ok := handler.(lambda.Handler); ok {
		return h, nil
	}
	if err := checkShape(reflect.TypeOf(handler)); err != nil {
		return nil, fmt.Errorf("scf: Start: %w; want a function such as func(context.Context, json.RawMessage) (any, error)", err)
	}
	return lambda.NewHandler(handler), nil
}

// checkShape reports, at start-up, the handler shapes lambda.NewHandler
// would only reject on every invocation.
func checkShape(t reflect.Type) error {
	if t.Kind() != reflect.Func {
		return fmt.Errorf("handler is a %s", t)
	}
	errType := reflect.TypeFor[error]()
	ctxType := reflect.TypeFor[context.Context]()
	switch t.NumIn() {
	case 0, 1:
	case 2:
		if !t.In(0).Implements(ctxType) {
			return fmt.Errorf("first argument of the handler is %s, want context.Context", t.In(0))
		}
	default:
		return fmt.Errorf("handler has %d arguments, want at most 2", t.NumIn())
	}
	switch t.NumOut() {
	case 0:
	case 1:
		if !t.Out(0).Implements(errType) {
			return fmt.Errorf("handler returns %s, want error", t.Out(0))
		}
	case 2:
		if !t.Out(1).Implements(errType) {
			return fmt.Errorf("second result of the handler is %s, want error", t.Out(1))
		}
	default:
		return fmt.Errorf("handler has %d results, want at most 2", t.NumOut())
	}
	return nil
}

// lambdaAdapter gives handlers running on AWS Lambda the same FunctionContext
// they get on SCF.
type lambdaAdapter struct {
	h      lambda.Handler
	region string
}

func (a lambdaAdapter) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	fc := &FunctionContext{
		FunctionName:    lambdacontext.FunctionName,
		FunctionVersion: lambdacontext.FunctionVersion,
		Region:          a.region,
		MemoryLimitInMB: int32(lambdacontext.MemoryLimitInMB),
	}
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		fc.RequestID = lc.AwsRequestID
	}
	if d, ok := ctx.Deadline(); ok {
		fc.Deadline = d
	}
	return a.h.Invoke(NewContext(ctx, fc), payload)
}

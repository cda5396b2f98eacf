package scf

import (
	"context"
	"errors"
	"net"
	"net/rpc"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/scf-janitor/scf-janitor/internal/testkit/stoptest"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func noLambda(t *testing.T) func(any) {
	return func(any) { t.Error("aws-lambda-go started") }
}

func TestStartWithoutRuntime(t *testing.T) {
	err := start(context.Background(), func() {}, envOf(nil), noLambda(t))
	if !errors.Is(err, ErrNoRuntime) {
		t.Fatalf("err = %v, want ErrNoRuntime", err)
	}
	for _, want := range []string{"_LAMBDA_SERVER_PORT", "AWS_LAMBDA_RUNTIME_API", "go run ./cmd/scf-local invoke <function> --event FILE"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}
}

func TestStartBadInput(t *testing.T) {
	for _, tt := range []struct {
		name    string
		handler any
		env     map[string]string
		wantErr string
	}{
		{"nil handler", nil, nil, "nil handler"},
		{"not a function", 42, nil, "handler is a int; want a function such as"},
		{"one result that is not an error", func() string { return "" }, nil, "handler returns string, want error"},
		{"two results, second not an error", func() (string, string) { return "", "" }, nil, "second result of the handler is string, want error"},
		{"three results", func() (int, int, error) { return 0, 0, nil }, nil, "handler has 3 results, want at most 2"},
		{"first argument not a context", func(a, b string) {}, nil, "first argument of the handler is string, want context.Context"},
		{"three arguments", func(context.Context, string, string) {}, nil, "handler has 3 arguments, want at most 2"},
		{"port not a number", func() {}, map[string]string{"_LAMBDA_SERVER_PORT": "http"}, `_LAMBDA_SERVER_PORT="http": want a TCP port number from 1 to 65535`},
		{"port out of range", func() {}, map[string]string{"_LAMBDA_SERVER_PORT": "70000"}, "want a TCP port number"},
		{"bad host", func() {}, map[string]string{"_LAMBDA_SERVER_PORT": "9001", "_LAMBDA_SERVER_HOST": "no such host."}, "listen for the SCF runtime"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := start(context.Background(), tt.handler, envOf(tt.env), noLambda(t))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestStartServesUntilCancelled(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(lis.Addr().(*net.TCPAddr).Port)
	lis.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- start(ctx, func() {}, envOf(map[string]string{"_LAMBDA_SERVER_PORT": port, "_LAMBDA_SERVER_HOST": "127.0.0.1"}), noLambda(t))
	}()
	var client *rpc.Client
	for range 200 {
		if client, err = rpc.Dial("tcp", "127.0.0.1:"+port); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer client.Close()
	if err := client.Call("Function.Ping", PingRequest{}, &PingResponse{}); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if err := stoptest.Stop(t, "start", cancel, done, 5*time.Second); err != nil {
		t.Errorf("start returned %v after cancel, want nil", err)
	}
}

func TestStartOnLambda(t *testing.T) {
	var started any
	err := start(context.Background(), func(ctx context.Context) (string, error) {
		fc, ok := FromContext(ctx)
		if !ok {
			return "", errors.New("no FunctionContext")
		}
		return fc.RequestID + " " + fc.Region + " " + fc.Deadline.Format(time.RFC3339), nil
	}, envOf(map[string]string{"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001", "AWS_REGION": "eu-west-1"}), func(h any) { started = h })
	if err == nil {
		t.Error("start returned nil after aws-lambda-go returned")
	}
	h, ok := started.(lambda.Handler)
	if !ok {
		t.Fatalf("aws-lambda-go got %T, want a lambda.Handler", started)
	}
	dl := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	ctx, cancel := context.WithDeadline(context.Background(), dl)
	defer cancel()
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: "aws-req-1"})
	out, err := h.Invoke(ctx, []byte(`{}`))
	if err != nil || string(out) != `"aws-req-1 eu-west-1 2030-01-02T03:04:05Z"` {
		t.Errorf("Invoke = %s, %v", out, err)
	}
}

func TestDeadlineFromTimeLimit(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	fc, err := newFunctionContext(&InvokeRequest{TimeLimitInMs: 1500}, now)
	if err != nil || !fc.Deadline.Equal(now.Add(1500*time.Millisecond)) {
		t.Errorf("deadline = %s, %v", fc.Deadline, err)
	}
	fc, err = newFunctionContext(&InvokeRequest{}, now)
	if err != nil || !fc.Deadline.IsZero() {
		t.Errorf("no deadline and no limit: deadline = %s, %v", fc.Deadline, err)
	}
}

package scf

import (
	"context"
	"os"
	"time"
)

// FunctionContext is the per-invocation metadata SCF sends with each Invoke.
// It is attached to the handler's context; read it with FromContext.
type FunctionContext struct {
	RequestID       string
	TraceID         string
	FunctionName    string
	Namespace       string
	FunctionVersion string
	Region          string
	AppID           string
	Uin             string
	MemoryLimitInMB int32
	TimeLimitInMs   int32
	Deadline        time.Time
	// Env is the invocation's Environment JSON object (nil when SCF sent
	// none). It is never copied into the process environment.
	Env map[string]string
}

type contextKey struct{}

// NewContext returns a copy of ctx carrying fc.
func NewContext(ctx context.Context, fc *FunctionContext) context.Context {
	return context.WithValue(ctx, contextKey{}, fc)
}

// FromContext returns the FunctionContext stored in ctx by the runtime (or by
// NewContext), if any.
func FromContext(ctx context.Context) (*FunctionContext, bool) {
	fc, ok := ctx.Value(contextKey{}).(*FunctionContext)
	return fc, ok && fc != nil
}

// LookupEnv returns the value of key for this invocation: the invocation's
// Environment value when it has the key (even if empty), else the process
// environment (os.LookupEnv).
func LookupEnv(ctx context.Context, key string) (string, bool) {
	if fc, ok := FromContext(ctx); ok {
		if v, ok := fc.Env[key]; ok {
			return v, true
		}
	}
	return os.LookupEnv(key)
}

// Getenv returns the invocation's Environment value for key when present, else
// os.Getenv(key).
//
// Functions read all settings through it, per invocation: SCF delivers the
// execution role's temporary credentials in each invocation's Environment and
// rotates them, so never cache them across invocations.
func Getenv(ctx context.Context, key string) string {
	v, _ := LookupEnv(ctx, key)
	return v
}

// GetenvFunc returns a func(key) string bound to ctx, for APIs that take a
// getenv function such as config.LoadBase.
func GetenvFunc(ctx context.Context) func(string) string {
	return func(key string) string { return Getenv(ctx, key) }
}

package scf

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
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

// String describes fc with the names of its Env variables but none of
// their values: Env carries the invocation's SecretKey and session token.
// %v, %+v and %#v all print this form.
func (fc FunctionContext) String() string {
	return fmt.Sprintf("scf.FunctionContext{RequestID:%q TraceID:%q FunctionName:%q Namespace:%q FunctionVersion:%q Region:%q AppID:%q Uin:%q MemoryLimitInMB:%d TimeLimitInMs:%d Deadline:%s Env:[%s]}",
		fc.RequestID, fc.TraceID, fc.FunctionName, fc.Namespace, fc.FunctionVersion, fc.Region, fc.AppID, fc.Uin,
		fc.MemoryLimitInMB, fc.TimeLimitInMs, fc.Deadline.Format(time.RFC3339Nano), strings.Join(fc.envNames(), " "))
}

// GoString is String, so %#v does not print Env values either.
func (fc FunctionContext) GoString() string { return fc.String() }

// LogValue logs fc's metadata and the names (never the values) of its Env
// variables.
func (fc FunctionContext) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("request_id", fc.RequestID),
		slog.String("trace_id", fc.TraceID),
		slog.String("function_name", fc.FunctionName),
		slog.String("namespace", fc.Namespace),
		slog.String("function_version", fc.FunctionVersion),
		slog.String("region", fc.Region),
		slog.String("app_id", fc.AppID),
		slog.String("uin", fc.Uin),
		slog.Int("memory_limit_mb", int(fc.MemoryLimitInMB)),
		slog.Int("time_limit_ms", int(fc.TimeLimitInMs)),
		slog.Time("deadline", fc.Deadline),
		slog.Any("env_names", fc.envNames()),
	)
}

func (fc FunctionContext) envNames() []string {
	names := make([]string, 0, len(fc.Env))
	for k := range fc.Env {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
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

// EnvRegion is the function's region, one of SCF's built-in variables.
const EnvRegion = "TENCENTCLOUD_REGION"

// SettingsGetenv is GetenvFunc(ctx) with EnvRegion falling back to the
// invocation's region (FunctionContext.Region, SCF's TencentcloudRegion)
// when it is unset or empty: whether SCF sets the variable in every runtime
// is not documented (SCF's built-in variable list names no runtime), while
// every invocation carries the region. The functions read their settings
// through it.
func SettingsGetenv(ctx context.Context) func(string) string {
	getenv := GetenvFunc(ctx)
	return func(key string) string {
		v := getenv(key)
		if key == EnvRegion && strings.TrimSpace(v) == "" {
			if fc, ok := FromContext(ctx); ok {
				return fc.Region
			}
		}
		return v
	}
}

package scf

// The wire types of the SCF Go1 runtime protocol. They are gob-encoded by
// net/rpc, and gob matches struct fields by name, so the field names (not the
// type names) must be exactly those SCF sends. They mirror scf-go-lib's
// cloudfunction/messages package; gob ignores fields one side does not know,
// which is also why aws-lambda-go's rpc messages interoperate.

// PingRequest is the argument of Function.Ping.
type PingRequest struct{}

// PingResponse is the reply of Function.Ping.
type PingResponse struct{}

// Deadline is the absolute time an invocation must finish by, as Unix seconds
// and nanoseconds.
type Deadline struct {
	Seconds int64
	Nanos   int64
}

// InvokeRequest is the argument of Function.Invoke.
type InvokeRequest struct {
	Payload               []byte
	RequestId             string
	TraceId               string
	Deadline              Deadline
	InvokedFunctionUnique string
	ClientContext         []byte
	Namespace             string
	FunctionName          string
	FunctionVersion       string
	MemoryLimitInMb       int32
	TimeLimitInMs         int32
	// Environment is a JSON object of environment variables for this
	// invocation. SCF delivers the execution role's temporary credentials
	// (TENCENTCLOUD_SECRETID, TENCENTCLOUD_SECRETKEY,
	// TENCENTCLOUD_SESSIONTOKEN) here.
	Environment        string
	TencentcloudRegion string
	TencentcloudAppID  string
	TencentcloudUin    string
	FunctionTrace      string
}

// InvokeResponse is the reply of Function.Invoke. Exactly one of Payload and
// Error is meaningful.
type InvokeResponse struct {
	Payload []byte
	Error   *InvokeError
}

// InvokeError describes a failed invocation. ShouldExit asks the platform to
// replace the instance (set after a panic).
type InvokeError struct {
	Message    string
	Type       string
	StackTrace []*StackFrame
	ShouldExit bool
}

// Error implements error, so a handler may return an *InvokeError to control
// the Type reported to the platform.
func (e *InvokeError) Error() string {
	if e.Type == "" {
		return e.Message
	}
	return e.Type + ": " + e.Message
}

// StackFrame is one frame of a panic's stack trace.
type StackFrame struct {
	Path  string `json:"path"`
	Line  int32  `json:"line"`
	Label string `json:"label"`
}

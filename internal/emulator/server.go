package emulator

import (
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Default credential pair accepted when Options.Credentials is empty.
const (
	DefaultSecretID  = "AKIDLOCALEMULATOR"
	DefaultSecretKey = "local-emulator-secret-key"
)

// Defaults for Options fields left zero.
const (
	DefaultRate       = 20.0
	DefaultMaxLimit   = 100
	DefaultPendingFor = 10 * time.Second
	DefaultRunningFor = 60 * time.Second
	DefaultSlowDelay  = 30 * time.Second
	DefaultSdkAppID   = uint64(1400000000)

	// PagingCursor and PagingOffset are the two DescribeTasks paging modes.
	PagingCursor = "cursor"
	PagingOffset = "offset"

	// MaxSkew is how far X-TC-Timestamp may be from the emulator clock.
	MaxSkew = 5 * time.Minute

	maxBodyBytes = 10 << 20
)

// Credential is one accepted key pair. Token "" accepts any session token or
// none; a non-empty Token must be presented exactly (X-TC-Token for API 3.0,
// x-cos-security-token for CI). These keys belong to the default account;
// AddCredential and AssumeRole add keys of other accounts (accounts.go).
type Credential struct{ SecretID, SecretKey, Token string }

// Faults are injected failures, all off by default. Rates are probabilities
// in [0,1]; the fault kinds are mutually exclusive for one request (see the
// package documentation for the order).
type Faults struct {
	Latency, Jitter                                        time.Duration
	InternalErrorRate, BadGatewayRate, ResetRate, SlowRate float64
	SlowDelay                                              time.Duration
	// InternalErrorStatus is the HTTP status of an injected InternalError
	// (default 500).
	InternalErrorStatus int
}

// Options configure a Server. Zero values select the documented defaults.
type Options struct {
	Credentials []Credential     // default: DefaultSecretID/DefaultSecretKey
	Now         func() time.Time // injectable clock; default time.Now
	// AuthNow is the clock X-TC-Timestamp and q-sign-time are checked against
	// (5 minutes of skew). Default time.Now even when Now is injected: the
	// SDKs sign with the real clock. Set it to test SignatureExpire.
	AuthNow  func() time.Time
	Rate     float64 // per action per SecretId, requests/second (burst = rate); default 20; negative disables
	Paging   string  // PagingCursor (default) or PagingOffset
	MaxLimit int     // DescribeTasks Limit maximum, default 100
	// PendingFor and RunningFor are the non-live lifecycle durations
	// (PENDING -> RUNNING -> FINISH). 0 selects the default; a negative value
	// means the state never ends by itself. PendingFor also governs CI
	// Submitted -> Auditing and TRTC Idle -> InProgress.
	PendingFor, RunningFor time.Duration
	SdkAppIDs              []uint64 // known TRTC apps; default {1400000000}
	Faults                 Faults
	Seed                   int64
	Logger                 *slog.Logger // nil = silent
	// SpecificEndedCodes makes a cancel of an ended job answer
	// FailedOperation.TaskEnded (AMS/VM/TRTC) or 409 FailedOperation.JobEnded
	// (CI), codes scf-janitor once assumed. By default: plain FailedOperation
	// (CI: 400), as Tencent documents no specific code (SDK errors.go, the CI
	// cancel doc).
	SpecificEndedCodes bool
	// FunctionReadyAfter is how long an SCF function stays Creating or
	// Updating before it is Active: 0 selects DefaultFunctionReadyAfter,
	// negative means at once.
	FunctionReadyAfter time.Duration
	// RolePropagation is how long after CreateRole or AttachRolePolicy a
	// role is usable by SCF (FailedOperation.CallRoleFailed before then,
	// checkRole). 0 (the default) = at once.
	RolePropagation time.Duration
	// Roles can be assumed with STS AssumeRole; their temporary credentials
	// act in the role's account. CAM roles can be too, as their trust
	// policy allows (trust.go).
	Roles []Role
	// AccountUin is the uin of the default account (Credentials), as
	// GetCallerIdentity answers it and trust policies and role ARNs name it;
	// default DefaultAccountUin.
	AccountUin string
	// Buckets, when set, are the only COS buckets CI requests may address
	// by host (<Name>.ci.<Region>.myqcloud.com): another gets NoSuchBucket.
	// Empty: any bucket exists.
	Buckets []Bucket
	// Invoker runs the functions of the SCF Invoke and InvokeFunction
	// actions (nil: every function is unknown); see also SetInvoker.
	Invoker Invoker
	// EnforcePolicies refuses a role session's request no policy attached
	// to the role allows (policy.go; UnauthorizedOperation, CI 403
	// AccessDenied). Root keys are never checked.
	EnforcePolicies bool
}

// Server is the emulator; it is an http.Handler and safe for concurrent use.
type Server struct {
	opts   Options
	now    func() time.Time
	creds  map[string]Credential // fixed at New; see credentials() for the temporary ones
	apps   map[uint64]bool
	logger *slog.Logger

	faultMu sync.Mutex
	faults  Faults
	rng     *faultRand

	limits *limiter
	stats  *statsRecorder

	acct accounts // roles, temporary credentials, per-account stats (accounts.go)
	sink notificationSink

	mu             sync.Mutex
	tasks          map[string]*taskRec   // key service+"/"+TaskId
	order          map[string][]*taskRec // per service, newest first (taskBefore order)
	liveJobs       map[string]*liveJobRec
	transcriptions map[string]*transRec
	seq            atomic.Uint64

	mux *http.ServeMux // routes.go

	cos          cosStore     // COS buckets and objects (cos.go)
	control      controlPlane // SCF functions/triggers and CAM roles/policies (scf_control.go, cam.go)
	invokerState              // the SCF Invoke API's functions (scf_invoke.go)
}

// New returns a Server configured by opts.
func New(opts Options) *Server {
	if len(opts.Credentials) == 0 {
		opts.Credentials = []Credential{{SecretID: DefaultSecretID, SecretKey: DefaultSecretKey}}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.AuthNow == nil {
		opts.AuthNow = time.Now
	}
	opts.Rate, opts.Paging = cmp.Or(opts.Rate, DefaultRate), cmp.Or(opts.Paging, PagingCursor)
	opts.PendingFor, opts.RunningFor = cmp.Or(opts.PendingFor, DefaultPendingFor), cmp.Or(opts.RunningFor, DefaultRunningFor)
	if opts.MaxLimit <= 0 {
		opts.MaxLimit = DefaultMaxLimit
	}
	if len(opts.SdkAppIDs) == 0 {
		opts.SdkAppIDs = []uint64{DefaultSdkAppID}
	}
	s := &Server{
		opts:           opts,
		now:            opts.Now,
		creds:          make(map[string]Credential),
		apps:           make(map[uint64]bool),
		logger:         opts.Logger,
		faults:         opts.Faults,
		rng:            newFaultRand(opts.Seed),
		limits:         newLimiter(opts.Rate),
		stats:          newStatsRecorder(),
		tasks:          make(map[string]*taskRec),
		order:          make(map[string][]*taskRec),
		liveJobs:       make(map[string]*liveJobRec),
		transcriptions: make(map[string]*transRec),
	}
	s.invoker = opts.Invoker
	for _, c := range opts.Credentials {
		s.creds[c.SecretID] = c
	}
	s.acct.init(s.creds, opts.Roles)
	s.mux = s.routes()
	for _, id := range opts.SdkAppIDs {
		s.apps[id] = true
	}
	return s
}

// SetFaults replaces the injected faults; safe while serving.
func (s *Server) SetFaults(f Faults) {
	s.faultMu.Lock()
	s.faults = f
	s.faultMu.Unlock()
}

// CurrentFaults returns the faults in effect.
func (s *Server) CurrentFaults() Faults {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	return s.faults
}

// ServeHTTP logs each request and routes it: a bucket's COS host to COS,
// then by path (routes.go).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusWriter{ResponseWriter: w}
	info := &reqInfo{}
	defer func() {
		// A handler that drops the connection panics with
		// http.ErrAbortHandler: log it, then let net/http close it.
		aborted := recover()
		if s.logger != nil {
			status, code := rec.statusOrOK(), info.code
			if aborted != nil {
				status = 0
				if code == "" {
					code = "aborted"
				}
			}
			s.logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.String("action", info.action),
				slog.Int("status", status),
				slog.String("code", code),
				slog.String("request_id", info.requestID),
				slog.Float64("latency_ms", float64(time.Since(start).Microseconds())/1000),
			)
		}
		if aborted != nil {
			panic(aborted)
		}
	}()
	r = withReqInfo(r, info)
	if isCOSHost(r.Host) { // before the paths: any path is an object key there
		s.serveCOS(rec, r, info)
		return
	}
	if !routable(r) {
		s.serveUnroutable(rec, r)
		return
	}
	s.mux.ServeHTTP(rec, r)
}

// reqInfo collects what the access log reports.
type reqInfo struct{ action, code, requestID string }

// statusWriter records the status code; it keeps Hijack and Flush usable.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) statusOrOK() int { return cmp.Or(w.status, http.StatusOK) }

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// newRequestID returns a fresh random UUID (version 4 layout).
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// newID returns prefix + hex of a hash of the seed and a sequence number:
// a seeded server generates the same ids in the same order.
func (s *Server) newID(prefix string, hexLen int) string {
	n := s.seq.Add(1)
	var out strings.Builder
	out.WriteString(prefix)
	for i := uint64(0); out.Len() < len(prefix)+hexLen; i++ {
		h := fnv.New64a()
		fmt.Fprintf(h, "%d/%d/%d", s.opts.Seed, n, i)
		fmt.Fprintf(&out, "%016x", h.Sum64())
	}
	return out.String()[:len(prefix)+hexLen]
}

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

// Defaults of the Options fields left zero (docs/emulator.md#options).
const (
	DefaultSecretID   = "AKIDLOCALEMULATOR"
	DefaultSecretKey  = "local-emulator-secret-key"
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

// Credential is one accepted key pair of the default account; a non-empty
// Token must be presented exactly (X-TC-Token, x-cos-security-token).
type Credential struct{ SecretID, SecretKey, Token string }

// Faults are injected failures, all off by default: rates are probabilities,
// at most one fault per request (docs/emulator.md#rate-limits-faults-stats).
type Faults struct {
	Latency, Jitter                                        time.Duration
	InternalErrorRate, BadGatewayRate, ResetRate, SlowRate float64
	SlowDelay                                              time.Duration
	InternalErrorStatus                                    int // default 500
}

// Options configure a Server; zero values select the defaults. Each field is
// described in docs/emulator.md#options.
type Options struct {
	Credentials            []Credential     // default: DefaultSecretID/DefaultSecretKey
	Now                    func() time.Time // the emulator clock; default time.Now
	AuthNow                func() time.Time // the clock signatures are checked against; default time.Now
	Rate                   float64          // per action per SecretId per second; negative disables
	Paging                 string           // PagingCursor (default) or PagingOffset
	MaxLimit               int              // DescribeTasks' largest Limit
	PendingFor, RunningFor time.Duration    // lifecycle durations; negative: forever
	SdkAppIDs              []uint64         // known TRTC apps
	Faults                 Faults
	Seed                   int64
	Logger                 *slog.Logger  // nil = silent
	SpecificEndedCodes     bool          // cancel of an ended job: FailedOperation.TaskEnded / JobEnded
	FunctionReadyAfter     time.Duration // SCF Creating/Updating time; negative: at once
	RolePropagation        time.Duration // CAM change to usable by SCF; 0: at once
	Roles                  []Role        // roles STS AssumeRole can assume
	AccountUin             string        // the default account's uin; default DefaultAccountUin
	Buckets                []Bucket      // the only buckets CI may address; empty: any
	Invoker                Invoker       // runs SCF Invoke; see also SetInvoker
	EnforcePolicies        bool          // refuse a role session's request no attached policy allows
}

// Server is the emulator; it is an http.Handler and safe for concurrent use.
type Server struct {
	opts Options
	now  func() time.Time

	faultMu sync.Mutex
	faults  Faults
	rng     *faultRand

	limits *limiter
	stats  *statsRecorder

	acct accounts // roles, temporary credentials, per-account stats (accounts.go)
	sink notificationSink

	mu             sync.Mutex
	tasks          map[string]*record[Task]   // key service+"/"+TaskId
	order          map[string][]*record[Task] // per service, newest first (taskBefore order)
	liveJobs       map[string]*record[LiveJob]
	transcriptions map[string]*record[Transcription]
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
	s := &Server{opts: opts, now: opts.Now, faults: opts.Faults, rng: newFaultRand(opts.Seed), limits: newLimiter(opts.Rate),
		stats: newStatsRecorder(), tasks: map[string]*record[Task]{}, order: map[string][]*record[Task]{},
		liveJobs: map[string]*record[LiveJob]{}, transcriptions: map[string]*record[Transcription]{}}
	s.invoker = opts.Invoker
	creds := map[string]Credential{}
	for _, c := range opts.Credentials {
		creds[c.SecretID] = c
	}
	s.acct.init(creds, opts.Roles)
	s.mux = s.routes()
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

// ServeHTTP logs each request and routes it: COS by host, then by path.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusWriter{ResponseWriter: w}
	info := &reqInfo{}
	defer func() {
		// http.ErrAbortHandler: log, then let net/http drop the connection.
		aborted := recover()
		if logger := s.opts.Logger; logger != nil {
			status, code := rec.statusOrOK(), info.code
			if aborted != nil {
				status = 0
				if code == "" {
					code = "aborted"
				}
			}
			logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
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

// newRequestID returns a random UUID v4.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// newID returns prefix + hex of a hash of the seed and a sequence number.
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

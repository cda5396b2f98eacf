package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/deploy"
	"github.com/scf-janitor/scf-janitor/internal/deploy/provision"
	"github.com/scf-janitor/scf-janitor/internal/emulator"
	"github.com/scf-janitor/scf-janitor/internal/scflocal"
)

// Credential variables SCF delivers (from the execution role) in each
// invocation's Environment.
const (
	envSecretID      = "TENCENTCLOUD_SECRETID"
	envSecretKey     = "TENCENTCLOUD_SECRETKEY"
	envSessionToken  = "TENCENTCLOUD_SESSIONTOKEN"
	envWebhookSecret = "JANITOR_WEBHOOK_SECRET"
)

// endpointVars point a function's Tencent clients somewhere else; scf-local
// sets them to the embedded emulator.
var endpointVars = []string{"JANITOR_AMS_ENDPOINT", "JANITOR_VM_ENDPOINT", "JANITOR_TRTC_ENDPOINT", "JANITOR_CI_ENDPOINT",
	"JANITOR_STS_ENDPOINT", "JANITOR_SCF_ENDPOINT", "JANITOR_COS_ENDPOINT"}

// envNotifyURL is the sweeper's notification target: against the emulator, an
// unset or empty one points at the emulator's sink (GET /_emulator/notifications shows
// what arrived).
const envNotifyURL = "JANITOR_NOTIFY_URL"

// emulatorDefaults fill account-specific settings serverless.yml takes from
// the deploy environment, with values the emulator's demo data uses. They
// apply only against the emulator, only when the variable is unset or empty.
var emulatorDefaults = map[string]string{
	"JANITOR_CI_BUCKET":     emulator.DefaultBucket,
	"JANITOR_CI_REGION":     emulator.DefaultBucketRegion,
	"JANITOR_TRTC_SDKAPPID": fmt.Sprint(emulator.DefaultSdkAppID),
	envReportBucket:         localReportBucket,
}

// credentials are what each invocation gets as its role credentials.
type credentials struct{ id, key, token string }

// runtimeConfig is everything needed to run functions, independent of how
// they are triggered.
type runtimeConfig struct {
	cfg      *deploy.Config
	root     string                     // directory of serverless.yml: functions/<handler> is below it
	creds    credentials                // --cloud: the shell's keys, for every function
	roles    *roleCredentials           // against the emulator: each function's execution role's keys
	emulator string                     // base URL of the emulator; "" = real Tencent endpoints
	fns      map[string]deploy.Function // by name, as resolveFunctions made them
	secrets  map[string]webhookSecret   // by function name, for those with a webhook secret
	envVars  *envVars                   // --env-vars overrides (nil: none)
	appID    string
	uin      string
}

// functionEnv is a function's configured environment as SCF would hold it:
// serverless.yml's values with ${env:NAME} resolved (resolveFunctions), and
// (against the emulator) endpoints pointed at it.
func (rc *runtimeConfig) functionEnv(fn deploy.Function) map[string]string {
	resolved := rc.fns[fn.Name]
	env := make(map[string]string, len(resolved.Env)+len(endpointVars))
	for _, kv := range resolved.Env {
		env[kv.Key] = kv.Value
	}
	if rc.emulator != "" {
		for _, k := range endpointVars {
			env[k] = rc.emulator
		}
		if env[envNotifyURL] == "" { // unset or empty (only sweep-tasks reads it)
			env[envNotifyURL] = rc.emulator + "/_emulator/notifications"
		}
		if fn.Handler == provision.SweeperHandler && env[envReportBucket] == "" { // reports.go
			env[envReportBucket] = localReportBucket
		}
	}
	return env
}

// effectiveEnv is fn's configured environment with the --env-vars
// overrides.
func (rc *runtimeConfig) effectiveEnv(fn deploy.Function) map[string]string {
	env := rc.functionEnv(fn)
	rc.envVars.apply(fn, env)
	return env
}

// credentialsFor returns the credentials an invocation of fn gets: its
// execution role's temporary keys against the emulator, the shell's with
// --cloud.
func (rc *runtimeConfig) credentialsFor(ctx context.Context, fn deploy.Function) (credentials, error) {
	if rc.roles == nil {
		return rc.creds, nil
	}
	return rc.roles.forRole(ctx, fn.Role)
}

// builtinEnv is what SCF sets on every instance of fn.
func (rc *runtimeConfig) builtinEnv(fn deploy.Function, codeRoot string) map[string]string {
	return map[string]string{
		"TENCENTCLOUD_RUNENV": "SCF",
		"TENCENTCLOUD_REGION": rc.region(),
		"TENCENTCLOUD_APPID":  rc.appID,
		"TENCENTCLOUD_UIN":    rc.uin,
		"SCF_FUNCTIONNAME":    fn.Name,
		"SCF_FUNCTIONVERSION": "$LATEST",
		"SCF_NAMESPACE":       rc.namespace(),
		"SCF_MEMORYSIZE":      fmt.Sprint(fn.MemoryMB),
		"USER_CODE_ROOT":      codeRoot,
	}
}

// region and namespace are serverless.yml's, else the component's defaults.
func (rc *runtimeConfig) region() string { return cmp.Or(rc.cfg.File.Inputs.Region, "ap-guangzhou") }

func (rc *runtimeConfig) namespace() string { return cmp.Or(rc.cfg.File.Inputs.Namespace, "default") }

// function is one running function.
type function struct {
	fn       deploy.Function
	proc     *scflocal.Process
	env      map[string]string // configured environment (sent with each invocation)
	timerRun atomic.Bool       // a timer invocation is in flight
}

// runner builds, starts and invokes functions.
type runner struct {
	rc       *runtimeConfig
	binDir   string
	logs     io.Writer // function output (nil = discarded)
	mu       sync.Mutex
	running  map[string]*function
	stopping atomic.Bool // set by stop: no more restarts
	// note prints scf-local's own messages (restarts, REPORT lines); nil: discarded.
	note func(format string, a ...any)
	// apiLog reports an invocation through the emulator's Invoke API (nil: none).
	apiLog func(ctx context.Context, fn, trigger string, inv invocation, err error)
}

func (r *runner) notef(format string, a ...any) {
	if r.note != nil {
		r.note(format, a...)
	}
}

// start builds and starts the named functions (all when names is empty), in parallel.
func (r *runner) start(ctx context.Context, names []string) error {
	var fns []deploy.Function
	if len(names) == 0 {
		fns = r.rc.cfg.Functions
	} else {
		for _, n := range names {
			fn, ok := r.rc.cfg.Function(n)
			if !ok {
				return fmt.Errorf("no function %q in serverless.yml (have %s)", n, strings.Join(r.rc.cfg.Names(), ", "))
			}
			fns = append(fns, fn)
		}
	}
	r.running = map[string]*function{}
	// Build the first function alone: with a cold build cache it compiles the
	// dependencies they all share once, instead of once per parallel go build.
	errs := make([]error, len(fns))
	bins := make([]string, len(fns))
	if len(fns) > 0 {
		bins[0], errs[0] = r.build(ctx, fns[0])
	}
	parallel(len(fns)-1, func(i int) { bins[i+1], errs[i+1] = r.build(ctx, fns[i+1]) })
	if err := errors.Join(errs...); err != nil {
		return err
	}
	parallel(len(fns), func(i int) {
		f, err := r.startOne(ctx, fns[i], bins[i])
		if err != nil {
			errs[i] = err
			return
		}
		r.mu.Lock()
		r.running[fns[i].Name] = f
		r.mu.Unlock()
	})
	return errors.Join(errs...)
}

// parallel runs f(0..n-1) concurrently and waits.
func parallel(n int, f func(i int)) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { f(i) })
	}
	wg.Wait()
}

// buildLocal compiles a function package for running here; this package's
// tests replace it with one that builds each distinct source once.
var buildLocal = scflocal.BuildLocal

// build compiles fn's handler into binDir/<name>/<handler>.
func (r *runner) build(ctx context.Context, fn deploy.Function) (string, error) {
	pkg := filepath.Join(r.rc.root, "functions", fn.Handler)
	if _, err := os.Stat(pkg); err != nil {
		return "", fmt.Errorf("%s: handler %q: %s does not exist (serverless.yml's handler names the directory under functions/)", fn.Name, fn.Handler, pkg)
	}
	codeRoot := filepath.Join(r.binDir, fn.Name)
	if err := os.MkdirAll(codeRoot, 0o755); err != nil {
		return "", err
	}
	bin := filepath.Join(codeRoot, fn.Handler)
	r.notef("scf-local:   building %s (functions/%s) ...\n", fn.Name, fn.Handler)
	begin := time.Now()
	// BuildLocal reuses what `go run ./cmd/scf-local` compiled (same
	// compiler flags); `make package` keeps the reproducible ones for SCF.
	if err := buildLocal(ctx, pkg, bin); err != nil {
		return "", fmt.Errorf("%s: %w", fn.Name, err)
	}
	r.notef("scf-local:   built %s in %s\n", fn.Name, time.Since(begin).Round(100*time.Millisecond))
	return bin, nil
}

func (r *runner) startOne(ctx context.Context, fn deploy.Function, bin string) (*function, error) {
	codeRoot := filepath.Dir(bin)
	env := r.rc.effectiveEnv(fn)
	procEnv := r.rc.builtinEnv(fn, codeRoot)
	for k, v := range env {
		procEnv[k] = v
	}
	opts := scflocal.ProcessOptions{Env: envList(procEnv), AutoRestart: true, OnRestart: func(ev scflocal.RestartEvent) {
		if r.stopping.Load() {
			return
		}
		if ev.Err != nil {
			r.notef("scf-local: %s: a new instance failed to start (%s); the next invocation tries again:\n%s\n", fn.Name, ev.Reason, indentLines(ev.Err.Error()))
			return
		}
		r.notef("scf-local: %s: new instance (pid %d, started in %s): %s\n", fn.Name, ev.Pid, ev.Took.Round(time.Millisecond), ev.Reason)
	}}
	if r.logs != nil {
		w := &prefixWriter{w: r.logs, prefix: "[" + fn.Name + "] "}
		opts.Stdout, opts.Stderr = w, w
	}
	p, err := scflocal.StartProcess(ctx, bin, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: start: %w", fn.Name, err)
	}
	return &function{fn: fn, proc: p, env: env}, nil
}

func envList(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

func (r *runner) get(name string) (*function, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f, ok := r.running[name]
	return f, ok
}

// invocation is the outcome of one invoke.
type invocation struct {
	requestID string
	payload   []byte
	fnErr     *invokeError // the function's error (returned or panicked)
	latency   time.Duration
	peakRSS   int64  // bytes; 0 when unknown
	log       string // the function's output (callOptions.wantLog)
}

type invokeError struct {
	Message string `json:"errorMessage"`
	Type    string `json:"errorType"`
}

// callOptions are invoke's optional settings.
type callOptions struct {
	env       map[string]string // per-trigger variables (timerEnv)
	requestID string            // "" = a new one
	wantLog   bool              // capture the function's output into invocation.log
}

// invoke runs one invocation of f with its configured timeout, environment
// and role credentials, as SCF does. The error is a transport failure (the process
// died; the Process replaces it once, however many invocations saw it).
func (r *runner) invoke(ctx context.Context, f *function, payload []byte, opt callOptions) (invocation, error) {
	env := maps.Clone(f.env)
	maps.Copy(env, opt.env)
	id := opt.requestID
	if id == "" {
		id = scflocal.NewRequestID()
	}
	creds, err := r.rc.credentialsFor(ctx, f.fn)
	if err != nil {
		return invocation{requestID: id}, fmt.Errorf("%s: %w", f.fn.Name, err)
	}
	env[envSecretID], env[envSecretKey] = creds.id, creds.key
	if creds.token != "" {
		env[envSessionToken] = creds.token
	}
	env["TENCENTCLOUD_REGION"] = r.rc.region()
	inv := scflocal.Invocation{
		Payload: payload, RequestID: id, Timeout: f.fn.Timeout, Env: env,
		FunctionName: f.fn.Name, Namespace: r.rc.cfg.File.Inputs.Namespace, Region: r.rc.region(),
		MemoryMB: int32(f.fn.MemoryMB), AppID: r.rc.appID, Uin: r.rc.uin, WantLog: opt.wantLog,
	}
	start := time.Now()
	res, err := f.proc.Invoke(ctx, inv)
	out := invocation{requestID: inv.RequestID, payload: res.Payload, latency: time.Since(start), peakRSS: res.PeakRSS, log: res.Log}
	if err != nil {
		return out, err
	}
	if res.Error != nil {
		out.fnErr = &invokeError{Message: res.Error.Message, Type: res.Error.Type}
	}
	r.notef("%s\n", reportLine(out, f.fn.MemoryMB))
	return out, nil
}

// reportLine is the platform's closing line of an invocation, with SCF's
// measures (the Invoke API's Result fields): the duration, the billed
// duration (the duration rounded up to the millisecond: tencentcloud.com doc
// 583/12285), the configured memory and the memory used, here the function
// process's peak resident set size (VmHWM).
func reportLine(inv invocation, memoryMB int) string {
	ms := float64(inv.latency.Microseconds()) / 1000
	used := "unknown"
	if inv.peakRSS > 0 {
		used = fmt.Sprintf("%.2f MB", float64(inv.peakRSS)/(1<<20))
	}
	return fmt.Sprintf("REPORT RequestId: %s Duration: %.2f ms Billed Duration: %d ms Memory Size: %d MB Max Memory Used: %s",
		inv.requestID, ms, int64(math.Ceil(ms)), memoryMB, used)
}

// HasFunction implements emulator.Invoker: the SCF Invoke API of the
// embedded emulator runs the functions scf-local runs.
func (r *runner) HasFunction(region, namespace, name string) bool {
	if region != r.rc.region() || namespace != r.rc.namespace() {
		return false
	}
	_, ok := r.get(name)
	return ok
}

// Invoke implements emulator.Invoker.
func (r *runner) Invoke(ctx context.Context, req emulator.InvokeRequest) (emulator.InvokeResult, error) {
	f, ok := r.get(req.Function)
	if !ok {
		return emulator.InvokeResult{}, fmt.Errorf("no function %s", req.Function)
	}
	inv, err := r.invoke(ctx, f, req.Event, callOptions{requestID: req.RequestID, wantLog: req.WantLog})
	trigger := "api"
	if req.Async {
		trigger = "api-ev"
	}
	if r.apiLog != nil {
		r.apiLog(ctx, f.fn.Name, trigger, inv, err)
	}
	res := emulator.InvokeResult{Payload: inv.payload, Duration: inv.latency, MemUsage: inv.peakRSS, Log: inv.log}
	if inv.fnErr != nil {
		res.ErrType, res.ErrMsg = inv.fnErr.Type, inv.fnErr.Message
	}
	return res, err
}

// stop stops every function process.
func (r *runner) stop() {
	r.stopping.Store(true)
	r.mu.Lock()
	fs := make([]*function, 0, len(r.running))
	for _, f := range r.running {
		fs = append(fs, f)
	}
	r.mu.Unlock()
	parallel(len(fs), func(i int) { _ = fs[i].proc.Stop() }) // Stop falls back to SIGKILL: either way the process is gone
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// summary is a short description of a function's JSON result for the
// invocation line: the sweeper's counters, or the ids a cancel returned.
func summary(payload []byte) string {
	var m map[string]json.RawMessage
	if json.Unmarshal(payload, &m) != nil {
		return ""
	}
	var parts []string
	for _, k := range []string{"DryRun", "Scanned", "Candidates", "Cancelled", "Skipped", "Failed", "Truncated", "Capped", "TaskId", "RequestId"} {
		if v, ok := m[k]; ok && len(v) < 80 {
			parts = append(parts, k+"="+strings.Trim(string(v), `"`))
		}
	}
	if jd, ok := m["JobsDetail"]; ok {
		var d struct{ JobId string }
		if json.Unmarshal(jd, &d) == nil && d.JobId != "" {
			parts = append([]string{"JobId=" + d.JobId}, parts...)
		}
	}
	return strings.Join(parts, " ")
}

// prefixWriter writes each line with a prefix (function output interleaves).
type prefixWriter struct {
	mu     sync.Mutex
	w      io.Writer
	prefix string
	buf    []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = append(p.buf, b...)
	for {
		i := strings.IndexByte(string(p.buf), '\n')
		if i < 0 {
			break
		}
		if _, err := fmt.Fprintf(p.w, "%s%s\n", p.prefix, p.buf[:i]); err != nil {
			return len(b), err
		}
		p.buf = p.buf[i+1:]
	}
	return len(b), nil
}

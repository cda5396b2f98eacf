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
	"slices"
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
	// envNotifyURL, unset or empty, is the emulator's sink against the
	// emulator (GET /_emulator/notifications).
	envNotifyURL = "JANITOR_NOTIFY_URL"
)

// endpointVars point a function's Tencent clients at the emulator.
var endpointVars = []string{"JANITOR_AMS_ENDPOINT", "JANITOR_VM_ENDPOINT", "JANITOR_TRTC_ENDPOINT", "JANITOR_CI_ENDPOINT",
	"JANITOR_STS_ENDPOINT", "JANITOR_SCF_ENDPOINT", "JANITOR_COS_ENDPOINT"}

// emulatorDefaults fill, against the emulator only, the account settings
// serverless.yml takes from the deploy environment when they are unset or
// empty, with the values of the emulator's demo data.
var emulatorDefaults = map[string]string{
	"JANITOR_CI_BUCKET":     emulator.DefaultBucket,
	"JANITOR_CI_REGION":     emulator.DefaultBucketRegion,
	"JANITOR_TRTC_SDKAPPID": fmt.Sprint(emulator.DefaultSdkAppID),
	envReportBucket:         localReportBucket,
}

// credentials are what each invocation gets as its role credentials.
type credentials struct{ id, key, token string }

// runtimeConfig is everything needed to run functions, however triggered.
type runtimeConfig struct {
	cfg      *deploy.Config
	config   string                     // absolute path of serverless.yml
	root     string                     // its directory
	creds    credentials                // --cloud: the shell's keys, for every function
	roles    *roleCredentials           // against the emulator: each execution role's keys
	emulator string                     // base URL of the emulator; "" = real Tencent endpoints
	fns      map[string]deploy.Function // by name, as resolveFunctions made them
	secrets  map[string]webhookSecret   // by function name, for those with a webhook secret
	envVars  *envVars                   // --env-vars overrides (nil: none)
	appID    string
	uin      string
}

// functionEnv is fn's configured environment as SCF would hold it:
// serverless.yml's, resolved, and against the emulator pointed at it.
func (rc *runtimeConfig) functionEnv(fn deploy.Function) map[string]string {
	env := map[string]string{}
	for _, kv := range rc.fns[fn.Name].Env {
		env[kv.Key] = kv.Value
	}
	if rc.emulator != "" {
		for _, k := range endpointVars {
			env[k] = rc.emulator
		}
		if env[envNotifyURL] == "" {
			env[envNotifyURL] = rc.emulator + "/_emulator/notifications"
		}
		if fn.Handler == provision.SweeperHandler && env[envReportBucket] == "" { // setup.go
			env[envReportBucket] = localReportBucket
		}
	}
	return env
}

// effectiveEnv is fn's configured environment with the --env-vars overrides.
func (rc *runtimeConfig) effectiveEnv(fn deploy.Function) map[string]string {
	env := rc.functionEnv(fn)
	rc.envVars.apply(fn, env)
	return env
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
	logs     io.Writer                                                // function output (nil = discarded)
	note     *lockedWriter                                            // scf-local's own messages
	apiLog   func(context.Context, string, string, invocation, error) // Invoke API invocations (nil: none)
	mu       sync.Mutex
	running  map[string]*function
	stopping atomic.Bool // set by stop: no more restarts
}

// start builds and starts the named functions (all when names is empty).
func (r *runner) start(ctx context.Context, names []string) error {
	fns := r.rc.cfg.Functions
	if len(names) > 0 {
		fns = nil
		for _, n := range names {
			fn, ok := r.rc.cfg.Function(n)
			if !ok {
				return fmt.Errorf("no function %q in serverless.yml (have %s)", n, strings.Join(r.rc.cfg.Names(), ", "))
			}
			fns = append(fns, fn)
		}
	}
	r.running = map[string]*function{}
	// The first build alone compiles, with a cold cache, the dependencies
	// all share once; the others then build in parallel.
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
		errs[i] = err
		if err == nil {
			r.mu.Lock()
			r.running[fns[i].Name] = f
			r.mu.Unlock()
		}
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

// buildLocal compiles a function package for running here (with `go run`'s
// compiler flags, to reuse its build cache); main_test.go replaces it.
var buildLocal = scflocal.BuildLocal

// build compiles fn's handler into binDir/<name>/<handler>.
func (r *runner) build(ctx context.Context, fn deploy.Function) (string, error) {
	pkg := filepath.Join(r.rc.root, "functions", fn.Handler)
	if _, err := os.Stat(pkg); err != nil {
		return "", fmt.Errorf("%s: handler %q: %s does not exist (serverless.yml's handler names the directory under functions/)", fn.Name, fn.Handler, pkg)
	}
	bin := filepath.Join(r.binDir, fn.Name, fn.Handler)
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return "", err
	}
	r.note.printf("scf-local:   building %s (functions/%s) ...\n", fn.Name, fn.Handler)
	begin := time.Now()
	if err := buildLocal(ctx, pkg, bin); err != nil {
		return "", fmt.Errorf("%s: %w", fn.Name, err)
	}
	r.note.printf("scf-local:   built %s in %s\n", fn.Name, time.Since(begin).Round(100*time.Millisecond))
	return bin, nil
}

func (r *runner) startOne(ctx context.Context, fn deploy.Function, bin string) (*function, error) {
	env := r.rc.effectiveEnv(fn)
	procEnv := r.rc.builtinEnv(fn, filepath.Dir(bin))
	maps.Copy(procEnv, env)
	var envList []string
	for _, k := range slices.Sorted(maps.Keys(procEnv)) {
		envList = append(envList, k+"="+procEnv[k])
	}
	opts := scflocal.ProcessOptions{Env: envList, AutoRestart: true, OnRestart: func(ev scflocal.RestartEvent) {
		switch {
		case r.stopping.Load():
		case ev.Err != nil:
			r.note.printf("scf-local: %s: a new instance failed to start (%s); the next invocation tries again:\n%s\n", fn.Name, ev.Reason, indentLines(ev.Err.Error()))
		default:
			r.note.printf("scf-local: %s: new instance (pid %d, started in %s): %s\n", fn.Name, ev.Pid, ev.Took.Round(time.Millisecond), ev.Reason)
		}
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

func (r *runner) get(name string) (*function, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f, ok := r.running[name]
	return f, ok
}

// invocation is the outcome of one invoke: the function's Result (its
// error, returned or panicked, in Error) and scf-local's measures.
type invocation struct {
	scflocal.Result
	requestID string
	latency   time.Duration
}

// callOptions are invoke's optional settings.
type callOptions struct {
	env       map[string]string // per-trigger variables (timerEnv)
	requestID string            // "" = a new one
	wantLog   bool              // capture the function's output into Result.Log
}

// invoke runs one invocation of f with its configured timeout, environment
// and role credentials, as SCF does. The error is a transport failure (the
// process died; the Process replaces it once, however many invocations saw it).
func (r *runner) invoke(ctx context.Context, f *function, payload []byte, opt callOptions) (invocation, error) {
	out := invocation{requestID: cmp.Or(opt.requestID, scflocal.NewRequestID())}
	creds := r.rc.creds
	if r.rc.roles != nil {
		var err error
		if creds, err = r.rc.roles.forRole(ctx, f.fn.Role); err != nil {
			return out, fmt.Errorf("%s: %w", f.fn.Name, err)
		}
	}
	env := maps.Clone(f.env)
	maps.Copy(env, opt.env)
	env[envSecretID], env[envSecretKey] = creds.id, creds.key
	if creds.token != "" {
		env[envSessionToken] = creds.token
	}
	env["TENCENTCLOUD_REGION"] = r.rc.region()
	start := time.Now()
	res, err := f.proc.Invoke(ctx, scflocal.Invocation{
		Payload: payload, RequestID: out.requestID, Timeout: f.fn.Timeout, Env: env,
		FunctionName: f.fn.Name, Namespace: r.rc.cfg.File.Inputs.Namespace, Region: r.rc.region(),
		MemoryMB: int32(f.fn.MemoryMB), AppID: r.rc.appID, Uin: r.rc.uin, WantLog: opt.wantLog,
	})
	out.Result, out.latency = res, time.Since(start)
	if err == nil {
		r.note.printf("%s\n", reportLine(out, f.fn.MemoryMB))
	}
	return out, err
}

// reportLine is the platform's closing line of an invocation, with SCF's
// measures (the Invoke API's Result fields): the billed duration is the
// duration rounded up to the millisecond (tencentcloud.com doc 583/12285),
// the memory used the process's peak resident set size (VmHWM).
func reportLine(inv invocation, memoryMB int) string {
	ms := float64(inv.latency.Microseconds()) / 1000
	used := "unknown"
	if inv.PeakRSS > 0 {
		used = fmt.Sprintf("%.2f MB", float64(inv.PeakRSS)/(1<<20))
	}
	return fmt.Sprintf("REPORT RequestId: %s Duration: %.2f ms Billed Duration: %d ms Memory Size: %d MB Max Memory Used: %s",
		inv.requestID, ms, int64(math.Ceil(ms)), memoryMB, used)
}

// HasFunction implements emulator.Invoker: the embedded emulator's SCF
// Invoke API runs the functions scf-local runs.
func (r *runner) HasFunction(region, namespace, name string) bool {
	_, ok := r.get(name)
	return ok && region == r.rc.region() && namespace == r.rc.namespace()
}

// Invoke implements emulator.Invoker.
func (r *runner) Invoke(ctx context.Context, req emulator.InvokeRequest) (emulator.InvokeResult, error) {
	f, ok := r.get(req.Function)
	if !ok {
		return emulator.InvokeResult{}, fmt.Errorf("no function %s", req.Function)
	}
	inv, err := r.invoke(ctx, f, req.Event, callOptions{requestID: req.RequestID, wantLog: req.WantLog})
	if r.apiLog != nil {
		trigger := "api"
		if req.Async {
			trigger = "api-ev"
		}
		r.apiLog(ctx, f.fn.Name, trigger, inv, err)
	}
	res := emulator.InvokeResult{Payload: inv.Payload, Duration: inv.latency, MemUsage: inv.PeakRSS, Log: inv.Log}
	if inv.Error != nil {
		res.ErrType, res.ErrMsg = inv.Error.Type, inv.Error.Message
	}
	return res, err
}

// stop stops every function process (Stop falls back to SIGKILL).
func (r *runner) stop() {
	r.stopping.Store(true)
	r.mu.Lock()
	fs := slices.Collect(maps.Values(r.running))
	r.mu.Unlock()
	parallel(len(fs), func(i int) { _ = fs[i].proc.Stop() })
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
	var d struct{ JobId string }
	if json.Unmarshal(m["JobsDetail"], &d) == nil && d.JobId != "" {
		parts = append(parts, "JobId="+d.JobId)
	}
	for _, k := range []string{"DryRun", "Scanned", "Candidates", "Cancelled", "Skipped", "Failed", "Truncated", "Capped", "TaskId", "RequestId"} {
		if v, ok := m[k]; ok && len(v) < 80 {
			parts = append(parts, k+"="+strings.Trim(string(v), `"`))
		}
	}
	return strings.Join(parts, " ")
}

// prefixWriter writes each complete line with a prefix (function output interleaves).
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
		line, rest, ok := strings.Cut(string(p.buf), "\n")
		if !ok {
			return len(b), nil
		}
		p.buf = []byte(rest)
		if _, err := fmt.Fprintf(p.w, "%s%s\n", p.prefix, line); err != nil {
			return len(b), err
		}
	}
}

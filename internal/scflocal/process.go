package scflocal

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/rpc"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/scf-janitor/scf-janitor/shared/scf"
)

// Defaults used when the corresponding option is zero.
const (
	DefaultStartTimeout = 10 * time.Second
	DefaultStopTimeout  = 3 * time.Second
	DefaultTimeout      = 3 * time.Second // SCF's default function timeout
	DefaultMemoryMB     = 128
	// TimeoutGrace is how long past its deadline an invocation may take to
	// reply before Invoke gives up on it and kills the process (SCF likewise
	// ends an instance that overruns its timeout).
	TimeoutGrace = time.Second
)

// ProcessOptions configures StartProcess.
type ProcessOptions struct {
	// Env holds extra KEY=VALUE entries for the process environment: what SCF
	// sets on the instance, such as TENCENTCLOUD_REGION or SCF_FUNCTIONNAME,
	// and non-secret configuration. Credentials belong in Invocation.Env,
	// which is where SCF delivers them.
	Env []string
	// Stdout and Stderr receive the process's output (nil: discarded). The
	// last 64 KiB of both are kept for error messages and Output.
	Stdout, Stderr io.Writer

	// InheritEnv starts from this process's environment (os.Environ) instead
	// of a minimal one holding only PATH, HOME, TMPDIR, TZ and LANG. The
	// default keeps a developer's shell credentials out of the function, as
	// on SCF.
	InheritEnv bool
	// StartTimeout bounds the wait for the first successful Ping (default
	// DefaultStartTimeout).
	StartTimeout time.Duration
	// StopTimeout is the grace period between SIGTERM and SIGKILL in Stop
	// (default DefaultStopTimeout).
	StopTimeout time.Duration

	// AutoRestart replaces the instance, as SCF replaces a failed one, when
	// it dies, breaks its connection, overruns a deadline or asks to exit
	// (Error.ShouldExit, after a panic). The replacement starts once, however
	// many invocations saw the failure; an instance that is still alive
	// finishes the invocations it already has before it is stopped; and
	// Invoke calls that arrive meanwhile wait for the new instance, within
	// their ctx and deadline, instead of failing. Without it the caller
	// decides, with Restart.
	AutoRestart bool
	// OnRestart, when set, is called after each automatic replacement, from
	// the goroutine that started it.
	OnRestart func(RestartEvent)
}

// RestartEvent describes one automatic replacement (ProcessOptions.AutoRestart).
type RestartEvent struct {
	Reason string        // why the old instance was replaced
	Pid    int           // the new instance's pid (0 when Err is set)
	Took   time.Duration // start-up time of the new instance
	Err    error         // the new instance failed to start; the next Invoke tries again
}

// Invocation is one call of Function.Invoke.
type Invocation struct {
	Payload []byte
	// RequestID defaults to a random UUID-shaped id.
	RequestID string
	// Timeout is the function's configured timeout (default DefaultTimeout):
	// the request carries Deadline = now + Timeout and TimeLimitInMs.
	Timeout time.Duration
	// Env is sent as the invocation's Environment JSON (nil: none). SCF puts
	// the execution role's credentials here.
	Env             map[string]string
	FunctionName    string
	Namespace       string // default "default"
	FunctionVersion string // default "$LATEST"
	Region          string
	MemoryMB        int32 // default DefaultMemoryMB

	// Deadline, when non-zero, is sent instead of now + Timeout (for
	// example one already in the past).
	Deadline time.Time
	// AppID and Uin are sent as TencentcloudAppID and TencentcloudUin.
	AppID, Uin string
	// WantLog fills Result.Log, after making sure the output the function
	// wrote before replying has been read.
	WantLog bool
}

// Result is what the function replied. Error is non-nil when the handler
// returned an error or panicked (then Error.ShouldExit is true), or when
// Invoke gave up on an invocation that overran its deadline (Type
// "TimeoutError", ShouldExit true; the process has been stopped: call
// Restart).
type Result struct {
	Payload []byte
	Error   *scf.InvokeError
	// PeakRSS is the function process's peak resident set size in bytes
	// after the call (Linux VmHWM; 0 when unknown), what SCF reports as the
	// memory used.
	PeakRSS int64
	// Log (with Invocation.WantLog) is what the function process wrote to
	// stdout and stderr while the call was under way (invocations queued on
	// the same instance may add their lines), at most the last 64 KiB.
	Log string
}

// Process is a running function binary. Its methods are safe for concurrent
// use; the function itself serves invocations one at a time.
type Process struct {
	bin  string
	opts ProcessOptions
	out  *tailBuffer

	mu         sync.Mutex
	cur        *instance              // nil after Stop, and while a replacement starts
	stopped    bool                   // Stop was called (and no Restart since)
	replacing  chan struct{}          // non-nil while a replacement starts; closed when it is done
	replaceErr error                  // why the last replacement failed (nil when it worked)
	retiring   map[*instance]struct{} // replaced instances finishing their invocations
	starts     int                    // instances started successfully
}

// instance is one OS process of a Process (Restart replaces it).
type instance struct {
	cmd     *exec.Cmd
	addr    string
	client  *rpc.Client
	exited  chan struct{} // closed once cmd.Wait returns and its output is copied
	waitErr error         // valid after exited is closed

	stdout, stderr *outPipe

	// guarded by Process.mu
	inflight int  // Invoke calls using it
	retired  bool // replaced: stop it once inflight is 0
}

func (in *instance) hasExited() bool {
	select {
	case <-in.exited:
		return true
	default:
		return false
	}
}

// StartProcess starts bin as SCF does: with $_LAMBDA_SERVER_PORT set to a free
// local port (and $_LAMBDA_SERVER_HOST=127.0.0.1 so it listens on loopback
// only), then waits until it answers Function.Ping. ctx bounds the start-up
// only; the process runs until Stop. It runs in its own process group,
// which Stop ends as a whole, and on Linux it is killed if this process dies.
func StartProcess(ctx context.Context, bin string, opts ProcessOptions) (*Process, error) {
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = DefaultStartTimeout
	}
	if opts.StopTimeout <= 0 {
		opts.StopTimeout = DefaultStopTimeout
	}
	p := &Process{bin: bin, opts: opts, out: newTailBuffer(64 << 10), retiring: map[*instance]struct{}{}}
	in, err := p.start(ctx)
	if err != nil {
		return nil, err
	}
	p.cur = in
	p.starts = 1
	return p, nil
}

// start launches a new instance, retrying when another process took the
// chosen port between choosing and binding it.
func (p *Process) start(ctx context.Context) (*instance, error) {
	return p.startFrom(ctx, p.binary())
}

// binary is the executable new instances run (Reload changes it).
func (p *Process) binary() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.bin
}

func (p *Process) startFrom(ctx context.Context, bin string) (*instance, error) {
	var err error
	for range 3 {
		var in *instance
		var retry bool
		in, retry, err = p.startOnce(ctx, bin)
		if err == nil {
			return in, nil
		}
		if !retry {
			break
		}
	}
	return nil, err
}

func (p *Process) startOnce(ctx context.Context, bin string) (in *instance, retry bool, err error) {
	port, err := freePort()
	if err != nil {
		return nil, false, fmt.Errorf("start %s: %w", bin, err)
	}
	cmd := exec.Command(bin)
	cmd.Env = append(p.baseEnv(), p.opts.Env...)
	cmd.Env = append(cmd.Env, scf.EnvServerPort+"="+strconv.Itoa(port), scf.EnvServerHost+"=127.0.0.1")
	stdout, err := newOutPipe(writerOr(p.opts.Stdout, p.out))
	if err != nil {
		return nil, false, fmt.Errorf("start %s: %w", bin, err)
	}
	stderr, err := newOutPipe(writerOr(p.opts.Stderr, p.out))
	if err != nil {
		stdout.closeWriter()
		return nil, false, fmt.Errorf("start %s: %w", bin, err)
	}
	cmd.Stdout, cmd.Stderr = stdout.w, stderr.w
	setProcAttr(cmd)
	mark := p.out.Len()
	if err := cmd.Start(); err != nil {
		stdout.closeWriter()
		stderr.closeWriter()
		return nil, false, fmt.Errorf("start %s: %w", bin, err)
	}
	in = &instance{cmd: cmd, addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), exited: make(chan struct{}), stdout: stdout, stderr: stderr}
	go func() {
		in.waitErr = cmd.Wait()
		// The output the process wrote before it exited, for its error
		// message (a child it left behind may keep the pipes open: don't
		// wait for that).
		stdout.closeWriter()
		stderr.closeWriter()
		t := time.NewTimer(2 * time.Second)
		defer t.Stop()
		for _, o := range []*outPipe{stdout, stderr} {
			select {
			case <-o.done:
			case <-t.C:
			}
		}
		close(in.exited)
	}()

	ctx, cancel := context.WithTimeout(ctx, p.opts.StartTimeout)
	defer cancel()
	delay := 5 * time.Millisecond
	for {
		select {
		case <-in.exited:
			out := p.out.Since(mark)
			return nil, strings.Contains(out, "address already in use"),
				fmt.Errorf("start %s: process exited before answering Ping (%v)%s", bin, in.waitErr, indent(out))
		default:
		}
		if client, err := dialAndPing(ctx, in.addr); err == nil {
			in.client = client
			return in, false, nil
		}
		select {
		case <-ctx.Done():
			in.kill(p.opts.StopTimeout)
			return nil, false, fmt.Errorf("start %s: no answer to Ping on %s: %w%s", bin, in.addr, ctx.Err(), indent(p.out.Since(mark)))
		case <-in.exited:
		case <-time.After(delay):
		}
		delay = min(delay*2, 100*time.Millisecond)
	}
}

func dialAndPing(ctx context.Context, addr string) (*rpc.Client, error) {
	d := net.Dialer{Timeout: time.Second}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	client := rpc.NewClient(conn)
	if err := ping(ctx, client); err != nil {
		client.Close()
		return nil, err
	}
	return client, nil
}

func ping(ctx context.Context, client *rpc.Client) error {
	call := client.Go(scf.ServiceName+".Ping", &scf.PingRequest{}, &scf.PingResponse{}, make(chan *rpc.Call, 1))
	select {
	case <-call.Done:
		return call.Error
	case <-ctx.Done():
		return ctx.Err()
	}
}

// baseEnv is the environment every instance starts from.
func (p *Process) baseEnv() []string {
	if p.opts.InheritEnv {
		return os.Environ()
	}
	var env []string
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "TZ", "LANG", "SYSTEMROOT"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

func (p *Process) instance() (*instance, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur == nil {
		return nil, ErrStopped
	}
	return p.cur, nil
}

// Addr returns the host:port the function serves net/rpc on ("" after Stop).
func (p *Process) Addr() string {
	in, err := p.instance()
	if err != nil {
		return ""
	}
	return in.addr
}

// Pid returns the OS process id (0 after Stop).
func (p *Process) Pid() int {
	in, err := p.instance()
	if err != nil {
		return 0
	}
	return in.cmd.Process.Pid
}

// Output returns the last 64 KiB the process (and those it replaced through
// Restart) wrote to stdout and stderr.
func (p *Process) Output() string { return p.out.String() }

// Ping calls Function.Ping (bounded by StartTimeout).
func (p *Process) Ping() error {
	in, err := p.instance()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), p.opts.StartTimeout)
	defer cancel()
	if err := ping(ctx, in.client); err != nil {
		return p.transportErr(in, "ping", err)
	}
	return nil
}

// Invoke calls Function.Invoke with inv and returns what the function
// replied. The error is non-nil only for transport failures: the process is
// not running or died, the connection broke, or ctx ended first (the reply is
// then discarded). See Result for an invocation that overruns its deadline.
// With AutoRestart, an invocation that arrives while the instance is being
// replaced waits for the new one; if its deadline passes first, the Result
// is a TimeoutError (ShouldExit false) and the function never saw it.
func (p *Process) Invoke(ctx context.Context, inv Invocation) (Result, error) {
	req, err := inv.request(time.Now())
	if err != nil {
		return Result{}, err
	}
	deadline := time.Unix(req.Deadline.Seconds, req.Deadline.Nanos)
	in, err := p.acquire(ctx, deadline)
	if errors.Is(err, errWaitedPastDeadline) {
		return Result{Error: &scf.InvokeError{
			Type:    "TimeoutError",
			Message: fmt.Sprintf("invocation %s: its deadline passed while the function instance was being replaced", req.RequestId),
		}}, nil
	}
	if err != nil {
		return Result{}, fmt.Errorf("invoke %s: %w", req.RequestId, err)
	}
	defer p.release(in)
	mark := p.out.Len()
	var resp scf.InvokeResponse
	call := in.client.Go(scf.ServiceName+".Invoke", req, &resp, make(chan *rpc.Call, 1))
	overrun := time.NewTimer(max(time.Until(deadline), 0) + TimeoutGrace)
	defer overrun.Stop()
	select {
	case <-call.Done:
		if call.Error != nil {
			err := p.transportErr(in, "invoke "+req.RequestId, call.Error)
			p.replace(in, "the connection to the function failed: "+firstLine(err.Error()))
			return Result{Log: p.out.Since(mark)}, err
		}
		res := Result{Payload: resp.Payload, Error: resp.Error, PeakRSS: peakRSS(in.cmd.Process.Pid)}
		if inv.WantLog {
			in.stdout.sync(time.Second)
			in.stderr.sync(time.Second)
			res.Log = p.out.Since(mark)
		}
		if resp.Error != nil && resp.Error.ShouldExit {
			p.replace(in, "the function asked to exit after "+resp.Error.Type)
		}
		return res, nil
	case <-ctx.Done():
		return Result{}, fmt.Errorf("invoke %s: %w", req.RequestId, ctx.Err())
	case <-overrun.C:
		rss := peakRSS(in.cmd.Process.Pid)
		in.kill(p.opts.StopTimeout)
		p.replace(in, "invocation "+req.RequestId+" overran its deadline")
		return Result{PeakRSS: rss, Log: p.out.Since(mark), Error: &scf.InvokeError{
			Type: "TimeoutError",
			Message: fmt.Sprintf("invocation %s did not reply within %s of its deadline; the function process was stopped",
				req.RequestId, TimeoutGrace),
			ShouldExit: true,
		}}, nil
	}
}

// errWaitedPastDeadline: an invocation's deadline passed while it waited for
// a replacement instance.
var errWaitedPastDeadline = errors.New("deadline passed while waiting for a new instance")

// acquire returns the instance to invoke, counted as in flight until
// release. With AutoRestart it starts a replacement for an instance found
// dead (once) and waits for a replacement under way, until ctx ends or
// deadline passes.
func (p *Process) acquire(ctx context.Context, deadline time.Time) (*instance, error) {
	var timeout <-chan time.Time
	for {
		p.mu.Lock()
		if p.stopped {
			p.mu.Unlock()
			return nil, ErrStopped
		}
		if in := p.cur; in != nil {
			if !p.opts.AutoRestart || !in.hasExited() {
				in.inflight++
				p.mu.Unlock()
				return in, nil
			}
			p.replaceLocked(in, "the process exited: "+exitStatus(in))
		}
		ch := p.replacing
		if ch == nil {
			if !p.opts.AutoRestart {
				p.mu.Unlock()
				return nil, ErrStopped
			}
			// The last replacement failed to start: try again.
			p.startReplacementLocked("the previous start failed")
			ch = p.replacing
		}
		p.mu.Unlock()
		if timeout == nil {
			t := time.NewTimer(max(time.Until(deadline), 0))
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-timeout:
			return nil, errWaitedPastDeadline
		}
		p.mu.Lock()
		failed := p.cur == nil && !p.stopped && p.replaceErr != nil
		err := p.replaceErr
		p.mu.Unlock()
		if failed {
			return nil, fmt.Errorf("%w: a new instance failed to start: %w", ErrStopped, err)
		}
	}
}

// release ends an Invoke's use of in; the last one out of a replaced
// instance stops it.
func (p *Process) release(in *instance) {
	p.mu.Lock()
	in.inflight--
	done := in.retired && in.inflight == 0
	if done {
		delete(p.retiring, in)
	}
	p.mu.Unlock()
	if done {
		in.kill(p.opts.StopTimeout)
	}
}

// replace starts a replacement for in when AutoRestart is on and in is still
// the current instance; a replacement already under way (or done) for in
// makes it a no-op, so a failure many invocations see restarts once.
func (p *Process) replace(in *instance, reason string) {
	if !p.opts.AutoRestart {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.replaceLocked(in, reason)
}

func (p *Process) replaceLocked(in *instance, reason string) {
	if p.stopped || p.cur != in {
		return
	}
	p.cur = nil
	in.retired = true
	if in.inflight == 0 {
		go in.kill(p.opts.StopTimeout)
	} else {
		p.retiring[in] = struct{}{}
	}
	p.startReplacementLocked(reason)
}

// startReplacementLocked starts a new instance in the background; p.mu is held.
func (p *Process) startReplacementLocked(reason string) {
	ch := make(chan struct{})
	p.replacing = ch
	go func() {
		begin := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), p.opts.StartTimeout)
		in, err := p.start(ctx)
		cancel()
		ev := RestartEvent{Reason: reason, Took: time.Since(begin), Err: err}
		p.mu.Lock()
		p.replaceErr = err
		if err == nil {
			if p.stopped || p.cur != nil { // stopped, or Reload installed one meanwhile
				in.kill(p.opts.StopTimeout) // Stop waits for ch, so nothing outlives it
			} else {
				p.cur = in
				p.starts++
				ev.Pid = in.cmd.Process.Pid
			}
		}
		p.replacing = nil
		close(ch)
		p.mu.Unlock()
		if p.opts.OnRestart != nil {
			p.opts.OnRestart(ev)
		}
	}()
}

// Starts returns how many processes were started successfully: 1 plus the
// replacements (automatic and by Restart).
func (p *Process) Starts() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.starts
}

func exitStatus(in *instance) string {
	if in.waitErr == nil {
		return "exit status 0"
	}
	return in.waitErr.Error()
}

func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}

// transportErr describes a failed rpc call, with the process's exit status
// and recent output when it died.
func (p *Process) transportErr(in *instance, op string, err error) error {
	select {
	case <-in.exited:
	case <-time.After(200 * time.Millisecond):
		// give a dying process a moment, so the error can say why
	}
	select {
	case <-in.exited:
		return fmt.Errorf("%s: %w: function process exited (%v)%s", op, ErrStopped, in.waitErr, indent(p.out.Since(p.out.Len()-4096)))
	default:
		return fmt.Errorf("%s: %w", op, err)
	}
}

func (inv Invocation) request(now time.Time) (*scf.InvokeRequest, error) {
	timeout := inv.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	deadline := inv.Deadline
	if deadline.IsZero() {
		deadline = now.Add(timeout)
	}
	req := &scf.InvokeRequest{
		Payload:            inv.Payload,
		RequestId:          inv.RequestID,
		Deadline:           scf.Deadline{Seconds: deadline.Unix(), Nanos: int64(deadline.Nanosecond())},
		Namespace:          inv.Namespace,
		FunctionName:       inv.FunctionName,
		FunctionVersion:    inv.FunctionVersion,
		MemoryLimitInMb:    inv.MemoryMB,
		TimeLimitInMs:      int32(min(timeout.Milliseconds(), 1<<31-1)),
		TencentcloudRegion: inv.Region,
		TencentcloudAppID:  inv.AppID,
		TencentcloudUin:    inv.Uin,
	}
	if req.RequestId == "" {
		req.RequestId = NewRequestID()
	}
	if req.Namespace == "" {
		req.Namespace = "default"
	}
	if req.FunctionVersion == "" {
		req.FunctionVersion = "$LATEST"
	}
	if req.MemoryLimitInMb == 0 {
		req.MemoryLimitInMb = DefaultMemoryMB
	}
	if inv.Env != nil {
		b, err := json.Marshal(inv.Env)
		if err != nil {
			return nil, fmt.Errorf("invocation environment: %w", err)
		}
		req.Environment = string(b)
	}
	return req, nil
}

// NewRequestID returns a random id shaped like SCF's request ids (a UUID).
func NewRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// Stop ends the process: SIGTERM to its process group, then SIGKILL if it has
// not exited within StopTimeout. It waits for the exit (and for a replacement
// under way, which it stops too) and is safe to call more than once. It
// returns an error only when SIGKILL was needed.
func (p *Process) Stop() error {
	p.mu.Lock()
	p.stopped = true
	in := p.cur
	p.cur = nil
	ch := p.replacing
	retiring := make([]*instance, 0, len(p.retiring))
	for r := range p.retiring {
		retiring = append(retiring, r)
	}
	clear(p.retiring)
	p.mu.Unlock()
	var wg sync.WaitGroup
	for _, r := range retiring {
		wg.Go(func() { r.kill(p.opts.StopTimeout) })
	}
	if ch != nil {
		<-ch
	}
	var err error
	if in != nil {
		if killed := in.kill(p.opts.StopTimeout); killed {
			err = fmt.Errorf("stop %s: no exit within %s of SIGTERM; killed", p.binary(), p.opts.StopTimeout)
		}
	}
	wg.Wait()
	return err
}

// Restart replaces the process with a fresh one now (new port, same binary
// and options), for example after a Result whose Error.ShouldExit is set:
// the old one is stopped at once. If a replacement is already under way, it
// waits for that one instead of starting another. After Stop it starts the
// process again.
func (p *Process) Restart(ctx context.Context) error {
	p.mu.Lock()
	if ch := p.replacing; ch != nil {
		p.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.replaceErr
	}
	old := p.cur
	p.cur = nil
	p.stopped = false
	ch := make(chan struct{})
	p.replacing = ch
	p.mu.Unlock()
	if old != nil {
		old.kill(p.opts.StopTimeout)
	}
	in, err := p.start(ctx)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.replaceErr = err
	p.replacing = nil
	close(ch)
	if err != nil {
		return err
	}
	if p.stopped { // Stop came meanwhile
		in.kill(p.opts.StopTimeout)
		return ErrStopped
	}
	if p.cur != nil { // Reload installed one meanwhile: keep that
		go in.kill(p.opts.StopTimeout)
		return nil
	}
	p.cur = in
	p.starts++
	return nil
}

// Reload switches to a new executable bin (a rebuilt function) with the
// same options: it starts bin, and once that answers Ping, new invocations
// go to it while those in flight finish on the old process, which is then
// stopped. Later restarts run bin. If bin fails to start, the old process
// keeps serving and the error says why.
func (p *Process) Reload(ctx context.Context, bin string) error {
	p.mu.Lock()
	stopped := p.stopped
	p.mu.Unlock()
	if stopped {
		return ErrStopped
	}
	in, err := p.startFrom(ctx, bin)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		go in.kill(p.opts.StopTimeout)
		return ErrStopped
	}
	old := p.cur
	p.cur, p.bin = in, bin
	p.starts++
	if old != nil {
		old.retired = true
		if old.inflight == 0 {
			go old.kill(p.opts.StopTimeout)
		} else {
			p.retiring[old] = struct{}{}
		}
	}
	return nil
}

// Exited reports whether the current process has exited (true after Stop).
func (p *Process) Exited() bool {
	in, err := p.instance()
	if err != nil {
		return true
	}
	select {
	case <-in.exited:
		return true
	default:
		return false
	}
}

// kill ends the instance's process group (SIGTERM, then SIGKILL after
// grace) and waits for it. It reports whether SIGKILL was needed.
func (in *instance) kill(grace time.Duration) (killed bool) {
	if in.client != nil {
		in.client.Close()
	}
	select {
	case <-in.exited:
		signalGroup(in.cmd, sigKill) // leftovers the leader may have started
		return false
	default:
	}
	signalGroup(in.cmd, sigTerm)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-in.exited:
	case <-t.C:
		killed = true
		signalGroup(in.cmd, sigKill)
		<-in.exited
	}
	signalGroup(in.cmd, sigKill)
	return killed
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func writerOr(w io.Writer, tail *tailBuffer) io.Writer {
	if w == nil {
		return tail
	}
	return io.MultiWriter(w, tail)
}

func indent(out string) string {
	out = strings.TrimSpace(out)
	if out == "" {
		return ""
	}
	return "\n\t" + strings.ReplaceAll(out, "\n", "\n\t")
}

// errNoPid is returned when signalling a process that never started.
var errNoPid = errors.New("no process")

// tailBuffer keeps the last max bytes written to it; safe for concurrent use.
type tailBuffer struct {
	mu    sync.Mutex
	max   int
	buf   []byte
	total int // bytes ever written
}

func newTailBuffer(max int) *tailBuffer { return &tailBuffer{max: max} }

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.total += len(p)
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

// Len returns the number of bytes ever written.
func (b *tailBuffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.total
}

// Since returns what was written after the first n bytes, as far as it is
// still kept.
func (b *tailBuffer) Since(n int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	kept := b.total - len(b.buf) // offset of buf[0]
	start := max(n-kept, 0)
	if start > len(b.buf) {
		return ""
	}
	return string(b.buf[start:])
}

func (b *tailBuffer) String() string { return b.Since(0) }

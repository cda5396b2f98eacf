package scflocal

import (
	"cmp"
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

// Defaults for zero options. TimeoutGrace is how long past its deadline an
// invocation may take to reply before Invoke kills the process, as SCF ends
// an instance that overruns its timeout.
const (
	DefaultStartTimeout = 10 * time.Second
	DefaultStopTimeout  = 3 * time.Second
	DefaultTimeout      = 3 * time.Second // SCF's default function timeout
	DefaultMemoryMB     = 128
	TimeoutGrace        = time.Second
)

// ProcessOptions configures StartProcess.
type ProcessOptions struct {
	// Env holds KEY=VALUE entries SCF sets on the instance and non-secret
	// configuration; credentials belong in Invocation.Env.
	Env []string
	// Stdout and Stderr receive the output (nil: discarded); the last 64 KiB
	// of both are kept for error messages and Output.
	Stdout, Stderr io.Writer
	// InheritEnv starts from os.Environ instead of only PATH, HOME, TMPDIR,
	// TZ and LANG, which keeps a developer's shell credentials out, as on SCF.
	InheritEnv   bool
	StartTimeout time.Duration // bounds the wait for the first answered Ping
	StopTimeout  time.Duration // between SIGTERM and SIGKILL
	// AutoRestart replaces the instance, as SCF replaces a failed one, once
	// however many invocations see it die, break its connection, overrun a
	// deadline or ask to exit (Error.ShouldExit): a live old instance
	// finishes its invocations, new ones wait for the replacement within
	// their ctx and deadline. Without it the caller decides, with Restart.
	AutoRestart bool
	OnRestart   func(RestartEvent) // called after each automatic replacement
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
	Payload   []byte
	RequestID string        // default: a random UUID-shaped id
	Timeout   time.Duration // default DefaultTimeout: Deadline = now + Timeout, and TimeLimitInMs
	// Env is sent as the Environment JSON (nil: none); SCF puts the
	// execution role's credentials there.
	Env             map[string]string
	FunctionName    string
	Namespace       string // default "default"
	FunctionVersion string // default "$LATEST"
	Region          string
	MemoryMB        int32     // default DefaultMemoryMB
	Deadline        time.Time // when non-zero, sent instead of now + Timeout
	AppID, Uin      string    // sent as TencentcloudAppID and TencentcloudUin
	WantLog         bool      // fill Result.Log, once the output before the reply is read
}

// Result is what the function replied. Error is set when the handler
// returned an error or panicked (then ShouldExit), or when Invoke gave up on
// an invocation that overran its deadline (Type "TimeoutError", ShouldExit;
// the process has been stopped).
type Result struct {
	Payload []byte
	Error   *scf.InvokeError
	PeakRSS int64  // peak resident set size in bytes (Linux VmHWM; 0: unknown), SCF's memory used
	Log     string // with WantLog: what the process wrote during the call (at most 64 KiB)
}

// Process is a running function binary; safe for concurrent use (the
// function itself serves invocations one at a time).
type Process struct {
	opts ProcessOptions
	out  *tailBuffer

	mu         sync.Mutex
	bin        string                 // what new instances run (Reload changes it)
	cur        *instance              // nil after Stop, and while a replacement starts
	stopped    bool                   // Stop was called (and no Restart since)
	replacing  chan struct{}          // non-nil while a replacement starts; closed when it is done
	replaceErr error                  // why the last replacement failed
	retiring   map[*instance]struct{} // replaced instances finishing their invocations
	starts     int                    // instances started successfully
}

// instance is one OS process of a Process.
type instance struct {
	cmd            *exec.Cmd
	addr           string
	client         *rpc.Client
	exited         chan struct{} // closed once cmd.Wait returns and its output is copied
	waitErr        error         // valid after exited is closed
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

// StartProcess starts bin as SCF does, with $_LAMBDA_SERVER_PORT set to a
// free port on 127.0.0.1, and waits until it answers Function.Ping (ctx
// bounds this only). It runs in its own process group, which Stop ends as a
// whole; on Linux it is killed if this process dies.
func StartProcess(ctx context.Context, bin string, opts ProcessOptions) (*Process, error) {
	opts.StartTimeout = orDefault(opts.StartTimeout, DefaultStartTimeout)
	opts.StopTimeout = orDefault(opts.StopTimeout, DefaultStopTimeout)
	p := &Process{bin: bin, opts: opts, out: &tailBuffer{max: 64 << 10}, retiring: map[*instance]struct{}{}}
	in, err := p.start(ctx, bin)
	if err != nil {
		return nil, err
	}
	p.cur, p.starts = in, 1
	return p, nil
}

func orDefault(d, def time.Duration) time.Duration { return cmp.Or(max(d, 0), def) }

// start launches a new instance of bin, retrying when another process took
// the port between choosing and binding it.
func (p *Process) start(ctx context.Context, bin string) (in *instance, err error) {
	for range 3 {
		var retry bool
		if in, retry, err = p.startOnce(ctx, bin); err == nil || !retry {
			break
		}
	}
	return in, err
}

func (p *Process) startOnce(ctx context.Context, bin string) (in *instance, retry bool, err error) {
	port, err := freePort()
	if err != nil {
		return nil, false, fmt.Errorf("start %s: %w", bin, err)
	}
	cmd := exec.Command(bin)
	cmd.Env = append(p.baseEnv(), p.opts.Env...)
	cmd.Env = append(cmd.Env, scf.EnvServerPort+"="+strconv.Itoa(port), scf.EnvServerHost+"=127.0.0.1")
	in = &instance{cmd: cmd, addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), exited: make(chan struct{})}
	if in.stdout, err = newOutPipe(io.MultiWriter(cmp.Or[io.Writer](p.opts.Stdout, io.Discard), p.out)); err == nil {
		if in.stderr, err = newOutPipe(io.MultiWriter(cmp.Or[io.Writer](p.opts.Stderr, io.Discard), p.out)); err != nil {
			in.stdout.closeWriter()
		}
	}
	if err != nil {
		return nil, false, fmt.Errorf("start %s: %w", bin, err)
	}
	cmd.Stdout, cmd.Stderr = in.stdout.w, in.stderr.w
	setProcAttr(cmd)
	mark := p.out.Len()
	if err := cmd.Start(); err != nil {
		in.stdout.closeWriter()
		in.stderr.closeWriter()
		return nil, false, fmt.Errorf("start %s: %w", bin, err)
	}
	go in.wait()

	ctx, cancel := context.WithTimeout(ctx, p.opts.StartTimeout)
	defer cancel()
	for delay := 5 * time.Millisecond; ; delay = min(delay*2, 100*time.Millisecond) {
		if in.hasExited() {
			out := p.out.Since(mark)
			return nil, strings.Contains(out, "address already in use"),
				fmt.Errorf("start %s: process exited before answering Ping (%v)%s", bin, in.waitErr, indent(out))
		}
		if in.client, err = dialAndPing(ctx, in.addr); err == nil {
			return in, false, nil
		}
		select {
		case <-ctx.Done():
			in.kill(p.opts.StopTimeout)
			return nil, false, fmt.Errorf("start %s: no answer to Ping on %s: %w%s", bin, in.addr, ctx.Err(), indent(p.out.Since(mark)))
		case <-in.exited:
		case <-time.After(delay):
		}
	}
}

// wait reaps the process, then waits for its output (2 s at most: a child
// it left behind may keep the pipes open).
func (in *instance) wait() {
	in.waitErr = in.cmd.Wait()
	in.stdout.closeWriter()
	in.stderr.closeWriter()
	t := time.NewTimer(2 * time.Second)
	defer t.Stop()
	for _, o := range []*outPipe{in.stdout, in.stderr} {
		select {
		case <-o.done:
		case <-t.C:
		}
	}
	close(in.exited)
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

func (p *Process) instance() *instance {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cur
}

// Addr returns the host:port the function serves net/rpc on ("" after Stop).
func (p *Process) Addr() string {
	if in := p.instance(); in != nil {
		return in.addr
	}
	return ""
}

// Pid returns the OS process id (0 after Stop).
func (p *Process) Pid() int {
	if in := p.instance(); in != nil {
		return in.cmd.Process.Pid
	}
	return 0
}

// Exited reports whether the current process has exited (true after Stop).
func (p *Process) Exited() bool {
	in := p.instance()
	return in == nil || in.hasExited()
}

// Output returns the last 64 KiB all its processes wrote to stdout and stderr.
func (p *Process) Output() string { return p.out.String() }

// Starts returns how many processes were started successfully: 1 plus the
// replacements (automatic, Restart and Reload).
func (p *Process) Starts() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.starts
}

// Ping calls Function.Ping (bounded by StartTimeout).
func (p *Process) Ping() error {
	in := p.instance()
	if in == nil {
		return ErrStopped
	}
	ctx, cancel := context.WithTimeout(context.Background(), p.opts.StartTimeout)
	defer cancel()
	if err := ping(ctx, in.client); err != nil {
		return p.transportErr(in, "ping", err)
	}
	return nil
}

// Invoke calls Function.Invoke with inv. The error reports transport
// failures only (the process is not running or died, the connection broke,
// ctx ended); the function's errors and panics are in Result. With
// AutoRestart, an invocation whose deadline passes while it waits for a
// replacement gets a TimeoutError Result (ShouldExit false).
func (p *Process) Invoke(ctx context.Context, inv Invocation) (Result, error) {
	req, err := inv.request(time.Now())
	if err != nil {
		return Result{}, err
	}
	deadline := time.Unix(req.Deadline.Seconds, req.Deadline.Nanos)
	in, err := p.acquire(ctx, deadline)
	if errors.Is(err, errWaitedPastDeadline) {
		return Result{Error: &scf.InvokeError{Type: "TimeoutError",
			Message: fmt.Sprintf("invocation %s: its deadline passed while the function instance was being replaced", req.RequestId)}}, nil
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
			first, _, _ := strings.Cut(err.Error(), "\n")
			p.replace(in, "the connection to the function failed: "+first)
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
		return Result{PeakRSS: rss, Log: p.out.Since(mark), Error: &scf.InvokeError{Type: "TimeoutError", ShouldExit: true,
			Message: fmt.Sprintf("invocation %s did not reply within %s of its deadline; the function process was stopped", req.RequestId, TimeoutGrace)}}, nil
	}
}

var errWaitedPastDeadline = errors.New("deadline passed while waiting for a new instance")

// acquire returns the instance to invoke, in flight until release. With
// AutoRestart it replaces an instance found dead and waits for the
// replacement, until ctx ends or deadline passes.
func (p *Process) acquire(ctx context.Context, deadline time.Time) (*instance, error) {
	timeout := time.NewTimer(max(time.Until(deadline), 0))
	defer timeout.Stop()
	for {
		p.mu.Lock()
		if p.stopped {
			p.mu.Unlock()
			return nil, ErrStopped
		}
		in := p.cur
		if in != nil && (!p.opts.AutoRestart || !in.hasExited()) {
			in.inflight++
			p.mu.Unlock()
			return in, nil
		}
		if in != nil {
			p.replaceLocked(in, "the process exited: "+exitStatus(in))
		}
		ch := p.replacing
		if ch == nil && p.opts.AutoRestart { // the last replacement failed to start: try again
			p.startReplacementLocked("the previous start failed")
			ch = p.replacing
		}
		p.mu.Unlock()
		if ch == nil {
			return nil, ErrStopped
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-timeout.C:
			return nil, errWaitedPastDeadline
		}
		p.mu.Lock()
		err := p.replaceErr
		failed := p.cur == nil && !p.stopped && err != nil
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

// retireLocked stops old once its invocations in flight are done.
func (p *Process) retireLocked(old *instance) {
	if old == nil {
		return
	}
	old.retired = true
	if old.inflight == 0 {
		go old.kill(p.opts.StopTimeout)
	} else {
		p.retiring[old] = struct{}{}
	}
}

// replace starts a replacement for in with AutoRestart, if in is still the
// current instance: a failure many invocations see restarts once.
func (p *Process) replace(in *instance, reason string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.replaceLocked(in, reason)
}

func (p *Process) replaceLocked(in *instance, reason string) {
	if !p.opts.AutoRestart || p.stopped || p.cur != in {
		return
	}
	p.cur = nil
	p.retireLocked(in)
	p.startReplacementLocked(reason)
}

// startReplacementLocked starts a new instance in the background.
func (p *Process) startReplacementLocked(reason string) {
	ch := make(chan struct{})
	p.replacing = ch
	bin := p.bin
	go func() {
		begin := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), p.opts.StartTimeout)
		in, err := p.start(ctx, bin)
		cancel()
		ev := RestartEvent{Reason: reason, Took: time.Since(begin), Err: err}
		p.mu.Lock()
		p.replaceErr = err
		switch {
		case err != nil:
		case p.install(in):
			ev.Pid = in.cmd.Process.Pid
		default: // stopped, or Reload installed one (Stop waits for ch, so nothing outlives it)
			in.kill(p.opts.StopTimeout)
		}
		p.replacing = nil
		close(ch)
		p.mu.Unlock()
		if p.opts.OnRestart != nil {
			p.opts.OnRestart(ev)
		}
	}()
}

// install makes in the current instance unless Stop was called or another
// one was installed meanwhile; p.mu is held.
func (p *Process) install(in *instance) bool {
	if p.stopped || p.cur != nil {
		return false
	}
	p.cur = in
	p.starts++
	return true
}

func exitStatus(in *instance) string {
	if in.waitErr == nil {
		return "exit status 0"
	}
	return in.waitErr.Error()
}

// transportErr describes a failed rpc call, with the process's exit status
// and recent output when it died (given a moment to do so).
func (p *Process) transportErr(in *instance, op string, err error) error {
	select {
	case <-in.exited:
	case <-time.After(200 * time.Millisecond):
	}
	if in.hasExited() {
		return fmt.Errorf("%s: %w: function process exited (%v)%s", op, ErrStopped, in.waitErr, indent(p.out.Since(p.out.Len()-4096)))
	}
	return fmt.Errorf("%s: %w", op, err)
}

func (inv Invocation) request(now time.Time) (*scf.InvokeRequest, error) {
	timeout := orDefault(inv.Timeout, DefaultTimeout)
	deadline := inv.Deadline
	if deadline.IsZero() {
		deadline = now.Add(timeout)
	}
	req := &scf.InvokeRequest{
		Payload:            inv.Payload,
		RequestId:          cmp.Or(inv.RequestID, NewRequestID()),
		Deadline:           scf.Deadline{Seconds: deadline.Unix(), Nanos: int64(deadline.Nanosecond())},
		Namespace:          cmp.Or(inv.Namespace, "default"),
		FunctionName:       inv.FunctionName,
		FunctionVersion:    cmp.Or(inv.FunctionVersion, "$LATEST"),
		MemoryLimitInMb:    cmp.Or(inv.MemoryMB, DefaultMemoryMB),
		TimeLimitInMs:      int32(min(timeout.Milliseconds(), 1<<31-1)),
		TencentcloudRegion: inv.Region,
		TencentcloudAppID:  inv.AppID,
		TencentcloudUin:    inv.Uin,
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

// Stop ends every process (SIGTERM to its group, SIGKILL after
// StopTimeout) and waits for them and a replacement under way. It may be
// called again; its error says SIGKILL was needed.
func (p *Process) Stop() error {
	p.mu.Lock()
	p.stopped = true
	in, ch := p.cur, p.replacing
	p.cur = nil
	retiring := make([]*instance, 0, len(p.retiring))
	for r := range p.retiring {
		retiring = append(retiring, r)
	}
	clear(p.retiring)
	bin := p.bin
	p.mu.Unlock()
	var wg sync.WaitGroup
	for _, r := range retiring {
		wg.Go(func() { r.kill(p.opts.StopTimeout) })
	}
	if ch != nil {
		<-ch
	}
	var err error
	if in != nil && in.kill(p.opts.StopTimeout) {
		err = fmt.Errorf("stop %s: no exit within %s of SIGTERM; killed", bin, p.opts.StopTimeout)
	}
	wg.Wait()
	return err
}

// Restart starts a fresh process now (also after Stop) and switches to it
// as Reload does, for example after a Result's Error.ShouldExit.
func (p *Process) Restart(ctx context.Context) error { return p.reload(ctx, "", true) }

// Reload switches to the executable bin (a rebuilt function): once it
// answers Ping, new invocations go to it while those in flight finish on
// the old process, which is then stopped. If bin fails to start, the old
// process keeps serving.
func (p *Process) Reload(ctx context.Context, bin string) error { return p.reload(ctx, bin, false) }

func (p *Process) reload(ctx context.Context, bin string, restart bool) error {
	p.mu.Lock()
	if restart {
		p.stopped, bin = false, p.bin
	}
	stopped := p.stopped
	p.mu.Unlock()
	if stopped {
		return ErrStopped
	}
	in, err := p.start(ctx, bin)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		go in.kill(p.opts.StopTimeout)
		return ErrStopped
	}
	p.retireLocked(p.cur)
	p.cur, p.bin = nil, bin
	p.install(in)
	return nil
}

// kill ends the instance's process group (SIGTERM, then SIGKILL after
// grace) and waits for it. It reports whether SIGKILL was needed.
func (in *instance) kill(grace time.Duration) (killed bool) {
	if in.client != nil {
		in.client.Close()
	}
	if !in.hasExited() {
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
	}
	signalGroup(in.cmd, sigKill) // leftovers the leader may have started
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

func indent(out string) string {
	out = strings.TrimSpace(out)
	if out == "" {
		return ""
	}
	return "\n\t" + strings.ReplaceAll(out, "\n", "\n\t")
}

// tailBuffer keeps the last max bytes written to it; safe for concurrent use.
type tailBuffer struct {
	mu    sync.Mutex
	max   int
	buf   []byte
	total int // bytes ever written
}

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

// Since returns what was written after the first n bytes, as far as it is kept.
func (b *tailBuffer) Since(n int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	start := max(n-(b.total-len(b.buf)), 0)
	if start > len(b.buf) {
		return ""
	}
	return string(b.buf[start:])
}

func (b *tailBuffer) String() string { return b.Since(0) }

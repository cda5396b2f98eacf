package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/cron"
)

// Local identity used against the emulator (SCF sets these per account).
const (
	localAppID = "1250000000"
	localUin   = "100000000001"
)

// common are the settings serve and invoke share.
type common struct {
	config       string
	cloud        bool
	emulatorAddr string
	demo         bool
	seed         int64
	secret       string
	logs         bool
	envVars      string // --env-vars file
}

// serveOptions are serve's flags.
type serveOptions struct {
	common
	addr      string
	watch     bool // --watch: rebuild and reload a function when its Go files change
	sweepNow  bool
	timers    bool // --timers, false with --cloud unless given
	timersSet bool // --timers was given
	crons     cronFlag
}

// cronFlag collects --cron FUNCTION=EXPR overrides.
type cronFlag map[string]string

func (c cronFlag) String() string { return "" }

func (c cronFlag) Set(v string) error {
	name, expr, ok := strings.Cut(v, "=")
	if !ok || name == "" || expr == "" {
		return errors.New(`want FUNCTION=EXPR, such as 'sweep-tasks=*/30 * * * * * *'`)
	}
	if _, err := cron.Parse(expr); err != nil {
		return err
	}
	c[name] = expr
	return nil
}

var (
	errUsage          = errors.New("usage")
	errHelp           = errors.New("help shown")
	errFunctionFailed = errors.New("the function returned an error")
)

// newFlagSet is a command's flag set: its -h prints usage, then the flags.
func newFlagSet(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	return fs
}

// parseArgs parses args with fs, flags before and after the arguments, and
// returns the arguments: -h prints the help on stdout (errHelp, exit
// status 0), a bad flag the error and the help on stderr (errUsage, 2).
func parseArgs(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) ([]string, error) {
	var buf bytes.Buffer
	var positional []string
	for {
		fs.SetOutput(&buf)
		err := fs.Parse(args)
		fs.SetOutput(stderr)
		switch {
		case errors.Is(err, flag.ErrHelp):
			_, _ = stdout.Write(buf.Bytes())
			return nil, errHelp
		case err != nil:
			_, _ = stderr.Write(buf.Bytes())
			return nil, errUsage
		case fs.NArg() == 0:
			return positional, nil
		}
		positional, args = append(positional, fs.Arg(0)), fs.Args()[1:]
	}
}

// addProject defines the flags that find the project and the emulator.
func addProject(fs *flag.FlagSet, c *common) {
	fs.StringVar(&c.config, "config", "serverless.yml", "the serverless.yml `file` (functions/<handler> is built next to it)")
	fs.StringVar(&c.emulatorAddr, "emulator-addr", "127.0.0.1:9100", "`address` of the Tencent Cloud API emulator: the embedded one listens there; invoke and generate-event use a running scf-local's there first")
}

// addCommon defines the flags serve and invoke share.
func addCommon(fs *flag.FlagSet, c *common) {
	addProject(fs, c)
	fs.BoolVar(&c.cloud, "cloud", false, "call the real Tencent Cloud APIs with $TENCENTCLOUD_SECRET_ID/$TENCENTCLOUD_SECRET_KEY(/$TENCENTCLOUD_TOKEN) instead of the emulator")
	fs.BoolVar(&c.demo, "demo", true, "load the emulator's demo data (stale and young tasks, live jobs, transcriptions)")
	fs.Int64Var(&c.seed, "seed", 1, "seed of the emulator's demo data and ids")
	fs.StringVar(&c.secret, "webhook-secret", "", "webhook `secret` given to every function (default: each function's own, from the variable serverless.yml names, such as $JANITOR_CANCEL_TASK_SECRET in the shell or .env, else a random one per function)")
	fs.StringVar(&c.envVars, "env-vars", "", "JSON `file` of environment overrides, as sam local's: {\"Parameters\":{...all functions},\"<function>\":{...}}; only variables serverless.yml declares")
}

func parseServe(args []string, stdout, stderr io.Writer) (serveOptions, error) {
	o := serveOptions{crons: cronFlag{}}
	fs := serveFlags(&o, stderr)
	rest, err := parseArgs(fs, args, stdout, stderr)
	if err == nil && len(rest) > 0 {
		fmt.Fprintf(stderr, "scf-local: unexpected argument %q (serve takes flags only; run scf-local -h for help)\n", rest[0])
		err = errUsage
	}
	// Never sweep a real account unless asked to.
	fs.Visit(func(f *flag.Flag) { o.timersSet = o.timersSet || f.Name == "timers" })
	o.timers = o.timers && (!o.cloud || o.timersSet)
	return o, err
}

// serveFlags defines serve's flags on a new FlagSet that writes to stderr.
func serveFlags(o *serveOptions, stderr io.Writer) *flag.FlagSet {
	fs := newFlagSet("scf-local", "usage: scf-local [serve] [flags]\n\nRuns every function in serverless.yml behind a Function URL gateway, with its timers, against the emulator.\n\n", stderr)
	addCommon(fs, &o.common)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:9000", "listen `address` of the Function URL gateway (POST /<function>)")
	fs.BoolVar(&o.sweepNow, "sweep-now", false, "run sweep-tasks once at start (a timer event), besides its schedule")
	fs.BoolVar(&o.timers, "timers", true, "fire timer triggers on their cron schedules (with --cloud only when given)")
	fs.Var(o.crons, "cron", "override a function's timer schedule: `FUNCTION=EXPR`, such as 'sweep-tasks=*/30 * * * * * *' (repeatable)")
	fs.BoolVar(&o.logs, "logs", false, "show the functions' own log output on stderr, each line prefixed with [function]")
	fs.BoolVar(&o.watch, "watch", false, "rebuild and restart a function when a Go file it depends on changes (a failing build keeps the old code serving)")
	return fs
}

type invokeOptions struct {
	common
	function string
	event    string
}

func parseInvoke(args []string, stdout, stderr io.Writer) (invokeOptions, error) {
	var o invokeOptions
	fs := newFlagSet("scf-local invoke", "usage: scf-local invoke FUNCTION [--event FILE|-] [flags]\n\n"+
		"Builds and starts FUNCTION, invokes it once with the event and prints its result on stdout\n"+
		"(a function error as {\"errorMessage\",\"errorType\"}, exit status 1). It uses the emulator\n"+
		"already listening on --emulator-addr (a running scf-local's), else starts one.\n\n", stderr)
	addCommon(fs, &o.common)
	fs.StringVar(&o.event, "event", "", "the event: a JSON `file`, or - for stdin (generate-event makes one); without it the event is {}")
	fs.BoolVar(&o.logs, "logs", true, "show the function's log output on stderr")
	rest, err := parseArgs(fs, args, stdout, stderr)
	switch {
	case err != nil:
		return o, err
	case len(rest) == 0:
		fmt.Fprintln(stderr, "scf-local invoke: which function? Name it: scf-local invoke FUNCTION [--event FILE|-] (the names are serverless.yml's function names)")
		return o, errUsage
	case len(rest) > 1:
		fmt.Fprintf(stderr, "scf-local invoke: unexpected argument %q after the function %s (one function per invoke; flags may follow it)\n", rest[1], rest[0])
		return o, errUsage
	}
	o.function = rest[0]
	return o, nil
}

// invokeOnce is `scf-local invoke`.
func invokeOnce(ctx context.Context, o invokeOptions, getenv func(string) (string, bool), stdin io.Reader, stdout, stderr io.Writer) error {
	payload := []byte("{}") // as sam local invoke without --event
	var err error
	switch o.event {
	case "":
	case "-":
		payload, err = io.ReadAll(stdin)
	default:
		payload, err = os.ReadFile(o.event)
	}
	if err != nil {
		return fmt.Errorf("read the event: %w", err)
	}
	if !json.Valid(payload) {
		return fmt.Errorf("the event in %s is not valid JSON (generate one with: scf-local generate-event url --body '{...}')", o.event)
	}
	log := &lockedWriter{w: stderr}
	env, err := setup(ctx, o.common, getenv, log, true)
	if err != nil {
		return err
	}
	defer env.close()
	binDir, err := os.MkdirTemp("", "scf-local-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(binDir)
	r := &runner{rc: env.rc, binDir: binDir, note: log}
	if o.logs {
		r.logs = log
	}
	defer r.stop()
	if err := r.start(ctx, []string{o.function}); err != nil {
		return err
	}
	fn, _ := env.rc.cfg.Function(o.function)
	f, _ := r.get(fn.Name)
	var opt callOptions
	var ev struct{ Type string }
	if json.Unmarshal(payload, &ev) == nil && (ev.Type == "Timer" || ev.Type == "timer") {
		opt.env = timerEnv
	}
	inv, err := r.invoke(ctx, f, payload, opt)
	if err != nil {
		return err
	}
	log.printf("scf-local: %s %s in %s\n", f.fn.Name, inv.requestID, inv.latency.Round(time.Millisecond))
	if inv.Error != nil {
		b, _ := json.Marshal(map[string]string{"errorMessage": inv.Error.Message, "errorType": inv.Error.Type})
		fmt.Fprintf(stdout, "%s\n", b)
		return errFunctionFailed
	}
	fmt.Fprintf(stdout, "%s\n", inv.Payload)
	return nil
}

// generateEventCmd is `scf-local generate-event`.
func generateEventCmd(ctx context.Context, args []string, getenv func(string) (string, bool), stdout, stderr io.Writer) error {
	fs := newFlagSet("scf-local generate-event", "usage: scf-local generate-event apigw|url|timer|console [--function F] [--body JSON] [--secret S] [--path P]\n\n"+
		"Prints a sample event, such as SCF delivers, for scf-local invoke --event -.\n\n", stderr)
	var c common
	addProject(fs, &c)
	body := fs.String("body", "", "the request body (url, apigw), the timer's Message (timer) or the event itself (console)")
	secret := fs.String("secret", "", "sign the HTTP event's body with this webhook `secret` (X-Janitor-Signature, valid for 5 minutes; "+
		"default: the secret --function accepts: the running scf-local's, else its variable's from the shell or .env)")
	function := fs.String("function", "", "the `function` the event is for: without --body, the body is a request it accepts (ids of running jobs "+
		"from the emulator at --emulator-addr when one answers); its webhook secret signs an HTTP event unless --secret is given "+
		"(default: the function --path names, such as /cancel-task)")
	path := fs.String("path", "/", "the request path (url, apigw)")
	rest, err := parseArgs(fs, args, stdout, stderr)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		fs.Usage()
		return errUsage
	}
	kind := rest[0]
	if *secret == "" && (kind == "url" || kind == "apigw") {
		if *secret, err = defaultEventSecret(ctx, c.config, *function, *path, c.emulatorAddr, getenv); err != nil {
			return err
		}
	}
	if *function != "" && *body == "" {
		bctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		b, err := bodyForFunction(bctx, *function, kind, c.config, c.emulatorAddr, stderr)
		cancel()
		if err != nil {
			return err
		}
		*body = string(b)
	}
	ev, err := generateEvent(kind, []byte(*body), *secret, *path, time.Now())
	if err != nil {
		return err
	}
	_, err = stdout.Write(ev)
	return err
}

// defaultEventSecret is the secret an HTTP event for function (or the
// function path names) is signed with when --secret is not given: the one
// the running scf-local's copy of it accepts, else the one serverless.yml
// gives it from the shell or .env (the first of a rotation list). It is ""
// (unsigned) when no function is named or the function has no secret.
func defaultEventSecret(ctx context.Context, config, function, path, emulatorAddr string, getenv func(string) (string, bool)) (string, error) {
	fromPath := function == ""
	if fromPath {
		function, _, _ = strings.Cut(strings.TrimPrefix(path, "/"), "/")
		if _, err := os.Stat(config); function == "" || err != nil {
			return "", nil // no function named, or no project here: an unsigned event
		}
	}
	env, err := loadEnvironment(common{config: config}, getenv, io.Discard)
	if err != nil {
		return "", err
	}
	fn, ok := env.rc.cfg.Function(function)
	if !ok && fromPath {
		return "", nil // the path does not name a function
	}
	if !ok {
		return "", fmt.Errorf("--function %s: no such function in %s (have %s)", function, config, strings.Join(env.rc.cfg.Names(), ", "))
	}
	if _, ok := fn.EnvMap()[envWebhookSecret]; !ok {
		return "", nil // it checks no signature
	}
	if emulatorRunning(ctx, emulatorAddr) {
		st, ok, err := readRunState(emulatorAddr, env.rc.config)
		if err != nil {
			return "", err
		}
		if s := st.Secrets[fn.Name]; ok && s != "" {
			return webhookSecret{value: s}.signing(), nil
		}
	}
	rc := env.rc
	if err := rc.resolveFunctions(env.src, "", io.Discard); err != nil {
		return "", err
	}
	s := rc.secrets[fn.Name]
	if strings.HasPrefix(s.from, "generated") {
		return "", fmt.Errorf("%s's webhook secret is %s and no scf-local serving %s answers at %s: pass --secret, set the variable in .env, or start scf-local first", fn.Name, strings.TrimPrefix(s.from, "generated for this run: "), config, emulatorAddr)
	}
	return s.signing(), nil
}

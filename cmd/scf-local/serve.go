package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/cron"
	"github.com/scf-janitor/scf-janitor/internal/deploy"
	"github.com/scf-janitor/scf-janitor/internal/emulator"
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
	addr       string
	watch      bool // --watch: rebuild and reload a function when its Go files change
	sweepNow   bool
	timers     bool    // resolved from timersFlag and cloud
	timersFlag optBool // --timers as given
	crons      cronFlag
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

// environment sets up credentials, the webhook secrets and (unless --cloud)
// the embedded emulator. The returned stop function shuts the emulator down.
type environment struct {
	rc        *runtimeConfig
	emu       *emulator.Server // nil when --cloud or reusing another emulator
	emuURL    string
	emuReused bool
	emuSrv    *http.Server
	emuAddr   string // host:port of the emulator this run started
	config    string // absolute path of serverless.yml
}

func setup(ctx context.Context, o common, getenv func(string) (string, bool), stderr io.Writer, reuseEmulator bool) (*environment, error) {
	cfg, err := deploy.Load(o.config)
	if err != nil {
		return nil, err
	}
	if errs := cfg.Validate(); len(errs) > 0 {
		return nil, fmt.Errorf("%s is not deployable:\n  %w", o.config, errors.Join(errs...))
	}
	root, err := absDir(o.config)
	if err != nil {
		return nil, err
	}
	// Like the Serverless CLI, read one .env file (.env.<stage> or .env next
	// to serverless.yml, else up to two folders up), as dotenv does; the
	// shell wins.
	envFile, _ := deploy.FindDotEnv(root, cfg.File.Stage)
	dotenv, warnings, err := deploy.ReadDotEnv(envFile)
	if err != nil {
		return nil, err
	}
	for _, w := range warnings {
		fmt.Fprintln(stderr, "scf-local:", w)
	}
	src := envSource{shell: getenv, dotenv: dotenv}
	getenv = src.lookup
	env := &environment{rc: &runtimeConfig{cfg: cfg, root: root, lookup: getenv}}
	rc := env.rc
	absConfig := filepath.Join(root, filepath.Base(o.config))
	if o.envVars != "" {
		if rc.envVars, err = loadEnvVars(o.envVars, cfg); err != nil {
			return nil, err
		}
	}
	// resolve gives each function its settings and webhook secret; then the
	// --env-vars overrides serverless.yml does not declare are reported.
	resolve := func() error {
		if err := rc.resolveFunctions(src, o.secret, stderr); err != nil {
			return err
		}
		if rc.envVars == nil {
			return nil
		}
		if unused := rc.envVars.unused(rc.functionEnv); len(unused) > 0 {
			fmt.Fprintf(stderr, "scf-local: --env-vars %s: not declared in serverless.yml, so not set (as with sam local): %s\n", o.envVars, strings.Join(unused, ", "))
		}
		return nil
	}

	if o.cloud {
		id, key, token := lookupNonEmpty(getenv, envSecretID), lookupNonEmpty(getenv, envSecretKey), lookupNonEmpty(getenv, envSessionToken)
		if id == "" && key == "" {
			// The Serverless CLI's names, as in a deploy .env.
			id, key, token = lookupNonEmpty(getenv, "TENCENT_SECRET_ID"), lookupNonEmpty(getenv, "TENCENT_SECRET_KEY"), lookupNonEmpty(getenv, "TENCENT_TOKEN")
		}
		if id == "" || key == "" {
			return nil, fmt.Errorf("--cloud calls the real Tencent Cloud APIs and needs credentials: export %s and %s (and %s for temporary keys), "+
				"or put TENCENT_SECRET_ID and TENCENT_SECRET_KEY in .env next to serverless.yml; "+
				"scf-local passes them to each invocation as SCF passes the execution role's", envSecretID, envSecretKey, envSessionToken)
		}
		rc.creds = credentials{id: id, key: key, token: token}
		rc.appID, rc.uin = lookupNonEmpty(getenv, "TENCENTCLOUD_APPID"), lookupNonEmpty(getenv, "TENCENTCLOUD_UIN")
		if err := resolve(); err != nil {
			return nil, err
		}
		return env, nil
	}

	// Against the emulator: each function gets its execution role's
	// temporary keys (roles.go), in the local account.
	rc.appID, rc.uin = localAppID, localUin
	roles, notes, err := executionRoles(root, cfg.Functions)
	if err != nil {
		return nil, err
	}
	for _, n := range notes {
		fmt.Fprintln(stderr, "scf-local:", n)
	}
	if reuseEmulator && emulatorRunning(ctx, o.emulatorAddr) {
		env.emuURL, env.emuReused = "http://"+o.emulatorAddr, true
		rc.emulator = env.emuURL
		fmt.Fprintf(stderr, "scf-local: using the emulator already running at %s\n", env.emuURL)
		if err := resolve(); err != nil {
			return nil, err
		}
		if err := rc.deriveSweeperRole(roles); err != nil {
			return nil, err
		}
		if err := ensureRoles(ctx, env.emuURL, roles); err != nil {
			return nil, err
		}
		if err := ensureReportBuckets(ctx, env.emuURL, rc.reportBuckets()); err != nil {
			return nil, err
		}
		rc.roles = &roleCredentials{uin: rc.uin, issue: emulatorRoleIssuer(env.emuURL), now: time.Now,
			keep: roleKeeper(env.emuURL, roles, apiRoleExists(env.emuURL))}
		// The functions accept what the running server's copies accept, so
		// an event signed for the server (generate-event) works here too.
		if st, ok, err := readRunState(o.emulatorAddr, absConfig); err != nil {
			fmt.Fprintf(stderr, "scf-local: the running server's webhook secrets are unreadable (%v); using this run's\n", err)
		} else if ok && o.secret == "" {
			rc.useRunningSecrets(st, env.emuURL)
		}
		return env, nil
	}
	lis, err := net.Listen("tcp", o.emulatorAddr)
	if err != nil {
		return nil, portError("the emulator", "--emulator-addr", o.emulatorAddr, err)
	}
	env.emuURL = "http://" + lis.Addr().String()
	rc.emulator = env.emuURL
	if err := resolve(); err != nil {
		lis.Close()
		return nil, err
	}
	env.emuAddr, env.config = lis.Addr().String(), absConfig
	// The CI buckets that exist: the demo data's and those the functions
	// are configured with; a request for another gets NoSuchBucket.
	buckets := []emulator.Bucket{{Name: emulator.DefaultBucket, Region: emulator.DefaultBucketRegion}}
	for _, fn := range cfg.Functions {
		fe := rc.effectiveEnv(fn)
		if b := (emulator.Bucket{Name: fe["JANITOR_CI_BUCKET"], Region: fe["JANITOR_CI_REGION"]}); b.Name != "" && b.Region != "" && !slices.Contains(buckets, b) {
			buckets = append(buckets, b)
		}
	}
	if err := rc.deriveSweeperRole(roles); err != nil {
		lis.Close()
		return nil, err
	}
	// The functions' role keys are held to their roles' policies
	// (deploy/cam, plus the sweeper's derived statements), as on Tencent.
	// New roles reach SCF after a few seconds, as on Tencent (scf-deploy must
	// wait for them); the functions run here get their keys at once.
	env.emu = emulator.New(emulator.Options{Seed: o.seed, Buckets: buckets, EnforcePolicies: true, RolePropagation: 3 * time.Second})
	if o.demo {
		env.emu.LoadDemo()
	}
	env.emuSrv = &http.Server{Handler: env.emu, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = env.emuSrv.Serve(lis) }()
	if err := ensureRoles(ctx, env.emuURL, roles); err != nil {
		env.close()
		return nil, err
	}
	if err := ensureReportBuckets(ctx, env.emuURL, rc.reportBuckets()); err != nil {
		env.close()
		return nil, err
	}
	rc.roles = &roleCredentials{uin: rc.uin, issue: serviceRoleIssuer(env.emu), now: time.Now,
		keep: roleKeeper(env.emuURL, roles, embeddedRoleExists(env.emu))}
	return env, nil
}

func (e *environment) close() {
	if e.emuSrv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if e.emuSrv.Shutdown(ctx) != nil {
			_ = e.emuSrv.Close()
		}
	}
}

func lookupNonEmpty(getenv func(string) (string, bool), k string) string {
	v, _ := getenv(k)
	return v
}

// emulatorRunning reports whether an emulator answers at addr.
func emulatorRunning(ctx context.Context, addr string) bool {
	ctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/_emulator/stats", nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// portError says which port is taken and which flag changes it.
func portError(what, flag, addr string, err error) error {
	_, port, _ := net.SplitHostPort(addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("port %s (%s, %s, %s) is already in use: another scf-local running? stop it, or pass %s 127.0.0.1:0 for any free port", port, addr, what, flag, flag)
	}
	return fmt.Errorf("%s cannot listen on %s: %w (change it with %s)", what, addr, err, flag)
}

// serve runs every function until ctx ends: the HTTP gateway, the timers and
// (unless --cloud) the emulator. Both ports are taken before anything is
// built, so a busy one is reported at once.
func serve(ctx context.Context, o serveOptions, getenv func(string) (string, bool), stdout, stderr io.Writer) error {
	lis, err := net.Listen("tcp", o.addr)
	if err != nil {
		return portError("the gateway", "--addr", o.addr, err)
	}
	defer lis.Close()
	env, err := setup(ctx, o.common, getenv, stderr, false)
	if err != nil {
		return err
	}
	defer env.close()
	rc := env.rc
	for name := range o.crons {
		if f, ok := rc.cfg.Function(name); !ok || len(f.Timers) == 0 {
			return fmt.Errorf("--cron %s: serverless.yml has no timer trigger for a function named %s", name, name)
		}
	}
	if o.sweepNow {
		if f, ok := rc.cfg.Function("sweep-tasks"); !ok || len(f.Timers) == 0 {
			return errors.New("--sweep-now: serverless.yml has no sweep-tasks function with a timer trigger")
		}
	}

	binDir, err := os.MkdirTemp("", "scf-local-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(binDir)
	r := &runner{rc: rc, binDir: binDir}
	if o.logs {
		r.logs = stderr
	}
	log := newInvocationLog(stdout)
	r.note = log.printf
	log.printf("scf-local: building %d functions from %s ...\n", len(rc.cfg.Functions), o.config)
	started := time.Now()
	if err := r.start(ctx, nil); err != nil {
		r.stop()
		return err
	}
	defer r.stop()
	if env.emu != nil {
		// The emulator's SCF Invoke API runs these functions.
		r.apiLog = func(fn, trigger string, inv invocation, err error) {
			switch {
			case err != nil:
				first, _, _ := strings.Cut(err.Error(), "\n")
				log.line(fn, trigger, "fail", inv.latency, inv.requestID, first)
			case inv.fnErr != nil:
				log.line(fn, trigger, "error", inv.latency, inv.requestID, inv.fnErr.Type+": "+inv.fnErr.Message)
			default:
				log.line(fn, trigger, "ok", inv.latency, inv.requestID, summary(inv.payload))
			}
		}
		env.emu.SetInvoker(r)
		defer env.emu.SetInvoker(nil)
	}

	g := &gateway{r: r, log: log, routes: map[string]*function{}}
	for _, fn := range rc.cfg.Functions {
		if fn.URL != nil {
			f, _ := r.get(fn.Name)
			g.routes[fn.Name] = f
			g.order = append(g.order, fn.Name)
		}
	}
	srv := &http.Server{Handler: g, ReadHeaderTimeout: 10 * time.Second}
	srvDone := make(chan struct{})
	go func() {
		defer close(srvDone)
		_ = srv.Serve(lis)
	}()

	if env.emuAddr != "" {
		remove, err := writeRunState(env.emuAddr, env.config, rc)
		if err != nil {
			fmt.Fprintf(stderr, "scf-local: %v (scf-local invoke will not know this server's secrets)\n", err)
		} else {
			defer remove()
		}
	}
	var watching []*watched
	if o.watch {
		fns := make([]*function, 0, len(rc.cfg.Functions))
		for _, fn := range rc.cfg.Functions {
			f, _ := r.get(fn.Name)
			fns = append(fns, f)
		}
		watching = r.watchSources(ctx, fns)
	}

	secretFiles, err := writeSecretFiles(filepath.Join(binDir, "secrets"), rc.secrets)
	if err != nil {
		return err
	}
	gatewayURL := "http://" + lis.Addr().String()
	printBanner(stdout, o, env, g, gatewayURL, secretFiles, time.Since(started))

	timerCtx, stopTimers := context.WithCancel(ctx)
	var timers sync.WaitGroup
	timersOn := o.timers
	if timersOn {
		for _, fn := range rc.cfg.Functions {
			f, _ := r.get(fn.Name)
			for _, tm := range fn.Timers {
				if !tm.Enabled {
					continue
				}
				sched := tm.Schedule
				if expr, ok := o.crons[fn.Name]; ok {
					sched = cron.MustParse(expr)
				}
				timers.Add(1)
				go func() {
					defer timers.Done()
					runTimer(timerCtx, r, log, f, tm, sched, &timers)
				}()
			}
		}
	}
	if o.sweepNow {
		f, _ := r.get("sweep-tasks")
		for _, tm := range f.fn.Timers {
			fireTimer(timerCtx, r, log, f, tm, time.Now(), &timers)
		}
	}

	watchDone := make(chan struct{})
	if o.watch {
		go func() {
			defer close(watchDone)
			r.watch(timerCtx, watching, watchPoll)
		}()
	} else {
		close(watchDone)
	}

	<-ctx.Done()
	log.printf("scf-local: stopping ...\n")
	stopTimers()
	<-watchDone
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if srv.Shutdown(shutdownCtx) != nil {
		_ = srv.Close()
	}
	<-srvDone
	if env.emu != nil {
		env.emu.SetInvoker(nil)
	}
	r.stop() // ends in-flight timer and Invoke API invocations too
	timers.Wait()
	if env.emu != nil {
		env.emu.WaitInvocations()
	}
	env.close()
	log.printf("scf-local: stopped\n")
	return nil
}

// runTimer fires f's timer tm on sched until ctx ends.
func runTimer(ctx context.Context, r *runner, log *invocationLog, f *function, tm deploy.Timer, sched *cron.Schedule, wg *sync.WaitGroup) {
	for {
		next := sched.Next(time.Now().In(cron.Location))
		if next.IsZero() {
			return
		}
		t := time.NewTimer(time.Until(next))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		fireTimer(ctx, r, log, f, tm, next, wg)
	}
}

// fireTimer invokes f with a timer event, asynchronously as SCF does, unless
// the previous timer invocation of f is still running.
func fireTimer(ctx context.Context, r *runner, log *invocationLog, f *function, tm deploy.Timer, at time.Time, wg *sync.WaitGroup) {
	if !f.timerRun.CompareAndSwap(false, true) {
		log.line(f.fn.Name, "timer", "skip", 0, "-", "previous run still in progress")
		return
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer f.timerRun.Store(false)
		event := newTimerEvent(tm.Name, at, tm.Argument)
		inv, err := r.invoke(ctx, f, event, map[string]string{"TRIGGER_SRC": "timer"})
		switch {
		case err != nil && ctx.Err() != nil:
			log.line(f.fn.Name, "timer", "abort", inv.latency, inv.requestID, "stopped by shutdown")
		case err != nil:
			first, _, _ := strings.Cut(err.Error(), "\n")
			log.line(f.fn.Name, "timer", "fail", inv.latency, inv.requestID, first)
			if r.logs == nil {
				log.printf("%s\n", indentLines(err.Error()))
			}
		case inv.fnErr != nil:
			log.line(f.fn.Name, "timer", "error", inv.latency, inv.requestID, inv.fnErr.Type+": "+inv.fnErr.Message)
		default:
			log.line(f.fn.Name, "timer", "ok", inv.latency, inv.requestID, summary(inv.payload))
		}
	}()
}

// printBanner says what runs where, and how to call it.
func printBanner(w io.Writer, o serveOptions, env *environment, g *gateway, gatewayURL string, secretFiles map[string]string, took time.Duration) {
	rc := env.rc
	fmt.Fprintf(w, "scf-local: %d functions built and started in %s (region %s)\n", len(rc.cfg.Functions), took.Round(100*time.Millisecond), rc.region())
	if o.cloud {
		fmt.Fprintf(w, "tencent:   REAL Tencent Cloud APIs with the credentials in $%s (--cloud)\n", envSecretID)
	} else {
		demo := "empty (--demo=false)"
		if o.demo {
			demo = fmt.Sprintf("demo data: %d tasks, %d live jobs, %d transcriptions", len(env.emu.Tasks("")), len(env.emu.LiveJobs()), len(env.emu.Transcriptions()))
		}
		fmt.Fprintf(w, "emulator:  %s  (%s; inspect: curl %s/_emulator/tasks)\n", env.emuURL, demo, env.emuURL)
		if line := reportsLine(rc, env.emuURL); line != "" {
			fmt.Fprintln(w, line)
		}
		fmt.Fprintf(w, "invoke API: SCF Invoke/InvokeFunction (2018-04-16) at %s runs these functions (SDK endpoint %s, scheme HTTP)\n",
			env.emuURL, strings.TrimPrefix(env.emuURL, "http://"))
	}
	fmt.Fprintf(w, "gateway:   %s\n", gatewayURL)
	for _, name := range g.order {
		f := g.routes[name]
		fmt.Fprintf(w, "  POST %s/%-20s Function URL -> %s (timeout %s, %d MB)\n", gatewayURL, name, name, f.fn.Timeout, f.fn.MemoryMB)
	}
	var timerLines []string
	for _, fn := range rc.cfg.Functions {
		for _, tm := range fn.Timers {
			expr, sched := tm.Cron, tm.Schedule
			if e, ok := o.crons[fn.Name]; ok {
				expr, sched = e+" (--cron)", cron.MustParse(e)
			}
			state := "next " + sched.Next(time.Now().In(cron.Location)).Format("2006-01-02 15:04:05 MST")
			switch {
			case !tm.Enabled:
				state = "disabled in serverless.yml"
			case !o.timers && !o.timersFlag.set:
				state = "off (--cloud: pass --timers to run it against your account)"
			case !o.timers:
				state = "off (--timers=false)"
			}
			timerLines = append(timerLines, fmt.Sprintf("  %s  %s  %q  %s", fn.Name, tm.Name, expr, state))
		}
	}
	if len(timerLines) > 0 {
		fmt.Fprintln(w, "timers:")
		for _, l := range timerLines {
			fmt.Fprintln(w, l)
		}
	}
	if o.sweepNow {
		fmt.Fprintln(w, "  sweep-tasks runs now (--sweep-now)")
	} else if f, ok := rc.cfg.Function("sweep-tasks"); ok && len(f.Timers) > 0 && o.timers {
		fmt.Fprintln(w, "  (start with --sweep-now to run sweep-tasks at once)")
	}
	var signed []string
	for _, name := range g.order {
		if _, ok := rc.secrets[name]; ok {
			signed = append(signed, name)
		}
	}
	if len(signed) > 0 {
		fmt.Fprintln(w, "webhook secrets (each function accepts only its own; --webhook-secret sets one for all):")
		for _, name := range signed {
			fmt.Fprintf(w, "  %-20s %s\n", name, rc.secrets[name].from)
		}
	}
	if len(g.order) > 0 {
		fmt.Fprintln(w, "try them: paste a whole line (it reads the secret from a file only you can read while scf-local runs, and signs with openssl when run):")
		for _, route := range g.order {
			fmt.Fprintf(w, "  : try %s; %s\n", route, curlCommand(gatewayURL+"/"+route, exampleBody(env, route), secretFiles[route]))
		}
	}
	fmt.Fprintln(w, "ready: one line per invocation follows; Ctrl-C stops everything")
}

// exampleBody is a request the route would accept: against the emulator, for
// a real (young, running) demo task, live job or transcription.
func exampleBody(env *environment, route string) string {
	switch route {
	case "cancel-task":
		if env.emu != nil {
			cutoff := time.Now().Add(-emulator.DemoStaleAge + 10*time.Minute)
			var cands []emulator.Task
			for _, t := range env.emu.Tasks("ams") {
				if t.Status == emulator.StatusRunning && t.CreatedAt.After(cutoff) {
					cands = append(cands, t)
				}
			}
			sort.Slice(cands, func(i, j int) bool { return cands[i].TaskId < cands[j].TaskId })
			for _, t := range cands {
				if t.Type == emulator.TypeLiveAudio { // live tasks never finish by themselves
					return fmt.Sprintf(`{"TaskId":"%s","Service":"ams"}`, t.TaskId)
				}
			}
			if len(cands) > 0 {
				return fmt.Sprintf(`{"TaskId":"%s","Service":"ams"}`, cands[0].TaskId)
			}
		}
		return `{"TaskId":"task-id-to-cancel","Service":"ams"}`
	case "cancel-live-audit":
		if env.emu != nil {
			jobs := env.emu.LiveJobs()
			sort.Slice(jobs, func(i, j int) bool { return jobs[i].JobId < jobs[j].JobId })
			for _, j := range jobs {
				if j.State == emulator.LiveAuditing {
					return fmt.Sprintf(`{"JobId":"%s"}`, j.JobId) // Bucket and Region: the function's defaults
				}
			}
		}
		return `{"JobId":"job-id-to-cancel"}`
	case "stop-transcription":
		if env.emu != nil {
			trs := env.emu.Transcriptions()
			sort.Slice(trs, func(i, j int) bool { return trs[i].TaskId < trs[j].TaskId })
			for _, t := range trs {
				if t.Status == "InProgress" {
					return fmt.Sprintf(`{"TaskId":"%s","SdkAppId":%d,"Region":"%s"}`, t.TaskId, t.SdkAppId, t.Region)
				}
			}
		}
		return `{"TaskId":"task-id-to-stop"}`
	}
	return `{}`
}

// curlCommand is a one-line shell command that signs body at run time with
// the secret in secretFile (the secret the function accepts: the first of its
// list), so the line shows no secret; with no file, it sends the body
// unsigned.
func curlCommand(url, body, secretFile string) string {
	if secretFile == "" {
		return "curl -sS -X POST " + url + " -H 'Content-Type: application/json' --data-binary " + shellQuote(body) + "; echo"
	}
	return "secret=$(cat " + shellQuote(secretFile) + "); body=" + shellQuote(body) + `; ts=$(date +%s); ` +
		`sig=$(printf '%s.%s' "$ts" "$body" | openssl dgst -sha256 -hmac "$secret" | sed 's/^.* //'); ` +
		`curl -sS -X POST ` + url + ` -H 'Content-Type: application/json' -H "X-Janitor-Signature: t=$ts,v1=$sig" --data-binary "$body"; echo`
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// writeSecretFiles writes each function's signing secret to dir/<function>
// (the directory 0700, the files 0600; dir is removed when serve stops), so
// the printed try lines read it when run and never show it: it may have come
// from the shell or .env.
func writeSecretFiles(dir string, secrets map[string]webhookSecret) (map[string]string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("webhook secrets for the try lines: %w", err)
	}
	files := map[string]string{}
	for name, s := range secrets {
		if s.signing() == "" {
			continue
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s.signing()), 0o600); err != nil {
			return nil, fmt.Errorf("webhook secrets for the try lines: %w", err)
		}
		files[name] = p
	}
	return files, nil
}

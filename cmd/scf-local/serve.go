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
	"strings"
	"sync"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/cron"
	"github.com/scf-janitor/scf-janitor/internal/deploy"
)

// server is one scf-local serve run: the functions' runner, the HTTP
// gateway, the timers and the source watcher.
type server struct {
	o          serveOptions
	env        *environment
	r          *runner
	log        *lockedWriter
	g          *gateway
	srv        *http.Server
	srvDone    chan struct{}
	timers     sync.WaitGroup
	stopTimers context.CancelFunc
	watching   sync.WaitGroup // --watch
}

// serve runs every function until ctx ends: the HTTP gateway, the timers and
// (unless --cloud) the emulator. Both ports are taken before any build, so a
// busy one is reported at once.
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
	if err := checkTimerFlags(o, env.rc.cfg); err != nil {
		return err
	}
	binDir, err := os.MkdirTemp("", "scf-local-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(binDir)
	s := &server{o: o, env: env, log: &lockedWriter{w: stdout}}
	started := time.Now()
	if err := s.build(ctx, binDir, stderr); err != nil {
		return err
	}
	defer s.r.stop()
	if env.emu != nil {
		defer env.emu.SetInvoker(nil)
	}
	s.startGateway(lis)
	if remove := s.publishRunState(stderr); remove != nil {
		defer remove()
	}
	var watching []*watched
	if o.watch {
		watching = s.r.watchSources(ctx)
	}
	secretFiles, err := writeSecretFiles(filepath.Join(binDir, "secrets"), env.rc.secrets)
	if err != nil {
		return err
	}
	printBanner(ctx, stdout, o, env, s.g, "http://"+lis.Addr().String(), secretFiles, time.Since(started))
	timerCtx, stopTimers := context.WithCancel(ctx)
	s.stopTimers = stopTimers
	s.startTimers(timerCtx)
	if o.watch {
		s.watching.Go(func() { s.r.watch(timerCtx, watching, watchPoll) })
	}
	<-ctx.Done()
	s.stop()
	return nil
}

// checkTimerFlags checks that --cron and --sweep-now name timer functions.
func checkTimerFlags(o serveOptions, cfg *deploy.Config) error {
	for name := range o.crons {
		if f, ok := cfg.Function(name); !ok || len(f.Timers) == 0 {
			return fmt.Errorf("--cron %s: serverless.yml has no timer trigger for a function named %s", name, name)
		}
	}
	if f, ok := cfg.Function("sweep-tasks"); o.sweepNow && (!ok || len(f.Timers) == 0) {
		return errors.New("--sweep-now: serverless.yml has no sweep-tasks function with a timer trigger")
	}
	return nil
}

// build builds and starts every function in binDir; with the embedded
// emulator, its SCF Invoke API runs them too.
func (s *server) build(ctx context.Context, binDir string, stderr io.Writer) error {
	rc := s.env.rc
	s.r = &runner{rc: rc, binDir: binDir, note: s.log}
	if s.o.logs {
		s.r.logs = stderr
	}
	s.log.printf("scf-local: building %d functions from %s ...\n", len(rc.cfg.Functions), s.o.config)
	if err := s.r.start(ctx, nil); err != nil {
		s.r.stop()
		return err
	}
	if s.env.emu != nil {
		s.r.apiLog = s.logResult
		s.env.emu.SetInvoker(s.r)
	}
	return nil
}

// logResult writes the line of a timer or Invoke API invocation.
func (s *server) logResult(ctx context.Context, fn, trigger string, inv invocation, err error) {
	switch {
	case err != nil && ctx.Err() != nil:
		s.log.line(fn, trigger, "abort", inv.latency, inv.requestID, "stopped by shutdown")
	case err != nil:
		first, _, _ := strings.Cut(err.Error(), "\n")
		s.log.line(fn, trigger, "fail", inv.latency, inv.requestID, first)
		if s.r.logs == nil {
			s.log.printf("%s\n", indentLines(err.Error()))
		}
	case inv.Error != nil:
		s.log.line(fn, trigger, "error", inv.latency, inv.requestID, inv.Error.Type+": "+inv.Error.Message)
	default:
		s.log.line(fn, trigger, "ok", inv.latency, inv.requestID, summary(inv.Payload))
	}
}

// startGateway serves the functions' Function URLs on lis.
func (s *server) startGateway(lis net.Listener) {
	s.g = &gateway{r: s.r, log: s.log, routes: map[string]*function{}}
	for _, fn := range s.env.rc.cfg.Functions {
		if fn.URL != nil {
			s.g.routes[fn.Name], _ = s.r.get(fn.Name)
			s.g.order = append(s.g.order, fn.Name)
		}
	}
	s.srv = &http.Server{Handler: s.g, ReadHeaderTimeout: 10 * time.Second}
	s.srvDone = make(chan struct{})
	go func() {
		defer close(s.srvDone)
		_ = s.srv.Serve(lis)
	}()
}

// publishRunState tells scf-local invoke this server's webhook secrets;
// the returned function removes the record.
func (s *server) publishRunState(stderr io.Writer) (remove func()) {
	if s.env.emuSrv == nil {
		return nil
	}
	rc := s.env.rc
	remove, err := writeRunState(strings.TrimPrefix(rc.emulator, "http://"), rc.config, rc)
	if err != nil {
		fmt.Fprintf(stderr, "scf-local: %v (scf-local invoke will not know this server's secrets)\n", err)
	}
	return remove
}

// startTimers runs every enabled timer (--timers) on its schedule or its
// --cron override, and fires sweep-tasks' at once (--sweep-now).
func (s *server) startTimers(ctx context.Context) {
	for _, fn := range s.env.rc.cfg.Functions {
		f, _ := s.r.get(fn.Name)
		for _, tm := range fn.Timers {
			if s.o.sweepNow && fn.Name == "sweep-tasks" {
				s.fireTimer(ctx, f, tm, time.Now())
			}
			if !s.o.timers || !tm.Enabled {
				continue
			}
			sched := tm.Schedule
			if expr, ok := s.o.crons[fn.Name]; ok {
				sched = cron.MustParse(expr)
			}
			s.timers.Go(func() { s.runTimer(ctx, f, tm, sched) })
		}
	}
}

// runTimer fires f's timer tm on sched until ctx ends.
func (s *server) runTimer(ctx context.Context, f *function, tm deploy.Timer, sched *cron.Schedule) {
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
		s.fireTimer(ctx, f, tm, next)
	}
}

// fireTimer invokes f with a timer event, asynchronously as SCF does, unless
// the previous timer invocation of f is still running.
func (s *server) fireTimer(ctx context.Context, f *function, tm deploy.Timer, at time.Time) {
	if !f.timerRun.CompareAndSwap(false, true) {
		s.log.line(f.fn.Name, "timer", "skip", 0, "-", "previous run still in progress")
		return
	}
	s.timers.Go(func() {
		defer f.timerRun.Store(false)
		inv, err := s.r.invoke(ctx, f, newTimerEvent(tm.Name, at, tm.Argument), callOptions{env: timerEnv})
		s.logResult(ctx, f.fn.Name, "timer", inv, err)
	})
}

// stop ends the run: timers and watcher, gateway, then the functions and
// their in-flight invocations, then the emulator.
func (s *server) stop() {
	s.log.printf("scf-local: stopping ...\n")
	s.stopTimers()
	s.watching.Wait()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if s.srv.Shutdown(shutdownCtx) != nil {
		_ = s.srv.Close()
	}
	<-s.srvDone
	if s.env.emu != nil {
		s.env.emu.SetInvoker(nil)
	}
	s.r.stop() // ends in-flight timer and Invoke API invocations too
	s.timers.Wait()
	if s.env.emu != nil {
		s.env.emu.WaitInvocations()
	}
	s.env.close()
	s.log.printf("scf-local: stopped\n")
}

// printBanner says what runs where, and how to call it.
func printBanner(ctx context.Context, w io.Writer, o serveOptions, env *environment, g *gateway, gatewayURL string, secretFiles map[string]string, took time.Duration) {
	rc := env.rc
	fmt.Fprintf(w, "scf-local: %d functions built and started in %s (region %s)\n", len(rc.cfg.Functions), took.Round(100*time.Millisecond), rc.region())
	if o.cloud {
		fmt.Fprintf(w, "tencent:   REAL Tencent Cloud APIs with the credentials in $%s (--cloud)\n", envSecretID)
	} else {
		demo := "empty (--demo=false)"
		if o.demo {
			demo = fmt.Sprintf("demo data: %d tasks, %d live jobs, %d transcriptions", len(env.emu.Tasks("")), len(env.emu.LiveJobs()), len(env.emu.Transcriptions()))
		}
		fmt.Fprintf(w, "emulator:  %s  (%s; inspect: curl %s/_emulator/tasks)\n", rc.emulator, demo, rc.emulator)
		if line := reportsLine(rc, rc.emulator); line != "" {
			fmt.Fprintln(w, line)
		}
		fmt.Fprintf(w, "invoke API: SCF Invoke/InvokeFunction (2018-04-16) at %s runs these functions (SDK endpoint %s, scheme HTTP)\n",
			rc.emulator, strings.TrimPrefix(rc.emulator, "http://"))
	}
	var routes, signed, tries []string
	for _, name := range g.order {
		fn := g.routes[name].fn
		routes = append(routes, fmt.Sprintf("POST %s/%-20s Function URL -> %s (timeout %s, %d MB)", gatewayURL, name, name, fn.Timeout, fn.MemoryMB))
		if s, ok := rc.secrets[name]; ok {
			signed = append(signed, fmt.Sprintf("%-20s %s", name, s.from))
		}
		body := exampleBody(ctx, rc.emulator, fn.Handler)
		tries = append(tries, fmt.Sprintf(": try %s; %s", name, curlCommand(gatewayURL+"/"+name, body, secretFiles[name])))
	}
	sections := []struct {
		header string
		rows   []string
	}{
		{"gateway:   " + gatewayURL, routes},
		{"timers:", timerRows(o, rc)},
		{"webhook secrets (each function accepts only its own; --webhook-secret sets one for all):", signed},
		{"try them: paste a whole line (it reads the secret from a file only you can read while scf-local runs, and signs with openssl when run):", tries},
	}
	for i, sec := range sections {
		if i == 0 || len(sec.rows) > 0 { // the gateway's line is always there
			fmt.Fprintln(w, sec.header)
		}
		for _, r := range sec.rows {
			fmt.Fprintln(w, "  "+r)
		}
	}
	fmt.Fprintln(w, "ready: one line per invocation follows; Ctrl-C stops everything")
}

// timerRows lists the timer triggers, their schedules and whether they run.
func timerRows(o serveOptions, rc *runtimeConfig) (rows []string) {
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
			case !o.timers && !o.timersSet:
				state = "off (--cloud: pass --timers to run it against your account)"
			case !o.timers:
				state = "off (--timers=false)"
			}
			rows = append(rows, fmt.Sprintf("%s  %s  %q  %s", fn.Name, tm.Name, expr, state))
		}
	}
	if o.sweepNow {
		rows = append(rows, "sweep-tasks runs now (--sweep-now)")
	} else if f, ok := rc.cfg.Function("sweep-tasks"); ok && len(f.Timers) > 0 && o.timers {
		rows = append(rows, "(start with --sweep-now to run sweep-tasks at once)")
	}
	return rows
}

// curlCommand is a one-line shell command that signs body when run with the
// secret in secretFile, so the line shows no secret (no file: unsigned).
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
// (0700, files 0600; removed when serve stops) for the try lines to read.
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

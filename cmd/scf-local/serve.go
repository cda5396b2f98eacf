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

	o      common
	src    envSource
	stderr io.Writer
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

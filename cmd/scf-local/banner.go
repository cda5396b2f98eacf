package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/cron"
)

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
	fmt.Fprintf(w, "gateway:   %s\n", gatewayURL)
	for _, name := range g.order {
		f := g.routes[name]
		fmt.Fprintf(w, "  POST %s/%-20s Function URL -> %s (timeout %s, %d MB)\n", gatewayURL, name, name, f.fn.Timeout, f.fn.MemoryMB)
	}
	printTimers(w, o, env.rc)
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
			body := exampleBody(ctx, rc.emulator, g.routes[route].fn.Handler)
			fmt.Fprintf(w, "  : try %s; %s\n", route, curlCommand(gatewayURL+"/"+route, body, secretFiles[route]))
		}
	}
	fmt.Fprintln(w, "ready: one line per invocation follows; Ctrl-C stops everything")
}

// printTimers lists the timer triggers, their schedules and whether they run.
func printTimers(w io.Writer, o serveOptions, rc *runtimeConfig) {
	header := "timers:\n"
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
			fmt.Fprintf(w, "%s  %s  %s  %q  %s\n", header, fn.Name, tm.Name, expr, state)
			header = ""
		}
	}
	if o.sweepNow {
		fmt.Fprintln(w, "  sweep-tasks runs now (--sweep-now)")
	} else if f, ok := rc.cfg.Function("sweep-tasks"); ok && len(f.Timers) > 0 && o.timers {
		fmt.Fprintln(w, "  (start with --sweep-now to run sweep-tasks at once)")
	}
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

package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/creds"
	"github.com/scf-janitor/scf-janitor/internal/deploy"
	"github.com/scf-janitor/scf-janitor/shared/cancel"
	"github.com/scf-janitor/scf-janitor/shared/config"
	"github.com/scf-janitor/scf-janitor/shared/sweep"
)

// settingChecks are, by handler, each function's own settings check.
var settingChecks = map[string]func(config.Getenv) error{
	"sweep-tasks":                    sweep.CheckEnv,
	cancel.FunctionCancelTask:        cancel.CheckEnv(cancel.FunctionCancelTask),
	cancel.FunctionCancelLiveAudit:   cancel.CheckEnv(cancel.FunctionCancelLiveAudit),
	cancel.FunctionStopTranscription: cancel.CheckEnv(cancel.FunctionStopTranscription),
}

// checkSettings runs each function's settings check on its resolved
// environment; a value that is not a public literal is never shown.
func checkSettings(cfg *deploy.Config, fns []deploy.Function, region string) error {
	var errs []error
	for _, f := range fns {
		check := settingChecks[f.Handler]
		if check == nil {
			continue
		}
		env := f.EnvMap()
		err := check(func(k string) string {
			if k == config.EnvRegion {
				return region
			}
			return env[k]
		})
		if err == nil {
			continue
		}
		public := publicSettings(cfg, f.Name)
		for _, e := range splitJoined(err) {
			msg := e.Error()
			for k, v := range env {
				if public[k] || v == "" {
					continue
				}
				msg = strings.ReplaceAll(msg, fmt.Sprintf("%s=%q", k, strings.TrimSpace(v)), k+" (value not shown)")
				if secretName.MatchString(k) {
					// A secret-like setting (a webhook URL with its key):
					// none of its items, wherever the message quotes them.
					for item := range strings.SplitSeq(v, ",") {
						if item = strings.TrimSpace(item); len(item) >= 4 {
							msg = strings.ReplaceAll(msg, item, "(value not shown)")
						}
					}
				}
			}
			errs = append(errs, fmt.Errorf("function %s: %s", f.Name, msg))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("settings the functions would refuse at run time (fix them in serverless.yml or where its ${env:NAME} comes from):\n  %w", errors.Join(errs...))
}

// splitJoined flattens errors.Join trees into their leaves.
func splitJoined(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, splitJoined(e)...)
		}
		return out
	}
	return []error{err}
}

// toolVariable reports whether scf-deploy or scf-local read name themselves.
func toolVariable(name string) bool {
	for _, n := range creds.Spellings {
		if name == n.ID || name == n.Key || slices.Contains(n.Token, name) {
			return true
		}
	}
	return name == "TENCENTCLOUD_APPID" || name == "TENCENTCLOUD_UIN" || targetKeyRE.MatchString(name)
}

var targetKeyRE = regexp.MustCompile(`^JANITOR_TARGET_[0-9]+_(SECRET_ID|SECRET_KEY|SESSION_TOKEN)$`)

// nextCommand is the command line to run next, shell-quoted.
func nextCommand(program, command string, args []string, extra ...string) string {
	words := []string{program, command}
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		args = args[1:] // the command word the user typed
	}
	for _, a := range append(append([]string{}, args...), extra...) {
		words = append(words, shellWord(a))
	}
	return strings.Join(words, " ")
}

// programName is how to run this program again: `go run ./cmd/scf-deploy`
// when go run started it (.../go-build.../exe/scf-deploy), else argv[0].
func programName(arg0 string) string {
	dir := filepath.Dir(arg0)
	if filepath.Base(dir) == "exe" && strings.Contains(dir, "go-build") {
		return "go run ./cmd/scf-deploy"
	}
	return shellWord(arg0)
}

// shellWord quotes s for a POSIX shell when it needs it.
func shellWord(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("@%+=:,./_-", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// endpointHint adds what to start when nothing answers at --endpoint.
func endpointHint(err error, endpoint string) error {
	if err == nil || endpoint == "" || strings.Contains(err.Error(), "nothing answers at ") ||
		!errors.Is(err, syscall.ECONNREFUSED) && !strings.Contains(err.Error(), "connection refused") {
		return err
	}
	host := endpoint
	if i := strings.Index(host, "://"); i >= 0 {
		host = host[i+3:]
	}
	return fmt.Errorf("nothing answers at %s: start scf-local (go run ./cmd/scf-local) or the emulator (go run ./cmd/tencent-emulator), or drop --endpoint to use Tencent Cloud (%w)", strings.TrimSuffix(host, "/"), err)
}

var arg0 = os.Args[0]

// checkEndpoint fails fast when nothing listens at --endpoint.
func checkEndpoint(ctx context.Context, endpoint string) error {
	u, err := url.Parse(endpoint)
	if endpoint == "" || err != nil || u.Host == "" {
		return nil
	}
	host := u.Host
	if u.Port() == "" {
		port := "443"
		if u.Scheme == "http" {
			port = "80"
		}
		host = net.JoinHostPort(u.Hostname(), port)
	}
	d := net.Dialer{Timeout: 3 * time.Second}
	c, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return endpointHint(fmt.Errorf("--endpoint %s: %w", u.Scheme+"://"+u.Host, err), endpoint)
	}
	return c.Close()
}

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/scf-janitor/scf-janitor/internal/deploy"
)

// webhookSecret is what one function accepts as JANITOR_WEBHOOK_SECRET, and
// where it came from.
type webhookSecret struct {
	value string // as the function gets it: a secret, or a comma-separated rotation list
	from  string // for the banner, such as "$JANITOR_CANCEL_TASK_SECRET from .env"
}

// signing is the secret a sender signs with: the first of the rotation list,
// as the function splits it (comma-separated, spaces trimmed, empties skipped).
func (s webhookSecret) signing() string {
	for item := range strings.SplitSeq(s.value, ",") {
		if item = strings.TrimSpace(item); item != "" {
			return item
		}
	}
	return ""
}

// envSource looks variables up as the Serverless CLI does: the shell, then
// .env (dotenv never overrides the shell).
type envSource struct {
	shell  func(string) (string, bool)
	dotenv map[string]string
}

func (e envSource) lookup(name string) (string, bool) {
	if v, ok := e.shell(name); ok {
		return v, true
	}
	v, ok := e.dotenv[name]
	return v, ok
}

// where says where a set variable came from.
func (e envSource) where(name string) string {
	if _, ok := e.shell(name); ok {
		return "the shell"
	}
	return ".env"
}

// resolveFunctions resolves serverless.yml's ${env:NAME} references as a
// deploy would, then fills what a deploy would refuse to go on without: an
// unset webhook secret is a random one per function; against the emulator,
// an unset account setting is emulatorDefaults'; any other unset setting is
// left out (the code's default applies). override (--webhook-secret) is
// every function's secret. Each fill is reported on notes.
func (rc *runtimeConfig) resolveFunctions(src envSource, override string, notes io.Writer) error {
	mark := "scf-local-unset-" + randomHex(8) + ":"
	fns, err := rc.cfg.Resolve(func(name string) (string, bool) {
		if v, ok := src.lookup(name); ok && v != "" {
			return v, true
		}
		return mark + name + ";", true
	})
	if err != nil {
		return err
	}
	rc.fns = map[string]deploy.Function{}
	rc.secrets = map[string]webhookSecret{}
	for _, fn := range fns {
		raw, _ := rc.cfg.Function(fn.Key)
		rawEnv := raw.EnvMap()
		env := make([]deploy.KeyValue, 0, len(fn.Env))
		for _, kv := range fn.Env {
			refs := deploy.EnvRefs(rawEnv[kv.Key])
			switch {
			case kv.Key == envWebhookSecret && override != "":
				kv.Value = override
				rc.secrets[fn.Name] = webhookSecret{value: override, from: "--webhook-secret"}
			case kv.Key == envWebhookSecret && strings.Contains(kv.Value, mark):
				kv.Value = "local-" + randomHex(16)
				rc.secrets[fn.Name] = webhookSecret{value: kv.Value, from: "generated for this run: " + unsetList(refs, src) + " unset"}
			case kv.Key == envWebhookSecret:
				from := "serverless.yml"
				if len(refs) > 0 {
					from = "$" + refs[0] + " from " + src.where(refs[0])
				}
				rc.secrets[fn.Name] = webhookSecret{value: kv.Value, from: from}
			case !strings.Contains(kv.Value, mark):
			case rc.emulator != "" && emulatorDefaults[kv.Key] != "":
				kv.Value = emulatorDefaults[kv.Key]
				fmt.Fprintf(notes, "scf-local: %s: %s unset, so %s is the emulator's %s\n", fn.Name, unsetList(refs, src), kv.Key, kv.Value)
			default:
				fmt.Fprintf(notes, "scf-local: %s: %s unset, so %s is left out (the code's default applies; a deploy would refuse this)\n", fn.Name, unsetList(refs, src), kv.Key)
				continue
			}
			env = append(env, kv)
		}
		fn.Env = env
		rc.fns[fn.Name] = fn
	}
	return nil
}

// unsetList names the unset variables among refs, such as "$A and $B".
func unsetList(refs []string, src envSource) string {
	var out []string
	for _, r := range refs {
		if v, ok := src.lookup(r); !ok || v == "" {
			out = append(out, "$"+r)
		}
	}
	if len(out) == 0 {
		return "a variable"
	}
	return strings.Join(out, " and ")
}

// runState is what a running scf-local serve tells invoke and
// generate-event: the secret each function accepts. It is a file only the
// user can read, named after the emulator address (the way those commands
// find a running server), removed when serve stops.
type runState struct {
	PID     int               `json:"pid"`
	Config  string            `json:"config"`  // absolute path of serverless.yml
	Secrets map[string]string `json:"secrets"` // function name -> JANITOR_WEBHOOK_SECRET
}

// runStatePath is the state file of the scf-local whose emulator listens on addr.
func runStatePath(addr string) string {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	name := strings.NewReplacer(":", "_", "/", "_", "[", "", "]", "").Replace(addr)
	return filepath.Join(dir, "scf-local", "run-"+name+".json")
}

// writeRunState records rc's secrets for the server whose emulator is at addr
// and returns a function that removes the record.
func writeRunState(addr, config string, rc *runtimeConfig) (func(), error) {
	st := runState{PID: os.Getpid(), Config: config, Secrets: map[string]string{}}
	for name, s := range rc.secrets {
		st.Secrets[name] = s.value
	}
	b, err := json.Marshal(st)
	p := runStatePath(addr)
	if err == nil {
		err = os.MkdirAll(filepath.Dir(p), 0o700)
	}
	if err == nil {
		err = os.WriteFile(p+".tmp", b, 0o600)
	}
	if err == nil {
		err = os.Rename(p+".tmp", p)
	}
	if err != nil {
		return nil, fmt.Errorf("record the webhook secrets for invoke: %w", err)
	}
	return func() { _ = os.Remove(p) }, nil
}

// readRunState returns the state of the scf-local serving config whose
// emulator is at addr; ok is false when there is none (or it serves another file).
func readRunState(addr, config string) (st runState, ok bool, err error) {
	b, err := os.ReadFile(runStatePath(addr))
	if errors.Is(err, os.ErrNotExist) {
		return st, false, nil
	}
	if err == nil {
		err = json.Unmarshal(b, &st)
	}
	if err != nil {
		return st, false, fmt.Errorf("%s: %w", runStatePath(addr), err)
	}
	return st, st.Config == config, nil
}

// useRunningSecrets gives each function the secret the running server's
// copy of it accepts, so that events signed for the server work here.
func (rc *runtimeConfig) useRunningSecrets(st runState, emuURL string) {
	for name, secret := range st.Secrets {
		fn, ok := rc.fns[name]
		if !ok {
			continue
		}
		for i, kv := range fn.Env {
			if kv.Key == envWebhookSecret {
				fn.Env[i].Value = secret
			}
		}
		rc.secrets[name] = webhookSecret{value: secret, from: "the scf-local serving at " + emuURL}
	}
}

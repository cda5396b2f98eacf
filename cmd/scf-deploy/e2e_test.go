package main

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/deploy"
	"github.com/scf-janitor/scf-janitor/internal/deploy/provision"
	"github.com/scf-janitor/scf-janitor/internal/emulator"
	"github.com/scf-janitor/scf-janitor/internal/testkit/racecheck"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

const repoConfig = "../../serverless.yml"

// builds caches the real packages across the runs of one test binary: the
// same source gives the same bytes, so this is what a second run would
// build anyway.
var builds sync.Map

// stubBuild is the Build of the tests about roles, policies and triggers,
// where the code package's content does not matter: a small zip holding
// the handler (as buildPackage's, one entry named after it), so each apply
// moves kilobytes instead of four 5 MB base64 bodies through TC3 signing and
// the emulator's JSON under -race. TestDeployRepositoryToEmulator deploys the
// real packages.
func stubBuild(_ context.Context, _, handler string) ([]byte, error) {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: handler, Method: zip.Deflate})
	if err != nil {
		return nil, err
	}
	if _, err := io.WriteString(w, "#!/bin/sh\n# stand-in for the "+handler+" binary\n"); err != nil {
		return nil, err
	}
	err = zw.Close()
	return b.Bytes(), err
}

func cachedBuild(ctx context.Context, root, handler string) ([]byte, error) {
	if b, ok := builds.Load(handler); ok {
		return b.([]byte), nil
	}
	b, err := buildPackage(ctx, root, handler)
	if err == nil {
		builds.Store(handler, b)
	}
	return b, err
}

// envFor writes a .env that sets every ${env:X} / ${env.X} the yml uses, with
// plausible values, plus the emulator's credentials; over returns them.
func envFor(t *testing.T, over map[string]string) (path string, vars map[string]string) {
	t.Helper()
	yml, err := os.ReadFile(repoConfig)
	if err != nil {
		t.Fatal(err)
	}
	vars = map[string]string{
		"TENCENTCLOUD_SECRET_ID": emulator.DefaultSecretID, "TENCENTCLOUD_SECRET_KEY": emulator.DefaultSecretKey,
	}
	for _, name := range deploy.EnvRefs(string(yml)) {
		switch {
		case strings.Contains(name, "SDKAPPID"):
			vars[name] = "1400000000"
		case strings.HasSuffix(name, "_REGION"):
			vars[name] = "ap-guangzhou"
		case strings.HasSuffix(name, "_BUCKET"):
			vars[name] = "examplebucket-1250000000"
		default:
			sum := sha256.Sum256([]byte(name))
			vars[name] = hex.EncodeToString(sum[:16])
		}
	}
	for k, v := range over {
		vars[k] = v
	}
	var b strings.Builder
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s\n", k, vars[k])
	}
	path = filepath.Join(t.TempDir(), ".env")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, vars
}

type deployEnv struct {
	t      *testing.T
	emu    *emulator.Server
	url    string
	envArg string
}

func (d *deployEnv) run(args ...string) (string, int) {
	d.t.Helper()
	var out, errb bytes.Buffer
	args = append(args, "--config", repoConfig, "--env-file", d.envArg, "--endpoint", d.url)
	code := run(context.Background(), args, &out, &errb, func(string) (string, bool) { return "", false },
		runOptions{Build: cachedBuild, Engine: provision.Engine{PollInterval: 10 * time.Millisecond}})
	return out.String() + errb.String(), code
}

// mutating counts the emulator's SCF/CAM requests that change something.
func mutating(s emulator.Stats) map[string]int64 {
	out := map[string]int64{}
	for k, v := range s.Actions {
		action := k[strings.Index(k, ".")+1:]
		if strings.HasPrefix(action, "Get") || strings.HasPrefix(action, "List") {
			continue
		}
		out[k] = v.Requests
	}
	return out
}

// TestDeployRepositoryToEmulator deploys this repository's serverless.yml to
// the emulator over HTTP through the SDK: plan, a failure part-way, apply
// again (converges), apply again (no changes, zero mutating calls), one
// setting changed (one update), then delete --yes (only what it made).
func TestDeployRepositoryToEmulator(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the four functions")
	}
	racecheck.SkipUnderRace(t, "four 4 MB packages deflated, base64ed and sent as JSON")
	t.Parallel() // its own emulator; it shares only the package builds
	emu := emulator.New(emulator.Options{FunctionReadyAfter: 30 * time.Millisecond})
	ts := httptest.NewServer(emu)
	t.Cleanup(ts.Close)
	envPath, vars := envFor(t, nil)
	d := &deployEnv{t: t, emu: emu, url: ts.URL, envArg: envPath}

	// plan: four functions to create, nothing changed.
	out, code := d.run("plan")
	if code != 0 || strings.Count(out, "+ create function ") != 4 || !strings.Contains(out, "create function x4") {
		t.Fatalf("plan (exit %d):\n%s", code, out)
	}
	for k, v := range vars { // nothing from .env is printed, secret or not (a region is, as the deploy's region)
		if len(v) >= 8 && !strings.HasSuffix(k, "_REGION") && strings.Contains(out, v) {
			t.Fatalf("plan printed the value of %s:\n%s", k, out)
		}
	}
	if !strings.Contains(out, "env JANITOR_WEBHOOK_SECRET (set, 32 chars)") {
		t.Fatalf("plan does not show the secrets as (set, 32 chars):\n%s", out)
	}
	// Literals of serverless.yml are public already: the plan shows them.
	if !strings.Contains(out, `env JANITOR_SWEEP_MAX_AGE = "2h"`) || !strings.Contains(out, `env JANITOR_WEBHOOK_AUTH = "signature"`) {
		t.Fatalf("plan does not show serverless.yml's literal settings:\n%s", out)
	}
	if m := mutating(emu.Stats()); len(m) != 0 {
		t.Fatalf("plan made mutating calls: %v", m)
	}

	// apply, failing part-way: the first Function URL cannot be created.
	emu.FailNext(emulator.ControlFailure{Action: "scf.CreateTrigger", Code: "InternalError"})
	out, code = d.run("apply")
	if code == 0 || !strings.Contains(out, "CreateTrigger") || !strings.Contains(out, "InternalError") || !strings.Contains(out, "run the same command again") {
		t.Fatalf("apply with a failure (exit %d):\n%s", code, out)
	}
	if n := len(emu.Functions()); n != 1 {
		t.Fatalf("after the failure: %d functions, want 1 (the failure stops the run)", n)
	}

	// apply again: converges, no duplicates, URLs printed.
	out, code = d.run("apply")
	if code != 0 {
		t.Fatalf("apply (exit %d):\n%s", code, out)
	}
	fns := emu.Functions()
	if len(fns) != 4 {
		t.Fatalf("functions = %d\n%s", len(fns), out)
	}
	// Each function got exactly serverless.yml's resolved settings (its own
	// webhook secret included), and apply printed none of the values.
	cfg, err := deploy.Load(repoConfig)
	if err != nil {
		t.Fatal(err)
	}
	resolved, err := cfg.Resolve(func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	for _, rf := range resolved {
		want := map[string]string{}
		for _, kv := range rf.Env {
			if kv.Value != "" {
				want[kv.Key] = kv.Value
			}
		}
		var got map[string]string
		for _, f := range fns {
			if f.FunctionName == rf.Name {
				got = f.Environment
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s environment = %v, want %v", rf.Name, got, want)
		}
	}
	for k, v := range vars {
		if (strings.HasSuffix(k, "_SECRET") || k == "TENCENTCLOUD_SECRET_KEY") && strings.Contains(out, v) {
			t.Fatalf("apply printed the value of %s", k)
		}
	}
	urls := 0
	for _, f := range fns {
		if f.Tags[provision.ManagedTagKey] != provision.ManagedTagValue || f.Runtime != "Go1" || f.Role == "" || f.Status != emulator.FunctionActive {
			t.Errorf("function %+v", f)
		}
		for _, tr := range f.Triggers {
			if tr.Type == "http" {
				urls++
				if u := provision.FunctionURL(tr.TriggerDesc); u == "" || !strings.Contains(out, "url "+f.FunctionName+" "+u) {
					t.Errorf("URL of %s (%s) not printed:\n%s", f.FunctionName, tr.TriggerDesc, out)
				}
			}
		}
		if len(f.Triggers) != 1 {
			t.Errorf("%s has %d triggers, want 1: %+v", f.FunctionName, len(f.Triggers), f.Triggers)
		}
		for k, v := range f.Environment {
			if v == "" {
				t.Errorf("%s: empty value for %s", f.FunctionName, k)
			}
		}
	}
	if urls != 3 {
		t.Errorf("Function URLs = %d, want 3", urls)
	}
	roles := emu.Roles()
	if len(roles) != 4 || len(emu.Policies()) != 4 {
		t.Fatalf("roles %d policies %d", len(roles), len(emu.Policies()))
	}
	for _, r := range roles {
		if len(r.AttachedPolicies) != 1 || r.AttachedPolicies[0] != r.RoleName+"Policy" {
			t.Errorf("role %s: attached %v", r.RoleName, r.AttachedPolicies)
		}
	}

	// apply again: no changes, zero mutating calls.
	emu.ResetStats()
	out, code = d.run("apply")
	if code != 0 || !strings.Contains(out, "no changes") {
		t.Fatalf("second apply (exit %d):\n%s", code, out)
	}
	if m := mutating(emu.Stats()); len(m) != 0 {
		t.Fatalf("second apply made mutating calls: %v", m)
	}

	// One setting changed (a variable only one function uses): one update.
	name := onlyOnce(t)
	envPath, _ = envFor(t, map[string]string{name: "changedbucket-1250000000"})
	d.envArg = envPath
	emu.ResetStats()
	out, code = d.run("apply")
	m := mutating(emu.Stats())
	if code != 0 || len(m) != 1 || m["scf.UpdateFunctionConfiguration"] != 1 || !strings.Contains(out, name+" (changed)") {
		t.Fatalf("apply after changing %s (exit %d): mutating %v\n%s", name, code, m, out)
	}

	// delete leaves what it did not make.
	c := sdkClients(t, ts.URL)
	if err := c.CreateFunction(context.Background(), tcapi.CreateFunctionRequest{FunctionName: "someone-else", Handler: "main", Runtime: "Go1",
		Code: &tcapi.Code{ZipFile: "UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA=="}}); err != nil {
		t.Fatal(err)
	}
	out, code = d.run("delete")
	if code != 0 || !strings.Contains(out, "nothing deleted") || len(emu.Functions()) != 5 {
		t.Fatalf("delete without --yes (exit %d):\n%s", code, out)
	}
	out, code = d.run("delete", "--yes")
	if code != 0 {
		t.Fatalf("delete --yes (exit %d):\n%s", code, out)
	}
	if f := emu.Functions(); len(f) != 1 || f[0].FunctionName != "someone-else" || len(emu.Roles()) != 0 || len(emu.Policies()) != 0 {
		t.Fatalf("after delete: %+v roles %v\n%s", f, emu.Roles(), out)
	}
}

// onlyOnce returns a variable that serverless.yml references exactly once.
func onlyOnce(t *testing.T) string {
	yml, err := os.ReadFile(repoConfig)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	var order []string
	for _, name := range deploy.EnvRefs(string(yml)) {
		if count[name] == 0 {
			order = append(order, name)
		}
		count[name]++
	}
	for _, n := range order {
		if count[n] == 1 && strings.HasSuffix(n, "_BUCKET") {
			return n
		}
	}
	for _, n := range order {
		if count[n] == 1 {
			return n
		}
	}
	t.Fatal("serverless.yml has no variable used by one function only")
	return ""
}

func sdkClients(t *testing.T, url string) *tcapi.SCFControl {
	t.Helper()
	c, err := tcapi.NewSCFControl(tcapi.Credentials{SecretID: emulator.DefaultSecretID, SecretKey: emulator.DefaultSecretKey},
		tcapi.Options{Region: "ap-guangzhou", Endpoint: url})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRunErrors(t *testing.T) {
	dir := t.TempDir()
	envPath := filepath.Join(dir, ".env")
	write := func(s string) {
		if err := os.WriteFile(envPath, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	creds := "TENCENTCLOUD_SECRET_ID=AKIDx\nTENCENTCLOUD_SECRET_KEY=secret-key-value\n"
	full, _ := envFor(t, nil)
	fullEnv, err := os.ReadFile(full)
	if err != nil {
		t.Fatal(err)
	}
	noCreds := regexp.MustCompile(`(?m)^TENCENTCLOUD_SECRET_.*\n`).ReplaceAllString(string(fullEnv), "")
	tests := []struct {
		name, env string
		args      []string
		code      int
		want      string
	}{
		{"unknown command", creds, []string{"deploy"}, 2, `unknown command "deploy"`},
		{"missing credentials", noCreds, []string{"plan"}, 1, "no credentials: set TENCENTCLOUD_SECRET_ID"},
		{"unknown region", string(fullEnv), []string{"plan", "--region", "guangzhou"}, 1, `unknown region "guangzhou"`},
		{"unknown function", string(fullEnv), []string{"plan", "--only", "nope"}, 1, "--only nope: no such function"},
		{"unset variable", creds, []string{"plan"}, 1, "JANITOR_CANCEL_TASK_SECRET"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			write(tt.env)
			var out, errb bytes.Buffer
			args := append(tt.args, "--config", repoConfig, "--env-file", envPath)
			code := run(context.Background(), args, &out, &errb, func(string) (string, bool) { return "", false },
				runOptions{Build: func(context.Context, string, string) ([]byte, error) { t.Fatal("built"); return nil, nil }})
			if code != tt.code || !strings.Contains(errb.String(), tt.want) {
				t.Fatalf("exit %d, stderr:\n%s\nwant exit %d and %q", code, errb.String(), tt.code, tt.want)
			}
			if strings.Contains(errb.String()+out.String(), "secret-key-value") {
				t.Fatal("a secret was printed")
			}
		})
	}
}

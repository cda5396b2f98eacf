package main

import (
	"bytes"
	"context"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/deploy/provision"
	"github.com/scf-janitor/scf-janitor/internal/emulator"
	"github.com/scf-janitor/scf-janitor/internal/testkit/clocktest"
)

// editableProject copies this repository's serverless.yml and deploy/ into
// a temporary project, so a test can edit both; it returns the yml's path.
func editableProject(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	err := filepath.WalkDir("../../deploy", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("../..", path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, rel), b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	yml, err := os.ReadFile(repoConfig)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "serverless.yml")
	if err := os.WriteFile(path, yml, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// edit replaces old (which must occur once) with new in the file at path.
func edit(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(b, []byte(old)); n != 1 {
		t.Fatalf("%s: %q occurs %d times, want once: update this test", path, old, n)
	}
	if err := os.WriteFile(path, bytes.Replace(b, []byte(old), []byte(new), 1), 0o600); err != nil {
		t.Fatal(err)
	}
}

type fidelityEnv struct {
	t      *testing.T
	emu    *emulator.Server
	url    string
	config string
	env    string
	clock  *clocktest.Clock
}

func (d *fidelityEnv) run(args ...string) (string, int) {
	d.t.Helper()
	var out, errb bytes.Buffer
	args = append(args, "--config", d.config, "--env-file", d.env, "--endpoint", d.url)
	code := run(context.Background(), args, &out, &errb, func(string) (string, bool) { return "", false },
		runOptions{Build: stubBuild, Engine: provision.Engine{PollInterval: 10 * time.Millisecond, Sleep: d.clock.Sleep}})
	return out.String() + errb.String(), code
}

func (d *fidelityEnv) apply(step string, want ...string) string {
	d.t.Helper()
	out, code := d.run("apply")
	if code != 0 {
		d.t.Fatalf("%s: apply (exit %d):\n%s", step, code, out)
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			d.t.Fatalf("%s: apply does not say %q:\n%s", step, w, out)
		}
	}
	return out
}

// noChanges applies again: "no changes", and no mutating call.
func (d *fidelityEnv) noChanges(step string) {
	d.t.Helper()
	d.emu.ResetStats()
	d.apply(step+", applied again", "no changes")
	if m := mutating(d.emu.Stats()); len(m) != 0 {
		d.t.Fatalf("%s, applied again: mutating calls %v", step, m)
	}
}

// extranetURL returns the ExtranetUrl of fn's Function URL in the emulator.
func (d *fidelityEnv) urlTrigger(fn string) emulator.TriggerInfo {
	d.t.Helper()
	for _, f := range d.emu.Functions() {
		for _, tr := range f.Triggers {
			if f.FunctionName == fn && tr.Type == "http" {
				return tr
			}
		}
	}
	d.t.Fatalf("function %s has no Function URL", fn)
	return emulator.TriggerInfo{}
}

func (d *fidelityEnv) function(name string) emulator.FunctionInfo {
	d.t.Helper()
	for _, f := range d.emu.Functions() {
		if f.FunctionName == name {
			return f
		}
	}
	d.t.Fatalf("no function %s", name)
	return emulator.FunctionInfo{}
}

var printedURL = regexp.MustCompile(`(?m)^url (\S+) (.*)$`)

// TestDeployAsTencentsClients runs, through the SDK against the emulator
// with CAM role propagation on, what issue 17 asks of apply: a fresh apply
// succeeds in one run and prints https URLs; a second says "no changes";
// turning on a URL's intranet keeps its public address; six policy edits in
// a row apply; removing sweep-tasks' variables leaves it none; a function
// that settled in CreateFailed is replaced by the next apply.
func TestDeployAsTencentsClients(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the four functions")
	}
	t.Parallel() // its own emulator; it shares only the package builds
	// The emulator's clock is moved on only by the engine's waits: role
	// propagation and a function's Creating/Updating pass without real
	// sleeps.
	clock := clocktest.New(time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC))
	// Rate limiting off: the limiter would run on the manual clock too.
	emu := emulator.New(emulator.Options{FunctionReadyAfter: 30 * time.Millisecond, RolePropagation: 8 * time.Second, Now: clock.Now, Rate: -1})
	ts := httptest.NewServer(emu)
	t.Cleanup(ts.Close)
	envPath, _ := envFor(t, nil)
	d := &fidelityEnv{t: t, emu: emu, url: ts.URL, config: editableProject(t), env: envPath, clock: clock}

	// A fresh apply, roles new: it waits for them to reach SCF, in one run.
	out := d.apply("fresh apply", "waiting for role", "to reach SCF (FailedOperation.CallRoleFailed)")
	urls := map[string]string{}
	for _, m := range printedURL.FindAllStringSubmatch(out, -1) {
		urls[m[1]] = m[2]
	}
	for _, fn := range []string{"cancel-task", "cancel-live-audit", "stop-transcription"} {
		tr := d.urlTrigger(fn)
		if !strings.HasPrefix(urls[fn], "https://") || urls[fn] != provision.FunctionURL(tr.TriggerDesc) || !strings.Contains(tr.TriggerDesc, `"ExtranetUrl":"`+urls[fn]+`"`) {
			t.Fatalf("printed URL of %s = %q, its TriggerDesc %s\n%s", fn, urls[fn], tr.TriggerDesc, out)
		}
	}
	if len(urls) != 3 {
		t.Fatalf("printed URLs %v\n%s", urls, out)
	}
	d.noChanges("fresh apply")

	// The intranet of cancel-task's URL turned on: updated in place.
	before := d.urlTrigger("cancel-task")
	edit(t, d.config, "        netConfig:\n          enableExtranet: true\n          enableIntranet: false\n    - type: http\n      function: cancel-live-audit",
		"        netConfig:\n          enableExtranet: true\n          enableIntranet: true\n    - type: http\n      function: cancel-live-audit")
	d.apply("intranet on", "~ update url cancel-task", "intranet false -> true", "url cancel-task "+urls["cancel-task"]+"\n")
	after := d.urlTrigger("cancel-task")
	if after.TriggerName != before.TriggerName || provision.FunctionURL(after.TriggerDesc) != urls["cancel-task"] || !strings.Contains(after.TriggerDesc, `"IntranetUrl":"https://`) {
		t.Fatalf("the URL changed: %+v -> %+v", before, after)
	}
	d.noChanges("intranet on")

	// Six edits of a role's policy in a row (CAM keeps at most 5 versions).
	policyPath := filepath.Join(filepath.Dir(d.config), "deploy", "cam", "JanitorCancelTaskRole.json")
	marker := `"resource": ["*"]`
	if b, _ := os.ReadFile(policyPath); !bytes.Contains(b, []byte(marker)) {
		t.Fatalf("%s has no %s: update this test", policyPath, marker)
	}
	for i := 1; i <= 6; i++ {
		next := `"resource": ["qcs::ams:ap-guangzhou:uin/100000000001:` + strings.Repeat("x", i) + `"]`
		edit(t, policyPath, marker, next)
		marker = next
		d.apply("policy edit", "~ update policy JanitorCancelTaskRolePolicy")
	}
	if doc := deployedPolicy(t, emu, "JanitorCancelTaskRolePolicy"); !strings.Contains(strings.Join(doc["ams:CancelTask"], ","), "xxxxxx") {
		t.Fatalf("policy after six edits: %v", doc)
	}
	d.noChanges("six policy edits")

	// sweep-tasks' variables removed: it has none left.
	yml, err := os.ReadFile(d.config)
	if err != nil {
		t.Fatal(err)
	}
	sweepEnv := regexp.MustCompile(`(?s)      environments:\n        - key: JANITOR_SWEEP_MAX_AGE .*?\n\n  triggers:`).Find(yml)
	if sweepEnv == nil {
		t.Fatal("serverless.yml: sweep-tasks' environments not found: update this test")
	}
	edit(t, d.config, string(sweepEnv), "\n  triggers:")
	d.apply("variables removed", "~ update config sweep-tasks", "env JANITOR_SWEEP_MAX_AGE (removed)")
	if env := d.function("sweep-tasks").Environment; len(env) != 0 {
		t.Fatalf("sweep-tasks' variables after removing them all: %v", env)
	}
	d.noChanges("variables removed")

	// A function that settles in CreateFailed: the next apply replaces it.
	if out, code := d.run("delete", "--only", "cancel-live-audit", "--yes"); code != 0 {
		t.Fatalf("delete (exit %d):\n%s", code, out)
	}
	failNext(t, ts.URL, `{"Action":"scf.CreateFunction","Settle":"CreateFailed","Message":"the code package could not be unpacked"}`)
	out, code := d.run("apply")
	if code == 0 || !strings.Contains(out, "function cancel-live-audit is CreateFailed: the code package could not be unpacked") {
		t.Fatalf("apply with the function ending CreateFailed (exit %d):\n%s", code, out)
	}
	out, _ = d.run("plan")
	if !strings.Contains(out, "-/+ replace function cancel-live-audit (it is CreateFailed: the code package could not be unpacked)") {
		t.Fatalf("plan over a CreateFailed function:\n%s", out)
	}
	d.apply("replace", "-/+ replace function cancel-live-audit", "url cancel-live-audit https://")
	if f := d.function("cancel-live-audit"); f.Status != emulator.FunctionActive || len(f.Triggers) != 1 {
		t.Fatalf("after the replace: %+v", f)
	}
	d.noChanges("replace")
}

// failNext queues a control-plane fault through the emulator's HTTP API.
func failNext(t *testing.T, base, body string) {
	t.Helper()
	resp, err := http.Post(base+"/_emulator/fail-next", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("fail-next %s: HTTP %d", body, resp.StatusCode)
	}
}

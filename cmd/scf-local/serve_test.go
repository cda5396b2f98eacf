package main

import (
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/emulator"
	"github.com/scf-janitor/scf-janitor/shared/webhook"
)

const testProject = "testdata/project/serverless.yml"

func envFrom(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// startServe runs serve in-process on free ports and waits until it is ready.
func startServe(t *testing.T, env map[string]string, extra ...string) (out *lines, stop func() int) {
	t.Helper()
	return startServeConfig(t, testProject, env, extra...)
}

// startServeConfig is startServe for another serverless.yml.
func startServeConfig(t *testing.T, config string, env map[string]string, extra ...string) (out *lines, stop func() int) {
	t.Helper()
	pr, pw := io.Pipe()
	out = newLines(pr)
	ctx, cancel := context.WithCancel(context.Background())
	args := append([]string{"--config", config, "--addr", "127.0.0.1:0", "--emulator-addr", "127.0.0.1:0"}, extra...)
	done := make(chan int, 1)
	w := &lockedWriter{w: pw}
	go func() {
		code := run(ctx, args, strings.NewReader(""), w, w, envFrom(env))
		pw.Close()
		done <- code
	}()
	stopped := false
	stop = func() int {
		if stopped {
			return 0
		}
		stopped = true
		cancel()
		select {
		case code := <-done:
			return code
		case <-time.After(20 * time.Second):
			t.Fatalf("serve did not stop within 20s of cancel; output:\n%s", out.text())
			return -1
		}
	}
	t.Cleanup(func() { stop() })
	out.wait(t, 2*time.Minute, 1, func(s string) bool {
		return strings.HasPrefix(s, "ready:") || strings.HasPrefix(s, "scf-local: ") && strings.Contains(s, "error")
	})
	return out, stop
}

func TestServeGatewayAndTimers(t *testing.T) {
	out, stop := startServe(t, map[string]string{"SCF_LOCAL_TEST_NAME": "bob"}, "--cron", "tick=* * * * * * *", "--sweep-now=false")
	gw := out.field(t, "gateway:")
	emu := out.field(t, "emulator:")
	secret := printedSecret(t, out, "echo")
	if !strings.HasPrefix(secret, "local-") || len(secret) < 20 {
		t.Fatalf("generated secret %q", secret)
	}
	out.wait(t, time.Second, 1, func(s string) bool {
		return strings.Contains(s, "echo") && strings.Contains(s, "generated for this run: $SCF_LOCAL_TEST_ECHO_SECRET unset")
	})

	t.Run("Function URL event and environment", func(t *testing.T) {
		body := `{"TaskId":"x"}`
		h := http.Header{}
		h.Set(webhook.Header, webhook.Sign(secret, time.Now(), []byte(body)))
		status, hdr, resp := post(t, gw+"/echo/sub/path?q=42", h, body)
		if status != http.StatusCreated || hdr.Get("X-Echo") != "1" {
			t.Fatalf("status %d headers %v body %s: want the integrated response's 201 and headers", status, hdr, resp)
		}
		var got map[string]any
		if err := json.Unmarshal([]byte(resp), &got); err != nil {
			t.Fatalf("body %s: %v", resp, err)
		}
		want := map[string]any{
			"method": "POST", "path": "/sub/path", "query": "42", "body": body, "signature": true, "verified": true, "sourceIP": "127.0.0.1",
			"hasKey": true, "hasToken": true, "keyInProcEnv": false,
			"amsEndpoint": emu, "bucket": "examplebucket-1250000000", "greeting": "hello-bob",
			"region": "ap-singapore", "functionName": "echo", "timeLimitMs": float64(2000),
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s = %v, want %v", k, got[k], v)
			}
		}
		if got["secretDigest"] == "" {
			t.Error("the function did not get the webhook secret")
		}
		// Its execution role's temporary keys, not the account's own.
		if id, _ := got["secretId"].(string); !strings.HasPrefix(id, "AKID") || id == emulator.DefaultSecretID {
			t.Errorf("secretId %q: want temporary keys of the execution role, not the emulator's root key", id)
		}
		if got["requestId"] != hdr.Get("X-Scf-Request-Id") {
			t.Errorf("request id %v, header %q", got["requestId"], hdr.Get("X-Scf-Request-Id"))
		}
	})

	t.Run("the execution role's keys", func(t *testing.T) {
		// scf-local created each function's role in the emulator's CAM as
		// scf-deploy would: trusted by SCF, with deploy/cam/<Role>.json.
		var roles []emulator.RoleInfo
		emuGet(t, emu+"/_emulator/roles", &roles)
		byName := map[string]emulator.RoleInfo{}
		for _, r := range roles {
			byName[r.RoleName] = r
		}
		if r := byName["EchoRole"]; !strings.Contains(r.PolicyDocument, "scf.qcloud.com") || len(r.AttachedPolicies) != 1 || r.AttachedPolicies[0] != "EchoRolePolicy" {
			t.Errorf("EchoRole %+v: want trusted by scf.qcloud.com with EchoRolePolicy attached", r)
		}
		if r, ok := byName["TickRole"]; !ok || len(r.AttachedPolicies) != 0 {
			t.Errorf("TickRole (no deploy/cam/TickRole.json) %+v: want the role without a policy", r)
		}
		// STS says the keys are a session of EchoRole in the local account;
		// the same keys serve later invocations (no new keys per call).
		var first string
		for i := range 2 {
			status, _, resp := post(t, gw+"/echo", nil, "whoami")
			var who map[string]string
			if status != 200 || json.Unmarshal([]byte(resp), &who) != nil {
				t.Fatalf("whoami: %d %s", status, resp)
			}
			if who["accountId"] != emulator.DefaultAccountUin || who["type"] != "AssumedRole" ||
				who["arn"] != "qcs::cam::uin/"+emulator.DefaultAccountUin+":roleName/EchoRole" || !strings.HasSuffix(who["userId"], ":scf.qcloud.com") {
				t.Errorf("caller identity %v: want a session of EchoRole in account %s", who, emulator.DefaultAccountUin)
			}
			if i == 0 {
				first = who["secretId"]
			} else if who["secretId"] != first {
				t.Errorf("second invocation got new keys %s (first %s) long before they expire", who["secretId"], first)
			}
		}
	})

	t.Run("plain JSON result is a 200", func(t *testing.T) {
		status, hdr, resp := post(t, gw+"/echo", nil, "plain")
		if status != 200 || strings.TrimSpace(resp) != `{"plain":"json"}` || hdr.Get("Content-Type") != "application/json" {
			t.Fatalf("got %d %q %v", status, resp, hdr)
		}
	})

	// A failed invocation is a 502, and the next request is answered by a
	// fresh instance.
	for _, tc := range []struct{ name, body, says string }{
		{"function error is a 502 and the function is replaced", "panic", "asked to panic"},
		{"a process that dies is a 502 and is restarted", "exit", "InvokeFailed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, _, resp := post(t, gw+"/echo", nil, tc.body)
			if status != http.StatusBadGateway || !strings.Contains(resp, tc.says) {
				t.Fatalf("got %d %s", status, resp)
			}
			status, _, _ = post(t, gw+"/echo", nil, "plain")
			if status != 200 {
				t.Fatalf("after %q the next request got %d, want 200 from a fresh instance", tc.body, status)
			}
		})
	}

	t.Run("timeout is a 504", func(t *testing.T) {
		status, _, resp := post(t, gw+"/echo", nil, "sleep")
		if status != http.StatusGatewayTimeout || !strings.Contains(resp, "TimeoutError") {
			t.Fatalf("got %d %s", status, resp)
		}
	})

	t.Run("unknown route", func(t *testing.T) {
		status, _, resp := post(t, gw+"/tick", nil, "{}")
		if status != http.StatusNotFound || !strings.Contains(resp, "routes: /echo") {
			t.Fatalf("got %d %s: tick has no http trigger", status, resp)
		}
	})

	// The every-second --cron override fires the timer with its event.
	ticks := out.wait(t, 10*time.Second, 2, func(s string) bool { return strings.Contains(s, "tick ") && strings.Contains(s, " timer ") })
	if !strings.Contains(ticks[0], " ok ") || !strings.Contains(ticks[0], "Cancelled=1") {
		t.Errorf("timer line %q: want ok with the result summary", ticks[0])
	}
	for _, l := range out.wait(t, time.Second, 1, func(s string) bool { return strings.Contains(s, "echo ") && strings.Contains(s, " http ") }) {
		if strings.Contains(l, secret) {
			t.Errorf("invocation line shows the webhook secret: %q", l)
		}
	}

	// The instance replaced after the timeout may still be starting.
	var kids []child
	waitUntil(t, func() bool { kids = children(t, os.Getpid()); return len(kids) >= 2 })
	if code := stop(); code != 0 {
		t.Fatalf("exit code %d, want 0 after a clean stop; output:\n%s", code, out.text())
	}
	for _, k := range kids {
		if alive(k.pid) {
			t.Errorf("function process %d (%s) still running after stop", k.pid, k.exe)
		}
	}
	if !strings.Contains(out.text(), "scf-local: stopped") {
		t.Error("no 'stopped' line")
	}
}

func TestServeTimerEvent(t *testing.T) {
	t.Parallel()
	out, stop := startServe(t, nil, "--cron", "tick=* * * * * * *")
	out.wait(t, 10*time.Second, 1, func(s string) bool { return strings.Contains(s, " timer ") && strings.Contains(s, " ok ") })
	if code := stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
}

// printedSecret returns the secret the banner's curl line for fn signs with:
// the content of the file it reads (the line itself shows no secret).
func printedSecret(t *testing.T, out *lines, fn string) string {
	t.Helper()
	line := printedCurl(t, out, fn)
	m := regexp.MustCompile(`^: try [a-z-]+; secret=\$\(cat '([^']*)'\);`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("the curl line for %s does not start with : try %s; secret=$(cat '...'): %q", fn, fn, line)
	}
	b, err := os.ReadFile(m[1])
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(m[1]); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("secret file %s: %v %v, want mode 0600", m[1], fi.Mode(), err)
	}
	return string(b)
}

// printedCurl returns the banner's whole try line for fn, as a user would
// copy it.
func printedCurl(t *testing.T, out *lines, fn string) string {
	t.Helper()
	prefix := "  : try " + fn + "; "
	line := out.wait(t, time.Second, 1, func(s string) bool { return strings.HasPrefix(s, prefix) })[0]
	return strings.TrimSpace(line)
}

// TestPrintedCurlCommandWorks runs the banner's curl line, which must sign
// with the literal secret the function accepts wherever it came from: the
// first of a rotation list, from the shell or from .env, or generated.
func TestPrintedCurlCommandWorks(t *testing.T) {
	skipShort(t, "runs the printed signing recipe with bash, openssl and curl against a served project")
	t.Parallel() // its own scf-local on free ports; it waits more than it computes
	for _, tool := range []string{"bash", "openssl", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed (.ci/run installs it): the README's signing recipe needs it", tool)
		}
	}
	tests := []struct {
		name, dotenv string
		shell        map[string]string
		extra        []string
		want         string // the printed secret; "" = generated
		from         string // what the banner says about it
	}{
		{name: "generated", from: "generated for this run: $SCF_LOCAL_TEST_ECHO_SECRET unset"},
		{name: "shell rotation list", shell: map[string]string{"SCF_LOCAL_TEST_ECHO_SECRET": " new-secret , old-secret"}, want: "new-secret",
			from: "$SCF_LOCAL_TEST_ECHO_SECRET from the shell"},
		{name: ".env rotation list", dotenv: "SCF_LOCAL_TEST_ECHO_SECRET=dotenv-new,dotenv-old\n", want: "dotenv-new", from: "$SCF_LOCAL_TEST_ECHO_SECRET from .env"},
		{name: "shell wins over .env", dotenv: "SCF_LOCAL_TEST_ECHO_SECRET=dotenv-secret\n", shell: map[string]string{"SCF_LOCAL_TEST_ECHO_SECRET": "shell-secret"},
			want: "shell-secret", from: "$SCF_LOCAL_TEST_ECHO_SECRET from the shell"},
		{name: "--webhook-secret", dotenv: "SCF_LOCAL_TEST_ECHO_SECRET=dotenv-secret\n", extra: []string{"--webhook-secret", "flag-secret,older"}, want: "flag-secret", from: "--webhook-secret"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			config := projectCopy(t, tc.dotenv)
			out, _ := startServeConfig(t, config, tc.shell, tc.extra...)
			secret := printedSecret(t, out, "echo")
			if tc.want != "" && secret != tc.want {
				t.Errorf("signing secret %q, want %q", secret, tc.want)
			}
			for _, v := range append(slices.Collect(maps.Values(tc.shell)), "dotenv-new", "dotenv-secret", "flag-secret", secret) {
				if v = strings.TrimSpace(v); v != "" && strings.Contains(out.text(), v) {
					t.Errorf("the banner prints a secret (%q):\n%s", v, out.text())
				}
			}
			out.wait(t, time.Second, 1, func(s string) bool { return strings.HasPrefix(s, "  echo") && strings.HasSuffix(s, tc.from) })
			res, err := exec.Command("bash", "-c", printedCurl(t, out, "echo")).CombinedOutput()
			if err != nil {
				t.Fatalf("%v: %s", err, res)
			}
			var got map[string]any
			if err := json.Unmarshal(res, &got); err != nil {
				t.Fatalf("curl printed %s: %v", res, err)
			}
			if got["verified"] != true || got["body"] != "{}" {
				t.Fatalf("echo saw %v: want a body signed with a secret it accepts", got)
			}
		})
	}
}

// projectCopy copies the test project (serverless.yml and its function
// sources) to a new directory, with dotenv as its .env when not empty. The
// copy is inside the module (under testdata), so its functions build.
func projectCopy(t *testing.T, dotenv string) string {
	t.Helper()
	dir, err := os.MkdirTemp("testdata", "run-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.CopyFS(dir, os.DirFS(filepath.Dir(testProject))); err != nil {
		t.Fatal(err)
	}
	if dotenv != "" {
		if err := os.WriteFile(filepath.Join(dir, ".env"), []byte(dotenv), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "serverless.yml")
}

func TestCloudNeedsCredentials(t *testing.T) {
	var stderr strings.Builder
	code := run(context.Background(), []string{"--config", testProject, "--cloud", "--addr", "127.0.0.1:0"}, nil, io.Discard, &stderr, envFrom(nil))
	if code != 1 || !strings.Contains(stderr.String(), "needs credentials") || !strings.Contains(stderr.String(), "set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY") {
		t.Fatalf("exit %d, stderr %q: want a clear refusal", code, stderr.String())
	}
}

func TestCloudModeUsesRealEndpointsAndNoTimers(t *testing.T) {
	out, stop := startServe(t, map[string]string{
		"TENCENTCLOUD_SECRETID": "AKIDcloud", "TENCENTCLOUD_SECRETKEY": "cloud-key", "SCF_LOCAL_TEST_BUCKET": "mybucket-1250000000",
	}, "--cloud")
	gw := out.field(t, "gateway:")
	out.wait(t, time.Second, 1, func(s string) bool { return strings.Contains(s, "off (--cloud: pass --timers") })
	status, _, resp := post(t, gw+"/echo", nil, "{}")
	var got map[string]any
	if status != 201 || json.Unmarshal([]byte(resp), &got) != nil {
		t.Fatalf("%d %s", status, resp)
	}
	if got["amsEndpoint"] != "" || got["secretId"] != "AKIDcloud" || got["hasToken"] != false || got["bucket"] != "mybucket-1250000000" {
		t.Fatalf("cloud mode environment %v: want no endpoint (the code's default: Tencent's), the shell's credentials and ${env:NAME} values", got)
	}
	if strings.Contains(out.text(), "cloud-key") {
		t.Fatal("the secret key was printed")
	}
	stop()
}

func TestInvoke(t *testing.T) {
	var stdout, stderr strings.Builder
	event := `{"Type":"Timer","TriggerName":"manual","Time":"2026-01-01T00:00:00Z","Message":"m"}`
	code := run(context.Background(), []string{"invoke", "tick", "--event", "-", "--config", testProject, "--emulator-addr", "127.0.0.1:0"},
		strings.NewReader(event), &stdout, &stderr, envFrom(nil))
	if code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr.String())
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(stdout.String()), &got); err != nil {
		t.Fatalf("stdout %q: %v", stdout.String(), err)
	}
	if got["TriggerName"] != "manual" || got["Message"] != "m" || got["TriggerSrc"] != "timer" {
		t.Fatalf("result %v", got)
	}

	stdout.Reset()
	stderr.Reset()
	code = run(context.Background(), []string{"invoke", "--config", testProject, "--emulator-addr", "127.0.0.1:0", "echo", "--event", "-"},
		strings.NewReader(`{"httpMethod":"POST","path":"/","headers":{},"body":"error"}`), &stdout, &stderr, envFrom(nil))
	if code != 1 || !strings.Contains(stdout.String(), `"errorMessage":"asked to fail"`) {
		t.Fatalf("exit %d stdout %q: want 1 and the function's error on stdout", code, stdout.String())
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"invoke"},
		{"invoke", "tick", "echo"},
		{"generate-event"},
		{"--no-such-flag"},
		{"extra-arg"},
		{"--cron", "nonsense"},
	} {
		var stderr strings.Builder
		if code := run(context.Background(), args, nil, io.Discard, &stderr, envFrom(nil)); code != 2 {
			t.Errorf("%q: exit %d, want 2 (usage); stderr %q", args, code, stderr.String())
		}
	}
	var stderr strings.Builder
	code := run(context.Background(), []string{"invoke", "nope", "--event", "-", "--config", testProject, "--emulator-addr", "127.0.0.1:0"}, strings.NewReader("{}"), io.Discard, &stderr, envFrom(nil))
	if code != 1 || !strings.Contains(stderr.String(), `no function "nope" in serverless.yml (have echo, tick)`) {
		t.Errorf("unknown function: exit %d, stderr %q", code, stderr.String())
	}
}

// TestInvokeAndGenerateEventUseTheRunningSecrets: with scf-local serving,
// generate-event --function signs with the secret the running function
// accepts (generated here), and invoke gives its function that same secret,
// so the event verifies.
func TestInvokeAndGenerateEventUseTheRunningSecrets(t *testing.T) {
	skipShort(t, "serves a project and runs invoke and generate-event against it")
	t.Parallel()
	config := projectCopy(t, "")
	out, _ := startServeConfig(t, config, nil)
	emuAddr := strings.TrimPrefix(out.field(t, "emulator:"), "http://")
	served := printedSecret(t, out, "echo")

	var event, stderr strings.Builder
	code := run(context.Background(), []string{"generate-event", "url", "--function", "echo", "--config", config, "--emulator-addr", emuAddr, "--body", `{"n":1}`},
		nil, &event, &stderr, envFrom(nil))
	if code != 0 {
		t.Fatalf("generate-event: exit %d: %s", code, stderr.String())
	}
	if err := verifyEvent(t, event.String(), served); err != nil {
		t.Fatalf("generate-event did not sign with the served secret: %v", err)
	}

	var stdout strings.Builder
	stderr.Reset()
	code = run(context.Background(), []string{"invoke", "echo", "--event", "-", "--config", config, "--emulator-addr", emuAddr},
		strings.NewReader(event.String()), &stdout, &stderr, envFrom(nil))
	if code != 0 {
		t.Fatalf("invoke: exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), `\"verified\":true`) {
		t.Fatalf("invoke result %s: want the event verified with the running server's secret", stdout.String())
	}
}

// verifyEvent decodes a URL event generate-event printed and verifies its
// signature with secret.
func verifyEvent(t *testing.T, event, secret string) error {
	t.Helper()
	var ev struct {
		Body    string
		Headers map[string]string
	}
	if err := json.Unmarshal([]byte(event), &ev); err != nil {
		t.Fatal(err)
	}
	return webhook.Verifier{Secrets: []string{secret}}.Verify(ev.Headers["x-janitor-signature"], []byte(ev.Body))
}

func TestGenerateEventDefaultSecret(t *testing.T) {
	config := projectCopy(t, "")
	free := "127.0.0.1:1" // no scf-local there
	t.Run("from the shell, first of the list", func(t *testing.T) {
		var out, stderr strings.Builder
		code := run(context.Background(), []string{"generate-event", "url", "--path", "/echo", "--config", config, "--emulator-addr", free},
			nil, &out, &stderr, envFrom(map[string]string{"SCF_LOCAL_TEST_ECHO_SECRET": "first, second"}))
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
		if err := verifyEvent(t, out.String(), "first"); err != nil {
			t.Fatalf("not signed with the first secret: %v (%s)", err, out.String())
		}
	})
	t.Run("unset and nothing running", func(t *testing.T) {
		var stderr strings.Builder
		code := run(context.Background(), []string{"generate-event", "url", "--function", "echo", "--config", config, "--emulator-addr", free},
			nil, io.Discard, &stderr, envFrom(nil))
		if code != 1 || !strings.Contains(stderr.String(), "$SCF_LOCAL_TEST_ECHO_SECRET unset") || !strings.Contains(stderr.String(), "pass --secret") {
			t.Fatalf("exit %d, stderr %q: want a refusal naming the variable and the fix", code, stderr.String())
		}
	})
}

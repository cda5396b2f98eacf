package main

import (
	"bytes"
	"context"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/deploy"
	"github.com/scf-janitor/scf-janitor/internal/emulator"
)

func TestMain(m *testing.M) {
	// The program name a built binary on PATH has (a test binary's own
	// path would be printed otherwise).
	arg0 = "scf-deploy"
	os.Exit(m.Run())
}

func TestNextCommand(t *testing.T) {
	tests := []struct {
		name, program, command string
		args, extra            []string
		want                   string
	}{
		{"plan by default", "scf-deploy", "apply", []string{"--endpoint", "http://127.0.0.1:9100", "--only", "x"}, nil,
			"scf-deploy apply --endpoint http://127.0.0.1:9100 --only x"},
		{"plan typed", "scf-deploy", "apply", []string{"plan", "--only=a", "--only", "b"}, nil, "scf-deploy apply --only=a --only b"},
		{"quoting", "./bin/scf-deploy", "apply", []string{"--config", "my dir/serverless.yml", "--env-file", "it's.env"}, nil,
			`./bin/scf-deploy apply --config 'my dir/serverless.yml' --env-file 'it'\''s.env'`},
		{"delete asks --yes", "go run ./cmd/scf-deploy", "delete", []string{"delete", "--endpoint", "http://x:1"}, []string{"--yes"},
			"go run ./cmd/scf-deploy delete --endpoint http://x:1 --yes"},
		{"empty value", "scf-deploy", "apply", []string{"--region", ""}, nil, "scf-deploy apply --region ''"},
		{"shell characters", "scf-deploy", "apply", []string{"--only", "$(rm -rf ~)"}, nil, "scf-deploy apply --only '$(rm -rf ~)'"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := nextCommand(tc.program, tc.command, tc.args, tc.extra...); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestProgramName(t *testing.T) {
	tests := map[string]string{
		"/tmp/go-build1234/b001/exe/scf-deploy": "go run ./cmd/scf-deploy",
		"scf-deploy":                            "scf-deploy",
		"./scf-deploy":                          "./scf-deploy",
		"/opt/my tools/scf-deploy":              "'/opt/my tools/scf-deploy'",
	}
	for in, want := range tests {
		if got := programName(in); got != want {
			t.Errorf("programName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestPlanPrintsTheExactCommand: plan's closing line repeats every flag the
// user gave (the --endpoint above all: without it the command would target
// the real cloud).
func TestPlanPrintsTheExactCommand(t *testing.T) {
	emu := emulator.New(emulator.Options{})
	ts := httptest.NewServer(emu)
	t.Cleanup(ts.Close)
	envPath, _ := envFor(t, nil)
	var out, errb bytes.Buffer
	args := []string{"--only", "cancel-task", "--config", repoConfig, "--env-file", envPath, "--endpoint", ts.URL}
	code := run(context.Background(), args, &out, &errb, func(string) (string, bool) { return "", false },
		runOptions{Build: func(context.Context, string, string) ([]byte, error) { return []byte("package"), nil }})
	if code != 0 {
		t.Fatalf("exit %d:\n%s%s", code, out.String(), errb.String())
	}
	want := "run `scf-deploy apply --only cancel-task --config ../../serverless.yml --env-file " + shellWord(envPath) + " --endpoint " + ts.URL + "` to make these changes\n"
	if !strings.HasSuffix(out.String(), want) {
		t.Fatalf("plan ends with:\n%s\nwant:\n%s", lastLine(out.String()), want)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	return lines[len(lines)-1]
}

// projectWith writes serverless.yml (the repository's with edit applied)
// and a .env to a new directory, and returns the config's path.
func projectWith(t *testing.T, from, to, dotenv string) (config, envPath string) {
	t.Helper()
	yml, err := os.ReadFile(repoConfig)
	if err != nil {
		t.Fatal(err)
	}
	if from != "" {
		if !bytes.Contains(yml, []byte(from)) {
			t.Fatalf("serverless.yml has no %q: update this test", from)
		}
		yml = bytes.Replace(yml, []byte(from), []byte(to), 1)
	}
	dir := t.TempDir()
	config = filepath.Join(dir, "serverless.yml")
	if err := os.WriteFile(config, yml, 0o600); err != nil {
		t.Fatal(err)
	}
	full, _ := envFor(t, nil)
	base, err := os.ReadFile(full)
	if err != nil {
		t.Fatal(err)
	}
	envPath = filepath.Join(dir, ".env")
	if err := os.WriteFile(envPath, append(base, dotenv...), 0o600); err != nil {
		t.Fatal(err)
	}
	return config, envPath
}

// runPlan runs scf-deploy plan on config; nothing may be built.
func runPlan(t *testing.T, config, envPath string, extra ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	args := append([]string{"plan", "--config", config, "--env-file", envPath}, extra...)
	code = run(context.Background(), args, &out, &errb, func(string) (string, bool) { return "", false },
		runOptions{Build: func(context.Context, string, string) ([]byte, error) { t.Error("built a function"); return nil, nil }})
	return out.String(), errb.String(), code
}

// TestPlanRefusesSettingsTheFunctionsRefuse: a value a function would refuse
// at run time fails plan, naming the function, the variable and the rule;
// values that came from the shell or .env are not shown.
func TestPlanRefusesSettingsTheFunctionsRefuse(t *testing.T) {
	const maxAge = "        - key: JANITOR_SWEEP_MAX_AGE # cancel tasks created more than this long ago (Go duration, at least 1m)\n          value: 2h\n"
	tests := []struct {
		name, from, to, dotenv string
		want                   []string
		hidden                 string
	}{
		{name: "literal banana", from: maxAge, to: "        - key: JANITOR_SWEEP_MAX_AGE\n          value: banana\n",
			want: []string{"function sweep-tasks", `JANITOR_SWEEP_MAX_AGE="banana": want a Go duration of at least 1m, such as 2h or 30m`}},
		{name: "from .env, not shown", from: maxAge, to: "        - key: JANITOR_SWEEP_MAX_AGE\n          value: ${env:MAX_AGE}\n", dotenv: "MAX_AGE=hunter2-secretish\n",
			want: []string{"function sweep-tasks", "JANITOR_SWEEP_MAX_AGE (value not shown): want a Go duration"}, hidden: "hunter2-secretish"},
		{name: "combination", from: "          value: 72h\n", to: "          value: 1h\n",
			want: []string{"function sweep-tasks", "lookback (JANITOR_SWEEP_LOOKBACK) 1h0m0s must be longer than maxAge"}},
		{name: "cancel function auth", from: "        - key: JANITOR_WEBHOOK_AUTH # signature", to: "        - key: JANITOR_WEBHOOK_AUTH # signaturex\n          value: sig\n        - key: JANITOR_X # signature",
			want: []string{"function cancel-task", "JANITOR_WEBHOOK_AUTH is not valid (value not shown): want signature (the default) or none"}},
		{name: "bucket from .env", dotenv: "JANITOR_CI_BUCKET=not a bucket\n",
			want: []string{"function cancel-live-audit", "JANITOR_CI_BUCKET is not valid (value not shown): want a COS bucket name with its APPID"}, hidden: "not a bucket"},
		{name: "notify URL from .env, not shown", from: "        - key: JANITOR_SWEEP_SELF", to: "        - key: JANITOR_NOTIFY_URL\n          value: ${env:NOTIFY}\n        - key: JANITOR_SWEEP_SELF",
			dotenv: "NOTIFY=ftp://hooks.example.com/services/T0/B0/hunter2-secret-path\n",
			want:   []string{"function sweep-tasks", "JANITOR_NOTIFY_URL"}, hidden: "hunter2-secret-path"},
		{name: "log level", from: "        - key: JANITOR_LOG_LEVEL\n          value: info\n", to: "        - key: JANITOR_LOG_LEVEL\n          value: verbose\n",
			want: []string{"function cancel-task", `JANITOR_LOG_LEVEL="verbose": want one of`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			config, envPath := projectWith(t, tc.from, tc.to, tc.dotenv)
			out, errs, code := runPlan(t, config, envPath)
			if code != 1 {
				t.Fatalf("exit %d, want 1:\n%s%s", code, out, errs)
			}
			for _, w := range tc.want {
				if !strings.Contains(errs, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errs)
				}
			}
			if tc.hidden != "" && strings.Contains(out+errs, tc.hidden) {
				t.Errorf("the value %q was printed:\n%s", tc.hidden, errs)
			}
		})
	}
}

// TestPlanWarnsAboutUnusedDotEnv: a .env name that serverless.yml never
// references and scf-deploy does not read is listed (a BOM does not hide
// the first one).
func TestPlanWarnsAboutUnusedDotEnv(t *testing.T) {
	config, envPath := projectWith(t, "", "", "")
	dotenv := "\ufeffAAA_FIRST=1\nJANITOR_SWEEP_MAX_AGEE=1h\nTENCENT_SECRET_ID=x\nJANITOR_TARGET_200000000001_SECRET_ID=y\nJANITOR_CANCEL_TASK_SECRET=s\n"
	if err := os.WriteFile(envPath, []byte(dotenv), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errs, _ := runPlan(t, config, envPath, "--endpoint", "http://127.0.0.1:1")
	want := "scf-deploy: warning: " + envPath + ": unused: AAA_FIRST, JANITOR_SWEEP_MAX_AGEE set but never referenced by " + config + " as ${env:NAME} (a typo?)\n"
	if !strings.Contains(errs, want) {
		t.Fatalf("stderr:\n%s\nwant the line:\n%s", errs, want)
	}
}

// TestPlanAgainstAStoppedEndpoint: nothing listening at --endpoint is said
// at once, with what to start, before anything is built.
func TestPlanAgainstAStoppedEndpoint(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close()
	config, envPath := projectWith(t, "", "", "")
	start := time.Now()
	_, errs, code := runPlan(t, config, envPath, "--endpoint", "http://"+addr)
	want := "nothing answers at " + addr + ": start scf-local (go run ./cmd/scf-local)"
	if code != 1 || !strings.Contains(errs, want) || !strings.Contains(errs, "or drop --endpoint") {
		t.Fatalf("exit %d, stderr:\n%s\nwant %q", code, errs, want)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("took %s to say so", took)
	}
}

// TestRoleNameIsCheckedBeforeReading: a role name that is not a CAM name
// (../ above all) is refused before any file under deploy/cam is read.
func TestRoleNameIsCheckedBeforeReading(t *testing.T) {
	config, envPath := projectWith(t, "role: JanitorCancelTaskRole", "role: ${env:CANCEL_ROLE}", "CANCEL_ROLE=../../../etc/passwd\n")
	_, errs, code := runPlan(t, config, envPath)
	if code != 1 || !strings.Contains(errs, `role "../../../etc/passwd" is not a CAM role name`) {
		t.Fatalf("exit %d, stderr:\n%s", code, errs)
	}
	if _, err := loadRoles(t.TempDir(), nil, []deploy.Function{{Name: "f", Role: "../x"}}, false); err == nil || !strings.Contains(err.Error(), "not a CAM role name") {
		t.Fatalf("loadRoles: %v", err)
	}
}

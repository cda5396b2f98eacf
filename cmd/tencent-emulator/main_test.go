package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/emulator"
	"github.com/scf-janitor/scf-janitor/internal/testkit/logtest"
	"github.com/scf-janitor/scf-janitor/internal/testkit/stoptest"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
)

const (
	defaultSecretID  = emulator.DefaultSecretID
	defaultSecretKey = emulator.DefaultSecretKey
)

func TestParseFlagsDefaults(t *testing.T) {
	cfg, err := parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	o := cfg.Options
	if cfg.Addr != "127.0.0.1:9100" || cfg.Demo || len(o.Credentials) != 1 || o.Credentials[0] != (emulator.Credential{SecretID: defaultSecretID, SecretKey: defaultSecretKey}) ||
		o.Rate != 20 || o.Paging != emulator.PagingCursor || o.MaxLimit != 100 || o.SdkAppIDs[0] != emulator.DefaultSdkAppID ||
		o.Faults != (emulator.Faults{SlowDelay: emulator.DefaultSlowDelay}) || o.SpecificEndedCodes || o.EnforcePolicies ||
		o.PendingFor != emulator.DefaultPendingFor || o.RunningFor != emulator.DefaultRunningFor || o.Seed != 1 {
		t.Fatalf("defaults: %+v", cfg)
	}
}

func TestParseFlags(t *testing.T) {
	cfg, err := parseFlags(strings.Fields("--addr :0 --demo --secret-id A --secret-key K --token T --rate 5 --paging offset --max-limit 20 "+
		"--seed 9 --sdk-app-ids 1,2 --specific-ended-codes --enforce-policies --role-propagation 3s --pending-for -1s --running-for 2m"), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	o := cfg.Options
	if cfg.Addr != ":0" || !cfg.Demo || o.Credentials[0] != (emulator.Credential{SecretID: "A", SecretKey: "K", Token: "T"}) || o.Rate != 5 || o.Paging != emulator.PagingOffset ||
		o.MaxLimit != 20 || o.Seed != 9 || len(o.SdkAppIDs) != 2 || !o.SpecificEndedCodes || !o.EnforcePolicies ||
		o.RolePropagation != 3*time.Second || o.PendingFor != -time.Second || o.RunningFor != 2*time.Minute {
		t.Fatalf("flags: %+v", cfg)
	}
}

func TestFaultFlag(t *testing.T) {
	want := emulator.Faults{Latency: 10 * time.Millisecond, Jitter: 5 * time.Millisecond, InternalErrorRate: 0.1, BadGatewayRate: 0.05,
		ResetRate: 0.02, SlowRate: 0.01, SlowDelay: time.Minute, InternalErrorStatus: 503}
	for _, c := range []struct{ name, args string }{
		{"one flag each", "--fault latency=10ms --fault jitter=5ms --fault internal-error=0.1 --fault bad-gateway=0.05 --fault reset=0.02 " +
			"--fault slow=0.01 --fault slow-delay=1m --fault internal-error-status=503"},
		{"comma-separated", "-fault latency=10ms,jitter=5ms,internal-error=0.1,bad-gateway=0.05 -fault reset=0.02,slow=0.01,slow-delay=1m,internal-error-status=503"},
		{"old flags", "--latency 10ms --jitter 5ms --fault-rate 0.1 --bad-gateway-rate 0.05 --reset-rate 0.02 --slow-rate 0.01 --slow-delay 1m " +
			"--fault internal-error-status=503"},
		{"a later setting wins", "--fault reset=0.5 --fault-rate 0.3 --fault latency=10ms,jitter=5ms,internal-error=0.1,bad-gateway=0.05 " +
			"--reset-rate 0.02 --fault slow=0.01,slow-delay=1m,internal-error-status=503"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := parseFlags(strings.Fields(c.args), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Options.Faults != want {
				t.Errorf("faults %+v, want %+v", cfg.Options.Faults, want)
			}
		})
	}
}

func TestParseFlagsRefuses(t *testing.T) {
	for _, c := range []struct{ args, want string }{
		{"--paging pages", "--paging"},
		{"--rate 0", "--rate 0"},
		{"--max-limit 0", "--max-limit"},
		{"--role-propagation -1s", "--role-propagation"},
		{"--fault-rate 2", "probability"},
		{"--fault internal-error=2", "probability"},
		{"--fault-rate 0.6 --reset-rate 0.6", "must not exceed 1"},
		{"--fault internal-error=0.6,reset=0.6", "must not exceed 1"},
		{"--fault reset", "KIND=VALUE"},
		{"--fault teapot=1", `unknown fault "teapot"`},
		{"--fault latency=soon", "duration"},
		{"--fault slow-delay=-1s", "duration"},
		{"--fault internal-error-status=700", "HTTP status"},
		{"--latency soon", "duration"},
		{"--sdk-app-ids x", "--sdk-app-ids"},
		{"--secret-key=", "must not be empty"},
		{"extra", "unexpected argument"},
		{"--roles JanitorRole", "--roles"},
	} {
		t.Run(c.args, func(t *testing.T) {
			_, err := parseFlags(strings.Fields(c.args), io.Discard)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one mentioning %q", err, c.want)
			}
		})
	}
}

func TestRolesFlag(t *testing.T) {
	const role = "qcs::cam::uin/100000000002:roleName/JanitorSweepTargetRole"
	cfg, err := parseFlags([]string{"--roles", role + ", qcs::cam::uin/3:roleName/B"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Options.Roles) != 2 || cfg.Options.Roles[0].Arn != role || cfg.Options.Roles[1].Arn != "qcs::cam::uin/3:roleName/B" {
		t.Errorf("roles %+v", cfg.Options.Roles)
	}
}

func TestUsageShowsFaultKinds(t *testing.T) {
	var out strings.Builder
	if _, err := parseFlags([]string{"-h"}, &out); err == nil {
		t.Fatal("-h gave no ErrHelp")
	}
	for _, want := range []string{"-fault KIND=VALUE", "internal-error-status", "slow-delay", "the old fault flags"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("usage lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "-bad-gateway-rate float") {
		t.Errorf("usage lists an old fault flag on its own:\n%s", out.String())
	}
}

// startRun runs the command with args until ctx ends; it returns the
// address the command listens on and the channel its result arrives on.
func startRun(ctx context.Context, t *testing.T, args []string, logger *slog.Logger) (string, <-chan error) {
	t.Helper()
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, args, io.Discard, logger, func(a string) { addrc <- a })
	}()
	select {
	case addr := <-addrc:
		return addr, done
	case err := <-done:
		t.Fatalf("exited early: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("not listening")
	}
	return "", nil
}

// sdkClient is an official tencentcloud-sdk-go client of the command
// listening on addr.
func sdkClient(addr string, cred common.CredentialIface) *common.Client {
	prof := profile.NewClientProfile()
	prof.HttpProfile.Endpoint = addr
	prof.HttpProfile.Scheme = "HTTP"
	return common.NewCommonClient(cred, "", prof)
}

func TestRunCommand(t *testing.T) {
	var logs logtest.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	ctx, cancel := context.WithCancel(context.Background())
	addr, done := startRun(ctx, t, []string{"--addr", "127.0.0.1:0", "--demo", "--token", "tok"}, logger)
	client := sdkClient(addr, common.NewTokenCredential(defaultSecretID, defaultSecretKey, "tok"))
	req := tchttp.NewCommonRequest("ams", "2020-12-29", "DescribeTasks")
	_ = req.SetActionParameters(`{"Limit":3}`)
	resp := tchttp.NewCommonResponse()
	if err := client.Send(req, resp); err != nil {
		t.Fatalf("call the running binary: %v", err)
	}
	var body struct {
		Response struct {
			Total string
			Data  []json.RawMessage
		}
	}
	if err := json.Unmarshal(resp.GetBody(), &body); err != nil || len(body.Response.Data) != 3 || body.Response.Total == "0" {
		t.Fatalf("demo data not served: %s", resp.GetBody())
	}
	if err := stoptest.Stop(t, "run", cancel, done, 10*time.Second); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	out := logs.String()
	for _, want := range []string{`"msg":"request"`, `"action":"ams.DescribeTasks"`, `"status":200`, `"latency_ms":`, `"msg":"shutting down"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
	for _, secret := range []string{defaultSecretKey, `"tok"`, "TC3-HMAC-SHA256"} {
		if strings.Contains(out, secret) {
			t.Errorf("log contains %q", secret)
		}
	}
}

// TestRunCommandShutdownEndsSlowRequests: a request held by a slow-response
// fault must not hold up SIGINT/SIGTERM for the whole --slow-delay (nor make
// the shutdown fail); its client sees the connection close, not an answer.
func TestRunCommandShutdownEndsSlowRequests(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	addr, done := startRun(ctx, t, []string{"--addr", "127.0.0.1:0", "--fault", "slow=1,slow-delay=10m"}, slog.New(slog.DiscardHandler))
	client := sdkClient(addr, common.NewCredential(defaultSecretID, defaultSecretKey))
	callErr := make(chan error, 1)
	go func() {
		req := tchttp.NewCommonRequest("ams", "2020-12-29", "DescribeTasks")
		_ = req.SetActionParameters(`{}`)
		callErr <- client.Send(req, tchttp.NewCommonResponse())
	}()
	// Wait until the request has been admitted (it then sleeps in the fault).
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/_emulator/stats")
		if err != nil {
			t.Fatal(err)
		}
		var st emulator.Stats
		err = json.NewDecoder(resp.Body).Decode(&st)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if st.Actions["ams.DescribeTasks"].Requests == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the slow request never reached the emulator")
		}
		time.Sleep(10 * time.Millisecond)
	}
	start := time.Now()
	if err := stoptest.Stop(t, "run", cancel, done, 10*time.Second); err != nil {
		t.Fatalf("shutdown with a slow request in flight: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("shutdown took %s with a slow request in flight, want well under the 5s grace", d)
	}
	select {
	case err := <-callErr:
		if err == nil {
			t.Fatal("the slow request got an answer; want the connection closed")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the slow request's client never returned")
	}
}

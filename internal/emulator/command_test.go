package emulator

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/testkit/logtest"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
)

func TestParseFlags(t *testing.T) {
	cfg, err := ParseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	o := cfg.Options
	if cfg.Addr != "127.0.0.1:9100" || cfg.Demo || len(o.Credentials) != 1 || o.Credentials[0] != (Credential{SecretID: DefaultSecretID, SecretKey: DefaultSecretKey}) ||
		o.Rate != 20 || o.Paging != PagingCursor || o.MaxLimit != 100 || o.SdkAppIDs[0] != DefaultSdkAppID || o.Faults.InternalErrorRate != 0 || o.SpecificEndedCodes || o.EnforcePolicies {
		t.Fatalf("defaults: %+v", cfg)
	}
	cfg, err = ParseFlags(strings.Fields("--addr :0 --demo --secret-id A --secret-key K --token T --rate 5 --paging offset --max-limit 20 "+
		"--latency 10ms --jitter 5ms --fault-rate 0.1 --bad-gateway-rate 0.05 --reset-rate 0.02 --seed 9 --sdk-app-ids 1,2 --specific-ended-codes --enforce-policies"), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	o = cfg.Options
	if cfg.Addr != ":0" || !cfg.Demo || o.Credentials[0] != (Credential{"A", "K", "T"}) || o.Rate != 5 || o.Paging != PagingOffset ||
		o.MaxLimit != 20 || o.Faults.Latency != 10*time.Millisecond || o.Faults.Jitter != 5*time.Millisecond ||
		o.Faults.InternalErrorRate != 0.1 || o.Faults.BadGatewayRate != 0.05 || o.Faults.ResetRate != 0.02 || o.Seed != 9 || len(o.SdkAppIDs) != 2 || !o.SpecificEndedCodes || !o.EnforcePolicies {
		t.Fatalf("flags: %+v", cfg)
	}
	for _, bad := range []string{"--paging pages", "--rate 0", "--max-limit 0", "--fault-rate 2", "--fault-rate 0.6 --reset-rate 0.6", "--sdk-app-ids x", "--secret-key=", "extra", "--latency soon"} {
		if _, err := ParseFlags(strings.Fields(bad), io.Discard); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestRunCommand(t *testing.T) {
	var logs logtest.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- runCommand(ctx, []string{"--addr", "127.0.0.1:0", "--demo", "--token", "tok"}, io.Discard, logger, func(a string) { addrc <- a })
	}()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-done:
		t.Fatalf("exited early: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("not listening")
	}
	prof := profile.NewClientProfile()
	prof.HttpProfile.Endpoint = addr
	prof.HttpProfile.Scheme = "HTTP"
	client := common.NewCommonClient(common.NewTokenCredential(DefaultSecretID, DefaultSecretKey, "tok"), "", prof)
	req := tchttp.NewCommonRequest("ams", "2020-12-29", "DescribeTasks")
	_ = req.SetActionParameters(`{"Limit":3}`)
	resp := tchttp.NewCommonResponse()
	if err := client.Send(req, resp); err != nil {
		t.Fatalf("call the running binary: %v", err)
	}
	var body struct{ Response describeResp }
	if err := json.Unmarshal(resp.GetBody(), &body); err != nil || len(body.Response.Data) != 3 || body.Response.Total == "0" {
		t.Fatalf("demo data not served: %s", resp.GetBody())
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("shutdown: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no clean shutdown")
	}
	out := logs.String()
	for _, want := range []string{`"msg":"request"`, `"action":"ams.DescribeTasks"`, `"status":200`, `"latency_ms":`, `"msg":"shutting down"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
	for _, secret := range []string{DefaultSecretKey, `"tok"`, "TC3-HMAC-SHA256"} {
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
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- runCommand(ctx, []string{"--addr", "127.0.0.1:0", "--slow-rate", "1", "--slow-delay", "10m"},
			io.Discard, slog.New(slog.DiscardHandler), func(a string) { addrc <- a })
	}()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-done:
		t.Fatalf("exited early: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("not listening")
	}
	prof := profile.NewClientProfile()
	prof.HttpProfile.Endpoint = addr
	prof.HttpProfile.Scheme = "HTTP"
	client := common.NewCommonClient(common.NewCredential(DefaultSecretID, DefaultSecretKey), "", prof)
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
		var st Stats
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
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("shutdown with a slow request in flight: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no shutdown")
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

package emulator

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	cos "github.com/tencentyun/cos-go-sdk-v5"
)

func TestRateLimit(t *testing.T) {
	e := newEnv(t, Options{Credentials: []Credential{
		{SecretID: DefaultSecretID, SecretKey: DefaultSecretKey},
		{SecretID: "AKIDOTHER", SecretKey: "other-key"},
	}})
	c := e.sdk(t, "", nil)
	describe := func(client *common.Client) error {
		return call(t, client, "ams", "DescribeTasks", map[string]any{}, nil)
	}
	for i := 1; i <= 20; i++ {
		if err := describe(c); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	wantCode(t, describe(c), "RequestLimitExceeded")
	// Other actions, the other service and other SecretIds have their own buckets.
	wantCode(t, call(t, c, "ams", "DescribeTaskDetail", map[string]any{"TaskId": "x"}, nil), "ResourceNotFound")
	mustCall(t, c, "vm", "DescribeTasks", map[string]any{}, nil)
	mustCall(t, e.sdk(t, "", common.NewCredential("AKIDOTHER", "other-key")), "ams", "DescribeTasks", map[string]any{}, nil)

	e.clock.Advance(999 * time.Millisecond)
	wantCode(t, describe(c), "") // ~20 tokens refilled by now
	e.clock.Advance(time.Second)
	for i := 1; i <= 20; i++ {
		if err := describe(c); err != nil {
			t.Fatalf("after a second, request %d: %v", i, err)
		}
	}
	wantCode(t, describe(c), "RequestLimitExceeded")

	st := e.srv.Stats().Actions["ams.DescribeTasks"]
	// 21 at t0, 1 from the other SecretId at t0, 1 at t0+999ms, 21 at
	// t0+1999ms; 2 throttled; the busiest second is (t0-1ms, t0+999ms]: 23.
	if st.Requests != 44 || st.Throttled != 2 || st.MaxPerSecond != 23 {
		t.Fatalf("stats = %+v, want Requests 44, Throttled 2, MaxPerSecond 23", st)
	}
	if st := e.srv.Stats().Actions["vm.DescribeTasks"]; st.Requests != 1 || st.Throttled != 0 || st.MaxPerSecond != 1 {
		t.Fatalf("vm stats = %+v", st)
	}
	e.srv.ResetStats()
	if n := len(e.srv.Stats().Actions); n != 0 {
		t.Fatalf("%d actions after reset", n)
	}
}

func TestRateLimitCustomAndDisabled(t *testing.T) {
	e := newEnv(t, Options{Rate: 5})
	c := e.sdk(t, "ap-guangzhou", nil)
	params := map[string]any{"SdkAppId": DefaultSdkAppID, "TaskId": "x"}
	for i := 0; i < 5; i++ {
		wantCode(t, call(t, c, "trtc", "DescribeCloudTranscription", params, nil), "ResourceNotFound")
	}
	wantCode(t, call(t, c, "trtc", "DescribeCloudTranscription", params, nil), "RequestLimitExceeded")

	off := newEnv(t, Options{Rate: -1})
	for i := 0; i < 100; i++ {
		off.srv.admit("ams.CancelTask", DefaultSecretID)
	}
	if st := off.srv.Stats().Actions["ams.CancelTask"]; st.Throttled != 0 || st.MaxPerSecond != 100 {
		t.Fatalf("disabled limit: %+v", st)
	}
}

func TestRateLimitCI(t *testing.T) {
	e := newEnv(t, Options{Rate: 2})
	c, _ := e.cosClient(t, DefaultSecretID, DefaultSecretKey, "", nil)
	j := e.srv.AddLiveJob(LiveJob{})
	for i := 0; i < 2; i++ {
		if _, _, err := c.CI.GetVideoAuditingJob(context.Background(), j.JobId); err != nil {
			t.Fatal(err)
		}
	}
	if status, code := cosCode(t, second(c.CI.GetVideoAuditingJob(context.Background(), j.JobId))); status != 429 || code != "RequestLimitExceeded" {
		t.Fatalf("third request: %d %s", status, code)
	}
	if st := e.srv.Stats().Actions["ci.GetAuditing"]; st.Requests != 3 || st.Throttled != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestMaxPerSecondSlidingWindow(t *testing.T) {
	r := newStatsRecorder()
	base := time.Unix(1000, 0)
	// 10 requests at .5s..0.95s, 10 at 1.0..1.45: a calendar-second window
	// would see 10 each; the sliding window sees all 20 within (0.45, 1.45].
	for i := 0; i < 10; i++ {
		r.record("a", base.Add(500*time.Millisecond+time.Duration(i)*50*time.Millisecond), false)
	}
	for i := 0; i < 10; i++ {
		r.record("a", base.Add(time.Second+time.Duration(i)*50*time.Millisecond), false)
	}
	if got := r.actions["a"].MaxPerSecond; got != 20 {
		t.Fatalf("MaxPerSecond = %d, want 20", got)
	}
	// Exactly one second apart are not in the same window.
	r2 := newStatsRecorder()
	r2.record("b", base, false)
	r2.record("b", base.Add(time.Second), false)
	if got := r2.actions["b"].MaxPerSecond; got != 1 {
		t.Fatalf("MaxPerSecond = %d, want 1", got)
	}
}

func TestFaultsAPI3(t *testing.T) {
	e := newEnv(t, Options{})
	c := e.sdk(t, "", nil)

	e.srv.SetFaults(Faults{InternalErrorRate: 1})
	wantCode(t, call(t, c, "ams", "DescribeTasks", map[string]any{}, nil), "InternalError")
	status, _, body := e.do(t, rawRequest{service: "ams", action: "DescribeTasks"})
	if status != 500 || apiErrorCode(t, body) != "InternalError" {
		t.Fatalf("raw: %d %s", status, body)
	}

	e.srv.SetFaults(Faults{BadGatewayRate: 1})
	wantCode(t, call(t, c, "ams", "DescribeTasks", map[string]any{}, nil), "ClientError.ParseJsonError")
	status, hdr, body := e.do(t, rawRequest{service: "ams", action: "DescribeTasks"})
	if status != 502 || hdr.Get("Content-Type") != "text/html" || !strings.Contains(string(body), "502 Bad Gateway") {
		t.Fatalf("raw: %d %s", status, body)
	}

	e.srv.SetFaults(Faults{ResetRate: 1})
	err := call(t, c, "ams", "DescribeTasks", map[string]any{}, nil)
	wantCode(t, err, "ClientError.NetworkError")

	e.srv.SetFaults(Faults{SlowRate: 1, SlowDelay: 5 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	resp, err := http.DefaultClient.Do(e.build(t, rawRequest{service: "ams", action: "DescribeTasks"}).WithContext(ctx))
	if err == nil {
		resp.Body.Close()
		t.Fatal("slow response arrived before the client's deadline")
	}
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
		t.Fatalf("slow: %v after %v", err, time.Since(start))
	}

	e.srv.SetFaults(Faults{Latency: 30 * time.Millisecond, Jitter: 20 * time.Millisecond})
	start = time.Now()
	mustCall(t, c, "ams", "DescribeTasks", map[string]any{}, nil)
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Fatalf("latency: answered after %v, want at least 30ms", d)
	}
	e.srv.SetFaults(Faults{})
	mustCall(t, c, "ams", "DescribeTasks", map[string]any{}, nil)
}

func TestFaultsCI(t *testing.T) {
	e := newEnv(t, Options{Faults: Faults{InternalErrorRate: 1}})
	c, _ := e.cosClient(t, DefaultSecretID, DefaultSecretKey, "", nil)
	j := e.srv.AddLiveJob(LiveJob{})
	if status, code := cosCode(t, second(c.CI.GetVideoAuditingJob(context.Background(), j.JobId))); status != 500 || code != "InternalError" {
		t.Fatalf("internal: %d %s", status, code)
	}
	e.srv.SetFaults(Faults{BadGatewayRate: 1})
	_, _, err := c.CI.PostVideoAuditingCancelJob(context.Background(), j.JobId)
	var er *cos.ErrorResponse
	if !errors.As(err, &er) || er.Response.StatusCode != 502 {
		t.Fatalf("bad gateway: %v", err)
	}
	if got := e.srv.LiveJobs()[0].State; got != LiveAuditing {
		t.Fatalf("a failed cancel changed the job: %s", got)
	}
	e.srv.SetFaults(Faults{ResetRate: 1})
	if _, _, err := c.CI.GetVideoAuditingJob(context.Background(), j.JobId); err == nil || errors.As(err, &er) {
		t.Fatalf("reset: %v", err)
	}
}

// The same seed gives the same fault sequence; another seed another one.
func TestFaultsDeterministic(t *testing.T) {
	run := func(seed int64) string {
		e := newEnv(t, Options{Seed: seed, Rate: -1, Faults: Faults{InternalErrorRate: 0.3, BadGatewayRate: 0.2}})
		c := e.sdk(t, "", nil)
		var b strings.Builder
		for i := 0; i < 40; i++ {
			switch sdkCode(t, call(t, c, "ams", "DescribeTasks", map[string]any{}, nil)) {
			case "":
				b.WriteByte('.')
			case "InternalError":
				b.WriteByte('I')
			case "ClientError.ParseJsonError":
				b.WriteByte('B')
			default:
				b.WriteByte('?')
			}
		}
		return b.String()
	}
	a, b, c := run(7), run(7), run(8)
	if a != b {
		t.Fatalf("same seed, different faults:\n%s\n%s", a, b)
	}
	if a == c {
		t.Fatalf("different seeds, same faults: %s", a)
	}
	if !strings.Contains(a, "I") || !strings.Contains(a, "B") || !strings.Contains(a, ".") {
		t.Fatalf("fault mix %s lacks a kind", a)
	}
}

// TestRoleKeysShareTheAccountQuota: the temporary keys SCF gives two
// functions' execution roles (ServiceRoleCredential) draw on one quota per
// action, their account's, as on Tencent; the default account's own key pair
// keeps its bucket.
func TestRoleKeysShareTheAccountQuota(t *testing.T) {
	e := newEnv(t, Options{Rate: 3})
	self := e.sdk(t, "", nil)
	trust := trustDoc(`{"service":["scf.qcloud.com"]}`)
	arn := func(name string) string { return "qcs::cam::uin/" + DefaultAccountUin + ":roleName/" + name }
	var clients []*common.Client
	for _, name := range []string{"SweepRole", "CancelRole"} {
		mustCall(t, self, "cam", "CreateRole", map[string]any{"RoleName": name, "PolicyDocument": trust}, nil)
		cred, err := e.srv.ServiceRoleCredential("scf.qcloud.com", arn(name))
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, e.sdk(t, "", common.NewTokenCredential(cred.SecretID, cred.SecretKey, cred.Token)))
	}
	describe := func(c *common.Client) error { return call(t, c, "ams", "DescribeTasks", map[string]any{}, nil) }
	for i, c := range []*common.Client{clients[0], clients[1], clients[0]} {
		if err := describe(c); err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
	}
	wantCode(t, describe(clients[1]), "RequestLimitExceeded") // the 4th in the same instant, from either role
	wantCode(t, describe(self), "")                           // the account's own key pair: its own bucket
}

package emulator

import (
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/testkit/clocktest"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
)

// newFakeClock returns a manual clock at the real time (truncated to a
// second): the official SDKs sign with the real clock.
func newFakeClock() *clocktest.Clock { return clocktest.New(time.Now().Truncate(time.Second)) }

type env struct {
	srv   *Server
	ts    *httptest.Server
	clock *clocktest.Clock
}

// newEnv starts an emulator on an httptest server with a fake clock.
// opts.Now is overridden.
func newEnv(t testing.TB, opts Options) *env {
	t.Helper()
	clock := newFakeClock()
	opts.Now = clock.Now
	srv := New(opts)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &env{srv: srv, ts: ts, clock: clock}
}

func (e *env) host() string { return strings.TrimPrefix(e.ts.URL, "http://") }

// sdk returns an official tencentcloud-sdk-go CommonClient aimed at the
// emulator.
func (e *env) sdk(t testing.TB, region string, cred *common.Credential) *common.Client {
	t.Helper()
	if cred == nil {
		cred = common.NewCredential(DefaultSecretID, DefaultSecretKey)
	}
	prof := profile.NewClientProfile()
	prof.HttpProfile.Endpoint = e.host()
	prof.HttpProfile.Scheme = "HTTP"
	prof.HttpProfile.ReqTimeout = 10
	return common.NewCommonClient(cred, region, prof)
}

var versions = map[string]string{"ams": "2020-12-29", "vm": "2020-12-29", "trtc": "2019-07-22",
	"scf": "2018-04-16", "cam": "2019-01-16", "sts": "2018-08-13"}

// call sends action through client and decodes the "Response" object into
// out (when non-nil).
func call(t testing.TB, client *common.Client, service, action string, params any, out any) error {
	t.Helper()
	req := tchttp.NewCommonRequest(service, versions[service], action)
	b, err := json.Marshal(params)
	if err != nil {
		t.Fatalf("marshal params: %v", err)
	}
	if err := req.SetActionParameters(b); err != nil {
		t.Fatalf("set params: %v", err)
	}
	resp := tchttp.NewCommonResponse()
	if err := client.Send(req, resp); err != nil {
		return err
	}
	if out != nil {
		var wrapper struct{ Response json.RawMessage }
		if err := json.Unmarshal(resp.GetBody(), &wrapper); err != nil {
			t.Fatalf("decode body: %v", err)
		}
		if err := json.Unmarshal(wrapper.Response, out); err != nil {
			t.Fatalf("decode response %s: %v", wrapper.Response, err)
		}
	}
	return nil
}

// mustCall is call that fails the test on error.
func mustCall(t testing.TB, client *common.Client, service, action string, params any, out any) {
	t.Helper()
	if err := call(t, client, service, action, params, out); err != nil {
		t.Fatalf("%s.%s: %v", service, action, err)
	}
}

// sdkCode returns the Tencent error code of err ("" when err is nil).
func sdkCode(t testing.TB, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var se *tcerr.TencentCloudSDKError
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) is not a TencentCloudSDKError", err, err)
	}
	return se.Code
}

func wantCode(t testing.TB, err error, code string) {
	t.Helper()
	if got := sdkCode(t, err); got != code {
		t.Fatalf("error code = %q (err %v), want %q", got, err, code)
	}
}

type describeResp struct {
	Total     string
	Data      []taskData
	PageToken string
	RequestId string
}

func taskIDs(d []taskData) []string {
	out := make([]string, len(d))
	for i, x := range d {
		out[i] = x.TaskId
	}
	return out
}

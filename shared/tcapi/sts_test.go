package tcapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/emulator"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

const targetRole = "qcs::cam::uin/100000000002:roleName/JanitorSweepTargetRole"

func TestSTSAssumeRoleAgainstEmulator(t *testing.T) {
	emu, endpoint := startEmulator(t, emulator.Options{Roles: []emulator.Role{{Arn: targetRole, Trusted: []string{""}}}})
	now := time.Now()
	task := emu.AddTask(emulator.Task{Account: "100000000002", Type: "LIVE_AUDIO", Status: "RUNNING", CreatedAt: now.Add(-3 * time.Hour), Stuck: true})
	sts, err := tcapi.NewSTS(emuCred, emuOptions(endpoint))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	out, err := sts.AssumeRole(ctx, tcapi.AssumeRoleRequest{RoleArn: targetRole, RoleSessionName: "scf-janitor-sweep", DurationSeconds: 900})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(out.Expires); d < 800*time.Second || d > 1000*time.Second {
		t.Errorf("expires in %s, want about 900s", d)
	}
	if s := fmt.Sprint(out); strings.Contains(s, out.Credentials.SecretKey) || strings.Contains(s, out.Credentials.Token) {
		t.Errorf("printing the answer leaks the temporary key: %s", s)
	}
	ams, err := tcapi.NewModeration("ams", out.Credentials, emuOptions(endpoint))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ams.CancelTask(ctx, task.TaskId); err != nil {
		t.Fatalf("cancel in the role's account: %v", err)
	}
	if got := emu.AccountTasks("100000000002", "ams"); len(got) != 1 || got[0].Status != "CANCELLED" {
		t.Errorf("target account's tasks %+v", got)
	}

	for _, tc := range []struct {
		name string
		req  tcapi.AssumeRoleRequest
		code string
	}{
		{"unknown role", tcapi.AssumeRoleRequest{RoleArn: "qcs::cam::uin/100000000002:roleName/Nope", RoleSessionName: "s1"}, "ResourceNotFound.RoleNotFound"},
		{"bad session name (client side)", tcapi.AssumeRoleRequest{RoleArn: targetRole, RoleSessionName: "x"}, "InvalidParameter"},
		{"too long (client side)", tcapi.AssumeRoleRequest{RoleArn: targetRole, RoleSessionName: "s1", DurationSeconds: 50000}, "InvalidParameter"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := sts.AssumeRole(ctx, tc.req)
			var e *tcapi.Error
			if !errors.As(err, &e) || e.Code != tc.code {
				t.Fatalf("err %v, want code %s", err, tc.code)
			}
		})
	}
}

func TestSTSAssumeRoleAnswerWithoutCredentials(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"Response":{"ExpiredTime":1,"RequestId":"r1"}}`)
	}))
	defer srv.Close()
	sts, err := tcapi.NewSTS(emuCred, emuOptions(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	_, err = sts.AssumeRole(context.Background(), tcapi.AssumeRoleRequest{RoleArn: targetRole, RoleSessionName: "s1"})
	var e *tcapi.Error
	if !errors.As(err, &e) || e.Code != tcapi.CodeInvalidResponse {
		t.Fatalf("err %v, want %s", err, tcapi.CodeInvalidResponse)
	}
}

// An asynchronous Invoke that fails with a network error is not repeated (it
// may have been queued); a synchronous one is.
func TestSCFInvokeRetries(t *testing.T) {
	for _, tc := range []struct {
		typ  string
		want int32
	}{{tcapi.InvokeAsync, 1}, {tcapi.InvokeSync, 4}} {
		t.Run(tc.typ, func(t *testing.T) {
			var n atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n.Add(1)
				w.WriteHeader(http.StatusBadGateway)
				_, _ = io.WriteString(w, "<html>bad gateway</html>")
			}))
			defer srv.Close()
			scf, err := tcapi.NewSCFInvoker(emuCred, emuOptions(srv.URL))
			if err != nil {
				t.Fatal(err)
			}
			_, err = scf.Invoke(context.Background(), tcapi.InvokeRequest{FunctionName: "sweep-tasks", InvocationType: tc.typ, ClientContext: "{}"})
			if err == nil {
				t.Fatal("no error")
			}
			if n.Load() != tc.want {
				t.Errorf("%d requests, want %d", n.Load(), tc.want)
			}
		})
	}
}

func TestSCFInvokeSendsTheEvent(t *testing.T) {
	var got map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-TC-Action") != "Invoke" || r.Header.Get("X-TC-Version") != "2018-04-16" {
			t.Errorf("headers %v", r.Header)
		}
		_ = json.NewDecoder(r.Body).Decode(&got)
		_, _ = io.WriteString(w, `{"Response":{"Result":{"FunctionRequestId":"f-1","RetMsg":"","InvokeResult":0},"RequestId":"r1"}}`)
	}))
	defer srv.Close()
	scf, err := tcapi.NewSCFInvoker(emuCred, emuOptions(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	out, err := scf.Invoke(context.Background(), tcapi.InvokeRequest{FunctionName: "sweep-tasks", InvocationType: tcapi.InvokeAsync, ClientContext: `{"self":false}`, Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	if out.Result.FunctionRequestId != "f-1" {
		t.Errorf("result %+v", out)
	}
	if got["FunctionName"] != "sweep-tasks" || got["InvocationType"] != "Event" || got["ClientContext"] != `{"self":false}` || got["Namespace"] != "default" {
		t.Errorf("request %v", got)
	}
	big := strings.Repeat("x", tcapi.MaxAsyncEvent+1)
	if _, err := scf.Invoke(context.Background(), tcapi.InvokeRequest{FunctionName: "f", InvocationType: tcapi.InvokeAsync, ClientContext: big}); err == nil {
		t.Error("an event over 128 KB was sent")
	}
}

func TestSTSGetCallerIdentity(t *testing.T) {
	_, endpoint := startEmulator(t, emulator.Options{AccountUin: "100000000042"})
	sts, err := tcapi.NewSTS(emuCred, emuOptions(endpoint))
	if err != nil {
		t.Fatal(err)
	}
	id, err := sts.GetCallerIdentity(context.Background())
	if err != nil || id.AccountId != "100000000042" || id.RequestId == "" {
		t.Fatalf("GetCallerIdentity = %+v, %v; want AccountId 100000000042", id, err)
	}

	// An answer without AccountId is not a usable answer.
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"Response":{"Arn":"x","RequestId":"r-1"}}`)
	}))
	t.Cleanup(ts.Close)
	bad, err := tcapi.NewSTS(emuCred, emuOptions(ts.URL))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.GetCallerIdentity(context.Background()); !tcapi.HasCode(err, tcapi.CodeInvalidResponse) {
		t.Fatalf("answer without AccountId: %v, want %s", err, tcapi.CodeInvalidResponse)
	}
}

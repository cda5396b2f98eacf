package main

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/emulator"
	tccommon "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
)

// TestInvokeAPI calls the running functions through the embedded emulator's
// SCF Invoke API with the official SDK, as the README shows.
func TestInvokeAPI(t *testing.T) {
	out, _ := startServe(t, nil, "--timers=false")
	emu := out.field(t, "emulator:")

	prof := profile.NewClientProfile()
	prof.HttpProfile.Endpoint = strings.TrimPrefix(emu, "http://")
	prof.HttpProfile.Scheme = "HTTP"
	client := tccommon.NewCommonClient(tccommon.NewCredential(emulator.DefaultSecretID, emulator.DefaultSecretKey), "ap-singapore", prof)
	invoke := func(action string, params map[string]any) (map[string]any, error) {
		req := tchttp.NewCommonRequest("scf", "2018-04-16", action)
		b, _ := json.Marshal(params)
		if err := req.SetActionParameters(b); err != nil {
			t.Fatal(err)
		}
		resp := tchttp.NewCommonResponse()
		if err := client.Send(req, resp); err != nil {
			return nil, err
		}
		var body struct {
			Response struct{ Result map[string]any }
		}
		if err := json.Unmarshal(resp.GetBody(), &body); err != nil {
			t.Fatal(err)
		}
		return body.Response.Result, nil
	}

	res, err := invoke("Invoke", map[string]any{"FunctionName": "tick", "ClientContext": `{"k":"v"}`, "LogType": "Tail"})
	if err != nil {
		t.Fatal(err)
	}
	id, _ := res["FunctionRequestId"].(string)
	if res["RetMsg"] != `{"direct":{"k":"v"},"kind":"direct"}` || res["InvokeResult"] != float64(0) || id == "" {
		t.Fatalf("Result %v: want tick's answer to the event", res)
	}
	if log, _ := res["Log"].(string); !strings.Contains(log, "tick: a direct event") {
		t.Errorf("Log %q: want the function's output", log)
	}
	if mem, _ := res["MemUsage"].(float64); mem < 1<<20 {
		t.Errorf("MemUsage %v: want the process's peak RSS in bytes", res["MemUsage"])
	}
	out.wait(t, 10*time.Second, 1, func(s string) bool { return strings.Contains(s, " api ") && strings.Contains(s, id) })
	report := out.wait(t, 10*time.Second, 1, func(s string) bool { return strings.HasPrefix(s, "REPORT RequestId: "+id) })[0]
	if !strings.Contains(report, "Billed Duration: ") || !strings.Contains(report, "Memory Size: 128 MB") || !strings.Contains(report, "Max Memory Used: ") || strings.Contains(report, "unknown") {
		t.Errorf("REPORT line %q", report)
	}

	// A function error is in the Result, with its code as errorType.
	res, err = invoke("InvokeFunction", map[string]any{"FunctionName": "echo", "Event": `{"httpMethod":"POST","path":"/","headers":{},"body":"error"}`})
	if err != nil || res["InvokeResult"] == float64(0) || !strings.Contains(res["ErrMsg"].(string), "asked to fail") {
		t.Fatalf("%v %v: want the function's error in ErrMsg", res, err)
	}

	// Asynchronous: the answer comes at once, the invocation follows.
	res, err = invoke("Invoke", map[string]any{"FunctionName": "tick", "InvocationType": "Event"})
	if err != nil || res["RetMsg"] != nil {
		t.Fatalf("%v %v", res, err)
	}
	asyncID := res["FunctionRequestId"].(string)
	out.wait(t, 10*time.Second, 1, func(s string) bool {
		return strings.Contains(s, " api-ev ") && strings.Contains(s, asyncID) && strings.Contains(s, " ok ")
	})

	_, err = invoke("Invoke", map[string]any{"FunctionName": "nope"})
	var se *tcerr.TencentCloudSDKError
	if !errors.As(err, &se) || se.Code != "ResourceNotFound.Function" {
		t.Fatalf("unknown function: %v", err)
	}
}

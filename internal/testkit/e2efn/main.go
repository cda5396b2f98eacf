// Command e2efn is the test function the scf end-to-end test builds and
// drives over the SCF Go1 protocol. It decodes every event with trigger.Decode
// and, for direct invocations, performs the action named in the event:
//
//	{"action":"call","taskId":"t-1"}  AMS CancelTask through the official SDK, credentials from scf.Getenv
//	{"action":"panic"}                panic
//	{"action":"fail"}                 return an error of type *failure
//	{"action":"osenv","key":"K"}      report os.Getenv(K) and scf.Getenv(ctx, K)
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"

	"github.com/scf-janitor/scf-janitor/shared/logging"
	"github.com/scf-janitor/scf-janitor/shared/scf"
	"github.com/scf-janitor/scf-janitor/shared/trigger"
)

var logger = logging.New(os.Stdout, slog.LevelInfo, "e2efn")

func main() {
	if err := scf.Start(handle); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

type action struct {
	Action string `json:"action"`
	TaskID string `json:"taskId"`
	Key    string `json:"key"`
}

type reply struct {
	Kind             trigger.Kind        `json:"kind"`
	Source           string              `json:"source,omitempty"`
	Method           string              `json:"method,omitempty"`
	Path             string              `json:"path,omitempty"`
	Body             string              `json:"body,omitempty"`
	SourceIP         string              `json:"sourceIp,omitempty"`
	Query            map[string][]string `json:"query,omitempty"`
	Trigger          string              `json:"trigger,omitempty"`
	Message          string              `json:"message,omitempty"`
	RequestID        string              `json:"requestId,omitempty"` // from the scf context
	Function         string              `json:"function,omitempty"`
	HasDeadline      bool                `json:"hasDeadline"`
	TencentRequestID string              `json:"tencentRequestId,omitempty"`
	OSEnv            string              `json:"osEnv,omitempty"`
	ScfEnv           string              `json:"scfEnv,omitempty"`
}

type failure struct{ msg string }

func (f *failure) Error() string { return f.msg }

func handle(ctx context.Context, payload json.RawMessage) (any, error) {
	ev, err := trigger.Decode(payload)
	if err != nil {
		return nil, err
	}
	logger.InfoContext(ctx, "event decoded", "kind", ev.Kind)
	r := reply{Kind: ev.Kind}
	if fc, ok := scf.FromContext(ctx); ok {
		r.RequestID, r.Function = fc.RequestID, fc.FunctionName
	}
	_, r.HasDeadline = ctx.Deadline()
	switch ev.Kind {
	case trigger.KindHTTP:
		r.Source, r.Method, r.Path = ev.HTTP.Source, ev.HTTP.Method, ev.HTTP.Path
		r.Body, r.SourceIP, r.Query = string(ev.HTTP.Body), ev.HTTP.SourceIP, ev.HTTP.Query
		return trigger.JSON(200, r), nil
	case trigger.KindTimer:
		r.Trigger, r.Message = ev.Timer.TriggerName, ev.Timer.Message
		return r, nil
	}
	var a action
	_ = json.Unmarshal(ev.Direct, &a)
	switch a.Action {
	case "panic":
		panic("e2efn: asked to panic")
	case "fail":
		return nil, &failure{msg: "asked to fail"}
	case "osenv":
		r.OSEnv, r.ScfEnv = os.Getenv(a.Key), scf.Getenv(ctx, a.Key)
	case "call":
		id, err := cancelTask(ctx, a.TaskID)
		if err != nil {
			return nil, err
		}
		r.TencentRequestID = id
	}
	return r, nil
}

// cancelTask calls AMS CancelTask with the invocation's credentials, read
// through scf.Getenv on every call.
func cancelTask(ctx context.Context, taskID string) (string, error) {
	cred := common.NewTokenCredential(
		scf.Getenv(ctx, "TENCENTCLOUD_SECRETID"),
		scf.Getenv(ctx, "TENCENTCLOUD_SECRETKEY"),
		scf.Getenv(ctx, "TENCENTCLOUD_SESSIONTOKEN"),
	)
	prof := profile.NewClientProfile()
	if ep := scf.Getenv(ctx, "JANITOR_AMS_ENDPOINT"); ep != "" {
		u, err := url.Parse(ep)
		if err != nil {
			return "", fmt.Errorf("JANITOR_AMS_ENDPOINT: %w", err)
		}
		prof.HttpProfile.Endpoint = u.Host
		prof.HttpProfile.Scheme = strings.ToUpper(u.Scheme)
	}
	client := common.NewCommonClient(cred, scf.Getenv(ctx, "TENCENTCLOUD_REGION"), prof)
	req := tchttp.NewCommonRequest("ams", "2020-12-29", "CancelTask")
	b, _ := json.Marshal(map[string]string{"TaskId": taskID})
	if err := req.SetActionParameters(b); err != nil {
		return "", err
	}
	req.SetContext(ctx)
	resp := tchttp.NewCommonResponse()
	if err := client.Send(req, resp); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return "", fmt.Errorf("ams CancelTask %s: deadline exceeded: %w", taskID, err)
		}
		return "", fmt.Errorf("ams CancelTask %s: %w", taskID, err)
	}
	var out struct {
		Response struct{ RequestId string }
	}
	if err := json.Unmarshal(resp.GetBody(), &out); err != nil {
		return "", fmt.Errorf("ams CancelTask %s: decode response: %w", taskID, err)
	}
	return out.Response.RequestId, nil
}

// Command bare is the second baseline of bench-cancel's cold start: a Go1
// function, served by the same runtime and built the same way, that makes
// only the Tencent call of a cancel function (through shared/tcapi, as the
// handler does) and nothing else: no event decoding, webhook check,
// validation or logging. The gap between it and the empty handler is the
// cost of the first API call of a process; the gap between it and the real
// function is what the handler adds.
//
// Payload: {"Function":"cancel-task"|"cancel-live-audit"|"stop-transcription","Id":"..."};
// endpoints and credentials come from the invocation's Environment. Built
// plain it links what cancel-task and stop-transcription link; built with
// -tags bareci it also links the COS signer (cos-go-sdk-v5) and answers
// cancel-live-audit, as that function's baseline.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/scf-janitor/scf-janitor/shared/scf"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

func main() {
	lim := tcapi.NewLimiters(20, 20)
	if err := scf.Start(func(ctx context.Context, payload json.RawMessage) (any, error) { return call(ctx, lim, payload) }); err != nil {
		fmt.Fprintln(os.Stderr, "bare:", err)
		os.Exit(1)
	}
}

// cancelLiveAudit is set by ci.go when built with -tags bareci.
var cancelLiveAudit func(ctx context.Context, cred tcapi.Credentials, lim *tcapi.Limiters, id string) (any, error)

func call(ctx context.Context, lim *tcapi.Limiters, payload []byte) (any, error) {
	var in struct{ Function, Id string }
	if err := json.Unmarshal(payload, &in); err != nil {
		return nil, err
	}
	cred := tcapi.Credentials{SecretID: scf.Getenv(ctx, "TENCENTCLOUD_SECRETID"), SecretKey: scf.Getenv(ctx, "TENCENTCLOUD_SECRETKEY"),
		Token: scf.Getenv(ctx, "TENCENTCLOUD_SESSIONTOKEN")}
	switch in.Function {
	case "cancel-task":
		m, err := tcapi.NewModeration("ams", cred, tcapi.Options{Endpoint: scf.Getenv(ctx, "JANITOR_AMS_ENDPOINT"), Limiters: lim})
		if err != nil {
			return nil, err
		}
		return m.CancelTask(ctx, in.Id)
	case "stop-transcription":
		t, err := tcapi.NewTRTC(cred, tcapi.Options{Region: "ap-guangzhou", Endpoint: scf.Getenv(ctx, "JANITOR_TRTC_ENDPOINT"), Limiters: lim})
		if err != nil {
			return nil, err
		}
		return t.DeleteCloudTranscription(ctx, 1400000000, in.Id)
	}
	if cancelLiveAudit != nil && in.Function == "cancel-live-audit" {
		return cancelLiveAudit(ctx, cred, lim, in.Id)
	}
	return nil, errors.New("unknown function " + in.Function)
}

// Package benchjobs describes, for benchmarks, how to exercise each cancel
// function against the emulator: seeding a running job, the request that
// cancels it, and the same cancel made with tcapi alone (the baseline that
// separates the handler's overhead from the API round trip).
package benchjobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/scf-janitor/scf-janitor/internal/emulator"
	"github.com/scf-janitor/scf-janitor/shared/cancel"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
	"github.com/scf-janitor/scf-janitor/shared/tcapi/cossign"
	"github.com/scf-janitor/scf-janitor/shared/trigger"
)

// Job is one cancel function.
type Job struct {
	Function   string
	NewHandler func(cancel.Options) *cancel.Handler
	// Seed adds a running job to the emulator and returns its id.
	Seed func(emu *emulator.Server) string
	// Request is the request body cancelling id.
	Request func(id string) string
	// Bare cancels id with tcapi directly (new client, as the handler does).
	Bare func(ctx context.Context, endpoint string, lim *tcapi.Limiters, id string) error
}

const (
	bucket   = "examplebucket-1250000000"
	sdkAppID = 1400000000
)

func cred() tcapi.Credentials {
	return tcapi.Credentials{SecretID: emulator.DefaultSecretID, SecretKey: emulator.DefaultSecretKey, Token: "bench-session-token"}
}

// All returns the three jobs.
func All() []Job {
	return []Job{
		{
			Function:   cancel.FunctionCancelTask,
			NewHandler: cancel.NewCancelTask,
			Seed: func(emu *emulator.Server) string {
				return emu.AddTask(emulator.Task{Service: "ams", Type: "AUDIO", Status: "RUNNING", Stuck: true}).TaskId
			},
			Request: func(id string) string { return fmt.Sprintf(`{"TaskId":%q,"Service":"ams"}`, id) },
			Bare: func(ctx context.Context, endpoint string, lim *tcapi.Limiters, id string) error {
				m, err := tcapi.NewModeration("ams", cred(), tcapi.Options{Endpoint: endpoint, Limiters: lim})
				if err != nil {
					return err
				}
				_, err = m.CancelTask(ctx, id)
				return err
			},
		},
		{
			Function:   cancel.FunctionCancelLiveAudit,
			NewHandler: cancel.NewCancelLiveAudit,
			Seed: func(emu *emulator.Server) string {
				return emu.AddLiveJob(emulator.LiveJob{DataId: "bench", Url: "rtmp://example.com/live/bench", State: "Auditing"}).JobId
			},
			Request: func(id string) string {
				return fmt.Sprintf(`{"JobId":%q,"Bucket":%q,"Region":"ap-beijing"}`, id, bucket)
			},
			Bare: func(ctx context.Context, endpoint string, lim *tcapi.Limiters, id string) error {
				c, err := tcapi.NewCI(cred(), tcapi.CIOptions{Bucket: bucket, Region: "ap-beijing", Endpoint: endpoint, Limiters: lim, Signer: cossign.Transport})
				if err != nil {
					return err
				}
				_, err = c.CancelLiveAudit(ctx, id)
				return err
			},
		},
		{
			Function:   cancel.FunctionStopTranscription,
			NewHandler: cancel.NewStopTranscription,
			Seed: func(emu *emulator.Server) string {
				return emu.AddTranscription(emulator.Transcription{SdkAppId: sdkAppID, RoomId: "bench", Region: "ap-guangzhou", Status: "InProgress"}).TaskId
			},
			Request: func(id string) string {
				return fmt.Sprintf(`{"TaskId":%q,"SdkAppId":%d,"Region":"ap-guangzhou"}`, id, sdkAppID)
			},
			Bare: func(ctx context.Context, endpoint string, lim *tcapi.Limiters, id string) error {
				t, err := tcapi.NewTRTC(cred(), tcapi.Options{Region: "ap-guangzhou", Endpoint: endpoint, Limiters: lim})
				if err != nil {
					return err
				}
				_, err = t.DeleteCloudTranscription(ctx, sdkAppID, id)
				return err
			},
		},
	}
}

// Env is an invocation Environment pointing every endpoint at url with the
// emulator's default credentials.
func Env(url string) map[string]string {
	c := cred()
	return map[string]string{
		"TENCENTCLOUD_SECRETID": c.SecretID, "TENCENTCLOUD_SECRETKEY": c.SecretKey, "TENCENTCLOUD_SESSIONTOKEN": c.Token,
		"TENCENTCLOUD_REGION": "ap-guangzhou", "JANITOR_AMS_ENDPOINT": url, "JANITOR_VM_ENDPOINT": url,
		"JANITOR_TRTC_ENDPOINT": url, "JANITOR_CI_ENDPOINT": url,
	}
}

// URLEvent is a Function URL event POSTing body with the X-Janitor-Signature
// header sig.
func URLEvent(body, sig string) []byte {
	b, _ := json.Marshal(map[string]any{"httpMethod": "POST", "path": "/", "body": body,
		"headers": map[string]string{"content-type": "application/json", "x-janitor-signature": sig}})
	return b
}

// CheckOK returns an error unless a handler's answer is a success.
func CheckOK(out any, err error) error {
	if err != nil {
		return err
	}
	if r, ok := out.(trigger.Response); ok && r.StatusCode != 200 {
		return errors.New("status " + fmt.Sprint(r.StatusCode) + ": " + r.Body)
	}
	return nil
}

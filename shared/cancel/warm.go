package cancel

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/scf-janitor/scf-janitor/shared/scf"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
	"github.com/scf-janitor/scf-janitor/shared/trigger"
	"github.com/scf-janitor/scf-janitor/shared/webhook"
)

// Warm runs one signed HTTP request through a copy of the handler with
// made-up settings and canned Tencent answers: no network I/O, no log line.
// It fills the first-use caches (encoding/json type caches, crypto, SDK
// client construction) so that the first real invocation of a new instance
// does not pay for them. main starts it in a goroutine before scf.Start, so
// it overlaps with the runtime's start-up; it is safe alongside invocations.
// The error says why the dry run did not succeed (for tests).
func (h *Handler) Warm() error {
	w := *h
	w.logger = slog.New(slog.DiscardHandler)
	w.clients = warmClients()
	const secret = "warm-up"
	env := map[string]string{
		"TENCENTCLOUD_SECRETID": "AKIDWARMUP", "TENCENTCLOUD_SECRETKEY": "warm-up", "TENCENTCLOUD_SESSIONTOKEN": "warm-up",
		"TENCENTCLOUD_REGION": "ap-guangzhou", EnvWebhookSecret: secret, EnvWebhookAuth: "signature",
		EnvCIBucket: "", EnvCIRegion: "", EnvTRTCSdkAppID: "", EnvTRTCRegion: "", "JANITOR_LOG_LEVEL": "",
		"JANITOR_AMS_ENDPOINT": "http://127.0.0.1:9", "JANITOR_VM_ENDPOINT": "http://127.0.0.1:9",
		"JANITOR_TRTC_ENDPOINT": "http://127.0.0.1:9", "JANITOR_CI_ENDPOINT": "http://127.0.0.1:9",
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	ctx = scf.NewContext(ctx, &scf.FunctionContext{RequestID: "warm-up", Env: env})
	body := []byte(h.job.warmBody())
	ev, _ := json.Marshal(map[string]any{"httpMethod": "POST", "path": "/", "body": string(body),
		"headers": map[string]string{"content-type": "application/json", webhook.Header: webhook.Sign(secret, w.now(), body)}})
	out, err := w.Handle(ctx, ev)
	if err != nil {
		return err
	}
	if r, ok := out.(trigger.Response); !ok || r.StatusCode != http.StatusOK {
		return fmt.Errorf("warm-up answered %v", out)
	}
	return nil
}

// warmClients build real clients whose HTTP transport answers in memory,
// so the whole client path (parameters, signing, the SDK, response decoding)
// runs without touching the network.
func warmClients() clients {
	rt := cannedTransport{}
	return clients{
		moderation: func(service string, cred tcapi.Credentials, o tcapi.Options) (taskCanceler, error) {
			o.Transport, o.Limiters = rt, nil
			m, err := tcapi.NewModeration(service, cred, o)
			if err != nil {
				return nil, err
			}
			return m, nil
		},
		ci: func(cred tcapi.Credentials, o tcapi.CIOptions) (liveAuditCanceler, error) {
			o.Transport, o.Limiters = rt, nil
			c, err := tcapi.NewCI(cred, o)
			if err != nil {
				return nil, err
			}
			return c, nil
		},
		trtc: func(cred tcapi.Credentials, o tcapi.Options) (transcriptionStopper, error) {
			o.Transport, o.Limiters = rt, nil
			t, err := tcapi.NewTRTC(cred, o)
			if err != nil {
				return nil, err
			}
			return t, nil
		},
	}
}

// cannedTransport answers every request with a success of the right shape:
// XML for Cloud Infinite (/video/...), API 3.0 JSON otherwise.
type cannedTransport struct{}

func (cannedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		_ = r.Body.Close()
	}
	body, ctype := `{"Response":{"TaskId":"warm-up","RequestId":"warm-up"}}`, "application/json"
	if strings.HasPrefix(r.URL.Path, "/video/") {
		body, ctype = `<Response><JobsDetail><DataId>warm-up</DataId><JobId>warm-up</JobId><CreationTime>2026-01-01T00:00:00+0800</CreationTime></JobsDetail><RequestId>warm-up</RequestId></Response>`, "application/xml"
	}
	return &http.Response{
		StatusCode: http.StatusOK, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {ctype}, "X-Cos-Request-Id": {"warm-up"}},
		Body:          io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)), Request: r,
	}, nil
}

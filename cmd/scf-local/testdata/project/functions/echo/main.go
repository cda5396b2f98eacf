// Command echo is a test function: it answers an HTTP event with what it
// received, so scf-local's tests can check the event and the environment.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/scf-janitor/scf-janitor/shared/scf"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
	"github.com/scf-janitor/scf-janitor/shared/trigger"
	"github.com/scf-janitor/scf-janitor/shared/webhook"
)

func digest(s string) string {
	if s == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:4])
}

func handle(ctx context.Context, payload json.RawMessage) (any, error) {
	ev, err := trigger.Decode(payload)
	if err != nil {
		return nil, err
	}
	if ev.Kind != trigger.KindHTTP {
		return map[string]string{"kind": string(ev.Kind)}, nil
	}
	h := ev.HTTP
	switch string(h.Body) {
	case "panic":
		panic("asked to panic")
	case "exit":
		os.Exit(3)
	case "error":
		return nil, errors.New("asked to fail")
	case "sleep":
		time.Sleep(4 * time.Second) // past the 2 s timeout of serverless.yml and the 1 s grace
	case "plain":
		return map[string]string{"plain": "json"}, nil
	case "whoami":
		// Who the invocation's credentials are, asked of STS as any SDK would.
		sts, err := tcapi.NewSTS(tcapi.Credentials{SecretID: scf.Getenv(ctx, "TENCENTCLOUD_SECRETID"), SecretKey: scf.Getenv(ctx, "TENCENTCLOUD_SECRETKEY"),
			Token: scf.Getenv(ctx, "TENCENTCLOUD_SESSIONTOKEN")}, tcapi.Options{Endpoint: scf.Getenv(ctx, "JANITOR_STS_ENDPOINT"), MaxAttempts: 1})
		if err != nil {
			return nil, err
		}
		id, err := sts.GetCallerIdentity(ctx)
		if err != nil {
			return nil, err
		}
		return map[string]string{"secretId": scf.Getenv(ctx, "TENCENTCLOUD_SECRETID"), "accountId": id.AccountId, "userId": id.UserId, "type": id.Type, "arn": id.Arn}, nil
	}
	fc, _ := scf.FromContext(ctx)
	var secrets []string
	for _, s := range strings.Split(scf.Getenv(ctx, "JANITOR_WEBHOOK_SECRET"), ",") {
		if s = strings.TrimSpace(s); s != "" {
			secrets = append(secrets, s)
		}
	}
	out := map[string]any{
		// verified: the signature matches the body with one of this function's secrets
		"verified":     webhook.Verifier{Secrets: secrets}.Verify(h.Header.Get(webhook.Header), h.Body) == nil,
		"method":       h.Method,
		"path":         h.Path,
		"query":        h.Query.Get("q"),
		"body":         string(h.Body),
		"signature":    h.Header.Get("X-Janitor-Signature") != "",
		"sourceIP":     h.SourceIP,
		"secretDigest": digest(scf.Getenv(ctx, "JANITOR_WEBHOOK_SECRET")),
		"secretId":     scf.Getenv(ctx, "TENCENTCLOUD_SECRETID"),
		"hasKey":       scf.Getenv(ctx, "TENCENTCLOUD_SECRETKEY") != "",
		"hasToken":     scf.Getenv(ctx, "TENCENTCLOUD_SESSIONTOKEN") != "",
		"amsEndpoint":  scf.Getenv(ctx, "JANITOR_AMS_ENDPOINT"),
		"bucket":       scf.Getenv(ctx, "JANITOR_CI_BUCKET"),
		"greeting":     scf.Getenv(ctx, "JANITOR_GREETING"),
		"region":       scf.Getenv(ctx, "TENCENTCLOUD_REGION"),
		"functionName": os.Getenv("SCF_FUNCTIONNAME"),
		"keyInProcEnv": os.Getenv("TENCENTCLOUD_SECRETKEY") != "",
	}
	if fc != nil {
		out["timeLimitMs"] = fc.TimeLimitInMs
		out["requestId"] = fc.RequestID
	}
	b, _ := json.Marshal(out)
	return trigger.Response{StatusCode: 201, Headers: map[string]string{"Content-Type": "application/json", "X-Echo": "1"}, Body: string(b)}, nil
}

func main() {
	if err := scf.Start(handle); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/scf-janitor/scf-janitor/internal/deploy"
	"github.com/scf-janitor/scf-janitor/internal/emulator"
	"github.com/scf-janitor/scf-janitor/internal/scflocal"
	"github.com/scf-janitor/scf-janitor/shared/webhook"
)

// urlEvent is the event SCF sends for a Function URL request.
type urlEvent struct {
	Body            string            `json:"body"`
	Headers         map[string]string `json:"headers"`
	HTTPMethod      string            `json:"httpMethod"`
	Path            string            `json:"path"`
	QueryString     map[string]any    `json:"queryString"`
	IsBase64Encoded bool              `json:"isBase64Encoded,omitempty"` // only for bodies that are not UTF-8 text
}

// apigwEvent is the (legacy) API Gateway integration-request event, still
// sent by TSE and existing gateway setups.
type apigwEvent struct {
	RequestContext        apigwContext      `json:"requestContext"`
	Headers               map[string]string `json:"headers"`
	Body                  string            `json:"body"`
	IsBase64Encoded       bool              `json:"isBase64Encoded"`
	HTTPMethod            string            `json:"httpMethod"`
	Path                  string            `json:"path"`
	PathParameters        map[string]string `json:"pathParameters"`
	QueryStringParameters map[string]string `json:"queryStringParameters"`
	HeaderParameters      map[string]string `json:"headerParameters"`
	StageVariables        map[string]string `json:"stageVariables"`
	QueryString           map[string]any    `json:"queryString"`
}

type apigwContext struct {
	ServiceID  string         `json:"serviceId"`
	Path       string         `json:"path"`
	HTTPMethod string         `json:"httpMethod"`
	RequestID  string         `json:"requestId"`
	SourceIP   string         `json:"sourceIp"`
	Stage      string         `json:"stage"`
	Identity   map[string]any `json:"identity"`
}

// timerEvent is what a timer trigger sends.
type timerEvent struct {
	Type        string `json:"Type"`
	TriggerName string `json:"TriggerName"`
	Time        string `json:"Time"`
	Message     string `json:"Message"`
}

// timerEnv is what SCF adds to a timer invocation's environment.
var timerEnv = map[string]string{"TRIGGER_SRC": "timer"}

func newTimerEvent(name string, at time.Time, message string) []byte {
	b, _ := json.Marshal(timerEvent{Type: "Timer", TriggerName: name, Time: at.UTC().Format(time.RFC3339), Message: message})
	return b
}

// flatHeaders lower-cases header names (as SCF delivers them) and joins repeated values.
func flatHeaders(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for k, v := range h {
		out[strings.ToLower(k)] = strings.Join(v, ", ")
	}
	return out
}

// queryMap renders a query as SCF does: one value as a string, several as a list.
func queryMap(q url.Values) map[string]any {
	out := make(map[string]any, len(q))
	for k, v := range q {
		if len(v) == 1 {
			out[k] = v[0]
		} else {
			out[k] = v
		}
	}
	return out
}

// eventBody is body as SCF puts it in an event: as text, or base64 when it
// is not UTF-8.
func eventBody(body []byte) (string, bool) {
	if utf8.Valid(body) {
		return string(body), false
	}
	return base64.StdEncoding.EncodeToString(body), true
}

// newURLEvent builds the Function URL event for an HTTP request. path is the
// path below the function's URL ("/" for the URL itself).
func newURLEvent(method, path string, h http.Header, q url.Values, body []byte, remoteIP string) []byte {
	headers := flatHeaders(h)
	if remoteIP != "" {
		headers["x-scf-remote-addr"] = remoteIP
	}
	ev := urlEvent{Headers: headers, HTTPMethod: method, Path: path, QueryString: queryMap(q)}
	ev.Body, ev.IsBase64Encoded = eventBody(body)
	b, _ := json.Marshal(ev)
	return b
}

func newAPIGWEvent(method, path string, h http.Header, q url.Values, body []byte, remoteIP string) []byte {
	headers := flatHeaders(h)
	single := map[string]string{}
	for k, v := range q {
		single[k] = v[0]
	}
	ev := apigwEvent{
		RequestContext: apigwContext{
			ServiceID: "service-local", Path: path, HTTPMethod: method, RequestID: scflocal.NewRequestID(),
			SourceIP: remoteIP, Stage: "release", Identity: map[string]any{},
		},
		Headers: headers, HTTPMethod: method, Path: path, PathParameters: map[string]string{},
		QueryStringParameters: single, HeaderParameters: map[string]string{}, StageVariables: map[string]string{"stage": "release"},
		QueryString: queryMap(q),
	}
	ev.Body, ev.IsBase64Encoded = eventBody(body)
	b, _ := json.Marshal(ev)
	return b
}

// generateEvent builds a sample event of kind with body, signing HTTP events
// with secret when it is not empty.
func generateEvent(kind string, body []byte, secret, path string, now time.Time) ([]byte, error) {
	switch kind {
	case "url", "apigw":
		if len(body) == 0 {
			body = []byte("{}")
		}
		if path == "" {
			path = "/"
		}
		h := http.Header{}
		h.Set("Content-Type", "application/json")
		h.Set("User-Agent", "scf-local")
		if secret != "" {
			h.Set(webhook.Header, webhook.Sign(secret, now, body))
		}
		var ev []byte
		if kind == "url" {
			ev = newURLEvent(http.MethodPost, path, h, url.Values{}, body, "127.0.0.1")
		} else {
			ev = newAPIGWEvent(http.MethodPost, path, h, url.Values{}, body, "127.0.0.1")
		}
		return indentJSON(ev), nil
	case "timer":
		return indentJSON(newTimerEvent("every-5-minutes", now.Truncate(time.Second), string(body))), nil
	case "console":
		if len(body) == 0 {
			body = []byte(`{"key1":"test value 1"}`)
		}
		if !json.Valid(body) {
			return nil, fmt.Errorf("--body is not valid JSON; a console test event is the JSON object you would type in the console")
		}
		return indentJSON(body), nil
	default:
		return nil, fmt.Errorf("unknown event kind %q: want one of apigw, console, timer, url", kind)
	}
}

func indentJSON(b []byte) []byte {
	var buf bytes.Buffer
	if err := json.Indent(&buf, b, "", "  "); err != nil {
		return b
	}
	buf.WriteByte('\n')
	return buf.Bytes()
}

// sampleBody is a request a webhook function accepts (fields in the order
// docs/functions.md shows them).
type sampleBody struct {
	TaskId   string `json:",omitempty"`
	JobId    string `json:",omitempty"`
	Service  string `json:",omitempty"`
	SdkAppId uint64 `json:",omitempty"`
	Region   string `json:",omitempty"`
}

// madeUpBodies name no real job: the function answers ResourceNotFound.
var madeUpBodies = map[string]sampleBody{
	"cancel-task":        {TaskId: "task-audio-XwxJ4fFCEWT8Bf4g", Service: "ams"},
	"cancel-live-audit":  {JobId: "av14d9ca15af3a11eea6f4525400b5aa5f"},
	"stop-transcription": {TaskId: "task-transcription-id", SdkAppId: emulator.DefaultSdkAppID, Region: "ap-guangzhou"},
}

// liveBody is a request the function of handler accepts that names a
// running job of the emulator at base (ok false: none, or no emulator): a
// young task (the sweeper leaves it alone), live ones first (they never end).
func liveBody(ctx context.Context, base, handler string) (sampleBody, bool) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	switch handler {
	case "cancel-task":
		cutoff := time.Now().Add(-emulator.DemoStaleAge + 10*time.Minute)
		notLive := func(t emulator.Task) string { return strconv.FormatBool(t.Type != emulator.TypeLiveAudio) }
		t, ok := firstJob(ctx, base+"/_emulator/tasks?service=ams&status=RUNNING", func(t emulator.Task) bool { return !t.CreatedAt.Before(cutoff) },
			func(a, b emulator.Task) int {
				return cmp.Or(cmp.Compare(notLive(a), notLive(b)), cmp.Compare(a.TaskId, b.TaskId))
			})
		return sampleBody{TaskId: t.TaskId, Service: "ams"}, ok
	case "cancel-live-audit":
		j, ok := firstJob(ctx, base+"/_emulator/live-jobs", func(j emulator.LiveJob) bool { return j.State == emulator.LiveAuditing },
			func(a, b emulator.LiveJob) int { return cmp.Compare(a.JobId, b.JobId) })
		return sampleBody{JobId: j.JobId}, ok // Bucket and Region: the function's defaults
	case "stop-transcription":
		t, ok := firstJob(ctx, base+"/_emulator/transcriptions", func(t emulator.Transcription) bool { return t.Status == emulator.TranscriptionInProgress },
			func(a, b emulator.Transcription) int { return cmp.Compare(a.TaskId, b.TaskId) })
		return sampleBody{TaskId: t.TaskId, SdkAppId: t.SdkAppId, Region: t.Region}, ok
	}
	return sampleBody{}, false
}

// firstJob lists the emulator's jobs at url and returns the first, in
// order, that keep accepts (ok false: none, or no emulator).
func firstJob[T any](ctx context.Context, url string, keep func(T) bool, order func(a, b T) int) (job T, ok bool) {
	var jobs []T
	if emulatorCall(ctx, http.MethodGet, url, nil, &jobs) != nil {
		return job, false
	}
	if jobs = slices.DeleteFunc(jobs, func(j T) bool { return !keep(j) }); len(jobs) == 0 {
		return job, false
	}
	return slices.MinFunc(jobs, order), true
}

// exampleBody is a request the function of handler accepts: for a running
// job of the emulator at emuURL when one answers.
func exampleBody(ctx context.Context, emuURL, handler string) string {
	b, ok := madeUpBodies[handler]
	if !ok {
		return "{}"
	}
	if live, found := liveBody(ctx, emuURL, handler); found {
		b = live
	}
	out, _ := json.Marshal(b)
	return string(out)
}

// bodyForFunction is the body of generate-event --function: a request the
// function accepts, naming a running job of the emulator when one answers.
func bodyForFunction(ctx context.Context, function, kind, config, emulatorAddr string, stderr io.Writer) ([]byte, error) {
	handler := function
	if cfg, err := deploy.Load(config); err == nil {
		fn, ok := cfg.Function(function)
		if !ok {
			return nil, fmt.Errorf("--function %s: no such function in %s (have %v)", function, config, cfg.Names())
		}
		handler = fn.Handler
	}
	if handler == "sweep-tasks" {
		if kind == "url" || kind == "apigw" {
			return nil, fmt.Errorf("--function %s: sweep-tasks refuses HTTP events (403); generate a timer or console event for it", function)
		}
		return []byte(`{"dryRun":true}`), nil // README: sweep-tasks, Per-run overrides
	}
	if _, ok := madeUpBodies[handler]; !ok {
		return nil, fmt.Errorf("--function %s: no sample body for handler %q (cancel-task, cancel-live-audit, stop-transcription and sweep-tasks have one); pass --body", function, handler)
	}
	b, found := liveBody(ctx, "http://"+emulatorAddr, handler)
	if found {
		fmt.Fprintf(stderr, "scf-local: generate-event: %s's body names a running job of the emulator at %s\n", function, emulatorAddr)
	} else {
		b = madeUpBodies[handler]
		fmt.Fprintf(stderr, "scf-local: generate-event: no emulator with a running job at %s: %s's body has a made-up id (start scf-local for real ones)\n", emulatorAddr, function)
	}
	return json.Marshal(b)
}

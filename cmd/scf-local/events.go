package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

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

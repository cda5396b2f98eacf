// Package trigger decodes the raw event payload an SCF function receives into
// one of three shapes, and builds integrated HTTP responses.
//
//   - HTTP: an API Gateway integration-request event (it has requestContext)
//     or a Function URL event (httpMethod and path but no requestContext).
//     Headers are canonicalised so Header.Get is case-insensitive, queryString
//     values may be a string, an array of strings or true (a bare ?flag), and
//     a body marked isBase64Encoded is decoded: Body holds the exact bytes the
//     client sent, which is what a webhook signature covers.
//   - Timer: an event whose Type is "Timer" in any letter case.
//   - Direct: any other JSON object, such as a console test event or an SDK
//     Invoke.
//
// Anything that is not a JSON object is an error, as is an HTTP event with
// malformed fields (for example invalid base64); error messages name the
// field and never echo the body.
//
// HTTP callers get a Response (JSON builds one); direct invocations should
// get plain JSON results.
package trigger

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Kind says which shape an Event has.
type Kind string

// The kinds of event Decode produces.
const (
	KindHTTP   Kind = "http"
	KindTimer  Kind = "timer"
	KindDirect Kind = "direct"
)

// HTTP event sources.
const (
	SourceAPIGateway  = "apigw"
	SourceFunctionURL = "url"
)

// RemoteAddrHeader is the header in which a Function URL passes the client's
// IP address.
const RemoteAddrHeader = "X-Scf-Remote-Addr"

// Event is a decoded payload: Kind says which one of HTTP, Timer and Direct is
// set; the other two are nil.
type Event struct {
	Kind   Kind
	HTTP   *HTTPRequest
	Timer  *Timer
	Direct json.RawMessage
}

// HTTPRequest is an HTTP request delivered by API Gateway or a Function URL.
type HTTPRequest struct {
	Source string // SourceAPIGateway ("apigw") or SourceFunctionURL ("url")
	Method string // upper case
	Path   string // the request path actually called
	Header http.Header
	Query  url.Values
	// Body holds the exact raw bytes (base64 already decoded): sign and
	// verify these.
	Body      []byte
	SourceIP  string // requestContext.sourceIp, or the x-scf-remote-addr header for a Function URL
	RequestID string // requestContext.requestId (API Gateway only)
	Stage     string // requestContext.stage (API Gateway only)
	// ServiceID and ResourcePath are requestContext.serviceId and
	// requestContext.path (the API's path template, e.g. /tasks/{id}).
	ServiceID, ResourcePath string
	// PathParameters, StageVariables, QueryStringParameters and
	// HeaderParameters are the API Gateway's declared parameters (nil for a
	// Function URL).
	PathParameters, StageVariables          map[string]string
	QueryStringParameters, HeaderParameters map[string]string
	// IsBase64Encoded reports that the event's body arrived base64-encoded.
	IsBase64Encoded bool
}

// Timer is a timer trigger event.
type Timer struct {
	TriggerName string
	Time        time.Time // zero when the event had none
	Message     string    // the trigger's argument
}

// Decode decodes one raw event payload. See the package documentation for
// how the shape is chosen.
func Decode(payload []byte) (Event, error) {
	trimmed := bytes.TrimSpace(payload)
	if len(trimmed) == 0 {
		return Event{}, errors.New("trigger: empty event: want a JSON object")
	}
	if trimmed[0] != '{' {
		return Event{}, fmt.Errorf("trigger: event is a JSON %s, want a JSON object", jsonKind(trimmed))
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &fields); err != nil {
		return Event{}, fmt.Errorf("trigger: event is not valid JSON: %w", err)
	}
	if fields == nil {
		return Event{}, errors.New("trigger: event is null, want a JSON object")
	}

	if rc, ok := fields["requestContext"]; ok && isObject(rc) {
		h, err := decodeHTTP(fields, SourceAPIGateway)
		if err != nil {
			return Event{}, err
		}
		return Event{Kind: KindHTTP, HTTP: h}, nil
	}
	if isString(fields["httpMethod"]) && isString(fields["path"]) {
		h, err := decodeHTTP(fields, SourceFunctionURL)
		if err != nil {
			return Event{}, err
		}
		return Event{Kind: KindHTTP, HTTP: h}, nil
	}
	if t, ok := stringField(fields, "Type"); ok && strings.EqualFold(t, "timer") {
		tm, err := decodeTimer(fields)
		if err != nil {
			return Event{}, err
		}
		return Event{Kind: KindTimer, Timer: tm}, nil
	}
	return Event{Kind: KindDirect, Direct: json.RawMessage(bytes.Clone(trimmed))}, nil
}

type requestContext struct {
	ServiceID  string `json:"serviceId"`
	Path       string `json:"path"`
	HTTPMethod string `json:"httpMethod"`
	RequestID  string `json:"requestId"`
	SourceIP   string `json:"sourceIp"`
	Stage      string `json:"stage"`
}

func decodeHTTP(f map[string]json.RawMessage, source string) (*HTTPRequest, error) {
	h := &HTTPRequest{Source: source, Header: http.Header{}, Query: url.Values{}}

	if source == SourceAPIGateway {
		var rc requestContext
		if err := json.Unmarshal(f["requestContext"], &rc); err != nil {
			return nil, fieldErr("requestContext", "an object of strings", err)
		}
		h.ServiceID, h.ResourcePath, h.RequestID = rc.ServiceID, rc.Path, rc.RequestID
		h.SourceIP, h.Stage, h.Method = rc.SourceIP, rc.Stage, rc.HTTPMethod
	}

	var err error
	if m, ok, e := optString(f, "httpMethod"); e != nil {
		return nil, e
	} else if ok && m != "" {
		h.Method = m
	}
	h.Method = strings.ToUpper(h.Method)
	if h.Method == "" {
		return nil, errors.New("trigger: HTTP event has no httpMethod")
	}
	if h.Path, _, err = optString(f, "path"); err != nil {
		return nil, err
	}

	if err := decodeHeaders(f["headers"], h.Header); err != nil {
		return nil, err
	}
	if err := decodeQuery(f["queryString"], h.Query); err != nil {
		return nil, err
	}
	if h.PathParameters, err = stringMap(f, "pathParameters"); err != nil {
		return nil, err
	}
	if h.StageVariables, err = stringMap(f, "stageVariables"); err != nil {
		return nil, err
	}
	if h.QueryStringParameters, err = stringMap(f, "queryStringParameters"); err != nil {
		return nil, err
	}
	if h.HeaderParameters, err = stringMap(f, "headerParameters"); err != nil {
		return nil, err
	}
	// An event with declared query parameters but no raw queryString still
	// carries those parameters.
	if _, ok := f["queryString"]; !ok {
		for k, v := range h.QueryStringParameters {
			h.Query.Set(k, v)
		}
	}

	if h.IsBase64Encoded, err = decodeBool(f["isBase64Encoded"]); err != nil {
		return nil, err
	}
	body, _, err := optString(f, "body")
	if err != nil {
		return nil, err
	}
	if h.IsBase64Encoded {
		b, err := decodeBase64(body)
		if err != nil {
			return nil, err
		}
		h.Body = b
	} else {
		h.Body = []byte(body)
	}

	if source == SourceFunctionURL {
		h.SourceIP = h.Header.Get(RemoteAddrHeader)
	}
	return h, nil
}

func decodeHeaders(raw json.RawMessage, dst http.Header) error {
	if isNull(raw) {
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return fieldErr("headers", "an object of strings", err)
	}
	for _, k := range sortedKeys(m) {
		vals, err := stringOrList(m[k])
		if err != nil {
			return fmt.Errorf("trigger: header %q: %w", k, err)
		}
		for _, v := range vals {
			dst.Add(k, v)
		}
	}
	return nil
}

func decodeQuery(raw json.RawMessage, dst url.Values) error {
	if isNull(raw) {
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return fieldErr("queryString", "an object", err)
	}
	for _, k := range sortedKeys(m) {
		v := m[k]
		switch {
		case bytes.Equal(bytes.TrimSpace(v), []byte("true")):
			dst[k] = append(dst[k], "") // bare ?flag
		case bytes.Equal(bytes.TrimSpace(v), []byte("false")) || isNull(v):
			// absent
		default:
			vals, err := stringOrList(v)
			if err != nil {
				return fmt.Errorf("trigger: queryString %q: %w", k, err)
			}
			dst[k] = append(dst[k], vals...)
		}
	}
	return nil
}

// stringOrList accepts a string, a number (as its text) or an array of those.
func stringOrList(v json.RawMessage) ([]string, error) {
	v = bytes.TrimSpace(v)
	if len(v) > 0 && v[0] == '[' {
		var items []json.RawMessage
		if err := json.Unmarshal(v, &items); err != nil {
			return nil, err
		}
		out := make([]string, 0, len(items))
		for _, it := range items {
			s, err := scalarString(it)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, nil
	}
	s, err := scalarString(v)
	if err != nil {
		return nil, err
	}
	return []string{s}, nil
}

func scalarString(v json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		return s, nil
	}
	var n json.Number
	if err := json.Unmarshal(v, &n); err == nil {
		return n.String(), nil
	}
	return "", fmt.Errorf("want a string or an array of strings, got a JSON %s", jsonKind(v))
}

// stringMap decodes an optional object whose values are strings (numbers and
// booleans are kept as their JSON text).
func stringMap(f map[string]json.RawMessage, name string) (map[string]string, error) {
	raw, ok := f[name]
	if !ok || isNull(raw) {
		return nil, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fieldErr(name, "an object of strings", err)
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		v = bytes.TrimSpace(v)
		var s string
		switch {
		case json.Unmarshal(v, &s) == nil:
			out[k] = s
		case isNull(v):
			out[k] = ""
		case len(v) > 0 && (v[0] == '{' || v[0] == '['):
			return nil, fmt.Errorf("trigger: %s %q: want a string, got a JSON %s", name, k, jsonKind(v))
		default:
			out[k] = string(v)
		}
	}
	return out, nil
}

func decodeBool(raw json.RawMessage) (bool, error) {
	if isNull(raw) {
		return false, nil
	}
	var b bool
	if err := json.Unmarshal(raw, &b); err == nil {
		return b, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		if b, err := strconv.ParseBool(s); err == nil {
			return b, nil
		}
	}
	return false, fmt.Errorf("trigger: isBase64Encoded: want true or false, got %s", excerpt(raw))
}

func decodeBase64(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	_, err := base64.StdEncoding.DecodeString(s)
	return nil, fmt.Errorf("trigger: body is marked isBase64Encoded but is not valid base64: %w", err)
}

func decodeTimer(f map[string]json.RawMessage) (*Timer, error) {
	t := &Timer{}
	var err error
	if t.TriggerName, _, err = optString(f, "TriggerName"); err != nil {
		return nil, err
	}
	if raw, ok := f["Message"]; ok && !isNull(raw) {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			t.Message = s
		} else {
			t.Message = string(bytes.TrimSpace(raw)) // a non-string argument, kept as JSON text
		}
	}
	ts, _, err := optString(f, "Time")
	if err != nil {
		return nil, err
	}
	if ts != "" {
		if t.Time, err = parseTime(ts); err != nil {
			return nil, err
		}
	}
	return t, nil
}

var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05"}

func parseTime(s string) (time.Time, error) {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("trigger: timer event Time %q: want an RFC 3339 time such as 2019-02-21T11:49:00Z", s)
}

// optString returns field name as a string; absent or null is ("", false).
func optString(f map[string]json.RawMessage, name string) (string, bool, error) {
	raw, ok := f[name]
	if !ok || isNull(raw) {
		return "", false, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false, fmt.Errorf("trigger: %s: want a string, got a JSON %s", name, jsonKind(raw))
	}
	return s, true, nil
}

func stringField(f map[string]json.RawMessage, name string) (string, bool) {
	s, ok, err := optString(f, name)
	return s, ok && err == nil
}

func fieldErr(name, want string, err error) error {
	return fmt.Errorf("trigger: %s: want %s: %w", name, want, err)
}

func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

func isObject(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '{'
}

func isString(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '"'
}

func jsonKind(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "empty value"
	}
	switch raw[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	default:
		if raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9') {
			return "number"
		}
		return "value that is not JSON"
	}
}

func excerpt(raw []byte) string {
	const max = 40
	s := string(bytes.TrimSpace(raw))
	if len(s) > max {
		s = s[:max] + "..."
	}
	return strconv.Quote(s)
}

func sortedKeys(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

package trigger_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scf-janitor/scf-janitor/shared/trigger"
)

func readEvent(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "events", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestDecodeSampleEvents(t *testing.T) {
	tests := []struct {
		file string
		want trigger.Event
	}{
		{"apigw.json", trigger.Event{Kind: trigger.KindHTTP, HTTP: &trigger.HTTPRequest{
			Source: "apigw", Method: "POST", Path: "/tasks/ams/cancel",
			Header: http.Header{
				"Accept-Language":     {"en-US,en,cn"},
				"Accept":              {"text/html,application/xml,application/json"},
				"Content-Type":        {"application/json"},
				"Host":                {"service-f94sy04v-1250000000.gz.apigw.tencentcs.com"},
				"User-Agent":          {"curl/8.5.0"},
				"X-Janitor-Signature": {"t=1732240000,v1=0000000000000000000000000000000000000000000000000000000000000000"},
			},
			Query:                 url.Values{"dryRun": {"false"}, "tag": {"a", "b"}, "verbose": {""}},
			Body:                  []byte(`{"service":"ams","taskId":"task-123"}`),
			SourceIP:              "203.0.113.10",
			RequestID:             "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
			Stage:                 "release",
			ServiceID:             "service-f94sy04v",
			ResourcePath:          "/tasks/{service}/cancel",
			PathParameters:        map[string]string{"service": "ams"},
			StageVariables:        map[string]string{"stage": "release"},
			QueryStringParameters: map[string]string{"dryRun": "false"},
			HeaderParameters:      map[string]string{"Refer": "10.0.2.14"},
		}}},
		{"apigw-base64.json", trigger.Event{Kind: trigger.KindHTTP, HTTP: &trigger.HTTPRequest{
			Source: "apigw", Method: "POST", Path: "/tasks/cancel",
			Header: http.Header{
				"Content-Type":        {"application/json"},
				"X-Janitor-Signature": {"t=1732240000,v1=1111111111111111111111111111111111111111111111111111111111111111"},
			},
			Query:                 url.Values{},
			Body:                  []byte(`{"service":"vm","taskId":"task-456"}`),
			SourceIP:              "198.51.100.7",
			RequestID:             "0b5ee6b4-5ba2-4c84-9b2f-2b1c9e6f7a10",
			Stage:                 "test",
			ServiceID:             "service-f94sy04v",
			ResourcePath:          "/tasks/cancel",
			PathParameters:        map[string]string{},
			StageVariables:        map[string]string{},
			QueryStringParameters: map[string]string{},
			HeaderParameters:      map[string]string{},
			IsBase64Encoded:       true,
		}}},
		{"url.json", trigger.Event{Kind: trigger.KindHTTP, HTTP: &trigger.HTTPRequest{
			Source: "url", Method: "POST", Path: "/",
			Header: http.Header{
				"Accept":              {"*/*"},
				"Accept-Encoding":     {"gzip, deflate, br"},
				"Cache-Control":       {"no-cache"},
				"Connection":          {"keep-alive"},
				"Content-Length":      {"21"},
				"Content-Type":        {"application/json"},
				"X-Janitor-Signature": {"t=1732240000,v1=2222222222222222222222222222222222222222222222222222222222222222"},
				"X-Scf-Remote-Addr":   {"111.206.96.145"},
			},
			Query:    url.Values{"a": {"1"}, "b": {"2"}},
			Body:     []byte(`{"taskId":"task-789"}`),
			SourceIP: "111.206.96.145",
		}}},
		{"url-get-flags.json", trigger.Event{Kind: trigger.KindHTTP, HTTP: &trigger.HTTPRequest{
			Source: "url", Method: "GET", Path: "/status",
			Header: http.Header{
				"Accept":            {"application/json"},
				"Host":              {"1250000000-abcdefgh.ap-guangzhou.tencentscf.com"},
				"User-Agent":        {"curl/8.5.0"},
				"X-Scf-Remote-Addr": {"2001:db8::17"},
			},
			Query:    url.Values{"taskId": {"task-1", "task-2"}, "verbose": {""}},
			Body:     []byte{},
			SourceIP: "2001:db8::17",
		}}},
		{"timer.json", trigger.Event{Kind: trigger.KindTimer, Timer: &trigger.Timer{
			TriggerName: "EveryFiveMinutes", Time: time.Date(2026, 11, 22, 3, 5, 0, 0, time.UTC), Message: `{"dryRun":true}`,
		}}},
		{"timer-lowercase.json", trigger.Event{Kind: trigger.KindTimer, Timer: &trigger.Timer{
			TriggerName: "EveryDay", Time: time.Date(2019, 2, 21, 11, 49, 0, 0, time.UTC), Message: "user define msg body",
		}}},
		{"console.json", trigger.Event{Kind: trigger.KindDirect,
			Direct: json.RawMessage("{\n  \"key1\": \"test value 1\",\n  \"key2\": \"test value 2\"\n}")}},
	}
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "events", "*.json"))
	for _, f := range files {
		found := false
		for _, tt := range tests {
			found = found || tt.file == filepath.Base(f)
		}
		if !found {
			t.Errorf("sample event %s has no field-by-field expectation here", filepath.Base(f))
		}
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := trigger.Decode(readEvent(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Decode mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEverySampleEventIsCovered(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "testdata", "events", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no sample events: %v", err)
	}
	for _, f := range files {
		ev, err := trigger.Decode(readEvent(t, filepath.Base(f)))
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if n := countSet(ev); n != 1 {
			t.Errorf("%s: %d of HTTP/Timer/Direct set", f, n)
		}
	}
}

func TestHeadersAreCaseInsensitive(t *testing.T) {
	ev, err := trigger.Decode(readEvent(t, "url.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"x-janitor-signature", "X-Janitor-Signature", "X-JANITOR-SIGNATURE"} {
		if got := ev.HTTP.Header.Get(k); !strings.HasPrefix(got, "t=1732240000,") {
			t.Errorf("Header.Get(%q) = %q", k, got)
		}
	}
}

func TestDecodeHTTPVariants(t *testing.T) {
	tests := []struct {
		name  string
		event string
		check func(t *testing.T, h *trigger.HTTPRequest)
	}{
		{"query values string, array, true, number, false, null",
			`{"httpMethod":"get","path":"/x","queryString":{"s":"v","a":["1","2"],"flag":true,"n":5,"off":false,"nul":null}}`,
			func(t *testing.T, h *trigger.HTTPRequest) {
				want := url.Values{"s": {"v"}, "a": {"1", "2"}, "flag": {""}, "n": {"5"}}
				if diff := cmp.Diff(want, h.Query); diff != "" {
					t.Errorf("query (-want +got):\n%s", diff)
				}
				if h.Method != "GET" || !h.Query.Has("flag") {
					t.Errorf("method %q, has flag %v", h.Method, h.Query.Has("flag"))
				}
			}},
		{"headers with the same name in two cases are both kept",
			`{"httpMethod":"POST","path":"/","headers":{"X-Tag":"a","x-tag":"b","X-Multi":["1","2"]}}`,
			func(t *testing.T, h *trigger.HTTPRequest) {
				if got := h.Header.Values("x-tag"); len(got) != 2 {
					t.Errorf("x-tag values = %q", got)
				}
				if got := h.Header.Values("X-MULTI"); len(got) != 2 || got[1] != "2" {
					t.Errorf("x-multi values = %q", got)
				}
			}},
		{"apigw without queryString uses queryStringParameters",
			`{"requestContext":{"httpMethod":"GET","sourceIp":"1.2.3.4"},"path":"/p","queryStringParameters":{"k":"v"}}`,
			func(t *testing.T, h *trigger.HTTPRequest) {
				if h.Method != "GET" || h.Query.Get("k") != "v" || h.SourceIP != "1.2.3.4" || h.Source != "apigw" {
					t.Errorf("request = %+v", h)
				}
			}},
		{"isBase64Encoded as a string, URL-safe unpadded body",
			`{"requestContext":{},"httpMethod":"POST","path":"/","isBase64Encoded":"true","body":"_-8"}`,
			func(t *testing.T, h *trigger.HTTPRequest) {
				if string(h.Body) != "\xff\xef" {
					t.Errorf("body = %q", h.Body)
				}
			}},
		{"binary body bytes are preserved exactly",
			`{"requestContext":{},"httpMethod":"POST","path":"/","isBase64Encoded":true,"body":"AAEC/w=="}`,
			func(t *testing.T, h *trigger.HTTPRequest) {
				if string(h.Body) != "\x00\x01\x02\xff" {
					t.Errorf("body = %q", h.Body)
				}
			}},
		{"null body and no headers",
			`{"httpMethod":"DELETE","path":"/t","body":null}`,
			func(t *testing.T, h *trigger.HTTPRequest) {
				if len(h.Body) != 0 || h.Header == nil || h.Query == nil || h.Source != "url" || h.SourceIP != "" {
					t.Errorf("request = %+v", h)
				}
			}},
		{"non-string parameter values keep their JSON text",
			`{"requestContext":{},"httpMethod":"GET","path":"/","pathParameters":{"id":42,"x":null}}`,
			func(t *testing.T, h *trigger.HTTPRequest) {
				if diff := cmp.Diff(map[string]string{"id": "42", "x": ""}, h.PathParameters); diff != "" {
					t.Errorf("path parameters (-want +got):\n%s", diff)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := trigger.Decode([]byte(tt.event))
			if err != nil {
				t.Fatal(err)
			}
			if ev.Kind != trigger.KindHTTP || ev.HTTP == nil {
				t.Fatalf("kind %s", ev.Kind)
			}
			tt.check(t, ev.HTTP)
		})
	}
}

func TestDecodeKinds(t *testing.T) {
	tests := []struct {
		event string
		want  trigger.Kind
	}{
		{`{"Type":"TIMER","TriggerName":"t"}`, trigger.KindTimer},
		{`{"Type":"Timer"}`, trigger.KindTimer},
		{`{"type":"timer"}`, trigger.KindDirect}, // the key is "Type"
		{`{"Type":"cron"}`, trigger.KindDirect},
		{`{}`, trigger.KindDirect},
		{`{"httpMethod":"POST"}`, trigger.KindDirect}, // no path: not a Function URL event
		{`{"requestContext":null,"httpMethod":"POST","path":"/"}`, trigger.KindHTTP},
		{`  {"taskId":"t-1"}  `, trigger.KindDirect},
	}
	for _, tt := range tests {
		t.Run(tt.event, func(t *testing.T) {
			ev, err := trigger.Decode([]byte(tt.event))
			if err != nil {
				t.Fatal(err)
			}
			if ev.Kind != tt.want || countSet(ev) != 1 {
				t.Errorf("Decode = %+v, want kind %s", ev, tt.want)
			}
		})
	}
	ev, _ := trigger.Decode([]byte("  {\"taskId\":\"t-1\"}\n"))
	if string(ev.Direct) != `{"taskId":"t-1"}` {
		t.Errorf("Direct = %q, want the trimmed payload", ev.Direct)
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		event   string
		wantErr string
	}{
		{``, "empty event: want a JSON object"},
		{`   `, "empty event"},
		{`"hello"`, "event is a JSON string, want a JSON object"},
		{`[1,2]`, "event is a JSON array, want a JSON object"},
		{`42`, "event is a JSON number"},
		{`null`, "event is a JSON null"},
		{`true`, "event is a JSON boolean"},
		{`{"a":`, "event is not valid JSON"},
		{`{"a":1}x`, "event is not valid JSON"},
		{`{"requestContext":{},"httpMethod":"POST","path":"/","isBase64Encoded":true,"body":"not base64!"}`,
			"body is marked isBase64Encoded but is not valid base64"},
		{`{"requestContext":{},"httpMethod":"POST","path":"/","isBase64Encoded":"sometimes"}`, "isBase64Encoded: want true or false"},
		{`{"requestContext":{},"path":"/"}`, "HTTP event has no httpMethod"},
		{`{"requestContext":{"httpMethod":5}}`, "requestContext: want an object of strings"},
		{`{"httpMethod":"POST","path":"/","headers":["a"]}`, "headers: want an object of strings"},
		{`{"httpMethod":"POST","path":"/","headers":{"a":{"b":1}}}`, `header "a": want a string or an array of strings, got a JSON object`},
		{`{"httpMethod":"POST","path":"/","queryString":{"a":{"b":1}}}`, `queryString "a": want a string or an array`},
		{`{"httpMethod":"POST","path":"/","queryString":"a=b"}`, "queryString: want an object"},
		{`{"httpMethod":"POST","path":"/","body":{"a":1}}`, "body: want a string, got a JSON object"},
		{`{"requestContext":{},"httpMethod":"POST","path":"/","pathParameters":{"a":[1]}}`, `pathParameters "a": want a string`},
		{`{"requestContext":{},"httpMethod":"POST","path":"/","stageVariables":"x"}`, "stageVariables: want an object of strings"},
		{`{"Type":"Timer","Time":"yesterday"}`, `timer event Time "yesterday": want an RFC 3339 time`},
		{`{"Type":"Timer","TriggerName":7}`, "TriggerName: want a string"},
	}
	for _, tt := range tests {
		t.Run(tt.event, func(t *testing.T) {
			ev, err := trigger.Decode([]byte(tt.event))
			if err == nil {
				t.Fatalf("Decode = %+v, want an error", ev)
			}
			if !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "trigger: ") {
				t.Errorf("error %q, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestDecodeErrorDoesNotEchoBody(t *testing.T) {
	_, err := trigger.Decode([]byte(`{"requestContext":{},"httpMethod":"POST","path":"/","isBase64Encoded":true,"body":"secret-looking-body!"}`))
	if err == nil || strings.Contains(err.Error(), "secret-looking-body") {
		t.Errorf("error = %v", err)
	}
}

func TestTimerTimeLayouts(t *testing.T) {
	want := time.Date(2019, 2, 21, 11, 49, 0, 0, time.UTC)
	for _, s := range []string{"2019-02-21T11:49:00Z", "2019-02-21T19:49:00+08:00", "2019-02-21T11:49:00", "2019-02-21 11:49:00"} {
		ev, err := trigger.Decode([]byte(`{"Type":"Timer","Time":"` + s + `"}`))
		if err != nil {
			t.Errorf("%s: %v", s, err)
			continue
		}
		if !ev.Timer.Time.Equal(want) || ev.Timer.Time.Location() != time.UTC {
			t.Errorf("%s: Time = %s", s, ev.Timer.Time)
		}
	}
	ev, err := trigger.Decode([]byte(`{"Type":"Timer","Message":{"dryRun":true}}`))
	if err != nil || ev.Timer.Message != `{"dryRun":true}` || !ev.Timer.Time.IsZero() {
		t.Errorf("non-string Message: %+v, %v", ev.Timer, err)
	}
}

func TestJSON(t *testing.T) {
	r := trigger.JSON(http.StatusAccepted, map[string]string{"status": "cancelled"})
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"isBase64Encoded":false,"statusCode":202,"headers":{"Content-Type":"application/json"},"body":"{\"status\":\"cancelled\"}"}`
	if string(b) != want {
		t.Errorf("JSON response = %s\nwant %s", b, want)
	}

	lt := trigger.JSON(http.StatusBadRequest, map[string]string{"Message": "want POST /video/cancel_auditing/<jobId> & no body"})
	if want := `{"Message":"want POST /video/cancel_auditing/<jobId> & no body"}`; lt.Body != want {
		t.Errorf("body %s, want %s (no \\u003c escapes)", lt.Body, want)
	}

	bad := trigger.JSON(http.StatusOK, func() {})
	if bad.StatusCode != http.StatusInternalServerError || !json.Valid([]byte(bad.Body)) || bad.Headers["Content-Type"] != "application/json" {
		t.Errorf("unencodable value gave %+v", bad)
	}
}

func countSet(ev trigger.Event) int {
	n := 0
	if ev.HTTP != nil {
		n++
	}
	if ev.Timer != nil {
		n++
	}
	if ev.Direct != nil {
		n++
	}
	return n
}

func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "events", "*.json"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{`{}`, `[]`, `"x"`, `{"Type":"timer","Time":"x"}`, `{"httpMethod":"GET","path":"/","queryString":{"a":[true]}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		ev, err := trigger.Decode(payload)
		if err != nil {
			if ev.Kind != "" || countSet(ev) != 0 {
				t.Fatalf("error %v with a non-empty event %+v", err, ev)
			}
			return
		}
		if countSet(ev) != 1 {
			t.Fatalf("%d of HTTP/Timer/Direct set for %q", countSet(ev), payload)
		}
		switch {
		case ev.HTTP != nil && ev.Kind != trigger.KindHTTP,
			ev.Timer != nil && ev.Kind != trigger.KindTimer,
			ev.Direct != nil && ev.Kind != trigger.KindDirect:
			t.Fatalf("kind %s does not match the field set", ev.Kind)
		}
		if ev.HTTP != nil && (ev.HTTP.Method == "" || ev.HTTP.Header == nil || ev.HTTP.Query == nil) {
			t.Fatalf("HTTP request missing method/header/query: %+v", ev.HTTP)
		}
		if ev.Direct != nil && !json.Valid(ev.Direct) {
			t.Fatalf("Direct is not valid JSON: %q", ev.Direct)
		}
	})
}

func ExampleDecode() {
	payload := []byte(`{
		"body": "{\"taskId\":\"task-789\"}",
		"headers": {"content-type": "application/json", "x-scf-remote-addr": "111.206.96.145"},
		"httpMethod": "POST",
		"path": "/",
		"queryString": {"dryRun": true}
	}`)
	ev, err := trigger.Decode(payload)
	if err != nil {
		fmt.Println(err)
		return
	}
	switch ev.Kind {
	case trigger.KindHTTP:
		fmt.Println(ev.HTTP.Source, ev.HTTP.Method, ev.HTTP.Path, ev.HTTP.SourceIP)
		fmt.Println(ev.HTTP.Header.Get("Content-Type"), ev.HTTP.Query.Has("dryRun"), string(ev.HTTP.Body))
	case trigger.KindTimer:
		fmt.Println("timer", ev.Timer.TriggerName)
	case trigger.KindDirect:
		fmt.Println("direct", string(ev.Direct))
	}
	// Output:
	// url POST / 111.206.96.145
	// application/json true {"taskId":"task-789"}
}

func ExampleJSON() {
	resp := trigger.JSON(http.StatusNotFound, map[string]string{"error": "ResourceNotFound"})
	b, _ := json.Marshal(resp)
	fmt.Println(string(b))
	// Output: {"isBase64Encoded":false,"statusCode":404,"headers":{"Content-Type":"application/json"},"body":"{\"error\":\"ResourceNotFound\"}"}
}

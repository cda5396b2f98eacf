package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/scf-janitor/scf-janitor/shared/webhook"
)

func TestFormatFor(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc", FormatWeCom},
		{"https://hooks.slack.com/services/T0/B0/xyz", FormatSlack},
		{"https://example.com/hook", FormatJSON},
		{"http://127.0.0.1:9100/_emulator/notifications", FormatJSON},
		{"::", FormatJSON},
	} {
		t.Run(tc.url, func(t *testing.T) {
			if got := FormatFor(tc.url); got != tc.want {
				t.Errorf("FormatFor = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestRedact: a URL is shown as its scheme, host and port only: a secret
// may be in the path (Slack's /services/T../B../<secret>), the query
// (WeCom's key=) or the user info.
func TestRedact(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		secrets  []string
	}{
		{"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=s3cr3t-key", "https://qyapi.weixin.qq.com", []string{"s3cr3t-key", "webhook"}},
		{"https://hooks.slack.com/services/T0AAAA/B0BBBB/slacksecret", "https://hooks.slack.com", []string{"slacksecret", "T0AAAA", "B0BBBB"}},
		{"https://hooks.example.com/secret-in-the-first-segment", "https://hooks.example.com", []string{"secret-in-the-first-segment"}},
		{"https://user:pw-secret@example.com/a", "https://example.com", []string{"pw-secret", "user"}},
		{"http://127.0.0.1:9100/_emulator/notifications#frag-secret", "http://127.0.0.1:9100", []string{"_emulator", "frag-secret"}},
		{"HTTPS://Hooks.Example.com:8443/x?y=z", "https://Hooks.Example.com:8443", []string{"y=z"}},
		{"http://[::1]:8080/p/q", "http://[::1]:8080", []string{"/p"}},
		{" https://hooks.example.com/x ", "https://hooks.example.com", []string{"/x"}},
		{"not a url with a secret", "[unparseable URL]", []string{"secret"}},
		{"hooks.slack.com/services/T0/B0/nohostsecret", "[unparseable URL]", []string{"nohostsecret"}},
		{"mailto:secret@example.com", "[unparseable URL]", []string{"secret"}},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got := Redact(tc.in)
			if got != tc.want {
				t.Errorf("Redact = %q, want %q", got, tc.want)
			}
			for _, s := range tc.secrets {
				if strings.Contains(got, s) {
					t.Errorf("Redact leaks %q", s)
				}
			}
		})
	}
}

func TestTextNeverCutsALine(t *testing.T) {
	var items []string
	for i := range 500 {
		// Multi-byte text: a byte cut would break UTF-8.
		items = append(items, fmt.Sprintf("- 任务 at-%04d cancelled (ams, LIVE_AUDIO, 3h old)", i))
	}
	m := Message{Head: []string{"**sweep-tasks**: 500 cancelled", "account 100000000001"}, Items: items, More: 7}
	for _, max := range []int{MaxWeComBytes, 600, 200} {
		t.Run(fmt.Sprint(max), func(t *testing.T) {
			text := m.Text(max)
			if len(text) > max {
				t.Fatalf("%d bytes, over %d", len(text), max)
			}
			if !utf8.ValidString(text) {
				t.Fatal("not valid UTF-8")
			}
			lines := strings.Split(text, "\n")
			if lines[0] != m.Head[0] || lines[1] != m.Head[1] {
				t.Errorf("head lost: %q", lines[:2])
			}
			shown := 0
			for _, l := range lines[2 : len(lines)-1] {
				if l != items[shown] {
					t.Fatalf("line %q is not item %d whole", l, shown)
				}
				shown++
			}
			want := fmt.Sprintf("... and %d more (see the function's log)", len(items)-shown+m.More)
			if last := lines[len(lines)-1]; last != want {
				t.Errorf("last line %q, want %q", last, want)
			}
		})
	}
	if got := (Message{Head: []string{"a"}, Items: []string{"b", "c"}}).Text(MaxWeComBytes); got != "a\nb\nc" {
		t.Errorf("short message = %q", got)
	}
}

// sink is a real HTTP endpoint recording what it receives.
type sink struct {
	mu     sync.Mutex
	bodies [][]byte
	heads  []http.Header
	fail   atomic.Int32 // answer 503 to this many requests first
	status int          // non-zero: always answer this
	// location, when set, is sent as the Location header (with status).
	location string
	answer   string
}

func (s *sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.bodies = append(s.bodies, b)
	s.heads = append(s.heads, r.Header.Clone())
	s.mu.Unlock()
	if s.fail.Add(-1) >= 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	if s.location != "" {
		w.Header().Set("Location", s.location)
	}
	if s.status != 0 {
		w.WriteHeader(s.status)
		return
	}
	_, _ = io.WriteString(w, s.answer)
}

func (s *sink) received() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.bodies)
}

func TestSendFormatsAndSignature(t *testing.T) {
	sk := &sink{}
	sk.fail.Store(0)
	srv := httptest.NewServer(sk)
	defer srv.Close()
	now := time.Unix(1_800_000_000, 0)
	m := Message{Head: []string{"**head**"}, Items: []string{"item"}, Data: map[string]any{"Cancelled": 3}}
	for _, format := range Formats {
		t.Run(format, func(t *testing.T) {
			before := sk.received()
			s := &Sender{URLs: []string{srv.URL + "/hook?key=k"}, Format: format, Secret: "notify-secret", Now: func() time.Time { return now }}
			if err := s.Send(context.Background(), m); err != nil {
				t.Fatal(err)
			}
			if sk.received() != before+1 {
				t.Fatalf("%d requests, want 1", sk.received()-before)
			}
			body, head := sk.bodies[before], sk.heads[before]
			var v map[string]any
			if err := json.Unmarshal(body, &v); err != nil {
				t.Fatalf("body %s: %v", body, err)
			}
			switch format {
			case FormatWeCom:
				md, _ := v["markdown"].(map[string]any)
				if v["msgtype"] != "markdown" || md["content"] != "**head**\nitem" {
					t.Errorf("wecom body %s", body)
				}
			case FormatSlack:
				if v["text"] != "*head*\nitem" {
					t.Errorf("slack body %s", body)
				}
			case FormatJSON:
				if v["Cancelled"] != 3.0 {
					t.Errorf("json body %s", body)
				}
				ver := webhook.Verifier{Secrets: []string{"notify-secret"}, Now: func() time.Time { return now }}
				if err := ver.Verify(head.Get(webhook.Header), body); err != nil {
					t.Errorf("signature: %v", err)
				}
			}
			if format != FormatJSON && head.Get(webhook.Header) != "" {
				t.Error("chat formats are not signed")
			}
		})
	}
}

func TestSendRetriesOnceOn5xx(t *testing.T) {
	for _, tc := range []struct {
		name     string
		fail     int32
		status   int
		wantReqs int
		wantErr  string
	}{
		{"one 503 then ok", 1, 0, 2, ""},
		{"two 503s", 2, 0, 2, "HTTP 503"},
		{"400 is final", 0, http.StatusBadRequest, 1, "HTTP 400"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sk := &sink{status: tc.status}
			sk.fail.Store(tc.fail)
			srv := httptest.NewServer(sk)
			defer srv.Close()
			s := &Sender{URLs: []string{srv.URL + "/cgi-bin/webhook/send?key=the-robot-key"}, Format: FormatJSON, RetryDelay: time.Millisecond}
			err := s.Send(context.Background(), Message{Data: map[string]int{}})
			if got := sk.received(); got != tc.wantReqs {
				t.Errorf("%d requests, want %d", got, tc.wantReqs)
			}
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err %v, want %q", err, tc.wantErr)
			}
			if strings.Contains(err.Error(), "the-robot-key") || strings.Contains(err.Error(), "/cgi-bin") ||
				!strings.Contains(err.Error(), "notify "+srv.URL+" (json,") {
				t.Errorf("error does not show the URL redacted to its host: %v", err)
			}
		})
	}
}

func TestSendNetworkErrorRetriedAndRedacted(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.URL
	srv.Close() // nothing listens any more: connection refused
	var attempts atomic.Int32
	client := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		attempts.Add(1)
		return http.DefaultTransport.RoundTrip(r)
	})}
	s := &Sender{URLs: []string{addr + "/x?key=secret-key-1"}, Client: client, RetryDelay: time.Millisecond}
	err := s.Send(context.Background(), Message{Data: 1})
	if err == nil {
		t.Fatal("no error")
	}
	if attempts.Load() != 2 {
		t.Errorf("%d attempts, want 2", attempts.Load())
	}
	if strings.Contains(err.Error(), "secret-key-1") {
		t.Errorf("error leaks the key: %v", err)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestSendBudget(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	s := &Sender{URLs: []string{srv.URL}, Budget: 50 * time.Millisecond}
	err := s.Send(context.Background(), Message{Data: 1})
	if err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want a deadline error", err)
	}
}

func TestWeComErrcode(t *testing.T) {
	sk := &sink{answer: `{"errcode":93000,"errmsg":"invalid webhook url"}`}
	srv := httptest.NewServer(sk)
	defer srv.Close()
	s := &Sender{URLs: []string{srv.URL}, Format: FormatWeCom}
	err := s.Send(context.Background(), Message{Head: []string{"x"}})
	if err == nil || !strings.Contains(err.Error(), "errcode 93000") {
		t.Fatalf("err %v", err)
	}
	if sk.received() != 1 {
		t.Errorf("%d requests: an errcode is not retried", sk.received())
	}
}

func TestValidateURL(t *testing.T) {
	for _, u := range []string{"ftp://x/y", "/relative", "http://"} {
		if ValidateURL(u) == nil {
			t.Errorf("%q accepted", u)
		}
	}
	if err := ValidateURL("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"); err != nil {
		t.Error(err)
	}
}

// panicMarshaler is Data whose encoding panics.
type panicMarshaler struct{}

func (panicMarshaler) MarshalJSON() ([]byte, error) { panic("marshal bug") }

// TestSendPanicIsThatURLsError: a panic while sending to one URL (the
// transport's, or a Data that cannot be encoded) fails that URL with an
// error that hides its secrets; the process does not crash (Send's
// goroutines would take it down) and the other URLs are still sent to.
func TestSendPanicIsThatURLsError(t *testing.T) {
	sk := &sink{}
	srv := httptest.NewServer(sk)
	defer srv.Close()
	bad := "https://hooks.example.com/services/T000/B000/slack-secret-99?key=robot-key-77"
	client := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.URL.Host == "hooks.example.com" {
			panic(fmt.Sprintf("transport bug posting to %s (key robot-key-77, path slack-secret-99)", r.URL))
		}
		return http.DefaultTransport.RoundTrip(r)
	})}
	s := &Sender{URLs: []string{bad, srv.URL + "/hook"}, Format: FormatJSON, Client: client, RetryDelay: time.Millisecond}
	err := s.Send(context.Background(), Message{Data: 1})
	if err == nil || !strings.Contains(err.Error(), "notify https://hooks.example.com (URL 1 of 2): panic: transport bug posting to https://hooks.example.com (") {
		t.Fatalf("error %v", err)
	}
	for _, secret := range []string{"robot-key-77", "slack-secret-99"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error shows %s: %v", secret, err)
		}
	}
	if sk.received() != 1 {
		t.Errorf("%d deliveries to the working URL, want 1", sk.received())
	}

	err = (&Sender{URLs: []string{srv.URL + "/hook"}, Format: FormatJSON}).Send(context.Background(), Message{Data: panicMarshaler{}})
	if err == nil || !strings.Contains(err.Error(), "panic: marshal bug") {
		t.Errorf("unencodable data: %v", err)
	}
}

// TestRedirectIsNotFollowed: an endpoint that answers 3xx gets no second
// request anywhere. Followed, a 307/308 would re-send the body with its
// X-Janitor-Signature to the other host, and every redirect would add a
// Referer holding the original URL (its key); a 301/302/303 would turn the
// POST into a bodiless GET that counts as delivered. The redirect is a
// final error saying where it pointed, redacted.
func TestRedirectIsNotFollowed(t *testing.T) {
	for _, tc := range []struct {
		name     string
		status   int
		location string // "" = the other server; "-" = none
		client   *http.Client
		want     []string
	}{
		{"301", http.StatusMovedPermanently, "", nil, nil},
		{"302", http.StatusFound, "", nil, nil},
		{"303", http.StatusSeeOther, "", nil, nil},
		{"307", http.StatusTemporaryRedirect, "", nil, nil},
		{"308", http.StatusPermanentRedirect, "", nil, nil},
		{"307 through a caller's client", http.StatusTemporaryRedirect, "", &http.Client{Transport: http.DefaultTransport}, nil},
		{"302 through a caller's client", http.StatusFound, "", &http.Client{Transport: &http.Transport{}}, nil},
		{"relative Location", http.StatusTemporaryRedirect, "/moved/path-secret?token=loc-secret", nil, []string{"redirect to http://127.0.0.1:"}},
		{"no Location", http.StatusFound, "-", nil, []string{"without a Location"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			other := &sink{}
			otherSrv := httptest.NewServer(other)
			defer otherSrv.Close()
			first := &sink{status: tc.status, location: otherSrv.URL + "/landing/path-secret?token=loc-secret"}
			switch tc.location {
			case "-":
				first.location = ""
			case "":
			default:
				first.location = tc.location
			}
			firstSrv := httptest.NewServer(first)
			defer firstSrv.Close()
			s := &Sender{URLs: []string{firstSrv.URL + "/services/T0/B0/slack-secret?key=robot-key"}, Format: FormatJSON,
				Secret: "notify-secret", Client: tc.client, RetryDelay: time.Millisecond}
			err := s.Send(context.Background(), Message{Data: map[string]int{"Cancelled": 1}})
			if n := other.received(); n != 0 {
				other.mu.Lock()
				t.Errorf("the other host received %d requests (body %q, headers %v)", n, other.bodies[0], other.heads[0])
				other.mu.Unlock()
			}
			if n := first.received(); n != 1 {
				t.Errorf("%d requests to the notification URL, want 1 (a redirect is final)", n)
			}
			if err == nil {
				t.Fatal("a redirect counted as delivered")
			}
			want := append([]string{fmt.Sprintf("HTTP %d", tc.status), "not followed", "notify " + firstSrv.URL + " (json, attempt 1)"}, tc.want...)
			if tc.location == "" {
				want = append(want, "redirect to "+otherSrv.URL+" ")
			}
			for _, w := range want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			for _, secret := range []string{"slack-secret", "robot-key", "path-secret", "loc-secret", "landing", "/moved"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error shows %q: %v", secret, err)
				}
			}
		})
	}
}

// TestErrorsNameEachURL: with several URLs on one host (shown alike once
// redacted), each error says which of them it is about.
func TestErrorsNameEachURL(t *testing.T) {
	sk := &sink{status: http.StatusBadRequest}
	srv := httptest.NewServer(sk)
	defer srv.Close()
	s := &Sender{URLs: []string{srv.URL + "/a?key=k-one", srv.URL + "/b?key=k-two"}, Format: FormatJSON}
	err := s.Send(context.Background(), Message{Data: 1})
	for _, w := range []string{"notify " + srv.URL + " (URL 1 of 2)", "notify " + srv.URL + " (URL 2 of 2)"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error %v does not say %q", err, w)
		}
	}
}

package tcapi

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorded is one request a stubServer received.
type recorded struct {
	Method, Path string
	Header       http.Header
	Body         []byte
	At           time.Time
}

func (r recorded) params(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("request body %q is not a JSON object: %v", r.Body, err)
	}
	return m
}

// stubServer is a local stand-in for a Tencent endpoint: it records every
// request, and respond gets the 1-based request number and writes the
// answer.
type stubServer struct {
	*httptest.Server
	mu      sync.Mutex
	reqs    []recorded
	respond func(n int, w http.ResponseWriter, r recorded)
}

func newStubServer(t testing.TB, respond func(n int, w http.ResponseWriter, r recorded)) *stubServer {
	t.Helper()
	s := &stubServer{respond: respond}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		rec := recorded{Method: req.Method, Path: req.URL.Path, Header: req.Header.Clone(), Body: body, At: time.Now()}
		rec.Header.Set("Host", req.Host)
		s.mu.Lock()
		s.reqs = append(s.reqs, rec)
		n := len(s.reqs)
		s.mu.Unlock()
		s.respond(n, w, rec)
	}))
	t.Cleanup(s.Close)
	return s
}

// newAPIServer is a stand-in for a Tencent Cloud API 3.0 endpoint: respond
// answers what is POSTed to /.
func newAPIServer(t testing.TB, respond func(n int, w http.ResponseWriter, r recorded)) *stubServer {
	t.Helper()
	return newStubServer(t, func(n int, w http.ResponseWriter, r recorded) {
		if r.Method != http.MethodPost || r.Path != "/" {
			http.Error(w, "want POST /", http.StatusMethodNotAllowed)
			return
		}
		respond(n, w, r)
	})
}

func (s *stubServer) requests() []recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]recorded(nil), s.reqs...)
}

func (s *stubServer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.reqs)
}

// writeOK answers {"Response": fields + RequestId}.
func writeOK(w http.ResponseWriter, requestID string, fields map[string]any) {
	resp := map[string]any{"RequestId": requestID}
	for k, v := range fields {
		resp[k] = v
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"Response": resp})
}

// writeRaw answers {"Response": <raw>} verbatim.
func writeRaw(w http.ResponseWriter, raw string) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"Response":`+raw+`}`)
}

// writeErr answers a Tencent API 3.0 error with HTTP status (Tencent answers 200).
func writeErr(w http.ResponseWriter, status int, code, msg, requestID string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"Response": map[string]any{
		"Error": map[string]string{"Code": code, "Message": msg}, "RequestId": requestID}})
}

const badGatewayHTML = `<html>
<head><title>502 Bad Gateway</title><style>body{color:red}</style></head>
<body>
<center><h1>502 Bad Gateway</h1></center>
<hr><center>nginx</center>
</body>
</html>`

func writeBadGateway(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(http.StatusBadGateway)
	_, _ = io.WriteString(w, badGatewayHTML)
}

// resetConn closes the connection with a TCP RST before answering.
func resetConn(t testing.TB, w http.ResponseWriter) {
	t.Helper()
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		t.Errorf("hijack: %v", err)
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

var testCred = Credentials{SecretID: "AKIDTESTID", SecretKey: "test-secret-key-DO-NOT-LEAK", Token: "test-session-token-DO-NOT-LEAK"}

// fastOptions retries quickly: 1ms backoff, a high rate limit.
func fastOptions(endpoint string) Options {
	return Options{
		Endpoint:    endpoint,
		Region:      "ap-guangzhou",
		Limiters:    NewLimiters(10000, 100),
		MaxAttempts: 3,
		BaseDelay:   time.Millisecond,
		MaxDelay:    2 * time.Millisecond,
		Timeout:     5 * time.Second,
	}
}

// checkSigned asserts the headers the SDK sends for an API 3.0 call.
func checkSigned(t testing.TB, r recorded, service, version, action, region string) {
	t.Helper()
	h := r.Header
	want := map[string]string{
		"Content-Type": "application/json",
		"X-TC-Action":  action,
		"X-TC-Version": version,
		"X-TC-Token":   testCred.Token,
	}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	if got := h.Get("X-TC-Region"); got != region {
		t.Errorf("X-TC-Region = %q, want %q", got, region)
	}
	ts := h.Get("X-TC-Timestamp")
	var sec int64
	if _, err := fmt.Sscan(ts, &sec); err != nil || time.Since(time.Unix(sec, 0)).Abs() > time.Minute {
		t.Errorf("X-TC-Timestamp = %q, want the current unix time", ts)
	}
	date := time.Unix(sec, 0).UTC().Format("2006-01-02")
	prefix := fmt.Sprintf("TC3-HMAC-SHA256 Credential=%s/%s/%s/tc3_request, SignedHeaders=content-type;host, Signature=", testCred.SecretID, date, service)
	auth := h.Get("Authorization")
	if !strings.HasPrefix(auth, prefix) || len(auth) != len(prefix)+64 {
		t.Errorf("Authorization = %q, want %q + 64 hex digits", auth, prefix)
	}
	if wantSig := tc3Signature(testCred.SecretKey, service, r); !strings.HasSuffix(auth, wantSig) {
		t.Errorf("Authorization signature does not verify: %q, want ...%s", auth, wantSig)
	}
}

// tc3Signature recomputes the TC3-HMAC-SHA256 signature of r independently of the SDK.
func tc3Signature(secretKey, service string, r recorded) string {
	ts := r.Header.Get("X-TC-Timestamp")
	var sec int64
	_, _ = fmt.Sscan(ts, &sec)
	date := time.Unix(sec, 0).UTC().Format("2006-01-02")
	canonical := "POST\n/\n\ncontent-type:" + r.Header.Get("Content-Type") + "\nhost:" + r.Header.Get("Host") + "\n\ncontent-type;host\n" + sha256Hex(r.Body)
	toSign := "TC3-HMAC-SHA256\n" + ts + "\n" + date + "/" + service + "/tc3_request\n" + sha256Hex([]byte(canonical))
	k := hmacSHA256([]byte("TC3"+secretKey), date)
	k = hmacSHA256(k, service)
	k = hmacSHA256(k, "tc3_request")
	return hex.EncodeToString(hmacSHA256(k, toSign))
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

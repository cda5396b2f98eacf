package tcapi

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/scf-janitor/scf-janitor/shared/tcapi/cossign"
)

func writeXMLBody(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+body)
}

func writeCIError(w http.ResponseWriter, status int, code, msg, rid string) {
	writeXMLBody(w, status, "<Error><Code>"+code+"</Code><Message>"+msg+"</Message><RequestId>"+rid+"</RequestId><TraceId>trace</TraceId></Error>")
}

func newTestCI(t *testing.T, endpoint string) *CI {
	t.Helper()
	c, err := NewCI(testCred, CIOptions{
		Bucket: "examplebucket-1250000000", Region: "ap-guangzhou", Endpoint: endpoint,
		Limiters: NewLimiters(10000, 100), MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond,
		Signer: cossign.Transport,
	})
	if err != nil {
		t.Fatalf("NewCI: %v", err)
	}
	return c
}

// checkCOSSigned verifies the COS signature of r independently of the SDK and
// that it covers wantHeaders.
func checkCOSSigned(t testing.TB, r recorded, wantHeaders string) {
	t.Helper()
	if got := r.Header.Get("x-cos-security-token"); got != testCred.Token {
		t.Errorf("x-cos-security-token = %q, want the session token", got)
	}
	fields := map[string]string{}
	for _, kv := range strings.Split(r.Header.Get("Authorization"), "&") {
		k, v, _ := strings.Cut(kv, "=")
		fields[k] = v
	}
	if fields["q-sign-algorithm"] != "sha1" || fields["q-ak"] != testCred.SecretID {
		t.Errorf("Authorization = %q, want sha1 signed by %s", r.Header.Get("Authorization"), testCred.SecretID)
	}
	if fields["q-header-list"] != wantHeaders {
		t.Errorf("q-header-list = %q, want %q", fields["q-header-list"], wantHeaders)
	}
	var hs []string
	for _, h := range strings.Split(fields["q-header-list"], ";") {
		if h != "" {
			hs = append(hs, h+"="+url.QueryEscape(r.Header.Get(h)))
		}
	}
	sort.Strings(hs)
	httpString := strings.ToLower(r.Method) + "\n" + r.Path + "\n\n" + strings.Join(hs, "&") + "\n"
	sum := sha1.Sum([]byte(httpString))
	keyTime := fields["q-key-time"]
	signKey := hex.EncodeToString(hmacSHA1([]byte(testCred.SecretKey), keyTime))
	stringToSign := "sha1\n" + keyTime + "\n" + hex.EncodeToString(sum[:]) + "\n"
	if want := hex.EncodeToString(hmacSHA1([]byte(signKey), stringToSign)); fields["q-signature"] != want {
		t.Errorf("q-signature = %q, want %q (http string %q)", fields["q-signature"], want, httpString)
	}
}

func hmacSHA1(key []byte, msg string) []byte {
	m := hmac.New(sha1.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

func TestCancelLiveAudit(t *testing.T) {
	srv := newStubServer(t, func(n int, w http.ResponseWriter, r recorded) {
		writeXMLBody(w, 200, `<Response><JobsDetail><DataId>data-7</DataId><JobId>av123</JobId><CreationTime>2024-10-23T16:41:07+0800</CreationTime></JobsDetail><RequestId>ci-req-1</RequestId></Response>`)
	})
	c := newTestCI(t, srv.URL)
	got, err := c.CancelLiveAudit(context.Background(), "av123")
	if err != nil {
		t.Fatal(err)
	}
	want := CancelLiveAuditResponse{JobsDetail: JobsDetail{DataId: "data-7", JobId: "av123", CreationTime: "2024-10-23T16:41:07+0800"}, RequestId: "ci-req-1"}
	if got != want {
		t.Errorf("answer = %+v, want %+v", got, want)
	}
	r := srv.requests()[0]
	if r.Method != http.MethodPost || r.Path != "/video/cancel_auditing/av123" || len(r.Body) != 0 {
		t.Errorf("request = %s %s %q", r.Method, r.Path, r.Body)
	}
	checkCOSSigned(t, r, "content-length;host;x-cos-security-token")
}

func TestCreateAndGetLiveAudit(t *testing.T) {
	srv := newStubServer(t, func(n int, w http.ResponseWriter, r recorded) {
		switch r.Method {
		case http.MethodPost:
			writeXMLBody(w, 200, `<Response><JobsDetail><DataId>d1</DataId><JobId>av9</JobId><State>Submitted</State><CreationTime>t0</CreationTime><Url>rtmp://x/live/1</Url></JobsDetail><RequestId>r-create</RequestId></Response>`)
		default:
			writeXMLBody(w, 200, `<Response><JobsDetail><Code>Success</Code><Message></Message><DataId>d1</DataId><JobId>av9</JobId><State>Auditing</State><CreationTime>t0</CreationTime><Url>rtmp://x/live/1</Url><Label>Normal</Label></JobsDetail><RequestId>r-get</RequestId></Response>`)
		}
	})
	c := newTestCI(t, srv.URL)
	job, err := c.CreateLiveAudit(context.Background(), CreateLiveAuditRequest{Url: "rtmp://x/live/1", DataId: "d1", BizType: "biz", Callback: "https://cb.example.com/ci"})
	if err != nil {
		t.Fatal(err)
	}
	if want := (LiveAuditJob{DataId: "d1", JobId: "av9", State: "Submitted", CreationTime: "t0", Url: "rtmp://x/live/1", RequestId: "r-create"}); job != want {
		t.Errorf("create answer = %+v, want %+v", job, want)
	}
	r := srv.requests()[0]
	wantBody := `<Request><Type>live_video</Type><Input><Url>rtmp://x/live/1</Url><DataId>d1</DataId></Input><Conf><BizType>biz</BizType><Callback>https://cb.example.com/ci</Callback></Conf></Request>`
	if r.Method != http.MethodPost || r.Path != "/video/auditing" || string(r.Body) != wantBody || r.Header.Get("Content-Type") != "application/xml" {
		t.Errorf("create request = %s %s %s (%s)", r.Method, r.Path, r.Body, r.Header.Get("Content-Type"))
	}
	checkCOSSigned(t, r, "content-length;content-type;host;x-cos-security-token")

	job, err = c.GetLiveAudit(context.Background(), "av9")
	if err != nil {
		t.Fatal(err)
	}
	if want := (LiveAuditJob{Code: "Success", DataId: "d1", JobId: "av9", State: "Auditing", CreationTime: "t0", Url: "rtmp://x/live/1", RequestId: "r-get"}); job != want {
		t.Errorf("get answer = %+v, want %+v", job, want)
	}
	r = srv.requests()[1]
	if r.Method != http.MethodGet || r.Path != "/video/auditing/av9" {
		t.Errorf("get request = %s %s", r.Method, r.Path)
	}
	checkCOSSigned(t, r, "host;x-cos-security-token")
	if _, ok := r.Header["Content-Length"]; ok {
		t.Errorf("GET carried a Content-Length header")
	}
}

func TestCIErrors(t *testing.T) {
	tests := []struct {
		name          string
		respond       func(w http.ResponseWriter)
		wantCode      string
		wantStatus    int
		wantRetryable bool
		wantRequests  int
		wantText      string
	}{
		{"not found", func(w http.ResponseWriter) {
			writeCIError(w, 404, "ResourceNotFound", "job av1 does not exist", "rid-1")
		},
			"ResourceNotFound", 404, false, 1, "ci CancelLiveAudit: ResourceNotFound: job av1 does not exist (RequestId rid-1)"},
		{"ended", func(w http.ResponseWriter) { writeCIError(w, 409, "FailedOperation.JobEnded", "job ended", "rid-1") },
			"FailedOperation.JobEnded", 409, false, 1, "job ended"},
		{"signature", func(w http.ResponseWriter) { writeCIError(w, 403, "SignatureDoesNotMatch", "bad signature", "rid-1") },
			"SignatureDoesNotMatch", 403, false, 1, "bad signature"},
		{"bad argument", func(w http.ResponseWriter) { writeCIError(w, 400, "InvalidArgument", "bad id", "rid-1") },
			"InvalidArgument", 400, false, 1, "bad id"},
		{"throttled", func(w http.ResponseWriter) { writeCIError(w, 429, "RequestLimitExceeded", "slow down", "rid-1") },
			"RequestLimitExceeded", 429, true, 3, "slow down"},
		{"internal", func(w http.ResponseWriter) { writeCIError(w, 500, "InternalError", "oops", "rid-1") },
			"InternalError", 500, true, 3, "oops"},
		{"503 other code", func(w http.ResponseWriter) { writeCIError(w, 503, "ServiceUnavailable", "busy", "rid-1") },
			"ServiceUnavailable", 503, true, 3, "busy"},
		{"502 HTML", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(502)
			_, _ = io.WriteString(w, badGatewayHTML)
		}, "BadGateway", 502, true, 3, "HTTP 502 Bad Gateway with a body that is not a CI answer: 502 Bad Gateway"},
		{"200 garbage", func(w http.ResponseWriter) { _, _ = io.WriteString(w, "not xml") },
			"BadGateway", 200, true, 3, "not xml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newStubServer(t, func(n int, w http.ResponseWriter, r recorded) { tt.respond(w) })
			c := newTestCI(t, srv.URL)
			_, err := c.CancelLiveAudit(context.Background(), "av1")
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if e.Service != "ci" || e.Code != tt.wantCode || e.HTTPStatus != tt.wantStatus || e.Retryable != tt.wantRetryable {
				t.Errorf("got %q %q %d %v, want ci %q %d %v", e.Service, e.Code, e.HTTPStatus, e.Retryable, tt.wantCode, tt.wantStatus, tt.wantRetryable)
			}
			if n := len(srv.requests()); n != tt.wantRequests {
				t.Errorf("server saw %d requests, want %d", n, tt.wantRequests)
			}
			if !strings.Contains(e.Error(), tt.wantText) || strings.Contains(e.Error(), "<") {
				t.Errorf("Error() = %q, want it to contain %q and no markup", e.Error(), tt.wantText)
			}
			for _, secret := range []string{testCred.SecretKey, testCred.Token} {
				if strings.Contains(e.Error(), secret) {
					t.Errorf("Error() leaks a secret: %q", e.Error())
				}
			}
		})
	}
}

func TestCIRetriesThenSucceeds(t *testing.T) {
	srv := newStubServer(t, func(n int, w http.ResponseWriter, r recorded) {
		switch n {
		case 1:
			writeCIError(w, 429, "RequestLimitExceeded", "slow down", "r1")
		case 2:
			resetConn(t, w)
		default:
			writeXMLBody(w, 200, `<Response><JobsDetail><DataId>d</DataId><JobId>av1</JobId><CreationTime>t</CreationTime></JobsDetail><RequestId>ok</RequestId></Response>`)
		}
	})
	c := newTestCI(t, srv.URL)
	got, err := c.CancelLiveAudit(context.Background(), "av1")
	if err != nil || got.RequestId != "ok" || got.JobsDetail.DataId != "d" {
		t.Fatalf("CancelLiveAudit = %+v, %v", got, err)
	}
	if want := (Stats{Attempts: 3, Retries: 2, Throttled: 1}); c.Stats() != want {
		t.Errorf("Stats = %+v, want %+v", c.Stats(), want)
	}
	for _, r := range srv.requests() {
		checkCOSSigned(t, r, "content-length;host;x-cos-security-token")
	}
}

func TestCIDeadline(t *testing.T) {
	srv := newStubServer(t, func(n int, w http.ResponseWriter, r recorded) { writeCIError(w, 500, "InternalError", "down", "r") })
	c, err := NewCI(testCred, CIOptions{Endpoint: srv.URL, MaxAttempts: 100, BaseDelay: time.Minute, MaxDelay: time.Minute, Rand: func() float64 { return 0.99 }, Signer: cossign.Transport})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	_, err = c.GetLiveAudit(ctx, "av1")
	if !errors.Is(err, context.DeadlineExceeded) || !HasCode(err, "InternalError") {
		t.Errorf("err = %v, want InternalError that is DeadlineExceeded-compatible", err)
	}
	if el := time.Since(start); el > 900*time.Millisecond || len(srv.requests()) != 1 {
		t.Errorf("returned after %v and %d requests; want one request and an answer at once (a 1m wait cannot fit in 1s)", el, len(srv.requests()))
	}
}

func TestNewCIValidation(t *testing.T) {
	tests := []struct {
		name    string
		opts    CIOptions
		wantErr string
		wantURL string
	}{
		{"default endpoint", CIOptions{Bucket: "examplebucket-1250000000", Region: "ap-guangzhou"}, "", "https://examplebucket-1250000000.ci.ap-guangzhou.myqcloud.com"},
		{"override", CIOptions{Endpoint: "http://127.0.0.1:9100"}, "", "http://127.0.0.1:9100"},
		{"no bucket", CIOptions{Region: "ap-guangzhou"}, "needs a bucket", ""},
		{"no region", CIOptions{Bucket: "b-1250000000"}, "needs a bucket", ""},
		{"bucket without appid", CIOptions{Bucket: "examplebucket", Region: "ap-guangzhou"}, `ci bucket "examplebucket": want <name>-<appid>`, ""},
		{"uppercase bucket", CIOptions{Bucket: "Example-1250000000", Region: "ap-guangzhou"}, "want <name>-<appid>", ""},
		{"bucket with dot", CIOptions{Bucket: "a.b-1250000000", Region: "ap-guangzhou", Endpoint: "http://127.0.0.1:1"}, "want <name>-<appid>", ""},
		{"bad region", CIOptions{Bucket: "b-1250000000", Region: "guangzhou"}, `ci region "guangzhou"`, ""},
		{"region with host injection", CIOptions{Bucket: "b-1250000000", Region: "ap-guangzhou.evil.com/x"}, "ci region", ""},
		{"bad endpoint", CIOptions{Endpoint: "127.0.0.1:9100"}, "no scheme", ""},
		{"no signer", CIOptions{Endpoint: "http://127.0.0.1:9100"}, "needs CIOptions.Signer", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name != "no signer" {
				tt.opts.Signer = cossign.Transport
			}
			c, err := NewCI(testCred, tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || c.Endpoint() != tt.wantURL {
				t.Errorf("NewCI = %v, %v; want endpoint %s", c, err, tt.wantURL)
			}
		})
	}
	if _, err := NewCI(Credentials{}, CIOptions{Endpoint: "http://127.0.0.1:1", Signer: cossign.Transport}); err == nil {
		t.Error("NewCI accepted empty credentials")
	}
}

func TestCIRejectsBadJobIDBeforeCalling(t *testing.T) {
	srv := newStubServer(t, func(n int, w http.ResponseWriter, r recorded) { writeCIError(w, 500, "InternalError", "x", "r") })
	c := newTestCI(t, srv.URL)
	for _, id := range []string{"", " ", "a/b", "x?y"} {
		if _, err := c.CancelLiveAudit(context.Background(), id); !HasCode(err, "InvalidArgument") {
			t.Errorf("job id %q: err = %v, want InvalidArgument", id, err)
		}
	}
	if _, err := c.CreateLiveAudit(context.Background(), CreateLiveAuditRequest{}); !HasCode(err, "InvalidArgument") {
		t.Errorf("empty Url: err = %v", err)
	}
	if n := len(srv.requests()); n != 0 {
		t.Errorf("server saw %d requests, want 0", n)
	}
}

package emulator

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Tencent's "Signature v3" document (API 3.0, TC3-HMAC-SHA256) works one GET
// request through with the unmasked example key pair
// AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE / Gu5t9xGARNpq86cd98joQYCN3EXAMPLE,
// timestamp 1539084154, and publishes the hashed canonical request and the
// final signature.
func TestTC3PublishedGETExample(t *testing.T) {
	const (
		secretID  = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE"
		secretKey = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"
		timestamp = "1539084154"
		wantHash  = "91c9c192c14460df6c1ffc69e34e6c5e90708de2a6d282cccf957dbf1aa7f3a7"
		wantSig   = "5da7a33f6993f0614b047e5df4582db9e9bf4672ba50567dba16c6ccf174c474"
	)
	req := func(sig string) tc3Request {
		h := http.Header{}
		h.Set("Content-Type", "application/x-www-form-urlencoded")
		h.Set("X-TC-Action", "DescribeInstances")
		h.Set("X-TC-Timestamp", timestamp)
		h.Set("X-TC-Version", "2017-03-12")
		h.Set("X-TC-Region", "ap-guangzhou")
		h.Set("Authorization", "TC3-HMAC-SHA256 Credential="+secretID+"/2018-10-09/cvm/tc3_request, SignedHeaders=content-type;host, Signature="+sig)
		return tc3Request{Method: "GET", Path: "/", RawQuery: "Limit=10&Offset=0", Host: "cvm.tencentcloudapi.com", Header: h}
	}
	r := req(wantSig)
	if got := sha256Hex([]byte(canonicalRequest(r, []string{"content-type", "host"}, "content-type;host"))); got != wantHash {
		t.Fatalf("hashed canonical request = %s, want %s", got, wantHash)
	}
	if got := tc3Signature(secretKey, "2018-10-09", "cvm", timestamp, canonicalRequest(r, []string{"content-type", "host"}, "content-type;host")); got != wantSig {
		t.Fatalf("signature = %s, want %s", got, wantSig)
	}

	creds := map[string]Credential{secretID: {SecretID: secretID, SecretKey: secretKey}}
	signedAt := time.Unix(1539084154, 0)
	if _, _, err := verifyTC3(r, creds, signedAt.Add(time.Minute)); err != nil {
		t.Fatalf("published example rejected: %v", err)
	}
	for _, tc := range []struct {
		name  string
		r     tc3Request
		creds map[string]Credential
		now   time.Time
		code  string
	}{
		{"wrong key", r, map[string]Credential{secretID: {SecretID: secretID, SecretKey: "Gu5t9xGARNpq86cd98joQYCN3EXAMPLF"}}, signedAt, "AuthFailure.SignatureFailure"},
		{"tampered query", func() tc3Request { x := req(wantSig); x.RawQuery = "Limit=11&Offset=0"; return x }(), creds, signedAt, "AuthFailure.SignatureFailure"},
		{"tampered host", func() tc3Request { x := req(wantSig); x.Host = "cvm.evil.com"; return x }(), creds, signedAt, "AuthFailure.SignatureFailure"},
		{"tampered signature", req(strings.Replace(wantSig, "5", "6", 1)), creds, signedAt, "AuthFailure.SignatureFailure"},
		{"5m01s late", r, creds, signedAt.Add(5*time.Minute + time.Second), "AuthFailure.SignatureExpire"},
		{"5m01s early", r, creds, signedAt.Add(-5*time.Minute - time.Second), "AuthFailure.SignatureExpire"},
		{"exactly 5m late", r, creds, signedAt.Add(5 * time.Minute), ""},
		{"unknown SecretId", r, map[string]Credential{"AKIDother": {SecretID: "AKIDother", SecretKey: secretKey}}, signedAt, "AuthFailure.SecretIdNotFound"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := verifyTC3(tc.r, tc.creds, tc.now)
			got := ""
			if err != nil {
				got = err.Code
			}
			if got != tc.code {
				t.Fatalf("code = %q (%v), want %q", got, err, tc.code)
			}
		})
	}
}

// The current version of the document works a POST through (payload
// {"Limit": 1, "Filters": [...]}, signed headers content-type;host;x-tc-action,
// header values lower-cased) but masks the SecretKey, so its final signature
// cannot be reproduced; its published intermediate values can.
func TestTC3PublishedPOSTExampleIntermediates(t *testing.T) {
	body := []byte(`{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}`)
	if got, want := sha256Hex(body), "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"; got != want {
		t.Fatalf("hashed payload = %s, want %s", got, want)
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-TC-Action", "DescribeInstances")
	r := tc3Request{Method: "POST", Path: "/", Host: "cvm.tencentcloudapi.com", Header: h, Body: body}
	canonical := canonicalRequest(r, []string{"content-type", "host", "x-tc-action"}, "content-type;host;x-tc-action")
	if got, want := sha256Hex([]byte(canonical)), "7019a55be8395899b900fb5564e4200d984910f34794a27cb3fb7d10ff6a1e84"; got != want {
		t.Fatalf("hashed canonical request = %s, want %s\n%s", got, want, canonical)
	}
}

// rawRequest signs a POST the way the SDK does (optionally with extra signed
// headers) so tests can break one piece at a time.
type rawRequest struct {
	service, action, version, region, secretID, secretKey, token string
	contentType                                                  string
	body                                                         string
	timestamp                                                    time.Time
	signedHeaders                                                []string // default content-type, host
	authorization                                                *string  // override
	omit                                                         []string // headers to leave out
}

func (e *env) do(t testing.TB, rr rawRequest) (int, http.Header, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(e.build(t, rr))
	if err != nil {
		t.Fatalf("do: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// build returns the signed request rr describes.
func (e *env) build(t testing.TB, rr rawRequest) *http.Request {
	t.Helper()
	if rr.version == "" {
		rr.version = versions[rr.service]
	}
	if rr.secretID == "" {
		rr.secretID, rr.secretKey = DefaultSecretID, DefaultSecretKey
	}
	if rr.contentType == "" {
		rr.contentType = "application/json"
	}
	if rr.timestamp.IsZero() {
		rr.timestamp = time.Now()
	}
	if rr.body == "" {
		rr.body = "{}"
	}
	if rr.signedHeaders == nil {
		rr.signedHeaders = []string{"content-type", "host"}
	}
	req, err := http.NewRequest(http.MethodPost, e.ts.URL+"/", strings.NewReader(rr.body))
	if err != nil {
		t.Fatal(err)
	}
	ts := strconv.FormatInt(rr.timestamp.Unix(), 10)
	set := map[string]string{
		"Content-Type": rr.contentType, "X-TC-Action": rr.action, "X-TC-Version": rr.version,
		"X-TC-Timestamp": ts, "X-TC-Region": rr.region, "X-TC-Token": rr.token,
	}
	for k, v := range set {
		if v != "" && !slices.Contains(rr.omit, k) {
			req.Header.Set(k, v)
		}
	}
	date := rr.timestamp.UTC().Format("2006-01-02")
	sh := strings.Join(rr.signedHeaders, ";")
	canonical := canonicalRequest(tc3Request{Method: "POST", Path: "/", Host: req.Host, Header: req.Header, Body: []byte(rr.body)}, rr.signedHeaders, sh)
	sig := tc3Signature(rr.secretKey, date, rr.service, ts, canonical)
	auth := "TC3-HMAC-SHA256 Credential=" + rr.secretID + "/" + date + "/" + rr.service + "/tc3_request, SignedHeaders=" + sh + ", Signature=" + sig
	if rr.authorization != nil {
		auth = *rr.authorization
	}
	if !slices.Contains(rr.omit, "Authorization") {
		req.Header.Set("Authorization", auth)
	}
	return req
}

func apiErrorCode(t testing.TB, body []byte) string {
	t.Helper()
	var r struct {
		Response struct {
			Error     struct{ Code, Message string }
			RequestId string
		}
	}
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("body %q is not JSON: %v", body, err)
	}
	if !uuidRE.MatchString(r.Response.RequestId) {
		t.Fatalf("RequestId %q in %s", r.Response.RequestId, body)
	}
	return r.Response.Error.Code
}

func TestAPI3RequestChecks(t *testing.T) {
	e := newEnv(t, Options{})
	str := func(s string) *string { return &s }
	for _, tc := range []struct {
		name string
		rr   rawRequest
		code string
	}{
		{"ok", rawRequest{service: "ams", action: "DescribeTasks"}, ""},
		{"extra signed header, value lower-cased", rawRequest{service: "ams", action: "DescribeTasks", signedHeaders: []string{"content-type", "host", "x-tc-action"}}, ""},
		{"charset in content type", rawRequest{service: "vm", action: "DescribeTasks", contentType: "application/json; charset=utf-8"}, ""},
		{"no Authorization", rawRequest{service: "ams", action: "DescribeTasks", omit: []string{"Authorization"}}, "MissingParameter"},
		{"no timestamp", rawRequest{service: "ams", action: "DescribeTasks", omit: []string{"X-TC-Timestamp"}}, "MissingParameter"},
		{"no action", rawRequest{service: "ams", action: "DescribeTasks", omit: []string{"X-TC-Action"}}, "MissingParameter"},
		{"no version", rawRequest{service: "ams", action: "DescribeTasks", omit: []string{"X-TC-Version"}}, "MissingParameter"},
		{"wrong version", rawRequest{service: "ams", action: "DescribeTasks", version: "2019-01-01"}, "NoSuchVersion"},
		{"trtc version on ams", rawRequest{service: "ams", action: "CancelTask", version: "2019-07-22"}, "NoSuchVersion"},
		{"unknown service", rawRequest{service: "cvm", action: "DescribeInstances", version: "2017-03-12"}, "InvalidAction"},
		{"unknown action", rawRequest{service: "vm", action: "DescribeInstances"}, "InvalidAction"},
		{"HmacSHA1 authorization", rawRequest{service: "ams", action: "DescribeTasks", authorization: str("HmacSHA1 abc")}, "AuthFailure.InvalidAuthorization"},
		{"garbled credential", rawRequest{service: "ams", action: "DescribeTasks", authorization: str("TC3-HMAC-SHA256 Credential=x, SignedHeaders=host, Signature=00")}, "AuthFailure.InvalidAuthorization"},
		{"host not signed", rawRequest{service: "ams", action: "DescribeTasks", signedHeaders: []string{"content-type"}}, "AuthFailure.SignatureFailure"},
		{"stale", rawRequest{service: "ams", action: "DescribeTasks", timestamp: time.Now().Add(-10 * time.Minute)}, "AuthFailure.SignatureExpire"},
		{"future", rawRequest{service: "ams", action: "DescribeTasks", timestamp: time.Now().Add(10 * time.Minute)}, "AuthFailure.SignatureExpire"},
		{"wrong key", rawRequest{service: "ams", action: "DescribeTasks", secretID: DefaultSecretID, secretKey: "x"}, "AuthFailure.SignatureFailure"},
		{"form content type", rawRequest{service: "ams", action: "DescribeTasks", contentType: "application/x-www-form-urlencoded"}, "UnsupportedOperation"},
		{"body not JSON", rawRequest{service: "ams", action: "DescribeTasks", body: "[1,2]"}, "InvalidParameter"},
		{"trailing garbage", rawRequest{service: "ams", action: "DescribeTasks", body: `{"Limit":1} x`}, "InvalidParameter"},
		{"trailing ]", rawRequest{service: "ams", action: "DescribeTasks", body: `{"Limit":1}]`}, "InvalidParameter"},
		{"trailing }", rawRequest{service: "ams", action: "DescribeTasks", body: `{"Limit":1}}`}, "InvalidParameter"},
		{"two objects", rawRequest{service: "ams", action: "DescribeTasks", body: `{"Limit":1}{}`}, "InvalidParameter"},
		{"null", rawRequest{service: "ams", action: "DescribeTasks", body: `null`}, "InvalidParameter"},
		{"trtc without region", rawRequest{service: "trtc", action: "DescribeCloudTranscription"}, "MissingParameter"},
		{"trtc bad region", rawRequest{service: "trtc", action: "DescribeCloudTranscription", region: "na-ashburn"}, "UnsupportedRegion"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, hdr, body := e.do(t, tc.rr)
			if status != http.StatusOK {
				t.Fatalf("HTTP %d, want 200 (Tencent answers errors with 200): %s", status, body)
			}
			if got := apiErrorCode(t, body); got != tc.code {
				t.Fatalf("code = %q, want %q: %s", got, tc.code, body)
			}
			if !uuidRE.MatchString(hdr.Get("X-TC-RequestId")) {
				t.Fatalf("X-TC-RequestId header = %q", hdr.Get("X-TC-RequestId"))
			}
			if bytes.Contains(body, []byte(DefaultSecretKey)) {
				t.Fatal("response contains the secret key")
			}
		})
	}
	// Only requests that pass authentication, the header checks and the body
	// check (one JSON object, read before the policy check) reach an action's
	// counters: ok, extra signed header.
	if st := e.srv.Stats().Actions["ams.DescribeTasks"]; st.Requests != 2 {
		t.Fatalf("ams.DescribeTasks Requests = %d, want 2", st.Requests)
	}
}

func TestAPI3OtherMethods(t *testing.T) {
	e := newEnv(t, Options{})
	req, _ := http.NewRequest(http.MethodPut, e.ts.URL+"/", strings.NewReader("{}"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if code := apiErrorCode(t, b); code != "UnsupportedProtocol" {
		t.Fatalf("PUT: code %q", code)
	}
}

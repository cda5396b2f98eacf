package emulator

import (
	"context"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	cos "github.com/tencentyun/cos-go-sdk-v5"
)

// cosClient is an official cos-go-sdk-v5 client aimed at the emulator, with
// inner as the transport under the signer (nil = default).
func (e *env) cosClient(t testing.TB, id, key, token string, inner http.RoundTripper) (*cos.Client, *http.Client) {
	t.Helper()
	u, err := url.Parse(e.ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Transport: &cos.AuthorizationTransport{SecretID: id, SecretKey: key, SessionToken: token, Transport: inner}}
	return cos.NewClient(&cos.BaseURL{CIURL: u}, hc), hc
}

func cosCode(t testing.TB, err error) (int, string) {
	t.Helper()
	if err == nil {
		return 200, ""
	}
	var er *cos.ErrorResponse
	if !errors.As(err, &er) {
		t.Fatalf("error %v (%T) is not a cos.ErrorResponse", err, err)
	}
	return er.Response.StatusCode, er.Code
}

var ciTimeRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0800$`)

func TestCISDK(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	c, hc := e.cosClient(t, DefaultSecretID, DefaultSecretKey, "", nil)

	created, _, err := c.CI.PutVideoAuditingJob(ctx, &cos.PutVideoAuditingJobOptions{
		Type: "live_video", InputUrl: "rtmp://live.example.com/app/s1", InputDataId: "room-1",
		Conf: &cos.VideoAuditingJobConf{BizType: "biz", Callback: "https://cb.example.com"},
	})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	id := created.JobsDetail.JobId
	if !strings.HasPrefix(id, "av") || len(id) != 34 || created.JobsDetail.State != LiveSubmitted ||
		!ciTimeRE.MatchString(created.JobsDetail.CreationTime) || !uuidRE.MatchString(created.RequestId) {
		t.Fatalf("create = %+v", created)
	}

	got, _, err := c.CI.GetVideoAuditingJob(ctx, id)
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if got.JobsDetail.JobId != id || got.JobsDetail.DataId != "room-1" || got.JobsDetail.State != LiveSubmitted ||
		got.JobsDetail.Url != "rtmp://live.example.com/app/s1" {
		t.Fatalf("get = %+v", got.JobsDetail)
	}
	e.clock.Advance(DefaultPendingFor)
	got, _, _ = c.CI.GetVideoAuditingJob(ctx, id)
	if got.JobsDetail.State != LiveAuditing {
		t.Fatalf("state after PendingFor = %s", got.JobsDetail.State)
	}
	e.clock.Advance(1000 * time.Hour) // live jobs never end by themselves
	got, _, _ = c.CI.GetVideoAuditingJob(ctx, id)
	if got.JobsDetail.State != LiveAuditing {
		t.Fatalf("state after 1000h = %s", got.JobsDetail.State)
	}

	cancelled, _, err := c.CI.PostVideoAuditingCancelJob(ctx, id)
	if err != nil {
		t.Fatalf("cancel: %v", err)
	}
	if cancelled.JobsDetail.JobId != id || cancelled.JobsDetail.CreationTime != created.JobsDetail.CreationTime {
		t.Fatalf("cancel = %+v", cancelled)
	}
	if j := e.srv.LiveJobs(); len(j) != 1 || j[0].State != LiveCancelled {
		t.Fatalf("jobs after cancel = %+v", j)
	}
	if code, name := cosCode(t, second(c.CI.PostVideoAuditingCancelJob(ctx, id))); code != 400 || name != "FailedOperation" {
		t.Fatalf("second cancel: %d %s", code, name)
	}
	if code, name := cosCode(t, second(c.CI.PostVideoAuditingCancelJob(ctx, "avnope"))); code != 404 || name != "ResourceNotFound" {
		t.Fatalf("unknown cancel: %d %s", code, name)
	}
	if code, name := cosCode(t, second(c.CI.GetVideoAuditingJob(ctx, "avnope"))); code != 404 || name != "ResourceNotFound" {
		t.Fatalf("unknown get: %d %s", code, name)
	}
	if code, name := cosCode(t, second(c.CI.PutVideoAuditingJob(ctx, &cos.PutVideoAuditingJobOptions{InputUrl: "https://x/v.mp4"}))); code != 400 || name != "InvalidArgument" {
		t.Fatalf("non-live create: %d %s", code, name)
	}
	if code, name := cosCode(t, second(c.CI.PutVideoAuditingJob(ctx, &cos.PutVideoAuditingJobOptions{Type: "live_video"}))); code != 400 || name != "InvalidArgument" {
		t.Fatalf("create without Url: %d %s", code, name)
	}

	// The exact cancel response shape, read raw through the official signer.
	j := e.srv.AddLiveJob(LiveJob{DataId: "room-2", Url: "rtmp://x/2"})
	req, _ := http.NewRequest(http.MethodPost, e.ts.URL+"/video/cancel_auditing/"+j.JobId, nil)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/xml" {
		t.Fatalf("raw cancel: %d %s", resp.StatusCode, body)
	}
	var shape struct {
		XMLName    xml.Name `xml:"Response"`
		JobsDetail struct {
			Inner []struct {
				XMLName xml.Name
				Text    string `xml:",chardata"`
			} `xml:",any"`
		} `xml:"JobsDetail"`
		RequestId string `xml:"RequestId"`
	}
	if err := xml.Unmarshal(body, &shape); err != nil {
		t.Fatalf("cancel body %s: %v", body, err)
	}
	var names []string
	for _, el := range shape.JobsDetail.Inner {
		names = append(names, el.XMLName.Local+"="+el.Text)
	}
	// The doc's DataId, JobId, CreationTime, and the State and Url that
	// cos-go-sdk-v5 decodes the answer into.
	want := []string{"DataId=room-2", "JobId=" + j.JobId, "State=Cancelled", "CreationTime=" + fmtCITime(j.CreationTime), "Url=rtmp://x/2"}
	if strings.Join(names, ",") != strings.Join(want, ",") || !uuidRE.MatchString(shape.RequestId) {
		t.Fatalf("cancel body = %s", body)
	}
}

func second[A, B any](_ A, _ B, err error) error { return err }

// tamper changes a request after it was signed.
type tamper func(*http.Request)

func (f tamper) RoundTrip(r *http.Request) (*http.Response, error) {
	f(r)
	return http.DefaultTransport.RoundTrip(r)
}

func TestCIAuth(t *testing.T) {
	authClock := newFakeClock()
	e := newEnv(t, Options{AuthNow: authClock.Now, Credentials: []Credential{
		{SecretID: DefaultSecretID, SecretKey: DefaultSecretKey},
		{SecretID: "AKIDTOKEN", SecretKey: "token-key", Token: "good-token"},
	}})
	j := e.srv.AddLiveJob(LiveJob{DataId: "d"})
	get := func(c *cos.Client) (int, string) {
		return cosCode(t, second(c.CI.GetVideoAuditingJob(context.Background(), j.JobId)))
	}
	client := func(id, key, token string, inner http.RoundTripper) *cos.Client {
		c, _ := e.cosClient(t, id, key, token, inner)
		return c
	}
	for _, tc := range []struct {
		name   string
		c      *cos.Client
		status int
		code   string
	}{
		{"ok", client(DefaultSecretID, DefaultSecretKey, "", nil), 200, ""},
		{"wrong key", client(DefaultSecretID, "wrong", "", nil), 403, "SignatureDoesNotMatch"},
		{"unknown SecretId", client("AKIDNOBODY", DefaultSecretKey, "", nil), 403, "InvalidAccessKeyId"},
		{"wrong token", client("AKIDTOKEN", "token-key", "bad-token", nil), 403, "AccessDenied"},
		{"missing token", client("AKIDTOKEN", "token-key", "", nil), 403, "AccessDenied"},
		{"right token", client("AKIDTOKEN", "token-key", "good-token", nil), 200, ""},
		// Only what q-url-param-list and q-header-list name is checked.
		{"unsigned query parameter added", client(DefaultSecretID, DefaultSecretKey, "", tamper(func(r *http.Request) { r.URL.RawQuery = "detail=2" })), 200, ""},
		{"unsigned x-cos header added", client(DefaultSecretID, DefaultSecretKey, "", tamper(func(r *http.Request) { r.Header.Set("X-Cos-Meta-A", "b") })), 200, ""},
		{"host tampered", client(DefaultSecretID, DefaultSecretKey, "", tamper(func(r *http.Request) { r.Host = "other.example.com" })), 403, "SignatureDoesNotMatch"},
		{"unsigned header added", client(DefaultSecretID, DefaultSecretKey, "", tamper(func(r *http.Request) { r.Header.Set("User-Agent", "x") })), 200, ""},
		{"no Authorization", client("", "", "", nil), 403, "AccessDenied"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if status, code := get(tc.c); status != tc.status || code != tc.code {
				t.Fatalf("got %d %q, want %d %q", status, code, tc.status, tc.code)
			}
		})
	}

	// Signed query parameters and signed x-cos- headers are honoured: sign a
	// request that carries both, then change each.
	signedReq := func(mut func(*http.Request)) (int, string) {
		_, hc := e.cosClient(t, DefaultSecretID, DefaultSecretKey, "", tamper(mut))
		req, _ := http.NewRequest(http.MethodGet, e.ts.URL+"/video/auditing/"+j.JobId+"?detail=1", nil)
		req.Header.Set("x-cos-meta-a", "1")
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var eb ciErrorBody
		b, _ := io.ReadAll(resp.Body)
		_ = xml.Unmarshal(b, &eb)
		return resp.StatusCode, eb.Code
	}
	if s, c := signedReq(func(*http.Request) {}); s != 200 {
		t.Fatalf("signed param+header: %d %s", s, c)
	}
	if s, c := signedReq(func(r *http.Request) { r.URL.RawQuery = "detail=2" }); s != 403 || c != "SignatureDoesNotMatch" {
		t.Fatalf("param changed: %d %s", s, c)
	}
	if s, c := signedReq(func(r *http.Request) { r.Header.Set("x-cos-meta-a", "2") }); s != 403 || c != "SignatureDoesNotMatch" {
		t.Fatalf("signed header changed: %d %s", s, c)
	}

	// cos-go-sdk-v5 signs for one hour from the real time.
	authClock.Advance(time.Hour + time.Minute)
	if status, code := get(client(DefaultSecretID, DefaultSecretKey, "", nil)); status != 403 || code != "AccessDenied" {
		t.Fatalf("expired signature: %d %s", status, code)
	}
	authClock.Advance(-time.Hour - 10*time.Minute) // server 9 minutes behind the signer
	if status, code := get(client(DefaultSecretID, DefaultSecretKey, "", nil)); status != 403 || code != "RequestTimeTooSkewed" {
		t.Fatalf("signature from the future: %d %s", status, code)
	}
}

func TestCIRoutes(t *testing.T) {
	e := newEnv(t, Options{})
	_, hc := e.cosClient(t, DefaultSecretID, DefaultSecretKey, "", nil)
	for _, tc := range []struct {
		method, path string
		status       int
		code         string
	}{
		{http.MethodDelete, "/video/auditing/av1", 405, "MethodNotAllowed"},
		{http.MethodGet, "/video/cancel_auditing/av1", 405, "MethodNotAllowed"},
		{http.MethodGet, "/video/other", 404, "ResourceNotFound"},
		{http.MethodGet, "/video/auditing/", 400, "InvalidArgument"},
		{http.MethodPost, "/video/auditing", 400, "InvalidArgument"}, // empty body
	} {
		req, _ := http.NewRequest(tc.method, e.ts.URL+tc.path, nil)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var eb ciErrorBody
		if err := xml.Unmarshal(b, &eb); err != nil || resp.StatusCode != tc.status || eb.Code != tc.code || !uuidRE.MatchString(eb.RequestId) {
			t.Fatalf("%s %s: %d %s", tc.method, tc.path, resp.StatusCode, b)
		}
	}
}

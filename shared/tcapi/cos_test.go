package tcapi_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/emulator"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
	"github.com/scf-janitor/scf-janitor/shared/tcapi/cossign"
)

// secretCred are keys whose secret parts must never show in an error.
var secretCred = tcapi.Credentials{SecretID: "AKIDcos", SecretKey: "cos-secret-key-value", Token: "cos-session-token-value"}

func newTestCOS(t *testing.T, cred tcapi.Credentials, bucket, endpoint string) *tcapi.COS {
	t.Helper()
	c, err := tcapi.NewCOS(cred, tcapi.COSOptions{Bucket: bucket, Region: "ap-guangzhou", Endpoint: endpoint,
		Limiters: tcapi.NewLimiters(1000, 10), BaseDelay: time.Millisecond, Signer: cossign.Transport})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestEmulatorCOSPutObject: the client writes an object the emulator
// stores under the key, in the bucket its Host names (signed, with the
// session token), with the Content-Type given; a bucket that does not exist
// is NoSuchBucket, not retried.
func TestEmulatorCOSPutObject(t *testing.T) {
	emu, endpoint := startEmulator(t, emulator.Options{})
	emu.CreateBucket(emulator.Bucket{Name: "reports-1250000000", Region: "ap-guangzhou"})
	ctx := context.Background()
	c := newTestCOS(t, emuCred, "reports-1250000000", endpoint)
	res, err := c.PutObject(ctx, "scf-janitor/sweeps/2026/12/07/20261207T231541Z-r1.json", []byte(`{"DryRun":true}`), "application/json")
	if err != nil {
		t.Fatal(err)
	}
	o, body, ok := emu.COSObjectBody("reports-1250000000", "scf-janitor/sweeps/2026/12/07/20261207T231541Z-r1.json")
	if !ok || string(body) != `{"DryRun":true}` || o.ContentType != "application/json" || res.ETag != o.ETag || res.RequestID == "" {
		t.Fatalf("stored %+v %s (%v), answer %+v", o, body, ok, res)
	}

	_, err = newTestCOS(t, emuCred, "nosuch-1250000000", endpoint).PutObject(ctx, "k.json", []byte("{}"), "application/json")
	var te *tcapi.Error
	if !errors.As(err, &te) || te.Code != "NoSuchBucket" || te.HTTPStatus != http.StatusNotFound || te.Attempts != 1 {
		t.Fatalf("PutObject to a missing bucket: %v (%+v), want NoSuchBucket after one attempt", err, te)
	}
}

// TestCOSPutObjectRequest: what goes on the wire (a loopback endpoint keeps
// the bucket's host; the token travels in x-cos-security-token and is
// signed), a 5xx is retried, and an error never shows the secret key or
// token.
func TestCOSPutObjectRequest(t *testing.T) {
	var n atomic.Int32
	var failAll atomic.Bool
	var got *http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 || failAll.Load() {
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`<Error><Code>InternalError</Code><Message>key ` + secretCred.SecretKey + `</Message></Error>`))
			return
		}
		got = r.Clone(context.Background())
		w.Header().Set("ETag", `"abc"`)
	}))
	defer srv.Close()
	c := newTestCOS(t, secretCred, "reports-1250000000", srv.URL)
	if _, err := c.PutObject(context.Background(), "a/b.json", []byte("{}"), "application/json"); err != nil {
		t.Fatal(err)
	}
	if n.Load() != 2 || got.Method != http.MethodPut || got.URL.Path != "/a/b.json" || got.Host != "reports-1250000000.cos.ap-guangzhou.myqcloud.com" ||
		got.Header.Get("Content-Type") != "application/json" || got.Header.Get("x-cos-security-token") != secretCred.Token ||
		!strings.Contains(got.Header.Get("Authorization"), "x-cos-security-token") {
		t.Fatalf("%d requests; last %s %s Host %s headers %v", n.Load(), got.Method, got.URL.Path, got.Host, got.Header)
	}

	failAll.Store(true)
	_, err := c.PutObject(context.Background(), "a/b.json", []byte("{}"), "application/json")
	if err == nil || strings.Contains(err.Error(), secretCred.SecretKey) || !strings.Contains(err.Error(), "InternalError") {
		t.Fatalf("error %v: want InternalError without the secret key", err)
	}
}

func TestNewCOSRefuses(t *testing.T) {
	tests := []struct {
		name string
		opts tcapi.COSOptions
		want string
	}{
		{"no signer", tcapi.COSOptions{Bucket: "b-1250000000", Region: "ap-guangzhou"}, "Signer"},
		{"bucket without appid", tcapi.COSOptions{Bucket: "reports", Region: "ap-guangzhou", Signer: cossign.Transport}, "<name>-<appid>"},
		{"bad region", tcapi.COSOptions{Bucket: "b-1250000000", Region: "Guangzhou", Signer: cossign.Transport}, "region"},
		{"endpoint with a path", tcapi.COSOptions{Bucket: "b-1250000000", Region: "ap-guangzhou", Endpoint: "http://127.0.0.1:1/x", Signer: cossign.Transport}, "path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tcapi.NewCOS(emuCred, tt.opts); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewCOS: %v, want an error about %s", err, tt.want)
			}
		})
	}
	if app, err := tcapi.ParseBucket("my-reports-1250000000"); err != nil || app != "1250000000" {
		t.Errorf("ParseBucket: %q %v", app, err)
	}
}

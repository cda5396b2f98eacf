package emulator

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	cos "github.com/tencentyun/cos-go-sdk-v5"
)

// hostAs sends every request with Host set to host (before the signer signs
// it), as a client pointed at the emulator but addressing a bucket does.
type hostAs struct {
	host string
	next http.RoundTripper
}

func (h hostAs) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Host = h.host
	return h.next.RoundTrip(r)
}

func (e *env) bucketClient(t *testing.T, bucket, region string) *cos.Client {
	t.Helper()
	u, err := url.Parse(e.ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	signer := &cos.AuthorizationTransport{SecretID: DefaultSecretID, SecretKey: DefaultSecretKey}
	return cos.NewClient(&cos.BaseURL{CIURL: u}, &http.Client{Transport: hostAs{host: bucket + ".ci." + region + ".myqcloud.com", next: signer}})
}

// TestCIBuckets: CI jobs belong to the bucket whose host created them; an
// unknown bucket is NoSuchBucket; the inspection API shows each job's bucket.
func TestCIBuckets(t *testing.T) {
	e := newEnv(t, Options{Buckets: []Bucket{{"one-1250000000", "ap-guangzhou"}, {"two-1250000000", "ap-shanghai"}}})
	ctx := context.Background()
	one, two := e.bucketClient(t, "one-1250000000", "ap-guangzhou"), e.bucketClient(t, "two-1250000000", "ap-shanghai")

	created, _, err := one.CI.PutVideoAuditingJob(ctx, &cos.PutVideoAuditingJobOptions{Type: "live_video", InputUrl: "rtmp://x/y"})
	if err != nil {
		t.Fatal(err)
	}
	id := created.JobsDetail.JobId

	for _, tt := range []struct {
		name   string
		client *cos.Client
		status int
		code   string
	}{
		{"another bucket does not see the job", two, http.StatusNotFound, "ResourceNotFound"},
		{"unknown bucket", e.bucketClient(t, "nope-1250000000", "ap-guangzhou"), http.StatusNotFound, "NoSuchBucket"},
		{"the bucket in another region", e.bucketClient(t, "one-1250000000", "ap-beijing"), http.StatusNotFound, "NoSuchBucket"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := tt.client.CI.GetVideoAuditingJob(ctx, id)
			if status, code := cosCode(t, err); status != tt.status || code != tt.code {
				t.Errorf("get: %d %s, want %d %s", status, code, tt.status, tt.code)
			}
			_, _, err = tt.client.CI.PostVideoAuditingCancelJob(ctx, id)
			if status, code := cosCode(t, err); status != tt.status || code != tt.code {
				t.Errorf("cancel: %d %s, want %d %s", status, code, tt.status, tt.code)
			}
		})
	}
	if _, _, err := one.CI.PostVideoAuditingCancelJob(ctx, id); err != nil {
		t.Fatalf("cancel in its own bucket: %v", err)
	}

	status, body := e.inspect(t, http.MethodGet, "/_emulator/live-jobs", "")
	var jobs []LiveJob
	if status != 200 || json.Unmarshal(body, &jobs) != nil || len(jobs) != 1 || jobs[0].Bucket != "one-1250000000" || jobs[0].Region != "ap-guangzhou" {
		t.Fatalf("live jobs %d %s: want the job with its bucket and region", status, body)
	}
	// Added without a bucket: reachable from any bucket.
	status, body = e.inspect(t, http.MethodPost, "/_emulator/live-jobs", `{"Url":"rtmp://a/b"}`)
	var added LiveJob
	if status != http.StatusCreated || json.Unmarshal(body, &added) != nil || added.Bucket != "" {
		t.Fatalf("%d %s", status, body)
	}
	if _, _, err := two.CI.GetVideoAuditingJob(ctx, added.JobId); err != nil {
		t.Errorf("a job added without a bucket, from bucket two: %v", err)
	}
	// Demo jobs are in the default bucket.
	e.srv.LoadDemo()
	for _, j := range e.srv.LiveJobs() {
		if j.JobId != id && j.JobId != added.JobId && (j.Bucket != DefaultBucket || j.Region != DefaultBucketRegion) {
			t.Errorf("demo job %s in %s/%s, want %s/%s", j.JobId, j.Bucket, j.Region, DefaultBucket, DefaultBucketRegion)
		}
	}
}

func TestCIAnyBucketByDefault(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	if _, _, err := e.bucketClient(t, "whatever-1250000000", "ap-beijing").CI.PutVideoAuditingJob(ctx,
		&cos.PutVideoAuditingJobOptions{Type: "live_video", InputUrl: "rtmp://x/y"}); err != nil {
		t.Fatalf("without Options.Buckets every bucket exists: %v", err)
	}
}

func TestInspectIndexAndBadQueries(t *testing.T) {
	e := newEnv(t, Options{})
	status, body := e.inspect(t, http.MethodGet, "/_emulator/", "")
	var idx struct{ Endpoints []string }
	if status != 200 || json.Unmarshal(body, &idx) != nil || strings.Contains(string(body), `\u0026`) {
		t.Fatalf("GET /_emulator/: %d %s", status, body)
	}
	// Every inspection path the emulator serves is listed.
	listed := strings.Join(idx.Endpoints, "\n")
	for _, p := range []string{"/_emulator/tasks", "/_emulator/live-jobs", "/_emulator/transcriptions", "/_emulator/stats", "/_emulator/faults",
		"/_emulator/demo", "/_emulator/functions", "/_emulator/roles", "/_emulator/policies", "/_emulator/fail-next", "/_emulator/notifications",
		"/_emulator/accounts", "/_emulator/role-credentials"} {
		if !strings.Contains(listed, p) {
			t.Errorf("GET /_emulator/ does not list %s:\n%s", p, listed)
		}
		if status, body := e.inspect(t, http.MethodGet, p, ""); status == http.StatusNotFound {
			t.Errorf("GET %s: 404 %s, yet it is listed (a POST-only path answers 405)", p, body)
		}
	}
	for _, q := range []string{"?service=foo", "?status=DONE", "?service=ams&status=running"} {
		status, body := e.inspect(t, http.MethodGet, "/_emulator/tasks"+q, "")
		if status != http.StatusBadRequest || !strings.Contains(string(body), "want") {
			t.Errorf("%s: %d %s, want 400 saying what is accepted", q, status, body)
		}
	}
	if status, _ := e.inspect(t, http.MethodGet, "/_emulator/tasks?service=vm&status=RUNNING", ""); status != 200 {
		t.Errorf("a valid query got %d", status)
	}
}

package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	cos "github.com/tencentyun/cos-go-sdk-v5"
)

// cosBucketClient is cos-go-sdk-v5 aimed at the emulator, addressing bucket
// by its COS host, signed with the given keys.
func (e *env) cosBucketClient(t *testing.T, bucket, region, id, key, token string) *cos.Client {
	t.Helper()
	u, err := url.Parse(e.ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	signer := &cos.AuthorizationTransport{SecretID: id, SecretKey: key, SessionToken: token}
	return cos.NewClient(&cos.BaseURL{BucketURL: u}, &http.Client{Transport: hostAs{host: bucket + ".cos." + region + ".myqcloud.com", next: signer}})
}

// TestCOSObjects: through cos-go-sdk-v5, a bucket is created, objects are
// written, read back with their Content-Type and listed as the SDK decodes
// a ListBucketResult (prefix, delimiter, max-keys and marker paging); a
// bucket that does not exist, or one addressed in another region, is
// NoSuchBucket; a missing key NoSuchKey; a bad signature is refused.
func TestCOSObjects(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	const bucket, region = "reports-1250000000", "ap-guangzhou"
	c := e.cosBucketClient(t, bucket, region, DefaultSecretID, DefaultSecretKey, "")
	if _, err := c.Bucket.Put(ctx, nil); err != nil {
		t.Fatalf("PUT Bucket: %v", err)
	}
	if _, err := c.Bucket.Put(ctx, nil); err == nil {
		t.Error("PUT Bucket twice: want BucketAlreadyExists")
	}
	keys := []string{"s/2026/12/07/a.json", "s/2026/12/07/b.json", "s/2026/12/08/c.json", "t/other.json"}
	for _, k := range keys {
		_, err := c.Object.Put(ctx, k, strings.NewReader(`{"key":"`+k+`"}`), &cos.ObjectPutOptions{
			ObjectPutHeaderOptions: &cos.ObjectPutHeaderOptions{ContentType: "application/json"}})
		if err != nil {
			t.Fatalf("PUT Object %s: %v", k, err)
		}
	}
	resp, err := c.Object.Get(ctx, keys[1], nil)
	if err != nil {
		t.Fatalf("GET Object: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != `{"key":"`+keys[1]+`"}` || resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("ETag") == "" {
		t.Errorf("GET Object: %s %v", body, resp.Header)
	}

	tests := []struct {
		name         string
		opt          cos.BucketGetOptions
		wantKeys     []string
		wantPrefixes []string
		truncated    bool
	}{
		{"everything", cos.BucketGetOptions{}, keys, nil, false},
		{"prefix", cos.BucketGetOptions{Prefix: "s/2026/12/07/"}, keys[:2], nil, false},
		{"delimiter rolls up days", cos.BucketGetOptions{Prefix: "s/2026/12/", Delimiter: "/"}, nil, []string{"s/2026/12/07/", "s/2026/12/08/"}, false},
		{"max-keys", cos.BucketGetOptions{MaxKeys: 2}, keys[:2], nil, true},
		{"after a marker", cos.BucketGetOptions{Marker: keys[1]}, keys[2:], nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, _, err := c.Bucket.Get(ctx, &tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, o := range res.Contents {
				got = append(got, o.Key)
				if o.Size == 0 || o.ETag == "" || o.LastModified == "" {
					t.Errorf("object %+v: want its size, ETag and LastModified", o)
				}
			}
			if strings.Join(got, ",") != strings.Join(tt.wantKeys, ",") || strings.Join(res.CommonPrefixes, ",") != strings.Join(tt.wantPrefixes, ",") ||
				res.IsTruncated != tt.truncated || res.Name != bucket {
				t.Errorf("list %+v = keys %v prefixes %v truncated %v (name %s), want %v %v %v", tt.opt, got, res.CommonPrefixes, res.IsTruncated, res.Name,
					tt.wantKeys, tt.wantPrefixes, tt.truncated)
			}
			if tt.truncated && res.NextMarker != got[len(got)-1] {
				t.Errorf("NextMarker %q, want the last key listed", res.NextMarker)
			}
		})
	}

	for _, tt := range []struct {
		name   string
		client *cos.Client
		key    string
		status int
		code   string
	}{
		{"no such bucket", e.cosBucketClient(t, "nosuch-1250000000", region, DefaultSecretID, DefaultSecretKey, ""), "x.json", http.StatusNotFound, "NoSuchBucket"},
		{"the bucket in another region", e.cosBucketClient(t, bucket, "ap-beijing", DefaultSecretID, DefaultSecretKey, ""), "x.json", http.StatusNotFound, "NoSuchBucket"},
		{"bad signature", e.cosBucketClient(t, bucket, region, DefaultSecretID, "wrong-key", ""), "x.json", http.StatusForbidden, "SignatureDoesNotMatch"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.client.Object.Put(ctx, tt.key, strings.NewReader("{}"), nil)
			if status, code := cosCode(t, err); status != tt.status || code != tt.code {
				t.Errorf("PUT Object: %d %s (%v), want %d %s", status, code, err, tt.status, tt.code)
			}
		})
	}
	if _, err := c.Object.Get(ctx, "s/none.json", nil); err == nil {
		t.Error("GET of a missing key succeeded")
	} else if status, code := cosCode(t, err); status != http.StatusNotFound || code != "NoSuchKey" {
		t.Errorf("GET of a missing key: %d %s", status, code)
	}
}

// TestCOSInspection: scf-local's view of the buckets (no authentication).
func TestCOSInspection(t *testing.T) {
	e := newEnv(t, Options{})
	do := func(method, path string) (int, string, http.Header) {
		t.Helper()
		req, _ := http.NewRequest(method, e.ts.URL+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}
	if st, body, _ := do(http.MethodPut, "/_emulator/cos/local-1250000000?region=ap-shanghai"); st != http.StatusCreated || !strings.Contains(body, "ap-shanghai") {
		t.Fatalf("create: %d %s", st, body)
	}
	if st, _, _ := do(http.MethodPut, "/_emulator/cos/local-1250000000"); st != http.StatusOK {
		t.Errorf("create again: %d, want 200", st)
	}
	if _, ok := e.srv.putCOSObject(Bucket{"local-1250000000", "ap-shanghai"}, "a/b.json", "application/json", []byte(`{"x":1}`)); !ok {
		t.Fatal("put")
	}
	var objs []COSObject
	st, body, _ := do(http.MethodGet, "/_emulator/cos/local-1250000000/?prefix=a/")
	if err := json.Unmarshal([]byte(body), &objs); st != http.StatusOK || err != nil || len(objs) != 1 || objs[0].Key != "a/b.json" || objs[0].Size != 7 {
		t.Errorf("list: %d %s", st, body)
	}
	if st, body, h := do(http.MethodGet, "/_emulator/cos/local-1250000000/a/b.json"); st != http.StatusOK || body != `{"x":1}` || h.Get("Content-Type") != "application/json" {
		t.Errorf("read: %d %s %v", st, body, h)
	}
	for _, tt := range []struct{ method, path string }{
		{http.MethodGet, "/_emulator/cos/local-1250000000/none.json"},
		{http.MethodGet, "/_emulator/cos/nosuch-1250000000/"},
	} {
		if st, _, _ := do(tt.method, tt.path); st != http.StatusNotFound {
			t.Errorf("%s %s: %d, want 404", tt.method, tt.path, st)
		}
	}
	if st, body, _ := do(http.MethodPut, "/_emulator/cos/Bad_Name"); st != http.StatusBadRequest {
		t.Errorf("bad name: %d %s", st, body)
	}
	if st, _, _ := do(http.MethodDelete, "/_emulator/cos/local-1250000000"); st != http.StatusNoContent {
		t.Errorf("delete: %d", st)
	}
	if st, body, _ := do(http.MethodGet, "/_emulator/cos/"); st != http.StatusOK || strings.TrimSpace(body) != "[]" {
		t.Errorf("buckets after delete: %d %s", st, body)
	}
}

// TestCOSPolicy: under enforcement, a role allowed cos:PutObject on
// <bucket>/<prefix>* (the sweeper's derived statement) may write exactly
// there: not elsewhere in the bucket, not in another bucket, and it may not
// read or list.
func TestCOSPolicy(t *testing.T) {
	e := newEnv(t, Options{EnforcePolicies: true})
	ctx := context.Background()
	root := e.sdk(t, "ap-guangzhou", nil)
	const bucket, other, region = "reports-1250000000", "other-1250000000", "ap-guangzhou"
	e.srv.CreateBucket(Bucket{bucket, region})
	e.srv.CreateBucket(Bucket{other, region})
	mustCall(t, root, "cam", "CreateRole", map[string]any{"RoleName": "Sweeper", "PolicyDocument": trustDoc(`{"service":["scf.qcloud.com"]}`)}, nil)
	var pol struct{ PolicyId uint64 }
	mustCall(t, root, "cam", "CreatePolicy", map[string]any{"PolicyName": "SweeperPolicy", "PolicyDocument": `{"version":"2.0","statement":[` +
		`{"effect":"allow","action":["name/cos:PutObject"],"resource":["qcs::cos:ap-guangzhou:uid/1250000000:reports-1250000000/scf-janitor/sweeps/*"]}]}`}, &pol)
	mustCall(t, root, "cam", "AttachRolePolicy", map[string]any{"PolicyId": pol.PolicyId, "AttachRoleName": "Sweeper"}, nil)
	k, err := e.srv.ServiceRoleCredential("scf.qcloud.com", "qcs::cam::uin/"+DefaultAccountUin+":roleName/Sweeper")
	if err != nil {
		t.Fatal(err)
	}
	mine := e.cosBucketClient(t, bucket, region, k.SecretID, k.SecretKey, k.Token)
	tests := []struct {
		name    string
		call    func() error
		allowed bool
	}{
		{"PutObject under the prefix", func() error { return put(ctx, mine, "scf-janitor/sweeps/2026/12/07/x.json") }, true},
		{"PutObject beside the prefix", func() error { return put(ctx, mine, "scf-janitor/other/x.json") }, false},
		{"PutObject in another bucket", func() error {
			return put(ctx, e.cosBucketClient(t, other, region, k.SecretID, k.SecretKey, k.Token), "scf-janitor/sweeps/x.json")
		}, false},
		{"GetObject", func() error { _, err := mine.Object.Get(ctx, "scf-janitor/sweeps/2026/12/07/x.json", nil); return err }, false},
		{"GetBucket", func() error { _, _, err := mine.Bucket.Get(ctx, nil); return err }, false},
		{"wrong session token", func() error {
			return put(ctx, e.cosBucketClient(t, bucket, region, k.SecretID, k.SecretKey, "not-the-token"), "scf-janitor/sweeps/y.json")
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if tt.allowed {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if status, code := cosCode(t, err); status != http.StatusForbidden || code != "AccessDenied" {
				t.Errorf("%d %s (%v), want 403 AccessDenied", status, code, err)
			}
		})
	}
	objs, _ := e.srv.COSObjects(bucket, "")
	others, _ := e.srv.COSObjects(other, "")
	if len(objs) != 1 || objs[0].Key != "scf-janitor/sweeps/2026/12/07/x.json" || len(others) != 0 {
		t.Errorf("stored %v and %v: want only the allowed object", objs, others)
	}
}

func put(ctx context.Context, c *cos.Client, key string) error {
	_, err := c.Object.Put(ctx, key, bytes.NewReader([]byte("{}")), nil)
	return err
}

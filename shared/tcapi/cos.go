package tcapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// COSOptions configure a COS client. Bucket ("name-appid") and Region are
// required: they build the default endpoint
// https://<Bucket>.cos.<Region>.myqcloud.com (COS API "PUT Object",
// cloud.tencent.com/document/product/436/7749: Host
// <BucketName-APPID>.cos.<Region>.myqcloud.com). Endpoint overrides the base
// URL (e.g. http://127.0.0.1:9100 for the emulator); to a loopback Endpoint
// requests still carry the bucket's host name as Host (signed), as CIOptions
// does, so the emulator knows the bucket as Tencent does. The fields are
// CIOptions' (limits, retries, timeout, transport, signer alike).
type COSOptions CIOptions

// COS writes objects to one bucket. Requests are signed by
// COSOptions.Signer (cos-go-sdk-v5's AuthorizationTransport through
// shared/tcapi/cossign; a session token travels in x-cos-security-token).
type COS struct {
	bucketClient
}

// ParseBucket checks a COS bucket name, <name>-<appid> in lowercase
// letters, digits and hyphens (COS "Bucket Naming Conventions",
// cloud.tencent.com/document/product/436/13312; the same rule as CIOptions'
// Bucket), and returns its APPID: the part after the last hyphen.
func ParseBucket(bucket string) (appID string, err error) {
	if len(bucket) > 60 || !reBucket.MatchString(bucket) {
		return "", fmt.Errorf("bucket %q: want <name>-<appid> in lowercase letters, digits and hyphens, such as examplebucket-1250000000", bucket)
	}
	return bucket[strings.LastIndexByte(bucket, '-')+1:], nil
}

// ValidRegion reports whether region has the form of a Tencent Cloud region
// (ap-guangzhou, na-siliconvalley), as COSOptions and CIOptions require.
func ValidRegion(region string) bool { return reRegion.MatchString(region) }

// NewCOS returns a COS client of one bucket.
func NewCOS(cred Credentials, opts COSOptions) (*COS, error) {
	if err := cred.validate(); err != nil {
		return nil, err
	}
	if opts.Signer == nil {
		return nil, errors.New("tcapi: cos needs COSOptions.Signer to sign requests: pass cossign.Transport (shared/tcapi/cossign)")
	}
	if _, err := ParseBucket(opts.Bucket); err != nil {
		return nil, fmt.Errorf("tcapi: cos %w", err)
	}
	if !reRegion.MatchString(opts.Region) {
		return nil, fmt.Errorf("tcapi: cos region %q: want a Tencent Cloud region such as ap-guangzhou", opts.Region)
	}
	host := opts.Bucket + ".cos." + opts.Region + ".myqcloud.com"
	bc, err := newBucketClient("cos", cred, CIOptions(opts), host, host)
	if err != nil {
		return nil, err
	}
	return &COS{bc}, nil
}

// Endpoint returns the base URL the client calls.
func (c *COS) Endpoint() string { return c.base.String() }

// Stats returns the client's counters.
func (c *COS) Stats() Stats { return c.policy.stats.snapshot() }

// PutObjectResult is what PutObject's answer carries.
type PutObjectResult struct {
	ETag      string
	RequestID string // x-cos-request-id
}

// PutObject writes body as the object key (PUT Object,
// cloud.tencent.com/document/product/436/7749) with the given Content-Type.
// Writing the same key again replaces the object, so a failed attempt is
// retried under the shared policy.
func (c *COS) PutObject(ctx context.Context, key string, body []byte, contentType string) (PutObjectResult, error) {
	const action = "PutObject"
	if key == "" || strings.HasPrefix(key, "/") {
		return PutObjectResult{}, &Error{Service: "cos", Action: action, Code: "InvalidArgument",
			Message: fmt.Sprintf("object key %q: want a key that is not empty and does not start with /", key)}
	}
	var out PutObjectResult
	err := c.policy.do(ctx, action, true, func(actx context.Context) *Error {
		var e *Error
		out, e = c.put(actx, action, key, body, contentType)
		return e
	})
	return out, err
}

func (c *COS) put(ctx context.Context, action, key string, body []byte, contentType string) (PutObjectResult, *Error) {
	e := &Error{Service: "cos", Action: action}
	u := *c.base
	u.Path = "/" + key
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, u.String(), bytes.NewReader(body))
	if err != nil {
		e.Code, e.Message, e.Err = CodeClientError, err.Error(), err
		return PutObjectResult{}, e
	}
	if c.vhost != "" {
		req.Host = c.vhost
	}
	// As cos-go-sdk-v5 does, Content-Length is a header so that it is signed.
	req.Header.Set("Content-Length", strconv.Itoa(len(body)))
	req.Header.Set("Content-Type", contentType)
	resp, err := c.http.Do(req)
	if err != nil {
		e.Code, e.Retryable, e.Err = CodeNetworkError, true, err
		e.Message = c.cred.redact(describeNetErr(err))
		return PutObjectResult{}, e
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	e.HTTPStatus = resp.StatusCode
	e.RequestID = resp.Header.Get("x-cos-request-id")
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return PutObjectResult{ETag: resp.Header.Get("ETag"), RequestID: e.RequestID}, nil
	}
	if err != nil {
		e.Code, e.Retryable, e.Err = CodeNetworkError, true, err
		e.Message = "read answer: " + c.cred.redact(err.Error())
		return PutObjectResult{}, e
	}
	c.answerError(e, resp.StatusCode, raw, "a COS answer")
	return PutObjectResult{}, e
}

package tcapi

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// CIOptions configure a CI client. Bucket ("name-appid") and Region build the
// default endpoint https://<Bucket>.ci.<Region>.myqcloud.com; both are
// required unless Endpoint overrides it (e.g. http://127.0.0.1:9100 for the
// emulator). With a loopback Endpoint (an emulator) and a Bucket and Region,
// requests still carry the bucket's host name as Host (signed), so the
// emulator knows the bucket as Tencent does.
type CIOptions struct {
	Bucket, Region, Endpoint string
	Limiters                 *Limiters // nil -> private limiters at 20/s
	MaxAttempts              int       // default 4 (1 = no retry)
	BaseDelay, MaxDelay      time.Duration
	Timeout                  time.Duration // per HTTP request, default 10s
	Rand                     func() float64
	// Transport carries the signed requests; nil -> the shared pool.
	Transport http.RoundTripper
	// Signer signs every request with the COS signature. Required: pass
	// cossign.Transport (package shared/tcapi/cossign).
	Signer COSSigner
}

// COSSigner returns a transport that signs each request with the COS
// signature of the given key and sends it through base. The implementation,
// cossign.Transport over cos-go-sdk-v5, lives in a package of its own so that
// programs which never call CI do not link cos-go-sdk-v5, whose package
// initialisation costs about 0.5 ms of every cold start.
type COSSigner func(secretID, secretKey, sessionToken string, base http.RoundTripper) http.RoundTripper

// CI calls Cloud Infinite live-stream moderation (live_video auditing jobs).
// Requests are signed by CIOptions.Signer: cos-go-sdk-v5's
// AuthorizationTransport (the official COS signer; a session token travels in
// x-cos-security-token) through shared/tcapi/cossign.
type CI struct {
	bucketClient
}

var (
	reBucket = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?-[0-9]{5,}$`)
	reRegion = regexp.MustCompile(`^[a-z]{2,}(?:-[a-z0-9]+)+$`)
)

// NewCI returns a CI client.
func NewCI(cred Credentials, opts CIOptions) (*CI, error) {
	if err := cred.validate(); err != nil {
		return nil, err
	}
	if opts.Signer == nil {
		return nil, errors.New("tcapi: ci needs CIOptions.Signer to sign requests: pass cossign.Transport (shared/tcapi/cossign)")
	}
	if opts.Bucket != "" && (len(opts.Bucket) > 60 || !reBucket.MatchString(opts.Bucket)) {
		return nil, fmt.Errorf("tcapi: ci bucket %q: want <name>-<appid> in lowercase letters, digits and hyphens, such as examplebucket-1250000000", opts.Bucket)
	}
	if opts.Region != "" && !reRegion.MatchString(opts.Region) {
		return nil, fmt.Errorf("tcapi: ci region %q: want a Tencent Cloud region such as ap-guangzhou", opts.Region)
	}
	def, vhost := "", ""
	if opts.Bucket != "" && opts.Region != "" {
		vhost = opts.Bucket + ".ci." + opts.Region + ".myqcloud.com"
	}
	if opts.Endpoint == "" {
		if vhost == "" {
			return nil, fmt.Errorf("tcapi: ci needs a bucket (such as examplebucket-1250000000) and a region (such as ap-guangzhou), or an endpoint")
		}
		def = vhost
	}
	bc, err := newBucketClient("ci", cred, opts, def, vhost)
	if err != nil {
		return nil, err
	}
	return &CI{bc}, nil
}

// Endpoint returns the base URL the client calls.
func (c *CI) Endpoint() string { return c.base.String() }

// Stats returns the client's counters.
func (c *CI) Stats() Stats { return c.policy.stats.snapshot() }

// JobsDetail is the job part of a cancel answer.
type JobsDetail struct{ DataId, JobId, CreationTime string }

// CancelLiveAuditResponse is the answer of CancelLiveAudit.
type CancelLiveAuditResponse struct {
	JobsDetail JobsDetail
	RequestId  string
}

// CreateLiveAuditRequest starts live-stream moderation of Url.
type CreateLiveAuditRequest struct {
	Url      string // rtmp://, http(s):// stream address
	DataId   string // caller's id, echoed back
	BizType  string // moderation policy; "" = the default policy
	Callback string // result callback URL
}

// LiveAuditJob is a live-stream moderation job. State is Submitted, Auditing,
// Success, Failed (or Cancelled).
type LiveAuditJob struct {
	Code, Message                           string // job-level result code, if any
	DataId, JobId, State, CreationTime, Url string
	RequestId                               string
}

type ciCreateBody struct {
	XMLName xml.Name `xml:"Request"`
	Type    string   `xml:"Type"`
	Input   struct {
		Url    string `xml:"Url"`
		DataId string `xml:"DataId,omitempty"`
	} `xml:"Input"`
	Conf struct {
		BizType  string `xml:"BizType,omitempty"`
		Callback string `xml:"Callback,omitempty"`
	} `xml:"Conf"`
}

type ciJobAnswer struct {
	XMLName    xml.Name `xml:"Response"`
	JobsDetail struct {
		Code, Message, DataId, JobId, State, CreationTime, Url string
	}
	RequestId string
}

func (a ciJobAnswer) job() LiveAuditJob {
	d := a.JobsDetail
	return LiveAuditJob{Code: d.Code, Message: d.Message, DataId: d.DataId, JobId: d.JobId, State: d.State,
		CreationTime: d.CreationTime, Url: d.Url, RequestId: a.RequestId}
}

// CancelLiveAudit cancels a live moderation job (POST /video/cancel_auditing/<jobID>).
func (c *CI) CancelLiveAudit(ctx context.Context, jobID string) (CancelLiveAuditResponse, error) {
	const action = "CancelLiveAudit"
	if err := checkJobID(action, jobID); err != nil {
		return CancelLiveAuditResponse{}, err
	}
	var a ciJobAnswer
	if err := c.do(ctx, action, http.MethodPost, "/video/cancel_auditing/"+url.PathEscape(jobID), nil, &a); err != nil {
		return CancelLiveAuditResponse{}, err
	}
	if err := checkJobAnswer(action, jobID, a); err != nil {
		return CancelLiveAuditResponse{}, err
	}
	d := a.JobsDetail
	return CancelLiveAuditResponse{JobsDetail: JobsDetail{DataId: d.DataId, JobId: d.JobId, CreationTime: d.CreationTime}, RequestId: a.RequestId}, nil
}

// GetLiveAudit returns a live moderation job (GET /video/auditing/<jobID>).
func (c *CI) GetLiveAudit(ctx context.Context, jobID string) (LiveAuditJob, error) {
	const action = "GetLiveAudit"
	if err := checkJobID(action, jobID); err != nil {
		return LiveAuditJob{}, err
	}
	var a ciJobAnswer
	if err := c.do(ctx, action, http.MethodGet, "/video/auditing/"+url.PathEscape(jobID), nil, &a); err != nil {
		return LiveAuditJob{}, err
	}
	if err := checkJobAnswer(action, jobID, a); err != nil {
		return LiveAuditJob{}, err
	}
	return a.job(), nil
}

// checkJobAnswer refuses a 2xx answer that is not about jobID: the cancel
// and query answers both carry the job's JobsDetail.JobId (CI docs
// "取消直播审核" and "查询直播审核任务结果"), so an empty <Response/> or
// another job's answer is not a confirmation of anything.
func checkJobAnswer(action, jobID string, a ciJobAnswer) error {
	got := strings.TrimSpace(a.JobsDetail.JobId)
	if got == jobID {
		return nil
	}
	msg := "answer has no JobsDetail.JobId"
	if got != "" {
		msg = fmt.Sprintf("answer is about job %.80q, not the job asked for", got)
	}
	return &Error{Service: "ci", Action: action, Code: CodeInvalidResponse, RequestID: a.RequestId, Message: msg}
}

// CreateLiveAudit starts a live_video moderation job (POST /video/auditing).
func (c *CI) CreateLiveAudit(ctx context.Context, req CreateLiveAuditRequest) (LiveAuditJob, error) {
	const action = "CreateLiveAudit"
	if strings.TrimSpace(req.Url) == "" {
		return LiveAuditJob{}, &Error{Service: "ci", Action: action, Code: "InvalidArgument", Message: "empty Url: want the stream address, such as rtmp://example.com/live/stream"}
	}
	var b ciCreateBody
	b.Type = "live_video"
	b.Input.Url, b.Input.DataId = req.Url, req.DataId
	b.Conf.BizType, b.Conf.Callback = req.BizType, req.Callback
	body, err := xml.Marshal(b)
	if err != nil {
		return LiveAuditJob{}, &Error{Service: "ci", Action: action, Code: CodeClientError, Message: "encode request: " + err.Error(), Err: err}
	}
	var a ciJobAnswer
	if err := c.do(ctx, action, http.MethodPost, "/video/auditing", body, &a); err != nil {
		return LiveAuditJob{}, err
	}
	return a.job(), nil
}

func checkJobID(action, jobID string) error {
	if strings.TrimSpace(jobID) == "" || strings.ContainsAny(jobID, "/?#") {
		return &Error{Service: "ci", Action: action, Code: "InvalidArgument", Message: fmt.Sprintf("job id %q: want a CI job id such as av0123456789abcdef0123456789abcdef", jobID)}
	}
	return nil
}

// do sends one signed request per attempt under the shared retry policy and
// decodes a 2xx XML answer into out.
func (c *CI) do(ctx context.Context, action, method, path string, body []byte, out any) error {
	// Only POST /video/auditing creates; cancel and get are safe to repeat.
	idempotent := action != "CreateLiveAudit"
	return c.policy.do(ctx, action, idempotent, func(actx context.Context) *Error {
		return c.attempt(actx, action, method, path, body, out)
	})
}

func (c *CI) attempt(ctx context.Context, action, method, path string, body []byte, out any) *Error {
	e := &Error{Service: "ci", Action: action}
	u := *c.base
	u.RawPath = path
	u.Path, _ = url.PathUnescape(path)
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		e.Code, e.Message, e.Err = CodeClientError, err.Error(), err
		return e
	}
	if c.vhost != "" {
		req.Host = c.vhost
	}
	// Like cos-go-sdk-v5, put Content-Length in the header so it is signed,
	// for the methods where net/http sends it (always for POST, even empty).
	if method != http.MethodGet && method != http.MethodHead {
		req.Header.Set("Content-Length", strconv.Itoa(len(body)))
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/xml")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		e.Code, e.Retryable, e.Err = CodeNetworkError, true, err
		e.Message = c.cred.redact(describeNetErr(err))
		return e
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	resp.Body.Close()
	e.HTTPStatus = resp.StatusCode
	e.RequestID = firstNonEmpty(resp.Header.Get("x-ci-request-id"), resp.Header.Get("x-cos-request-id"))
	if err != nil || len(raw) > maxBody {
		if err == nil {
			err = fmt.Errorf("answer larger than %d bytes", maxBody)
		}
		e.Code, e.Retryable, e.Err = CodeNetworkError, true, err
		e.Message = "read answer: " + c.cred.redact(err.Error())
		return e
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if err := xml.Unmarshal(raw, out); err != nil {
			httpStatusError(e, resp.StatusCode, raw)
			e.Message = c.cred.redact(e.Message)
			return e
		}
		return nil
	}
	c.answerError(e, resp.StatusCode, raw, "a CI answer")
	return e
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// isLoopback reports whether host (host or host:port) is localhost or a
// loopback address.
func isLoopback(host string) bool {
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

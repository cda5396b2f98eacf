package tcapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	sdkjson "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/json"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"

	"github.com/scf-janitor/scf-janitor/shared/config"
)

// Options configure a client. The zero value is usable: the public endpoint,
// private limiters at 20/s, 4 attempts, 100ms..2s backoff, 10s per request.
type Options struct {
	Region      string
	Endpoint    string    // "" -> https://<service>.tencentcloudapi.com ; else a base URL such as http://127.0.0.1:9100
	Limiters    *Limiters // nil -> private limiters at 20/s
	MaxAttempts int       // default 4 (1 = no retry)
	BaseDelay   time.Duration
	MaxDelay    time.Duration  // backoff with full jitter; defaults 100ms, 2s
	Timeout     time.Duration  // per HTTP request, default 10s, never beyond ctx deadline
	Rand        func() float64 // jitter source in [0,1), for tests
	// Transport carries the HTTP requests; nil -> a connection pool shared by
	// every client of this package.
	Transport http.RoundTripper
}

// maxBody bounds the response bodies read into memory.
const maxBody = 16 << 20

// Client calls one Tencent Cloud API 3.0 service (such as "ams", version
// "2020-12-29") through the official SDK's CommonClient. It is safe for
// concurrent use. Build one per invocation: it holds that invocation's
// credentials.
type Client struct {
	service, version string
	cred             Credentials
	sdk              *common.Client
	policy           *policy
}

// NewClient returns a client of service/version signed with cred.
func NewClient(service, version string, cred Credentials, opts Options) (*Client, error) {
	if !reService.MatchString(service) {
		return nil, fmt.Errorf("tcapi: service %q: want a Tencent Cloud service name such as ams, vm or trtc", service)
	}
	if version == "" {
		return nil, fmt.Errorf("tcapi: %s: empty API version (want a date such as 2020-12-29)", service)
	}
	if err := cred.validate(); err != nil {
		return nil, err
	}
	scheme, host, err := parseEndpoint(opts.Endpoint, service+".tencentcloudapi.com", service)
	if err != nil {
		return nil, err
	}
	pol, err := newPolicy(service, opts.Limiters, opts.MaxAttempts, opts.BaseDelay, opts.MaxDelay, opts.Timeout, opts.Rand)
	if err != nil {
		return nil, err
	}

	prof := profile.NewClientProfile()
	prof.HttpProfile.Scheme = scheme
	prof.HttpProfile.Endpoint = host
	prof.HttpProfile.ReqMethod = http.MethodPost
	prof.HttpProfile.ReqTimeout = 0 // per-attempt contexts bound each request instead
	prof.Language = "en-US"
	prof.DisableRegionBreaker = true     // it would silently switch to a backup domain
	prof.RateLimitExceededMaxRetries = 0 // its retry sleeps ignoring ctx; we retry ourselves
	prof.NetworkFailureMaxRetries = 0
	prof.Debug = false // debug dumps would log the Authorization header

	base := opts.Transport
	if base == nil {
		base = sharedTransport()
	}
	sdk := common.NewCommonClient(common.NewTokenCredential(cred.SecretID, cred.SecretKey, cred.Token), opts.Region, prof)
	sdk.WithHttpTransport(captureTransport{base: base})
	return &Client{service: service, version: version, cred: cred, sdk: sdk, policy: pol}, nil
}

var reService = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)

// parseEndpoint turns a base URL override into the SDK's Scheme ("HTTP" or
// "HTTPS") and host[:port]. "" gives HTTPS and def.
func parseEndpoint(endpoint, def, what string) (scheme, host string, err error) {
	if endpoint == "" {
		return "HTTPS", def, nil
	}
	u, err := url.Parse(endpoint)
	shown := config.DisplayURL(endpoint) // scheme, host, port and path only
	bad := func(why string) error {
		return fmt.Errorf("tcapi: %s endpoint %q: %s; want a base URL such as http://127.0.0.1:9100 or https://%s", what, shown, why, def)
	}
	switch {
	case !strings.Contains(endpoint, "://"):
		return "", "", bad("no scheme (http:// or https://)")
	case err != nil:
		return "", "", bad("not a URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return "", "", bad("scheme must be http or https")
	case u.Host == "" || u.Hostname() == "":
		return "", "", bad("no host")
	case u.User != nil:
		return "", "", bad("credentials in the URL are not supported")
	case u.Path != "" && u.Path != "/":
		return "", "", bad("a path is not supported")
	case u.RawQuery != "" || u.Fragment != "":
		return "", "", bad("a query or fragment is not supported")
	}
	if p := u.Port(); p != "" {
		for _, r := range p {
			if r < '0' || r > '9' {
				return "", "", bad("bad port")
			}
		}
	}
	return strings.ToUpper(u.Scheme), u.Host, nil
}

// Service returns the service name, such as "ams".
func (c *Client) Service() string { return c.service }

// Stats returns the client's counters.
func (c *Client) Stats() Stats { return c.policy.stats.snapshot() }

// Call invokes action with req (marshalled to JSON; nil = no parameters) and
// decodes the "Response" object of the answer into resp (a pointer, or nil).
// Failures are *Error. Transient failures are retried, so action must be
// safe to repeat (cancel, delete, describe); actions whose name starts with
// "Create" are retried only when the server refused them unprocessed
// (RequestLimitExceeded), never after a network error or an InternalError
// that may have followed a successful create.
func (c *Client) Call(ctx context.Context, action string, req, resp any) error {
	return c.call(ctx, action, req, resp, !strings.HasPrefix(action, "Create"))
}

// callAnswer is Call for an action that answers something: it returns the
// "Response" object decoded into a Resp.
func callAnswer[Resp any](ctx context.Context, c *Client, action string, req any) (Resp, error) {
	var out Resp
	err := c.Call(ctx, action, req, &out)
	return out, err
}

// call is Call with the retry rule given: a call that is not idempotent is
// retried only when the server refused it unprocessed.
func (c *Client) call(ctx context.Context, action string, req, resp any, idempotent bool) error {
	params := map[string]any{}
	if req != nil {
		raw, err := json.Marshal(req)
		if err != nil {
			return &Error{Service: c.service, Action: action, Code: CodeClientError, Message: "encode request: " + err.Error(), Err: err}
		}
		// Decode with the SDK's own json package keeping numbers as
		// json.Number, so the SDK re-marshals them verbatim: a uint64 such
		// as SdkAppId never passes through float64, with or without the
		// tencentcloud_common_number_precision build tag.
		dec := sdkjson.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&params); err != nil || params == nil {
			if err == nil {
				err = errors.New("request is not a JSON object")
			}
			return &Error{Service: c.service, Action: action, Code: CodeClientError, Message: "encode request: " + err.Error(), Err: err}
		}
	}
	return c.policy.do(ctx, action, idempotent, func(actx context.Context) *Error {
		return c.attempt(actx, action, params, resp)
	})
}

func (c *Client) attempt(ctx context.Context, action string, params map[string]any, resp any) *Error {
	req := tchttp.NewCommonRequest(c.service, c.version, action)
	if err := req.SetActionParameters(params); err != nil {
		return c.newError(action, err, nil)
	}
	cp := &capture{into: resp}
	req.SetContext(context.WithValue(ctx, captureKey{}, cp))
	if err := c.sdk.Send(req, &rawResponse{BaseResponse: &tchttp.BaseResponse{}}); err != nil {
		return c.newError(action, err, cp)
	}
	if resp == nil {
		return nil
	}
	if cp.invalid != "" {
		// A 200 answer that is neither a Tencent success nor a Tencent error
		// (null, {}, {"Response":null}, a Response without RequestId): the
		// transport gave the SDK a harmless stand-in (the SDK panics on some
		// of these), and the call fails here.
		return &Error{Service: c.service, Action: action, Code: CodeInvalidResponse, HTTPStatus: cp.status, RequestID: cp.requestID,
			Message: cp.invalid + ": " + c.cred.redact(excerpt(cp.body, 160))}
	}
	if cp.decoded {
		// The transport decoded the answer into resp (see capture.answer).
		if cp.decodeErr != nil {
			return &Error{Service: c.service, Action: action, Code: CodeInvalidResponse, HTTPStatus: cp.status, RequestID: cp.requestID,
				Message: "decode Response: " + c.cred.redact(cp.decodeErr.Error()), Err: cp.decodeErr}
		}
		return nil
	}
	// An answer the transport left to the SDK that the SDK took for a
	// success: it has no Response object, or an unusual one.
	var env struct {
		Response json.RawMessage
	}
	if err := json.Unmarshal(cp.body, &env); err != nil || len(env.Response) == 0 {
		return &Error{Service: c.service, Action: action, Code: CodeInvalidResponse, HTTPStatus: cp.status,
			Message: "answer has no Response object: " + excerpt(cp.body, 160)}
	}
	if err := json.Unmarshal(env.Response, resp); err != nil {
		var rid struct{ RequestId string }
		_ = json.Unmarshal(env.Response, &rid)
		return &Error{Service: c.service, Action: action, Code: CodeInvalidResponse, HTTPStatus: cp.status, RequestID: rid.RequestId,
			Message: "decode Response: " + c.cred.redact(err.Error()), Err: err}
	}
	return nil
}

// newError maps an SDK/transport failure of one attempt to *Error.
func (c *Client) newError(action string, err error, cp *capture) *Error {
	e := &Error{Service: c.service, Action: action}
	if cp != nil {
		e.HTTPStatus = cp.status
	}
	var sdkErr *tcerr.TencentCloudSDKError
	if !errors.As(err, &sdkErr) {
		e.Code, e.Message, e.Err = CodeClientError, c.cred.redact(err.Error()), err
		return e
	}
	switch {
	case sdkErr.Code == "ClientError.NetworkError":
		cause := sdkErr.Unwrap()
		if cause == nil {
			cause = err
		}
		e.Code, e.Retryable, e.Err = CodeNetworkError, true, cause
		e.Message = c.cred.redact(describeNetErr(cause))
	case sdkErr.Code == "ClientError.ParseJsonError" || sdkErr.Code == "ClientError.HttpStatusCodeError" || sdkErr.Code == "ClientError.IOError":
		if cp == nil || cp.status == 0 {
			e.Code, e.Retryable, e.Err = CodeNetworkError, true, err
			e.Message = "could not read the answer"
			return e
		}
		httpStatusError(e, cp.status, cp.body)
		e.Message = c.cred.redact(e.Message)
	case strings.HasPrefix(sdkErr.Code, "ClientError"):
		e.Code, e.Message, e.Err = CodeClientError, c.cred.redact(sdkErr.Message), err
	default:
		e.Code = sdkErr.Code
		e.Message = c.cred.redact(sdkErr.Message)
		e.RequestID = sdkErr.RequestId
		e.Retryable = retryableCode(e.Code)
	}
	return e
}

// httpStatusError fills e for an answer that carries no Tencent error object.
func httpStatusError(e *Error, status int, body []byte) {
	e.HTTPStatus = status
	text := fmt.Sprintf("HTTP %d %s", status, http.StatusText(status))
	switch {
	case status == http.StatusTooManyRequests:
		e.Code, e.Retryable = codeRequestLimitExceeded, true
		e.Message = text + ": " + excerpt(body, 160)
	case status >= 500 || (status >= 200 && status < 300):
		e.Code, e.Retryable = CodeBadGateway, true
		e.Message = text + " with a body that is not a Tencent Cloud API answer: " + excerpt(body, 160)
	default:
		e.Code = CodeHTTPError
		e.Message = text + " with a body that is not a Tencent Cloud API answer (is the endpoint right?): " + excerpt(body, 160)
	}
}

func describeNetErr(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		// "Post "http://host/": read: connection reset by peer" -> keep op, host and cause.
		return fmt.Sprintf("%s %s: %v", ue.Op, redactURL(ue.URL), ue.Err)
	}
	return err.Error()
}

func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(url)"
	}
	u.User = nil
	u.RawQuery = ""
	return u.String()
}

// capture records, per attempt, the status and raw body of the answer (the
// SDK reports non-JSON bodies without the status), and decodes a successful
// answer straight into the typed response.
type capture struct {
	into any // the typed Response (a pointer), or nil

	status    int
	body      []byte
	decoded   bool   // the transport decoded a successful answer into into
	invalid   string // why a 200 answer is not a Tencent answer at all ("" = it is)
	decodeErr error  // ... and this is how that went
	requestID string
}

type captureKey struct{}

// answerHead is what tells a successful API 3.0 answer from a failed one:
// the same fields the SDK's own error parsing reads (Response.Error.Code, and
// the pre-3.0 top-level "code").
type answerHead struct {
	Response *struct {
		Error     *struct{ Code string }
		RequestId string
	}
	Code *int `json:"code"`
}

// answer inspects a 200 body. For a success it decodes the body into cp.into
// and returns the smaller body the SDK is then given, {"Response":{"RequestId":...}}:
// the SDK reads an answer three times and parses it five times to look for
// an error, which for a 100-task DescribeTasks page cost more than the page
// itself. Anything else (an error, an answer without a Response object, a
// body that is not JSON) goes to the SDK untouched, so its error handling
// stays the SDK's.
//
// A body that is valid JSON but neither (null, {}, [], {"Response":null},
// {"Response":"x"}, a Response without RequestId) is not handed to the SDK
// either: the SDK panics on some of them and takes others for a success.
// cp.invalid says why, and the SDK gets a stand-in success that the caller
// then turns into CodeInvalidResponse. Every API 3.0 answer carries a
// RequestId ("唯一请求 ID，每次请求都会返回", in every action's response
// parameters), so an answer without one is not Tencent's.
func (cp *capture) answer(body []byte) (forSDK []byte, ok bool) {
	var head answerHead
	err := json.Unmarshal(body, &head)
	switch {
	case err != nil && !json.Valid(body):
		return nil, false // not JSON: the SDK's ParseJsonError (a proxy's page)
	case err == nil && head.Code != nil && *head.Code != 0:
		return nil, false // the pre-3.0 error format: the SDK reads it
	case err == nil && head.Response != nil && head.Response.Error != nil && head.Response.Error.Code != "":
		return nil, false // a Tencent error: the SDK reads it
	case err != nil || head.Response == nil:
		cp.invalid = "answer has no Response object"
		return standIn, true
	case head.Response.Error != nil:
		cp.invalid, cp.requestID = "answer has an Error without a Code", head.Response.RequestId
		return standIn, true
	case strings.TrimSpace(head.Response.RequestId) == "":
		cp.invalid = "answer has no RequestId"
		return standIn, true
	}
	cp.decoded, cp.requestID = true, head.Response.RequestId
	if cp.into != nil {
		cp.decodeErr = json.Unmarshal(body, &struct{ Response any }{cp.into})
	}
	var small struct{ Response struct{ RequestId string } }
	small.Response.RequestId = cp.requestID
	forSDK, err = json.Marshal(small)
	return forSDK, err == nil
}

// standIn is what the SDK gets instead of an answer that is not Tencent's.
var standIn = []byte(`{"Response":{"RequestId":""}}`)

type captureTransport struct{ base http.RoundTripper }

func (t captureTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	cp, _ := req.Context().Value(captureKey{}).(*capture)
	if cp == nil {
		return resp, nil
	}
	body, err := readBody(resp)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	cp.status, cp.body = resp.StatusCode, body
	forSDK := body
	if resp.StatusCode == http.StatusOK {
		if small, ok := cp.answer(body); ok {
			forSDK = small
			resp.ContentLength = int64(len(small))
		}
	}
	resp.Body = io.NopCloser(bytes.NewReader(forSDK))
	return resp, nil
}

// readBody reads an answer of at most maxBody bytes, in one allocation when
// the server sent its length.
func readBody(resp *http.Response) ([]byte, error) {
	if n := resp.ContentLength; n >= 0 && n <= maxBody {
		body := make([]byte, n)
		if _, err := io.ReadFull(resp.Body, body); err != nil {
			return nil, fmt.Errorf("read answer: %w", err)
		}
		return body, nil
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("read answer: %w", err)
	}
	if len(body) > maxBody {
		return nil, fmt.Errorf("answer larger than %d bytes", maxBody)
	}
	return body, nil
}

// rawResponse is the response the SDK fills on Send. It keeps the SDK's own
// error parsing (BaseResponse.ParseErrorFromHTTPResponse) but skips decoding
// a successful body into a map: the transport has already decoded it into
// the typed struct (capture.answer), once.
type rawResponse struct {
	*tchttp.BaseResponse
}

// UnmarshalJSON accepts the body without decoding it (the SDK has already
// checked that it is valid JSON).
func (*rawResponse) UnmarshalJSON([]byte) error { return nil }

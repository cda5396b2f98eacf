package tcapi

import (
	"encoding/xml"
	"net/http"
	"net/url"
	"strings"
)

// bucketClient is what CI and COS share: an HTTP client that signs every
// request with the COS signature (CIOptions.Signer) and sends it to one
// bucket's host under the shared retry policy.
type bucketClient struct {
	vhost  string // Host sent to a loopback endpoint: the bucket's host at Tencent
	base   *url.URL
	http   *http.Client
	cred   Credentials
	policy *policy
}

// newBucketClient builds the client of service ("ci", "cos") from opts,
// whose names the caller has checked. def is the host called when
// opts.Endpoint is empty; to a loopback Endpoint, requests carry vhost
// ("" = none) as their Host.
func newBucketClient(service string, cred Credentials, opts CIOptions, def, vhost string) (bucketClient, error) {
	scheme, host, err := parseEndpoint(opts.Endpoint, def, service)
	if err != nil {
		return bucketClient{}, err
	}
	pol, err := newPolicy(service, opts.Limiters, opts.MaxAttempts, opts.BaseDelay, opts.MaxDelay, opts.Timeout, opts.Rand)
	if err != nil {
		return bucketClient{}, err
	}
	base := opts.Transport
	if base == nil {
		base = sharedTransport()
	}
	c := bucketClient{
		base:   &url.URL{Scheme: strings.ToLower(scheme), Host: host},
		http:   &http.Client{Transport: opts.Signer(cred.SecretID, cred.SecretKey, cred.Token, base), CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		cred:   cred,
		policy: pol,
	}
	if opts.Endpoint != "" && vhost != "" && isLoopback(host) {
		c.vhost = vhost
	}
	return c, nil
}

// answerError fills e from a non-2xx answer: the COS error document
// (<Error><Code/><Message/><Resource/><RequestId/><TraceId/></Error>,
// cloud.tencent.com/document/product/436/7730), which CI answers too, or
// else the HTTP status; what names the service in the message ("a COS answer").
func (c *bucketClient) answerError(e *Error, status int, raw []byte, what string) {
	var xe struct {
		XMLName                  xml.Name `xml:"Error"`
		Code, Message, RequestId string
	}
	if xml.Unmarshal(raw, &xe) == nil && xe.Code != "" {
		e.Code = xe.Code
		e.Message = c.cred.redact(strings.TrimSpace(xe.Message))
		e.RequestID = firstNonEmpty(xe.RequestId, e.RequestID)
		e.Retryable = status >= 500 || status == http.StatusTooManyRequests || retryableCode(xe.Code)
		return
	}
	httpStatusError(e, status, raw)
	e.Message = c.cred.redact(strings.Replace(e.Message, "not a Tencent Cloud API answer", "not "+what, 1))
}

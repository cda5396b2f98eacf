package emulator

import (
	"cmp"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ciError is a CI or COS (XML) error answer.
type ciError struct {
	status        int
	Code, Message string
}

func ciErrf(status int, code, msg string) *ciError {
	return &ciError{status: status, Code: code, Message: msg}
}

// ciErrorBody is a CI or COS error document; only COS names the Resource.
type ciErrorBody struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string
	Message   string
	Resource  string `xml:",omitempty"`
	RequestId string
	TraceId   string
}

// xmlCall is one CI or COS request, admitted by admitXML.
type xmlCall struct {
	w        http.ResponseWriter
	info     *reqInfo
	body     []byte
	now      time.Time
	cos      bool   // COS (x-cos-request-id, errors name the Resource), else CI
	resource string // COS: the error's Resource
	bucket   Bucket
	jobID    string // CI: from the path; "" for CreateAuditing
}

func (c *xmlCall) fail(e *ciError) {
	c.info.code = e.Code
	id := c.info.requestID
	c.reply(e.status, ciErrorBody{Code: e.Code, Message: e.Message, Resource: c.resource, RequestId: id, TraceId: id})
}

// reply writes status and v as an XML document (no body when v is nil).
func (c *xmlCall) reply(status int, v any) {
	if c.cos {
		c.w.Header().Set("x-cos-request-id", c.info.requestID)
	} else {
		c.w.Header().Set("x-ci-request-id", c.info.requestID)
	}
	if v == nil {
		c.w.WriteHeader(status)
		return
	}
	b, err := xml.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte("<Error><Code>InternalError</Code><Message>emulator could not encode the response</Message></Error>")
	}
	c.w.Header().Set("Content-Type", "application/xml")
	c.w.WriteHeader(status)
	_, _ = c.w.Write([]byte(xml.Header))
	_, _ = c.w.Write(b)
}

// admitXML checks, in order, body size, signature, check, policy, rate limit
// and faults; false when it answered a refusal.
func (s *Server) admitXML(r *http.Request, c *xmlCall, policyAction string, resource func() string, check func() *ciError) bool {
	body, err := io.ReadAll(http.MaxBytesReader(c.w, r.Body, maxBodyBytes))
	if err != nil {
		c.fail(ciErrf(http.StatusRequestEntityTooLarge, "EntityTooLarge", "The request body exceeds 10 MB."))
		return false
	}
	c.body = body
	cred, e := verifyCOS(r, s.acct.credentials(), s.opts.AuthNow())
	if e == nil {
		e = check()
	}
	if msg := ""; e == nil {
		if msg = s.authorize(cred.SecretID, policyAction, resource); msg != "" {
			e = ciErrf(http.StatusForbidden, "AccessDenied", msg)
		}
	}
	if action := c.info.action; e == nil && !s.admit(action, cred.SecretID) {
		msg := "Too many requests: " + action + " allows " + formatRate(s.opts.Rate) + " requests per second per SecretId."
		e = ciErrf(http.StatusTooManyRequests, "RequestLimitExceeded", msg)
		if c.cos {
			e = ciErrf(http.StatusServiceUnavailable, "SlowDown", msg)
		}
	}
	if e != nil {
		c.fail(e)
		return false
	}
	if done, internal := s.injectFault(c.w, r, c.info); done {
		return false
	} else if internal != 0 {
		c.fail(ciErrf(internal, "InternalError", "An internal error occurred (injected fault)."))
		return false
	}
	c.now = s.now()
	return true
}

// cosEncode percent-encodes all but RFC 3986 unreserved characters, upper-case hex.
func cosEncode(s string) string {
	const hexdig = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexdig[c>>4])
		b.WriteByte(hexdig[c&15])
	}
	return b.String()
}

func hmacSHA1Hex(key, msg string) string {
	m := hmac.New(sha1.New, []byte(key))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

// cosPairs is the signed "name=value&..." list of the names in list.
func cosPairs(list string, m map[string][]string) string {
	type kv struct{ k, v string }
	var pairs []kv
	for _, n := range strings.Split(strings.ToLower(list), ";") {
		for k, vs := range m {
			for _, v := range vs {
				if n != "" && strings.ToLower(cosEncode(k)) == n {
					pairs = append(pairs, kv{n, cosEncode(v)})
				}
			}
		}
	}
	slices.SortFunc(pairs, func(a, b kv) int { return cmp.Or(strings.Compare(a.k, b.k), strings.Compare(a.v, b.v)) })
	parts := make([]string, len(pairs))
	for i, p := range pairs {
		parts[i] = p.k + "=" + p.v
	}
	return strings.Join(parts, "&")
}

// checkTimeWindow checks a q-sign-time or q-key-time against now.
func checkTimeWindow(name, v string, now time.Time) *ciError {
	a, b, _ := strings.Cut(v, ";")
	start, err1 := strconv.ParseInt(a, 10, 64)
	end, err2 := strconv.ParseInt(b, 10, 64)
	at := strconv.FormatInt(now.Unix(), 10)
	switch {
	case err1 != nil || err2 != nil || end < start:
		return ciErrf(http.StatusForbidden, "AccessDenied", name+" must be <start>;<end> Unix seconds.")
	case now.After(time.Unix(end, 0)):
		return ciErrf(http.StatusForbidden, "AccessDenied", "Request has expired: "+name+" ended before server time "+at+".")
	case time.Unix(start, 0).After(now.Add(MaxSkew)):
		return ciErrf(http.StatusForbidden, "RequestTimeTooSkewed", name+" starts more than 5 minutes after server time "+at+".")
	}
	return nil
}

// verifyCOS checks the COS sha1 signature (doc 436/7778).
func verifyCOS(r *http.Request, creds map[string]Credential, now time.Time) (Credential, *ciError) {
	denied := func(msg string) (Credential, *ciError) {
		return Credential{}, ciErrf(http.StatusForbidden, "AccessDenied", msg)
	}
	authz := r.Header.Get("Authorization")
	if authz == "" {
		return denied("Authorization header is missing; sign the request with the COS signature (q-sign-algorithm=sha1&...).")
	}
	f := url.Values{}
	for _, part := range strings.Split(authz, "&") {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return denied("Authorization is not in the q-sign-algorithm=sha1&q-ak=...&q-signature=... form.")
		}
		f.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	for _, k := range []string{"q-sign-algorithm", "q-ak", "q-sign-time", "q-key-time", "q-signature", "q-header-list", "q-url-param-list"} {
		if _, ok := f[k]; !ok || f.Get(k) == "" && !strings.HasSuffix(k, "-list") {
			return denied("Authorization is missing " + k + ".")
		}
	}
	if f.Get("q-sign-algorithm") != "sha1" {
		return denied("q-sign-algorithm must be sha1.")
	}
	for _, k := range []string{"q-sign-time", "q-key-time"} {
		if e := checkTimeWindow(k, f.Get(k), now); e != nil {
			return Credential{}, e
		}
	}
	cred, ok := creds[f.Get("q-ak")]
	if !ok {
		return Credential{}, ciErrf(http.StatusForbidden, "InvalidAccessKeyId", "The q-ak (SecretId) you provided does not exist.")
	}
	headers := r.Header.Clone()
	delete(headers, "Host")
	headers["host"] = []string{r.Host}
	formatString := strings.ToLower(r.Method) + "\n" + r.URL.Path + "\n" + cosPairs(f.Get("q-url-param-list"), r.URL.Query()) +
		"\n" + cosPairs(f.Get("q-header-list"), headers) + "\n"
	h := sha1.Sum([]byte(formatString))
	keyTime := f.Get("q-key-time")
	stringToSign := "sha1\n" + keyTime + "\n" + hex.EncodeToString(h[:]) + "\n"
	want := hmacSHA1Hex(hmacSHA1Hex(cred.SecretKey, keyTime), stringToSign)
	if !hmac.Equal([]byte(want), []byte(strings.ToLower(f.Get("q-signature")))) {
		return cred, ciErrf(http.StatusForbidden, "SignatureDoesNotMatch", "The calculated signature does not match the q-signature you provided; check your SecretKey and the signed headers and parameters.")
	}
	if cred.Token != "" && !hmac.Equal([]byte(cred.Token), []byte(r.Header.Get("x-cos-security-token"))) {
		return cred, ciErrf(http.StatusForbidden, "AccessDenied", "The x-cos-security-token is missing or invalid.")
	}
	return cred, nil
}

package emulator

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ciError is a CI (COS-style XML) error answer.
type ciError struct {
	status        int
	Code, Message string
}

func ciErrf(status int, code, msg string) *ciError {
	return &ciError{status: status, Code: code, Message: msg}
}

// cosEncode percent-encodes everything except RFC 3986 unreserved
// characters, upper-case hex, as the COS signature requires.
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

// cosPairs formats name=value pairs for the listed names (lower-case,
// encoded) from values, sorted by key then value.
func cosPairs(names []string, get func(name string) []string) string {
	type kv struct{ k, v string }
	var pairs []kv
	for _, n := range names {
		if n == "" {
			continue
		}
		for _, v := range get(n) {
			pairs = append(pairs, kv{n, cosEncode(v)})
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	parts := make([]string, len(pairs))
	for i, p := range pairs {
		parts[i] = p.k + "=" + p.v
	}
	return strings.Join(parts, "&")
}

func parseTimeWindow(v string) (time.Time, time.Time, bool) {
	a, b, ok := strings.Cut(v, ";")
	if !ok {
		return time.Time{}, time.Time{}, false
	}
	s, err1 := strconv.ParseInt(a, 10, 64)
	e, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || e < s {
		return time.Time{}, time.Time{}, false
	}
	return time.Unix(s, 0), time.Unix(e, 0), true
}

// verifyCOS authenticates a CI request signed with the COS sha1 scheme
// (Authorization header form). Header names in q-header-list are looked up
// case-insensitively ("host" is r.Host); query names in q-url-param-list are
// matched against the lower-cased, encoded query keys.
func verifyCOS(r *http.Request, creds map[string]Credential, now time.Time) (Credential, *ciError) {
	authz := r.Header.Get("Authorization")
	if authz == "" {
		return Credential{}, ciErrf(http.StatusForbidden, "AccessDenied", "Authorization header is missing; sign the request with the COS signature (q-sign-algorithm=sha1&...).")
	}
	f := url.Values{}
	for _, part := range strings.Split(authz, "&") {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return Credential{}, ciErrf(http.StatusForbidden, "AccessDenied", "Authorization is not in the q-sign-algorithm=sha1&q-ak=...&q-signature=... form.")
		}
		f.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	for _, k := range []string{"q-sign-algorithm", "q-ak", "q-sign-time", "q-key-time", "q-signature"} {
		if f.Get(k) == "" {
			return Credential{}, ciErrf(http.StatusForbidden, "AccessDenied", "Authorization is missing "+k+".")
		}
	}
	if _, ok := f["q-header-list"]; !ok {
		return Credential{}, ciErrf(http.StatusForbidden, "AccessDenied", "Authorization is missing q-header-list.")
	}
	if _, ok := f["q-url-param-list"]; !ok {
		return Credential{}, ciErrf(http.StatusForbidden, "AccessDenied", "Authorization is missing q-url-param-list.")
	}
	if f.Get("q-sign-algorithm") != "sha1" {
		return Credential{}, ciErrf(http.StatusForbidden, "AccessDenied", "q-sign-algorithm must be sha1.")
	}
	signStart, signEnd, ok := parseTimeWindow(f.Get("q-sign-time"))
	if !ok {
		return Credential{}, ciErrf(http.StatusForbidden, "AccessDenied", "q-sign-time must be <start>;<end> Unix seconds.")
	}
	keyStart, keyEnd, ok := parseTimeWindow(f.Get("q-key-time"))
	if !ok {
		return Credential{}, ciErrf(http.StatusForbidden, "AccessDenied", "q-key-time must be <start>;<end> Unix seconds.")
	}
	if now.After(signEnd) || now.After(keyEnd) {
		return Credential{}, ciErrf(http.StatusForbidden, "AccessDenied", "Request has expired: q-sign-time/q-key-time ended before server time "+strconv.FormatInt(now.Unix(), 10)+".")
	}
	if signStart.After(now.Add(MaxSkew)) || keyStart.After(now.Add(MaxSkew)) {
		return Credential{}, ciErrf(http.StatusForbidden, "RequestTimeTooSkewed", "q-sign-time starts more than 5 minutes after server time "+strconv.FormatInt(now.Unix(), 10)+".")
	}
	cred, ok := creds[f.Get("q-ak")]
	if !ok {
		return Credential{}, ciErrf(http.StatusForbidden, "InvalidAccessKeyId", "The q-ak (SecretId) you provided does not exist.")
	}
	headerNames := strings.Split(strings.ToLower(f.Get("q-header-list")), ";")
	paramNames := strings.Split(strings.ToLower(f.Get("q-url-param-list")), ";")
	headers := cosPairs(headerNames, func(n string) []string {
		if n == "host" {
			return []string{r.Host}
		}
		var out []string
		for k, vs := range r.Header {
			if strings.ToLower(cosEncode(k)) == n {
				out = append(out, vs...)
			}
		}
		return out
	})
	query := r.URL.Query()
	params := cosPairs(paramNames, func(n string) []string {
		var out []string
		for k, vs := range query {
			if strings.ToLower(cosEncode(k)) == n {
				out = append(out, vs...)
			}
		}
		return out
	})
	formatString := strings.ToLower(r.Method) + "\n" + r.URL.Path + "\n" + params + "\n" + headers + "\n"
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

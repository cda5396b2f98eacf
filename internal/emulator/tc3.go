package emulator

import (
	"cmp"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

const tc3Algorithm = "TC3-HMAC-SHA256"

// apiError is an API 3.0 error answer.
type apiError struct {
	Code, Message string
	status        int // HTTP status; 0 = 200 (Tencent answers business and auth errors with 200)
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func errf(code, msg string) *apiError { return &apiError{Code: code, Message: msg} }

// errMissing is code's answer to a request without the required parameter name.
func errMissing(code, name string) *apiError {
	return errf(code, "The request is missing the required parameter "+name+".")
}

// tc3Auth is a parsed Authorization header.
type tc3Auth struct {
	SecretID, Date, Service string
	SignedHeaders           []string
	signedHeadersRaw        string
	Signature               string
}

// parseTC3Authorization parses
// "TC3-HMAC-SHA256 Credential=ID/DATE/SERVICE/tc3_request, SignedHeaders=a;b, Signature=hex".
func parseTC3Authorization(h string) (tc3Auth, *apiError) {
	var a tc3Auth
	alg, rest, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || alg != tc3Algorithm {
		return a, errf("AuthFailure.InvalidAuthorization", "Authorization must start with "+tc3Algorithm+" followed by Credential, SignedHeaders and Signature.")
	}
	fields := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return a, errf("AuthFailure.InvalidAuthorization", "Authorization has a malformed element; want Credential=..., SignedHeaders=..., Signature=....")
		}
		fields[k] = v
	}
	cred, sh, sig := fields["Credential"], fields["SignedHeaders"], fields["Signature"]
	if cred == "" || sh == "" || sig == "" {
		return a, errf("AuthFailure.InvalidAuthorization", "Authorization needs Credential, SignedHeaders and Signature.")
	}
	parts := strings.Split(cred, "/")
	if len(parts) != 4 || parts[3] != "tc3_request" || parts[0] == "" || parts[2] == "" {
		return a, errf("AuthFailure.InvalidAuthorization", "Credential must be SecretId/Date/Service/tc3_request.")
	}
	a.SecretID, a.Date, a.Service = parts[0], parts[1], parts[2]
	a.signedHeadersRaw = sh
	a.SignedHeaders = strings.Split(sh, ";")
	a.Signature = sig
	return a, nil
}

// tc3Request is what the verifier needs from an HTTP request.
type tc3Request struct {
	Method, Path, RawQuery, Host string
	Header                       http.Header
	Body                         []byte
}

func canonicalRequest(r tc3Request, signedHeaders []string, signedHeadersRaw string) string {
	query := ""
	if r.Method == http.MethodGet {
		query = r.RawQuery
	}
	var headers strings.Builder
	for _, name := range signedHeaders {
		v := strings.Join(r.Header.Values(name), ",")
		if name == "host" {
			v = r.Host
		}
		headers.WriteString(name + ":" + strings.ToLower(strings.TrimSpace(v)) + "\n")
	}
	payload := r.Body
	if r.Header.Get("X-TC-Content-SHA256") == "UNSIGNED-PAYLOAD" {
		payload = []byte("UNSIGNED-PAYLOAD")
	}
	return strings.Join([]string{r.Method, cmp.Or(r.Path, "/"), query, headers.String(), signedHeadersRaw, sha256Hex(payload)}, "\n")
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// tc3Signature computes the hex signature of canonical with secretKey.
func tc3Signature(secretKey, date, service, timestamp, canonical string) string {
	sts := tc3Algorithm + "\n" + timestamp + "\n" + date + "/" + service + "/tc3_request\n" + sha256Hex([]byte(canonical))
	k := hmacSHA256([]byte("TC3"+secretKey), date)
	k = hmacSHA256(k, service)
	k = hmacSHA256(k, "tc3_request")
	return hex.EncodeToString(hmacSHA256(k, sts))
}

// verifyTC3 authenticates r: form, timestamp, SecretId, signature, token.
func verifyTC3(r tc3Request, creds map[string]Credential, now time.Time) (tc3Auth, Credential, *apiError) {
	authz := r.Header.Get("Authorization")
	if authz == "" {
		return tc3Auth{}, Credential{}, errf("MissingParameter", "The request is missing the required header Authorization.")
	}
	a, aerr := parseTC3Authorization(authz)
	if aerr != nil {
		return a, Credential{}, aerr
	}
	ts := r.Header.Get("X-TC-Timestamp")
	if ts == "" {
		return a, Credential{}, errf("MissingParameter", "The request is missing the required header X-TC-Timestamp.")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return a, Credential{}, errf("InvalidParameterValue", "X-TC-Timestamp must be a Unix time in seconds, got "+strconv.Quote(ts)+".")
	}
	t := time.Unix(sec, 0)
	if d := now.Sub(t); d > MaxSkew || d < -MaxSkew {
		return a, Credential{}, errf("AuthFailure.SignatureExpire",
			"Signature expired: X-TC-Timestamp "+ts+" is more than 5 minutes from server time "+strconv.FormatInt(now.Unix(), 10)+".")
	}
	cred, ok := creds[a.SecretID]
	if !ok {
		return a, Credential{}, errf("AuthFailure.SecretIdNotFound", "The SecretId is not found; check that the key exists and has no surrounding spaces.")
	}
	if a.Date != t.UTC().Format("2006-01-02") {
		return a, cred, errf("AuthFailure.SignatureFailure", "The credential scope date "+a.Date+" does not match the UTC date of X-TC-Timestamp ("+t.UTC().Format("2006-01-02")+").")
	}
	if !slices.Contains(a.SignedHeaders, "content-type") || !slices.Contains(a.SignedHeaders, "host") {
		return a, cred, errf("AuthFailure.SignatureFailure", "SignedHeaders must include content-type and host.")
	}
	for _, h := range a.SignedHeaders {
		if h != strings.ToLower(h) || h == "" {
			return a, cred, errf("AuthFailure.SignatureFailure", "SignedHeaders must be lower-case header names separated by ';'.")
		}
	}
	canonical := canonicalRequest(r, a.SignedHeaders, a.signedHeadersRaw)
	want := tc3Signature(cred.SecretKey, a.Date, a.Service, ts, canonical)
	if !hmac.Equal([]byte(want), []byte(strings.ToLower(a.Signature))) {
		return a, cred, errf("AuthFailure.SignatureFailure", "The provided credentials could not be validated. Please check your signature is correct.")
	}
	if cred.Token != "" && !hmac.Equal([]byte(cred.Token), []byte(r.Header.Get("X-TC-Token"))) {
		return a, cred, errf("AuthFailure.TokenFailure", "The session token (X-TC-Token) is missing or invalid.")
	}
	return a, cred, nil
}

// Package webhook signs and verifies the X-Janitor-Signature header that
// protects the HTTP-triggered cancel functions.
//
// The scheme follows Stripe's: the header carries a Unix timestamp and one or
// more HMAC-SHA256 signatures of "<timestamp>.<raw body>", hex encoded:
//
//	X-Janitor-Signature: t=1700000000,v1=5257a869...,v1=9e3f...
//
// A request is accepted when any v1 value matches any configured secret (so a
// secret can be rotated by configuring the old and the new one for a while)
// and the timestamp is within the tolerance of the verifier's clock, in both
// directions. Signatures are compared in constant time and computed over the
// raw body bytes, before anything parses them.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Header is the HTTP header that carries the signature.
const Header = "X-Janitor-Signature"

// DefaultTolerance is how far the signed timestamp may be from the verifier's
// clock, in either direction, when Verifier.Tolerance is zero.
const DefaultTolerance = 300 * time.Second

// Limits on what Verify will look at, so a hostile header cannot make it do
// unbounded work.
const (
	maxHeaderLen  = 4096
	maxSignatures = 8
)

// Sentinel errors returned (wrapped, with details) by Verifier.Verify. Test
// for them with errors.Is. None of the messages contain a secret.
var (
	ErrMissing   = errors.New("missing " + Header + " header")
	ErrMalformed = errors.New("malformed " + Header + " header")
	ErrExpired   = errors.New("signature timestamp outside the tolerance")
	ErrMismatch  = errors.New("no signature matches")
	ErrNoSecrets = errors.New("no webhook secret configured")
)

// Sign returns the header value for body signed with secret at time t:
// "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>".
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac([]byte(secret), ts, body))
}

func mac(secret []byte, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Verifier checks signature headers.
type Verifier struct {
	// Secrets are the accepted signing secrets; empty strings are ignored.
	Secrets []string
	// Tolerance is the accepted clock difference; 0 means DefaultTolerance.
	Tolerance time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Verify checks header (the X-Janitor-Signature value) against body, the raw
// request body. It returns nil when a v1 signature matches one of the secrets
// and the timestamp is within the tolerance. Otherwise it returns an error
// wrapping ErrNoSecrets, ErrMissing, ErrMalformed, ErrMismatch or ErrExpired.
//
// The signature is checked before the timestamp, so ErrExpired is only ever
// reported for a request that was genuinely signed with a known secret (an
// old, replayed request or a sender with a skewed clock).
func (v Verifier) Verify(header string, body []byte) error {
	secrets := make([][]byte, 0, len(v.Secrets))
	for _, s := range v.Secrets {
		if s != "" {
			secrets = append(secrets, []byte(s))
		}
	}
	if len(secrets) == 0 {
		return ErrNoSecrets
	}
	header = strings.TrimSpace(header)
	if header == "" {
		return ErrMissing
	}
	ts, tsText, sigs, err := parse(header)
	if err != nil {
		return err
	}

	// Compare every candidate against every secret without stopping early,
	// so the time taken does not depend on which (if any) matched.
	matched := 0
	for _, secret := range secrets {
		want := mac(secret, tsText, body)
		for _, sig := range sigs {
			matched |= subtle.ConstantTimeCompare(want, sig)
		}
	}
	if matched != 1 {
		return fmt.Errorf("%w: %d signature(s) checked against %d secret(s)", ErrMismatch, len(sigs), len(secrets))
	}

	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	tol := v.Tolerance
	if tol <= 0 {
		tol = DefaultTolerance
	}
	skew := now().Sub(time.Unix(ts, 0))
	switch {
	case skew > tol:
		return fmt.Errorf("%w: signed %s ago, more than the %s allowed; sign each request when sending it",
			ErrExpired, skew.Truncate(time.Second), tol)
	case -skew > tol:
		return fmt.Errorf("%w: signed %s in the future, more than the %s allowed; check the sender's clock",
			ErrExpired, (-skew).Truncate(time.Second), tol)
	}
	return nil
}

// parse splits "t=<unix>,v1=<hex>[,v1=<hex>...]". Other schemes (such as a
// future v2) are ignored; exactly one t and at least one v1 are required.
// t must be plain decimal digits with no sign and no leading zero, as Sign
// writes it; tsText is t exactly as sent, which is what the MAC covers.
func parse(header string) (ts int64, tsText string, sigs [][]byte, err error) {
	if len(header) > maxHeaderLen {
		return 0, "", nil, fmt.Errorf("%w: longer than %d bytes", ErrMalformed, maxHeaderLen)
	}
	haveTS := false
	for item := range strings.SplitSeq(header, ",") {
		key, value, ok := strings.Cut(strings.TrimSpace(item), "=")
		if !ok {
			return 0, "", nil, fmt.Errorf("%w: want t=<unix seconds>,v1=<hex HMAC-SHA256>", ErrMalformed)
		}
		switch key {
		case "t":
			if haveTS {
				return 0, "", nil, fmt.Errorf("%w: more than one t=", ErrMalformed)
			}
			n, ok := plainUnix(value)
			if !ok {
				return 0, "", nil, fmt.Errorf("%w: t must be a Unix time in seconds written as plain digits (no sign, no leading zero)", ErrMalformed)
			}
			ts, tsText, haveTS = n, value, true
		case "v1":
			if len(sigs) == maxSignatures {
				return 0, "", nil, fmt.Errorf("%w: more than %d v1 signatures", ErrMalformed, maxSignatures)
			}
			b, derr := hex.DecodeString(value)
			if derr != nil || len(b) != sha256.Size {
				return 0, "", nil, fmt.Errorf("%w: v1 must be %d hex characters (HMAC-SHA256)", ErrMalformed, 2*sha256.Size)
			}
			sigs = append(sigs, b)
		}
	}
	if !haveTS {
		return 0, "", nil, fmt.Errorf("%w: no t= timestamp", ErrMalformed)
	}
	if len(sigs) == 0 {
		return 0, "", nil, fmt.Errorf("%w: no v1= signature", ErrMalformed)
	}
	return ts, tsText, sigs, nil
}

// plainUnix reads s as a positive Unix time written as strconv.FormatInt
// writes it: ASCII digits only, the first not 0, at most maxUnix.
func plainUnix(s string) (int64, bool) {
	if s == "" || len(s) > 12 || s[0] == '0' {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n > 0 && n <= maxUnix
}

// maxUnix keeps time.Unix(ts, 0) arithmetic far from overflow (year ~5138).
const maxUnix = 1 << 37

package webhook_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/scf-janitor/scf-janitor/shared/webhook"
)

var (
	now  = time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	body = []byte(`{"TaskId":"task-audio-abc","Service":"ams"}`)
)

func clock() time.Time { return now }

func TestSignMatchesOpenSSL(t *testing.T) {
	// printf '%s' '1700000000.hello' | openssl dgst -sha256 -hmac s3cret
	got := webhook.Sign("s3cret", time.Unix(1700000000, 0), []byte("hello"))
	want := "t=1700000000,v1=babfa8b593140ee3160bea38210f8fea6712e1f6e073328eb52c4e965bc0ab8d"
	if got != want {
		t.Fatalf("Sign = %q, want %q", got, want)
	}
}

func TestVerify(t *testing.T) {
	const secret, old = "whsec-new", "whsec-old"
	sig := func(secret string, at time.Time, b []byte) string {
		h := webhook.Sign(secret, at, b)
		_, v1, _ := strings.Cut(h, ",")
		return v1
	}
	ts := func(at time.Time) string { return fmt.Sprintf("t=%d", at.Unix()) }
	// asSent signs with t written as tText (the MAC over "<tText>.<body>").
	asSent := func(tText string) string {
		m := hmac.New(sha256.New, []byte(secret))
		m.Write([]byte(tText + "."))
		m.Write(body)
		return "t=" + tText + ",v1=" + hex.EncodeToString(m.Sum(nil))
	}
	unix := fmt.Sprint(now.Unix())

	tests := []struct {
		name    string
		secrets []string
		header  string
		body    []byte
		wantErr error
	}{
		{name: "valid", secrets: []string{secret}, header: webhook.Sign(secret, now, body)},
		{name: "valid empty body", secrets: []string{secret}, header: webhook.Sign(secret, now, nil), body: []byte{}},
		{name: "spaces around items", secrets: []string{secret},
			header: " " + ts(now) + " , " + sig(secret, now, body) + " "},
		{name: "v1 before t", secrets: []string{secret}, header: sig(secret, now, body) + "," + ts(now)},
		{name: "several v1, second matches", secrets: []string{secret},
			header: ts(now) + "," + sig("other", now, body) + "," + sig(secret, now, body)},
		{name: "unknown scheme ignored", secrets: []string{secret},
			header: ts(now) + ",v0=abc," + sig(secret, now, body)},
		{name: "rotated: signed with old secret", secrets: []string{secret, old}, header: webhook.Sign(old, now, body)},
		{name: "rotated: signed with new secret", secrets: []string{old, secret}, header: webhook.Sign(secret, now, body)},
		{name: "rotated: sender signs with both", secrets: []string{secret},
			header: ts(now) + "," + sig(old, now, body) + "," + sig(secret, now, body)},
		{name: "empty secrets ignored", secrets: []string{"", secret}, header: webhook.Sign(secret, now, body)},
		{name: "at tolerance in the past", secrets: []string{secret}, header: webhook.Sign(secret, now.Add(-300*time.Second), body)},
		{name: "at tolerance in the future", secrets: []string{secret}, header: webhook.Sign(secret, now.Add(300*time.Second), body)},

		{name: "no secrets", secrets: nil, header: webhook.Sign(secret, now, body), wantErr: webhook.ErrNoSecrets},
		{name: "only empty secrets", secrets: []string{""}, header: webhook.Sign("", now, body), wantErr: webhook.ErrNoSecrets},
		{name: "missing", secrets: []string{secret}, header: "", wantErr: webhook.ErrMissing},
		{name: "blank", secrets: []string{secret}, header: "   ", wantErr: webhook.ErrMissing},
		{name: "wrong secret", secrets: []string{secret}, header: webhook.Sign("guess", now, body), wantErr: webhook.ErrMismatch},
		{name: "retired secret", secrets: []string{secret}, header: webhook.Sign(old, now, body), wantErr: webhook.ErrMismatch},
		{name: "body changed", secrets: []string{secret}, header: webhook.Sign(secret, now, []byte(`{"TaskId":"other"}`)), wantErr: webhook.ErrMismatch},
		{name: "timestamp changed", secrets: []string{secret}, header: ts(now.Add(time.Second)) + "," + sig(secret, now, body), wantErr: webhook.ErrMismatch},
		{name: "expired past", secrets: []string{secret}, header: webhook.Sign(secret, now.Add(-301*time.Second), body), wantErr: webhook.ErrExpired},
		{name: "expired future", secrets: []string{secret}, header: webhook.Sign(secret, now.Add(301*time.Second), body), wantErr: webhook.ErrExpired},
		{name: "expired and wrong is a mismatch", secrets: []string{secret}, header: webhook.Sign("guess", now.Add(-time.Hour), body), wantErr: webhook.ErrMismatch},
		{name: "no t", secrets: []string{secret}, header: sig(secret, now, body), wantErr: webhook.ErrMalformed},
		{name: "no v1", secrets: []string{secret}, header: ts(now), wantErr: webhook.ErrMalformed},
		{name: "two t", secrets: []string{secret}, header: ts(now) + "," + ts(now) + "," + sig(secret, now, body), wantErr: webhook.ErrMalformed},
		{name: "t not a number", secrets: []string{secret}, header: "t=yesterday," + sig(secret, now, body), wantErr: webhook.ErrMalformed},
		{name: "t negative", secrets: []string{secret}, header: "t=-5," + sig(secret, now, body), wantErr: webhook.ErrMalformed},
		{name: "t huge", secrets: []string{secret}, header: "t=99999999999999999999," + sig(secret, now, body), wantErr: webhook.ErrMalformed},
		// t is plain digits as Sign writes them; another spelling of the same
		// number is refused whether the MAC covers the text sent or the
		// canonical number.
		{name: "t with plus sign, MAC over t as sent", secrets: []string{secret}, header: asSent("+" + unix), wantErr: webhook.ErrMalformed},
		{name: "t with plus sign, MAC over the number", secrets: []string{secret}, header: "t=+" + unix + "," + sig(secret, now, body), wantErr: webhook.ErrMalformed},
		{name: "t with leading zero, MAC over t as sent", secrets: []string{secret}, header: asSent("0" + unix), wantErr: webhook.ErrMalformed},
		{name: "t with leading zero, MAC over the number", secrets: []string{secret}, header: "t=0" + unix + "," + sig(secret, now, body), wantErr: webhook.ErrMalformed},
		{name: "t zero", secrets: []string{secret}, header: asSent("0"), wantErr: webhook.ErrMalformed},
		{name: "t with underscore", secrets: []string{secret}, header: asSent(unix[:3] + "_" + unix[3:]), wantErr: webhook.ErrMalformed},
		{name: "t as sent, plain", secrets: []string{secret}, header: asSent(unix)},
		{name: "t in milliseconds", secrets: []string{secret}, header: fmt.Sprintf("t=%d,", now.UnixMilli()) + sig(secret, now, body), wantErr: webhook.ErrMalformed},
		{name: "v1 not hex", secrets: []string{secret}, header: ts(now) + ",v1=" + strings.Repeat("zz", 32), wantErr: webhook.ErrMalformed},
		{name: "v1 too short", secrets: []string{secret}, header: ts(now) + ",v1=abcd", wantErr: webhook.ErrMalformed},
		{name: "no equals", secrets: []string{secret}, header: "sha256 deadbeef", wantErr: webhook.ErrMalformed},
		{name: "bare hex (GitHub style)", secrets: []string{secret}, header: "sha256=" + strings.Repeat("ab", 32), wantErr: webhook.ErrMalformed},
		{name: "too many v1", secrets: []string{secret}, header: ts(now) + strings.Repeat(",v1="+strings.Repeat("ab", 32), 9), wantErr: webhook.ErrMalformed},
		{name: "too long", secrets: []string{secret}, header: ts(now) + ",x=" + strings.Repeat("a", 5000), wantErr: webhook.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := body
			if tt.body != nil {
				b = tt.body
			}
			v := webhook.Verifier{Secrets: tt.secrets, Now: clock}
			err := v.Verify(tt.header, b)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Verify(%q) = %v, want nil", tt.header, err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify(%q) = %v, want %v", tt.header, err, tt.wantErr)
			}
			for _, s := range tt.secrets {
				if s != "" && strings.Contains(err.Error(), s) {
					t.Errorf("error %q contains the secret %q", err, s)
				}
			}
		})
	}
}

func TestVerifyCustomTolerance(t *testing.T) {
	v := webhook.Verifier{Secrets: []string{"k"}, Tolerance: 10 * time.Second, Now: clock}
	if err := v.Verify(webhook.Sign("k", now.Add(-10*time.Second), body), body); err != nil {
		t.Errorf("10s old with 10s tolerance: %v", err)
	}
	if err := v.Verify(webhook.Sign("k", now.Add(-11*time.Second), body), body); !errors.Is(err, webhook.ErrExpired) {
		t.Errorf("11s old with 10s tolerance: %v, want ErrExpired", err)
	}
}

func TestVerifyDefaultClock(t *testing.T) {
	v := webhook.Verifier{Secrets: []string{"k"}}
	if err := v.Verify(webhook.Sign("k", time.Now(), body), body); err != nil {
		t.Errorf("fresh signature with the real clock: %v", err)
	}
	if err := v.Verify(webhook.Sign("k", time.Now().Add(-time.Hour), body), body); !errors.Is(err, webhook.ErrExpired) {
		t.Errorf("hour-old signature with the real clock: %v, want ErrExpired", err)
	}
}

func Example() {
	secret := "whsec-example"
	body := []byte(`{"TaskId":"task-audio-abc"}`)
	at := time.Unix(1700000000, 0)

	header := webhook.Sign(secret, at, body)
	fmt.Println(header)

	v := webhook.Verifier{Secrets: []string{secret}, Now: func() time.Time { return at.Add(time.Minute) }}
	fmt.Println(v.Verify(header, body))
	fmt.Println(v.Verify(header, []byte(`{"TaskId":"task-audio-xyz"}`)))
	// Output:
	// t=1700000000,v1=52bd0765f8dce6115a075352b0b187c80ece7bf80099a2df52bd83c274c5382b
	// <nil>
	// no signature matches: 1 signature(s) checked against 1 secret(s)
}

func FuzzVerify(f *testing.F) {
	f.Add(webhook.Sign("k", now, body), body)
	f.Add("t=1,v1=", []byte{})
	f.Add("t=,v1=,v1=,,", []byte("x"))
	f.Add(",,,=,=", []byte(nil))
	f.Fuzz(func(t *testing.T, header string, b []byte) {
		v := webhook.Verifier{Secrets: []string{"k"}, Now: clock}
		if v.Verify(header, b) != nil {
			return
		}
		// Accepted: the header must carry the genuine signature for its own
		// timestamp (anything else would be an HMAC forgery).
		var ts int64
		for item := range strings.SplitSeq(header, ",") {
			if k, val, _ := strings.Cut(strings.TrimSpace(item), "="); k == "t" {
				fmt.Sscan(val, &ts)
			}
		}
		_, genuine, _ := strings.Cut(webhook.Sign("k", time.Unix(ts, 0), b), ",")
		if !strings.Contains(strings.ToLower(header), genuine) {
			t.Fatalf("accepted %q for body %q without the genuine %s", header, b, genuine)
		}
	})
}

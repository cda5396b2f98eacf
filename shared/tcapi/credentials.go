package tcapi

import (
	"fmt"
	"log/slog"
	"strings"
)

// Credentials are the Tencent Cloud API keys for one invocation. SCF hands a
// function temporary role credentials (with a Token) per invocation, so build
// Credentials per invocation and never cache them.
//
// String, GoString and LogValue redact SecretKey and Token, so printing or
// logging a Credentials value never leaks them.
type Credentials struct {
	SecretID, SecretKey, Token string
}

// String returns a redacted form such as
// "tcapi.Credentials{SecretID: AKID..., SecretKey: [redacted], Token: [redacted]}".
func (c Credentials) String() string {
	return fmt.Sprintf("tcapi.Credentials{SecretID: %s, SecretKey: %s, Token: %s}",
		c.SecretID, redactedMark(c.SecretKey), redactedMark(c.Token))
}

// GoString is String, so %#v does not leak secrets either.
func (c Credentials) GoString() string { return c.String() }

// LogValue implements slog.LogValuer.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("secret_id", c.SecretID),
		slog.String("secret_key", redactedMark(c.SecretKey)),
		slog.String("token", redactedMark(c.Token)),
	)
}

// Format makes every fmt verb (%v, %+v, %s, %q, %#v) print the redacted form.
func (c Credentials) Format(f fmt.State, verb rune) {
	s := c.String()
	if verb == 'q' {
		s = fmt.Sprintf("%q", s)
	}
	_, _ = f.Write([]byte(s))
}

func (c Credentials) validate() error {
	switch {
	case strings.TrimSpace(c.SecretID) == "" && strings.TrimSpace(c.SecretKey) == "":
		return fmt.Errorf("tcapi: no credentials: set TENCENTCLOUD_SECRETID and TENCENTCLOUD_SECRETKEY (SCF sets them from the function's execution role)")
	case strings.TrimSpace(c.SecretID) == "":
		return fmt.Errorf("tcapi: credentials have a SecretKey but no SecretID (TENCENTCLOUD_SECRETID)")
	case strings.TrimSpace(c.SecretKey) == "":
		return fmt.Errorf("tcapi: credentials for SecretID %s have no SecretKey (TENCENTCLOUD_SECRETKEY)", c.SecretID)
	case c.SecretID != strings.TrimSpace(c.SecretID) || c.SecretKey != strings.TrimSpace(c.SecretKey):
		return fmt.Errorf("tcapi: SecretID or SecretKey has leading or trailing spaces")
	}
	return nil
}

// redact replaces every occurrence of the secret key and token in s.
func (c Credentials) redact(s string) string {
	for _, secret := range []string{c.SecretKey, c.Token} {
		if len(secret) >= 4 {
			s = strings.ReplaceAll(s, secret, "[redacted]")
		}
	}
	return s
}

func redactedMark(s string) string {
	if s == "" {
		return `""`
	}
	return "[redacted]"
}

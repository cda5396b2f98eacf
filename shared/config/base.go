package config

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

// The environment variables of the common contract (see docs/deploy.md).
const (
	EnvSecretID     = "TENCENTCLOUD_SECRETID"
	EnvSecretKey    = "TENCENTCLOUD_SECRETKEY"
	EnvSessionToken = "TENCENTCLOUD_SESSIONTOKEN"
	EnvRegion       = "TENCENTCLOUD_REGION"
	EnvAMSEndpoint  = "JANITOR_AMS_ENDPOINT"
	EnvVMEndpoint   = "JANITOR_VM_ENDPOINT"
	EnvTRTCEndpoint = "JANITOR_TRTC_ENDPOINT"
	EnvCIEndpoint   = "JANITOR_CI_ENDPOINT"
	EnvLogLevel     = "JANITOR_LOG_LEVEL"
)

// Base is the configuration every function shares.
type Base struct {
	// Credentials: SCF sets them from the execution role, per invocation.
	SecretID, SecretKey, SessionToken string
	Region                            string
	// Base URL overrides ("" = the real Tencent endpoint), without a
	// trailing slash.
	AMSEndpoint, VMEndpoint, TRTCEndpoint, CIEndpoint string
	LogLevel                                          slog.Level
}

// LoadBase reads the common contract. Invalid values give an error naming the
// variable and the accepted form; all problems are reported together. Missing
// credentials are not an error here (callers answer that in their own terms,
// or call RequireCredentials). Secret values never appear in errors.
func LoadBase(getenv Getenv) (Base, error) {
	b := Base{
		SecretID:     lookup(getenv, EnvSecretID),
		SecretKey:    lookup(getenv, EnvSecretKey),
		SessionToken: lookup(getenv, EnvSessionToken),
		Region:       lookup(getenv, EnvRegion),
	}
	var errs []error
	for _, e := range []struct {
		name string
		dst  *string
	}{
		{EnvAMSEndpoint, &b.AMSEndpoint},
		{EnvVMEndpoint, &b.VMEndpoint},
		{EnvTRTCEndpoint, &b.TRTCEndpoint},
		{EnvCIEndpoint, &b.CIEndpoint},
	} {
		v, err := URL(getenv, e.name)
		if err != nil {
			errs = append(errs, err)
		}
		*e.dst = v
	}
	level, err := LogLevel(getenv)
	if err != nil {
		errs = append(errs, err)
	}
	b.LogLevel = level
	if len(errs) > 0 {
		return Base{}, errors.Join(errs...)
	}
	return b, nil
}

// LogLevel reads JANITOR_LOG_LEVEL: debug, info (default), warn or error.
// A function builds its logger before it has credentials, so this is
// separate from LoadBase.
func LogLevel(getenv Getenv) (slog.Level, error) {
	v, err := Enum(getenv, EnvLogLevel, "info", "debug", "info", "warn", "error")
	if err != nil {
		return slog.LevelInfo, err
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(v)); err != nil {
		return slog.LevelInfo, fmt.Errorf("%s: %w", EnvLogLevel, err)
	}
	return l, nil
}

// String describes b with the secret key and session token redacted.
func (b Base) String() string {
	return fmt.Sprintf("config.Base{SecretID:%q SecretKey:%s SessionToken:%s Region:%q AMSEndpoint:%q VMEndpoint:%q TRTCEndpoint:%q CIEndpoint:%q LogLevel:%s}",
		b.SecretID, redact(b.SecretKey), redact(b.SessionToken), b.Region,
		b.AMSEndpoint, b.VMEndpoint, b.TRTCEndpoint, b.CIEndpoint, b.LogLevel)
}

// GoString is String, so %#v redacts too.
func (b Base) GoString() string { return b.String() }

// LogValue logs b with the secret key and session token redacted.
func (b Base) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("secret_id", b.SecretID),
		slog.String("secret_key", redact(b.SecretKey)),
		slog.String("session_token", redact(b.SessionToken)),
		slog.String("region", b.Region),
		slog.String("ams_endpoint", b.AMSEndpoint),
		slog.String("vm_endpoint", b.VMEndpoint),
		slog.String("trtc_endpoint", b.TRTCEndpoint),
		slog.String("ci_endpoint", b.CIEndpoint),
		slog.String("log_level", strings.ToLower(b.LogLevel.String())),
	)
}

func redact(s string) string {
	if s == "" {
		return `""`
	}
	return "[REDACTED]"
}

// RequireCredentials returns an error naming the missing variables when the
// secret id or key is empty (the session token is optional: permanent keys
// have none).
func (b Base) RequireCredentials() error {
	const help = "a value: on SCF give the function an execution role (SCF passes its temporary keys to every invocation); locally pass credentials in the invocation's environment"
	var errs []error
	if strings.TrimSpace(b.SecretID) == "" {
		errs = append(errs, &Error{Name: EnvSecretID, Want: help})
	}
	if strings.TrimSpace(b.SecretKey) == "" {
		errs = append(errs, &Error{Name: EnvSecretKey, Want: help})
	}
	return errors.Join(errs...)
}

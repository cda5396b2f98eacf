package config_test

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scf-janitor/scf-janitor/shared/config"
)

// env returns a Getenv over m.
func env(m map[string]string) config.Getenv {
	return func(k string) string { return m[k] }
}

func one(name, value string) config.Getenv { return env(map[string]string{name: value}) }

func TestDuration(t *testing.T) {
	tests := []struct {
		value   string
		want    time.Duration
		wantErr string
	}{
		{"", 2 * time.Hour, ""},
		{"   ", 2 * time.Hour, ""},
		{"30m", 30 * time.Minute, ""},
		{" 1h30m ", 90 * time.Minute, ""},
		{"1m", time.Minute, ""},
		{"59s", 0, `JANITOR_X="59s": want a Go duration of at least 1m, such as 2h or 30m`},
		{"abc", 0, `JANITOR_X="abc": want a Go duration of at least 1m, such as 2h or 30m`},
		{"10", 0, `JANITOR_X="10": want a Go duration of at least 1m`},
		{"-1h", 0, `want a Go duration of at least 1m`},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			got, err := config.Duration(one("JANITOR_X", tt.value), "JANITOR_X", 2*time.Hour, time.Minute)
			checkErr(t, err, tt.wantErr)
			if err == nil && got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestDurationMinimumIsShort(t *testing.T) {
	for _, tt := range []struct {
		min  time.Duration
		want string
	}{
		{time.Hour, "at least 1h,"},
		{90 * time.Minute, "at least 1h30m,"},
		{500 * time.Millisecond, "at least 500ms,"},
		{0, "at least 0s,"},
	} {
		_, err := config.Duration(one("D", "x"), "D", 0, tt.min)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("min %s: err = %v, want it to contain %q", tt.min, err, tt.want)
		}
	}
}

func TestInt(t *testing.T) {
	tests := []struct {
		value   string
		want    int
		wantErr string
	}{
		{"", 50, ""},
		{"1", 1, ""},
		{"1000", 1000, ""},
		{" 7 ", 7, ""},
		{"0", 0, `JANITOR_N="0": want an integer from 1 to 1000`},
		{"1001", 0, `JANITOR_N="1001": want an integer from 1 to 1000`},
		{"1.5", 0, `want an integer from 1 to 1000`},
		{"ten", 0, `want an integer from 1 to 1000`},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			got, err := config.Int(one("JANITOR_N", tt.value), "JANITOR_N", 50, 1, 1000)
			checkErr(t, err, tt.wantErr)
			if err == nil && got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
}

func TestFloat(t *testing.T) {
	tests := []struct {
		value   string
		want    float64
		wantErr string
	}{
		{"", 20, ""},
		{"0.5", 0.5, ""},
		{"20", 20, ""},
		{"0", 0, `JANITOR_RATE="0": want a number from 0.1 to 20`},
		{"NaN", 0, `want a number from 0.1 to 20`},
		{"Inf", 0, `want a number from 0.1 to 20`},
		{"fast", 0, `want a number from 0.1 to 20`},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			got, err := config.Float(one("JANITOR_RATE", tt.value), "JANITOR_RATE", 20, 0.1, 20)
			checkErr(t, err, tt.wantErr)
			if err == nil && got != tt.want {
				t.Errorf("got %g, want %g", got, tt.want)
			}
		})
	}
}

func TestBool(t *testing.T) {
	tests := []struct {
		value   string
		def     bool
		want    bool
		wantErr string
	}{
		{"", true, true, ""},
		{"", false, false, ""},
		{"true", false, true, ""},
		{"TRUE", false, true, ""},
		{"1", false, true, ""},
		{"yes", false, true, ""},
		{"on", false, true, ""},
		{"false", true, false, ""},
		{"0", true, false, ""},
		{"No", true, false, ""},
		{"off", true, false, ""},
		{"maybe", true, false, `JANITOR_DRY_RUN="maybe": want true or false`},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%v", tt.value, tt.def), func(t *testing.T) {
			got, err := config.Bool(one("JANITOR_DRY_RUN", tt.value), "JANITOR_DRY_RUN", tt.def)
			checkErr(t, err, tt.wantErr)
			if err == nil && got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestList(t *testing.T) {
	def := []string{"default"}
	tests := []struct {
		value string
		want  []string
	}{
		{"", def},
		{" , ,", def},
		{"a", []string{"a"}},
		{" a , b,,c ", []string{"a", "b", "c"}},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			got := config.List(one("JANITOR_L", tt.value), "JANITOR_L", def)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("List(%q) mismatch (-want +got):\n%s", tt.value, diff)
			}
		})
	}
}

func TestEnum(t *testing.T) {
	tests := []struct {
		value   string
		want    string
		wantErr string
	}{
		{"", "signature", ""},
		{"none", "none", ""},
		{"NONE", "none", ""},
		{" Signature ", "signature", ""},
		{"basic", "", `JANITOR_WEBHOOK_AUTH="basic": want one of signature, none`},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			got, err := config.Enum(one("JANITOR_WEBHOOK_AUTH", tt.value), "JANITOR_WEBHOOK_AUTH", "signature", "signature", "none")
			checkErr(t, err, tt.wantErr)
			if err == nil && got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestURL(t *testing.T) {
	tests := []struct {
		value   string
		want    string
		wantErr string
	}{
		{"", "", ""},
		{"http://127.0.0.1:9100", "http://127.0.0.1:9100", ""},
		{"https://ams.tencentcloudapi.com/", "https://ams.tencentcloudapi.com", ""},
		{"127.0.0.1:9100", "", `JANITOR_AMS_ENDPOINT="127.0.0.1:9100": want an http or https base URL without a path, such as http://127.0.0.1:9100`},
		{"ftp://host", "", "want an http or https base URL"},
		{"http://", "", "want an http or https base URL"},
		{"http://host/?a=b", "", "want an http or https base URL"},
		// Only scheme, host, port and path are shown (issue 11): no user
		// name, password, query or fragment.
		{"http://user:pw@host", "", `JANITOR_AMS_ENDPOINT="http://host": want an http or https base URL`},
		{"http://user:p%zz@host", "", `JANITOR_AMS_ENDPOINT="http://host": want an http or https base URL`},
		{"http://admin@host:9100/x", "", `JANITOR_AMS_ENDPOINT="http://host:9100/x": want an http or https base URL`},
		{"https://host/p?token=abc#frag", "", `JANITOR_AMS_ENDPOINT="https://host/p": want an http or https base URL`},
		{"AKIDSECRETLOOKINGVALUE", "", `JANITOR_AMS_ENDPOINT="(not shown: not a URL)"`},
		{"http://127.0.0.1:9100/v3", "", `JANITOR_AMS_ENDPOINT="http://127.0.0.1:9100/v3": want an http or https base URL without a path`},
		{"http://:9100", "", "want an http or https base URL"},
		{"http://host:port", "", "want an http or https base URL"},
		{"http://host?", "", "want an http or https base URL"},
		{"http://[::1]:9100/", "http://[::1]:9100", ""},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			got, err := config.URL(one("JANITOR_AMS_ENDPOINT", tt.value), "JANITOR_AMS_ENDPOINT")
			checkErr(t, err, tt.wantErr)
			if err == nil && got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNilGetenvGivesDefaults(t *testing.T) {
	if d, err := config.Duration(nil, "X", time.Second, 0); err != nil || d != time.Second {
		t.Errorf("Duration = %s, %v", d, err)
	}
	if b, err := config.LoadBase(nil); err != nil || b.LogLevel != slog.LevelInfo {
		t.Errorf("LoadBase(nil) = %v, %v", b, err)
	}
}

func TestLoadBase(t *testing.T) {
	full := map[string]string{
		"TENCENTCLOUD_SECRETID":     "AKIDEXAMPLE",
		"TENCENTCLOUD_SECRETKEY":    "very-secret-key",
		"TENCENTCLOUD_SESSIONTOKEN": "very-secret-token",
		"TENCENTCLOUD_REGION":       "ap-guangzhou",
		"JANITOR_AMS_ENDPOINT":      "http://127.0.0.1:9100",
		"JANITOR_VM_ENDPOINT":       "http://127.0.0.1:9100/",
		"JANITOR_TRTC_ENDPOINT":     "https://trtc.intl.tencentcloudapi.com",
		"JANITOR_CI_ENDPOINT":       "http://127.0.0.1:9100",
		"JANITOR_LOG_LEVEL":         "DEBUG",
	}
	got, err := config.LoadBase(env(full))
	if err != nil {
		t.Fatal(err)
	}
	want := config.Base{
		SecretID: "AKIDEXAMPLE", SecretKey: "very-secret-key", SessionToken: "very-secret-token", Region: "ap-guangzhou",
		AMSEndpoint: "http://127.0.0.1:9100", VMEndpoint: "http://127.0.0.1:9100",
		TRTCEndpoint: "https://trtc.intl.tencentcloudapi.com", CIEndpoint: "http://127.0.0.1:9100",
		LogLevel: slog.LevelDebug,
	}
	if got != want {
		t.Errorf("LoadBase = %#v\nwant %#v", got, want)
	}
	if err := got.RequireCredentials(); err != nil {
		t.Errorf("RequireCredentials: %v", err)
	}

	t.Run("defaults", func(t *testing.T) {
		got, err := config.LoadBase(env(nil))
		if err != nil {
			t.Fatal(err)
		}
		if got != (config.Base{LogLevel: slog.LevelInfo}) {
			t.Errorf("LoadBase(empty) = %#v", got)
		}
		err = got.RequireCredentials()
		if err == nil || !strings.Contains(err.Error(), "TENCENTCLOUD_SECRETID") || !strings.Contains(err.Error(), "TENCENTCLOUD_SECRETKEY") {
			t.Errorf("RequireCredentials = %v, want both variables named", err)
		}
	})

	t.Run("every invalid value is reported", func(t *testing.T) {
		bad := map[string]string{
			"TENCENTCLOUD_SECRETKEY": "very-secret-key",
			"JANITOR_AMS_ENDPOINT":   "ams.local:9100",
			"JANITOR_CI_ENDPOINT":    "gopher://x",
			"JANITOR_LOG_LEVEL":      "verbose",
		}
		_, err := config.LoadBase(env(bad))
		if err == nil {
			t.Fatal("no error")
		}
		for _, want := range []string{
			`JANITOR_AMS_ENDPOINT="ams.local:9100": want an http or https base URL`,
			`JANITOR_CI_ENDPOINT="gopher://x"`,
			`JANITOR_LOG_LEVEL="verbose": want one of debug, info, warn, error`,
		} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not contain %q", err, want)
			}
		}
		var ce *config.Error
		if !errors.As(err, &ce) {
			t.Errorf("errors.As(*config.Error) failed for %v", err)
		}
		if strings.Contains(err.Error(), "very-secret-key") {
			t.Errorf("error leaks the secret key: %v", err)
		}
	})
}

func TestBaseNeverPrintsSecrets(t *testing.T) {
	b := config.Base{SecretID: "AKIDEXAMPLE", SecretKey: "very-secret-key", SessionToken: "very-secret-token"}
	var sb strings.Builder
	fmt.Fprintf(&sb, "%v %+v %#v %s\n", b, b, b, b)
	slog.New(slog.NewJSONHandler(&sb, nil)).Info("config", "base", b)
	slog.New(slog.NewTextHandler(&sb, nil)).Info("config", "base", b)
	out := sb.String()
	for _, secret := range []string{"very-secret-key", "very-secret-token"} {
		if strings.Contains(out, secret) {
			t.Errorf("output contains %q:\n%s", secret, out)
		}
	}
	if !strings.Contains(out, "AKIDEXAMPLE") || !strings.Contains(out, "[REDACTED]") {
		t.Errorf("output should show the SecretId and mark redactions:\n%s", out)
	}
}

func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case want != "" && err == nil:
		t.Fatalf("no error, want one containing %q", want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Fatalf("error %q does not contain %q", err, want)
	}
	if err != nil {
		var ce *config.Error
		if !errors.As(err, &ce) || ce.Name == "" {
			t.Errorf("error %v is not a *config.Error naming the variable", err)
		}
	}
}

func ExampleDuration() {
	getenv := func(string) string { return "abc" }
	_, err := config.Duration(getenv, "JANITOR_SWEEP_MAX_AGE", 2*time.Hour, time.Minute)
	fmt.Println(err)
	// Output: JANITOR_SWEEP_MAX_AGE="abc": want a Go duration of at least 1m, such as 2h or 30m
}

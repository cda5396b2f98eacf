package sweep

import (
	"strings"
	"testing"
)

// TestCheckEnv: the deploy-time check refuses what the handler refuses.
func TestCheckEnv(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string // "" = accepted
	}{
		{"defaults", nil, ""},
		{"max age banana", map[string]string{"JANITOR_SWEEP_MAX_AGE": "banana"}, `JANITOR_SWEEP_MAX_AGE="banana": want a Go duration of at least 1m`},
		{"lookback not longer", map[string]string{"JANITOR_SWEEP_MAX_AGE": "3h", "JANITOR_SWEEP_LOOKBACK": "2h"}, "must be longer than maxAge"},
		{"fanout", map[string]string{"JANITOR_SWEEP_FANOUT": "sync"}, "JANITOR_SWEEP_FANOUT"},
		{"sts endpoint", map[string]string{"JANITOR_STS_ENDPOINT": "not a url"}, "JANITOR_STS_ENDPOINT"},
		{"ams endpoint", map[string]string{"JANITOR_AMS_ENDPOINT": "ftp://x"}, "JANITOR_AMS_ENDPOINT"},
		{"log level", map[string]string{"JANITOR_LOG_LEVEL": "loud"}, "JANITOR_LOG_LEVEL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckEnv(func(k string) string { return tc.env[k] })
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

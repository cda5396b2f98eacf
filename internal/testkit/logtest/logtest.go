// Package logtest helps tests check what a function logged: a concurrency-safe
// buffer that parses JSON log lines, and AssertNoSecrets.
package logtest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/scf-janitor/scf-janitor/shared/logging"
)

// Buffer collects log output; safe for concurrent use.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write implements io.Writer.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Reset discards everything written so far.
func (b *Buffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Reset()
}

// Records parses every line written so far as a JSON object, failing the test
// on a line that is not one.
func (b *Buffer) Records(tb testing.TB) []map[string]any {
	tb.Helper()
	var out []map[string]any
	for line := range strings.SplitSeq(b.String(), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			tb.Fatalf("log line is not a JSON object: %v\n%s", err, line)
		}
		out = append(out, m)
	}
	return out
}

// New returns a debug-level logging.New logger for function writing to a new
// Buffer.
func New(function string) (*slog.Logger, *Buffer) {
	b := &Buffer{}
	return logging.New(b, slog.LevelDebug, function), b
}

// AssertNoSecrets fails the test if output contains any of the non-empty
// secrets, as written or in the forms it would take inside JSON, a URL query
// or base64.
func AssertNoSecrets(tb testing.TB, output string, secrets ...string) {
	tb.Helper()
	for _, s := range secrets {
		if s == "" {
			continue
		}
		for form, v := range Forms(s) {
			if strings.Contains(output, v) {
				tb.Errorf("output contains a secret (%s form, %d characters)", form, len(s))
			}
		}
	}
}

// Forms returns the ways a secret may appear in text output: as written, JSON
// string escaped, URL query escaped and base64 encoded.
func Forms(secret string) map[string]string {
	j, _ := json.Marshal(secret)
	return map[string]string{
		"raw":    secret,
		"json":   string(j[1 : len(j)-1]),
		"query":  url.QueryEscape(secret),
		"base64": base64.StdEncoding.EncodeToString([]byte(secret)),
	}
}

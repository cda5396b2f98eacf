package scflocal

import (
	"strings"
	"testing"
	"time"
)

func TestInvocationRequest(t *testing.T) {
	now := time.Date(2026, 11, 22, 3, 0, 0, 500, time.UTC)
	req, err := Invocation{Payload: []byte(`{}`), Timeout: 1500 * time.Millisecond, Env: map[string]string{"K": "v"}}.request(now)
	if err != nil {
		t.Fatal(err)
	}
	dl := now.Add(1500 * time.Millisecond)
	if req.Deadline.Seconds != dl.Unix() || req.Deadline.Nanos != int64(dl.Nanosecond()) || req.TimeLimitInMs != 1500 {
		t.Errorf("deadline %+v, limit %d", req.Deadline, req.TimeLimitInMs)
	}
	if req.Environment != `{"K":"v"}` || req.Namespace != "default" || req.FunctionVersion != "$LATEST" || req.MemoryLimitInMb != 128 {
		t.Errorf("request = %+v", req)
	}
	if len(req.RequestId) != 36 || strings.Count(req.RequestId, "-") != 4 {
		t.Errorf("request id %q", req.RequestId)
	}

	fixed := now.Add(-time.Minute)
	req, _ = Invocation{Deadline: fixed, MemoryMB: 512, Namespace: "ns", FunctionVersion: "3"}.request(now)
	if req.Deadline.Seconds != fixed.Unix() || req.TimeLimitInMs != 3000 || req.Environment != "" ||
		req.MemoryLimitInMb != 512 || req.Namespace != "ns" || req.FunctionVersion != "3" {
		t.Errorf("request = %+v", req)
	}
}

func TestTailBuffer(t *testing.T) {
	b := &tailBuffer{max: 8}
	b.Write([]byte("abcdef"))
	mark := b.Len()
	b.Write([]byte("ghijkl"))
	if got := b.String(); got != "efghijkl" {
		t.Errorf("String = %q", got)
	}
	if got := b.Since(mark); got != "ghijkl" {
		t.Errorf("Since(%d) = %q", mark, got)
	}
	if got := b.Since(0); got != "efghijkl" {
		t.Errorf("Since(0) = %q, want what is kept", got)
	}
	if got := b.Since(100); got != "" {
		t.Errorf("Since(100) = %q", got)
	}
	if b.Len() != 12 {
		t.Errorf("Len = %d", b.Len())
	}
}

func TestNewRequestIDIsUnique(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := NewRequestID()
		if seen[id] {
			t.Fatalf("duplicate id %s", id)
		}
		seen[id] = true
	}
}

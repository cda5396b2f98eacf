package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestGatewayErrorBodies: scf-local's own errors have the Tencent shape
// {"Error":{"Code","Message"},"RequestId"}, the request id also in
// X-Scf-Request-Id, and no HTML escapes.
func TestGatewayErrorBodies(t *testing.T) {
	t.Parallel() // its own scf-local on free ports; it waits more than it computes
	out, _ := startServe(t, nil, "--timers=false")
	gw := out.field(t, "gateway:")
	tests := []struct {
		name, path, body string
		status           int
		code, message    string
	}{
		{"over 6 MB", "/echo", strings.Repeat("x", maxRequestBytes+1), http.StatusRequestEntityTooLarge, "RequestTooLarge", "over 6291456 bytes"},
		{"unknown route", "/nope/<jobId>", "{}", http.StatusNotFound, "ResourceNotFound.Function", "no function URL at /nope/<jobId>"},
		{"function error", "/echo", "error", http.StatusBadGateway, "FunctionError", "asked to fail"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, hdr, resp := post(t, gw+tt.path, nil, tt.body)
			if strings.Contains(resp, `\u003c`) || strings.Contains(resp, `\u003e`) {
				t.Errorf("body has HTML escapes: %s", resp)
			}
			var body struct {
				Error     struct{ Code, Message string }
				RequestId string
			}
			if err := json.Unmarshal([]byte(resp), &body); err != nil {
				t.Fatalf("body %q: %v", resp, err)
			}
			if status != tt.status || body.Error.Code != tt.code || !strings.Contains(body.Error.Message, tt.message) {
				t.Errorf("got %d %+v, want %d %s containing %q", status, body.Error, tt.status, tt.code, tt.message)
			}
			if len(body.RequestId) != 36 || hdr.Get("X-Scf-Request-Id") != body.RequestId {
				t.Errorf("RequestId %q, header %q: want the same request id in both", body.RequestId, hdr.Get("X-Scf-Request-Id"))
			}
		})
	}
}

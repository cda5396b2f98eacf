package main

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"
)

// TestBusyPortFailsBeforeBuilding: a port in use is reported at once, naming
// the port and the flag that changes it, before any function is built.
func TestBusyPortFailsBeforeBuilding(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	addr := busy.Addr().String()
	_, port, _ := net.SplitHostPort(addr)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"gateway", []string{"--addr", addr, "--emulator-addr", "127.0.0.1:0"},
			"port " + port + " (" + addr + ", the gateway, --addr) is already in use: another scf-local running? stop it, or pass --addr 127.0.0.1:0"},
		{"emulator", []string{"--addr", "127.0.0.1:0", "--emulator-addr", addr},
			"port " + port + " (" + addr + ", the emulator, --emulator-addr) is already in use: another scf-local running? stop it, or pass --emulator-addr 127.0.0.1:0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb strings.Builder
			start := time.Now()
			code := run(context.Background(), append([]string{"--config", testProject}, tc.args...), strings.NewReader(""), &out, &errb, envFrom(nil))
			if code != 1 || !strings.Contains(errb.String(), tc.want) {
				t.Fatalf("exit %d, stderr:\n%s\nwant %q", code, errb.String(), tc.want)
			}
			if strings.Contains(out.String(), "building") {
				t.Errorf("built before reporting the busy port:\n%s", out.String())
			}
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("took %s", took)
			}
		})
	}
}

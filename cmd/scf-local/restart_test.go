//go:build unix

package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestKill9UnderLoad kills the echo function's process while callers keep
// posting to its Function URL: scf-local starts exactly one new instance,
// at most the requests in flight on the killed process get a 502, and every
// request after that (including those that arrived during the restart) is
// answered by the new instance.
func TestKill9UnderLoad(t *testing.T) {
	skipShort(t, "kills a function process under load")
	out, _ := startServe(t, nil, "--timers=false")
	gw := out.field(t, "gateway:")
	var echoPid int
	for _, k := range children(t, os.Getpid()) {
		if filepath.Base(k.exe) == "echo" {
			echoPid = k.pid
		}
	}
	if echoPid == 0 {
		t.Fatalf("no echo process among %v", children(t, os.Getpid()))
	}

	const callers = 8
	var ok, bad502, other atomic.Int64
	var otherMu sync.Mutex
	var others []string
	stop := make(chan struct{})
	var wg sync.WaitGroup
	client := &http.Client{Timeout: time.Minute}
	for range callers {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := client.Post(gw+"/echo", "application/json", strings.NewReader("plain"))
				if err != nil {
					t.Errorf("post: %v", err)
					return
				}
				resp.Body.Close()
				switch resp.StatusCode {
				case http.StatusOK:
					ok.Add(1)
				case http.StatusBadGateway:
					bad502.Add(1)
				default:
					other.Add(1)
					otherMu.Lock()
					others = append(others, resp.Status)
					otherMu.Unlock()
				}
			}
		})
	}
	waitUntil(t, func() bool { return ok.Load() >= 20 })
	if err := syscall.Kill(echoPid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	out.wait(t, time.Minute, 1, func(s string) bool { return strings.HasPrefix(s, "scf-local: echo: new instance") })
	after := ok.Load()
	waitUntil(t, func() bool { return ok.Load() >= after+100 })
	close(stop)
	wg.Wait()

	restarts := 0
	for _, l := range strings.Split(out.text(), "\n") {
		if strings.HasPrefix(l, "scf-local: echo: new instance") || strings.Contains(l, "failed to start") {
			restarts++
		}
	}
	if restarts != 1 {
		t.Errorf("%d restarts after one kill -9, want 1; output:\n%s", restarts, out.text())
	}
	if n := bad502.Load(); n > callers {
		t.Errorf("%d requests got 502, want at most the %d in flight on the killed process", n, callers)
	}
	if other.Load() > 0 {
		t.Errorf("unexpected statuses: %v", others)
	}
	echo := 0
	for _, k := range children(t, os.Getpid()) {
		if filepath.Base(k.exe) == "echo" {
			echo++
		}
	}
	if echo != 1 {
		t.Errorf("%d echo processes running, want 1", echo)
	}
	t.Logf("200s %d, 502s %d", ok.Load(), bad502.Load())
}

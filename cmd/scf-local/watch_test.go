package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const watchYML = `app: watch-test
component: multi-scf
name: watch-test
inputs:
  src: ./dist/bundle
  region: ap-guangzhou
  runtime: Go1
  functions:
    watched:
      name: watched
      handler: watched
      role: WatchedRole
      timeout: 3
  triggers:
    - type: http
      function: watched
      parameters:
        netConfig:
          enableExtranet: true
`

const watchMain = `package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/scf-janitor/scf-janitor/shared/scf"
)

func main() {
	handler := func(ctx context.Context, _ json.RawMessage) (any, error) { return map[string]string{"version": VERSION}, nil }
	if err := scf.Start(handler); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
`

// TestWatch edits a function while scf-local --watch serves it: the new code
// serves without a restart of scf-local, and a change that does not compile
// prints the compiler's error while the previous code keeps serving.
func TestWatch(t *testing.T) {
	skipShort(t, "builds functions")
	t.Parallel()
	// Inside the module (testdata is left out of ./... patterns), so that
	// the function builds against it.
	dir, err := os.MkdirTemp("testdata", "watch-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	src := filepath.Join(dir, "functions", "watched", "main.go")
	write := func(version string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(src), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(src, []byte(strings.Replace(watchMain, "VERSION", version, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "serverless.yml"), []byte(watchYML), 0o644); err != nil {
		t.Fatal(err)
	}
	write(`"v1"`)

	pr, pw := io.Pipe()
	out := newLines(pr)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		w := &lockedWriter{w: pw}
		done <- run(ctx, []string{"--config", filepath.Join(dir, "serverless.yml"), "--addr", "127.0.0.1:0", "--emulator-addr", "127.0.0.1:0", "--watch"},
			strings.NewReader(""), w, w, envFrom(nil))
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	out.wait(t, 2*time.Minute, 1, func(s string) bool {
		return strings.HasPrefix(s, "ready:") || strings.Contains(s, "not deployable")
	})
	gw := out.field(t, "gateway:")
	version := func() string {
		_, _, body := post(t, gw+"/watched", nil, "{}")
		return body
	}
	if v := version(); !strings.Contains(v, `"v1"`) {
		t.Fatalf("before the change: %s", v)
	}

	// Keep the file's size different, so the change is seen even where
	// modification times are coarse.
	saved := time.Now()
	write(`"v2-changed"`)
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(version(), `"v2-changed"`) {
		if time.Now().After(deadline) {
			t.Fatalf("the change was not served within a minute (got %s); output:\n%s", version(), out.text())
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("new code served %s after the save", time.Since(saved).Round(10*time.Millisecond))
	out.wait(t, 10*time.Second, 1, func(s string) bool { return strings.HasPrefix(s, "scf-local: watched: new code serving") })

	write(`undefinedVersion + 1`)
	out.wait(t, time.Minute, 1, func(s string) bool { return strings.Contains(s, "the build failed; the previous code keeps serving") })
	out.wait(t, 5*time.Second, 1, func(s string) bool { return strings.Contains(s, "undefined: undefinedVersion") })
	if v := version(); !strings.Contains(v, `"v2-changed"`) {
		t.Errorf("after a failing build: %s, want the previous code", v)
	}
}

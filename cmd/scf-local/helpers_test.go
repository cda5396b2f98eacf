package main

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// lines collects a stream's lines and lets a test wait for one.
type lines struct {
	mu    sync.Mutex
	all   []string
	added chan struct{}
}

func newLines(r io.Reader) *lines {
	l := &lines{added: make(chan struct{}, 1)}
	go func() {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			l.mu.Lock()
			l.all = append(l.all, sc.Text())
			l.mu.Unlock()
			select {
			case l.added <- struct{}{}:
			default:
			}
		}
	}()
	return l
}

func (l *lines) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.all, "\n")
}

// wait returns the lines matching match, once there are at least n of them.
func (l *lines) wait(t *testing.T, timeout time.Duration, n int, match func(string) bool) []string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		l.mu.Lock()
		var got []string
		for _, s := range l.all {
			if match(s) {
				got = append(got, s)
			}
		}
		l.mu.Unlock()
		if len(got) >= n {
			return got
		}
		left := time.Until(deadline)
		if left <= 0 {
			t.Fatalf("timed out after %s waiting for %d matching lines; output so far:\n%s", timeout, n, l.text())
		}
		select {
		case <-l.added:
		case <-time.After(min(left, 200*time.Millisecond)):
		}
	}
}

// field returns what follows prefix on the first line that starts with it.
func (l *lines) field(t *testing.T, prefix string) string {
	t.Helper()
	got := l.wait(t, time.Second, 1, func(s string) bool { return strings.HasPrefix(s, prefix) })
	return strings.Fields(strings.TrimPrefix(got[0], prefix))[0]
}

type child struct {
	pid int
	exe string
}

// children lists the processes whose parent is ppid (Linux /proc).
func children(t *testing.T, ppid int) []child {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("process checks read /proc")
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var out []child
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may contain spaces, so split after the last ')'.
		rest := stat[bytes.LastIndexByte(stat, ')')+1:]
		f := strings.Fields(string(rest))
		if len(f) < 2 {
			continue
		}
		if p, _ := strconv.Atoi(f[1]); p == ppid {
			exe, _ := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
			out = append(out, child{pid: pid, exe: exe})
		}
	}
	return out
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	rest := stat[bytes.LastIndexByte(stat, ')')+1:]
	f := strings.Fields(string(rest))
	return len(f) > 0 && f[0] != "Z"
}

func post(t *testing.T, url string, header http.Header, body string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// waitUntil polls cond until it holds (2 minutes at most).
func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 2 minutes")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// skipShort skips the test under -short, saying why it is long.
func skipShort(tb testing.TB, why string) {
	tb.Helper()
	if testing.Short() {
		tb.Skip(why)
	}
}

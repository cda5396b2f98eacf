package scflocal

import (
	"bytes"
	"io"
	"os"
	"strconv"
	"sync"
	"time"
)

// outPipe carries one output stream (stdout or stderr) of a function process
// to dst, and can tell when everything the process wrote before a given
// moment has reached dst: sync writes a marker into the same pipe (we keep a
// copy of its write end) and waits until the copier reads it. Pipes are
// FIFO, so the function's earlier output has been copied by then. That makes
// Result.Log complete without sleeping.
type outPipe struct {
	r, w *os.File // w is the process's stdout/stderr; our copy stays open for markers
	dst  io.Writer
	done chan struct{} // closed when the copier has ended

	mu      sync.Mutex
	seq     uint64
	waiters map[uint64]chan struct{}
}

// markerPrefix starts a sync marker: "\x00scflocal-sync:<seq>\x00". A NUL
// byte is not something a function's log lines contain.
var markerPrefix = []byte("\x00scflocal-sync:")

func newOutPipe(dst io.Writer) (*outPipe, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	o := &outPipe{r: r, w: w, dst: dst, done: make(chan struct{}), waiters: map[uint64]chan struct{}{}}
	go o.copy()
	return o, nil
}

// copy forwards the pipe to dst without the markers, until EOF.
func (o *outPipe) copy() {
	defer close(o.done)
	defer o.r.Close()
	buf := make([]byte, 32<<10)
	var data []byte
	for {
		n, err := o.r.Read(buf)
		data = append(data, buf[:n]...)
		data = o.forward(data, err != nil)
		if err != nil {
			return
		}
	}
}

// forward writes data up to the first incomplete marker, signalling the
// complete markers it passes; it returns what must wait for more input.
func (o *outPipe) forward(data []byte, eof bool) []byte {
	for len(data) > 0 {
		i := bytes.Index(data, markerPrefix)
		if i < 0 {
			keep := 0
			if !eof {
				keep = partialPrefix(data, markerPrefix)
			}
			_, _ = o.dst.Write(data[:len(data)-keep])
			return append([]byte(nil), data[len(data)-keep:]...)
		}
		if i > 0 {
			_, _ = o.dst.Write(data[:i])
			data = data[i:]
		}
		end := bytes.IndexByte(data[len(markerPrefix):], 0)
		if end < 0 {
			if eof {
				_, _ = o.dst.Write(data)
				return nil
			}
			return append([]byte(nil), data...)
		}
		seq, err := strconv.ParseUint(string(data[len(markerPrefix):len(markerPrefix)+end]), 10, 64)
		if err != nil { // not ours: pass it on
			_, _ = o.dst.Write(data[:len(markerPrefix)])
			data = data[len(markerPrefix):]
			continue
		}
		o.mu.Lock()
		if ch, ok := o.waiters[seq]; ok {
			close(ch)
			delete(o.waiters, seq)
		}
		o.mu.Unlock()
		data = data[len(markerPrefix)+end+1:]
	}
	return nil
}

// partialPrefix returns the length of the longest suffix of data that is a
// proper prefix of marker.
func partialPrefix(data, marker []byte) int {
	for k := min(len(marker)-1, len(data)); k > 0; k-- {
		if bytes.Equal(data[len(data)-k:], marker[:k]) {
			return k
		}
	}
	return 0
}

// sync waits until everything written to the pipe before the call has
// reached dst, at most timeout (or until the copier ends).
func (o *outPipe) sync(timeout time.Duration) {
	o.mu.Lock()
	o.seq++
	seq := o.seq
	ch := make(chan struct{})
	o.waiters[seq] = ch
	o.mu.Unlock()
	marker := append(append(append([]byte(nil), markerPrefix...), strconv.FormatUint(seq, 10)...), 0)
	if _, err := o.w.Write(marker); err == nil {
		t := time.NewTimer(timeout)
		defer t.Stop()
		select {
		case <-ch:
			return
		case <-o.done:
		case <-t.C:
		}
	}
	o.mu.Lock()
	delete(o.waiters, seq)
	o.mu.Unlock()
}

// closeWriter closes our copy of the write end, once the process has
// exited, so that the copier sees EOF when the last holder closes it.
func (o *outPipe) closeWriter() { _ = o.w.Close() }

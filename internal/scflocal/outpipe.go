package scflocal

import (
	"bytes"
	"io"
	"os"
	"strconv"
	"sync"
	"time"
)

// outPipe carries one output stream of a function process to dst, and can
// tell when everything the process wrote before a given moment has reached
// dst: sync writes a marker into the same pipe (we keep a copy of its write
// end) and waits until the copier reads it. Pipes are FIFO, so the earlier
// output has been copied by then: Result.Log is complete without sleeping.
type outPipe struct {
	r, w *os.File // w is the process's stdout/stderr; our copy stays open for markers
	dst  io.Writer
	done chan struct{} // closed when the copier has ended

	mu      sync.Mutex
	seq     uint64
	waiters map[uint64]chan struct{}
}

// markerPrefix starts a sync marker, "\x00scflocal-sync:<seq>\x00": a NUL
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
	var pending []byte
	for {
		n, err := o.r.Read(buf)
		pending = o.forward(append(pending, buf[:n]...), err != nil)
		if err != nil {
			return
		}
	}
}

// forward writes data to dst, less the markers it signals, and returns
// what may be the start of a marker (before EOF) to wait for more input.
func (o *outPipe) forward(data []byte, eof bool) []byte {
	for {
		i := bytes.Index(data, markerPrefix)
		if i < 0 {
			i = len(data)
			for k := min(len(markerPrefix)-1, len(data)); k > 0 && !eof; k-- {
				if bytes.HasSuffix(data, markerPrefix[:k]) {
					i = len(data) - k
					break
				}
			}
		}
		_, _ = o.dst.Write(data[:i])
		data = data[i:]
		seq, rest, complete := bytes.Cut(data[min(len(markerPrefix), len(data)):], []byte{0})
		switch n, err := strconv.ParseUint(string(seq), 10, 64); {
		case len(data) == 0 || !complete && !eof:
			return bytes.Clone(data)
		case !complete:
			_, _ = o.dst.Write(data)
			return nil
		case err != nil: // not ours: pass it on
			_, _ = o.dst.Write(markerPrefix)
			data = data[len(markerPrefix):]
		default:
			o.mu.Lock()
			if ch, ok := o.waiters[n]; ok {
				close(ch)
				delete(o.waiters, n)
			}
			o.mu.Unlock()
			data = rest
		}
	}
}

// sync waits until everything written to the pipe before the call has
// reached dst, at most timeout (or until the copier ends).
func (o *outPipe) sync(timeout time.Duration) {
	o.mu.Lock()
	o.seq++
	seq, ch := o.seq, make(chan struct{})
	o.waiters[seq] = ch
	o.mu.Unlock()
	marker := append(strconv.AppendUint(bytes.Clone(markerPrefix), seq, 10), 0)
	if _, err := o.w.Write(marker); err == nil {
		select {
		case <-ch:
			return
		case <-o.done:
		case <-time.After(timeout):
		}
	}
	o.mu.Lock()
	delete(o.waiters, seq)
	o.mu.Unlock()
}

// closeWriter closes our copy of the write end, once the process has
// exited, so that the copier sees EOF when the last holder closes it.
func (o *outPipe) closeWriter() { _ = o.w.Close() }

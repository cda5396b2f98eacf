package emulator

import (
	"cmp"
	"context"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiter is a token bucket per action per key, on the injected clock.
type limiter struct {
	rate    float64
	mu      sync.Mutex
	buckets map[string]*rate.Limiter
}

func newLimiter(perSecond float64) *limiter {
	return &limiter{rate: perSecond, buckets: make(map[string]*rate.Limiter)}
}

func (l *limiter) allow(action, secretID string, now time.Time) bool {
	if l.rate < 0 {
		return true
	}
	key := action + "|" + secretID
	l.mu.Lock()
	b, ok := l.buckets[key]
	if !ok {
		b = rate.NewLimiter(rate.Limit(l.rate), max(int(l.rate), 1))
		// Start the bucket full at the injected time, not at wall time.
		b.SetLimitAt(now, rate.Limit(l.rate))
		l.buckets[key] = b
	}
	l.mu.Unlock()
	return b.AllowN(now, 1)
}

// ActionStats are the counters of one action ("ams.CancelTask").
type ActionStats struct {
	Requests     int64 // requests that reached the action (authenticated), throttled included
	Throttled    int64 // answered RequestLimitExceeded
	MaxPerSecond int64 // most requests received within any 1-second sliding window
}

// Stats is a snapshot of every action's counters.
type Stats struct {
	Actions map[string]ActionStats
}

type actionRec struct {
	ActionStats
	window []time.Time // arrival times within the last second, oldest first
}

type statsRecorder struct {
	mu      sync.Mutex
	actions map[string]*actionRec
}

func newStatsRecorder() *statsRecorder {
	return &statsRecorder{actions: make(map[string]*actionRec)}
}

// record counts a request; the window holds arrivals in (now-1s, now].
func (r *statsRecorder) record(action string, now time.Time, throttled bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	a, ok := r.actions[action]
	if !ok {
		a = &actionRec{}
		r.actions[action] = a
	}
	a.Requests++
	if throttled {
		a.Throttled++
	}
	cut := now.Add(-time.Second)
	i := 0
	for i < len(a.window) && !a.window[i].After(cut) {
		i++
	}
	a.window = append(a.window[i:], now)
	if n := int64(len(a.window)); n > a.MaxPerSecond {
		a.MaxPerSecond = n
	}
}

// Stats returns a snapshot of the per-action counters.
func (s *Server) Stats() Stats { return s.stats.snapshot() }

func (r *statsRecorder) snapshot() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := Stats{Actions: make(map[string]ActionStats, len(r.actions))}
	for k, v := range r.actions {
		out.Actions[k] = v.ActionStats
	}
	return out
}

// ResetStats clears all counters (the rate-limit buckets are kept).
func (s *Server) ResetStats() {
	s.stats.mu.Lock()
	s.stats.actions = make(map[string]*actionRec)
	s.stats.mu.Unlock()
	s.acct.resetStats()
}

// admit counts the request and applies the rate limit: per account for
// another account's keys and role sessions, per SecretId for the default's.
func (s *Server) admit(action, secretID string) bool {
	now := s.now()
	key, account := secretID, s.acct.accountOf(secretID)
	switch {
	case account != "":
		key = "uin/" + account
	case s.acct.session(secretID).role != "":
		key = "uin/" + s.accountUin("")
	}
	ok := s.limits.allow(action, key, now)
	s.stats.record(action, now, !ok)
	s.acct.stats(account).record(action, now, !ok)
	return ok
}

// faultRand is the seeded source of every fault decision.
type faultRand struct {
	mu sync.Mutex
	r  *rand.Rand
}

func newFaultRand(seed int64) *faultRand {
	return &faultRand{r: rand.New(rand.NewPCG(uint64(seed), 0x5c0f_ea11))}
}

// draw returns the jitter fraction and the fault pick; every request draws both.
func (f *faultRand) draw() (jitter, pick float64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.r.Float64(), f.r.Float64()
}

type faultKind int

const (
	faultNone faultKind = iota
	faultReset
	faultBadGateway
	faultInternal
	faultSlow
)

// injectFault sleeps the latency and applies the request's fault: done when
// answered, else internal is the status of an InternalError to answer.
func (s *Server) injectFault(w http.ResponseWriter, r *http.Request, info *reqInfo) (done bool, internal int) {
	kind, f, alive := s.decideFault(r.Context())
	if !alive {
		panic(http.ErrAbortHandler) // added latency cut short: client gone or server shutting down
	}
	if s.applyTransportFault(w, r, kind, f) {
		info.code = faultNames[kind]
		return true, 0
	}
	if kind != faultInternal {
		return false, 0
	}
	return false, cmp.Or(f.InternalErrorStatus, http.StatusInternalServerError)
}

// decideFault sleeps the latency and picks the fault; false when the client left.
func (s *Server) decideFault(ctx context.Context) (faultKind, Faults, bool) {
	f := s.CurrentFaults()
	j, u := s.rng.draw()
	delay := f.Latency
	if f.Jitter > 0 {
		delay += time.Duration(j * float64(f.Jitter))
	}
	if !sleepCtx(ctx, delay) {
		return faultNone, f, false
	}
	kind, edge := faultNone, 0.0
	rates := []float64{faultReset: f.ResetRate, faultBadGateway: f.BadGatewayRate, faultInternal: f.InternalErrorRate,
		faultSlow: f.SlowRate}
	for k, rate := range rates {
		if edge += rate; kind == faultNone && u < edge {
			kind = faultKind(k)
		}
	}
	return kind, f, true
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// applyTransportFault applies reset, 502 or slow; true when answered.
func (s *Server) applyTransportFault(w http.ResponseWriter, r *http.Request, kind faultKind, f Faults) bool {
	switch kind {
	case faultReset:
		resetConn(w)
		return true
	case faultBadGateway:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte(badGatewayHTML))
		return true
	case faultSlow:
		d := f.SlowDelay
		if d <= 0 {
			d = DefaultSlowDelay
		}
		if !sleepCtx(r.Context(), d) {
			panic(http.ErrAbortHandler) // client or server gone: drop the connection, no empty 200
		}
	}
	return false
}

const badGatewayHTML = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>stgw</center>\r\n</body>\r\n</html>\r\n"

// resetConn sends a TCP RST, or aborts the handler when it cannot hijack.
func resetConn(w http.ResponseWriter) {
	rc := http.NewResponseController(w)
	conn, _, err := rc.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

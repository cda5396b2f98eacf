package tcapi

import (
	"context"
	"sync"

	"golang.org/x/time/rate"
)

// DefaultRate is Tencent's documented request limit for each action (20 per second).
const DefaultRate = 20

// Limiters holds one token-bucket limiter per service+action. Build it once in
// main and share it across invocations (and across clients of one process):
// Tencent counts requests per action, so the limit belongs to the process, not
// to a client.
type Limiters struct {
	limit rate.Limit
	burst int

	mu sync.Mutex
	m  map[string]*rate.Limiter
}

// NewLimiters returns limiters allowing perSecond requests per second for each
// service+action with the given burst. perSecond <= 0 means DefaultRate;
// burst <= 0 means 1 (requests evenly spaced, so no one-second window ever sees
// much more than perSecond requests).
func NewLimiters(perSecond float64, burst int) *Limiters {
	if perSecond <= 0 {
		perSecond = DefaultRate
	}
	if burst <= 0 {
		burst = 1
	}
	return &Limiters{limit: rate.Limit(perSecond), burst: burst, m: map[string]*rate.Limiter{}}
}

// Wait blocks until a request to service/action is allowed or ctx is done. It
// returns an error at once, without waiting, when the wait would pass ctx's
// deadline.
func (l *Limiters) Wait(ctx context.Context, service, action string) error {
	return l.get(service, action).Wait(ctx)
}

// PerSecond reports the configured rate.
func (l *Limiters) PerSecond() float64 { return float64(l.limit) }

// Burst reports the configured burst.
func (l *Limiters) Burst() int { return l.burst }

func (l *Limiters) get(service, action string) *rate.Limiter {
	key := service + "." + action
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.m[key]
	if !ok {
		lim = rate.NewLimiter(l.limit, l.burst)
		l.m[key] = lim
	}
	return lim
}

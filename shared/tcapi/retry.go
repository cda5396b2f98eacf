package tcapi

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of Options and CIOptions.
const (
	DefaultMaxAttempts = 4
	DefaultBaseDelay   = 100 * time.Millisecond
	DefaultMaxDelay    = 2 * time.Second
	DefaultTimeout     = 10 * time.Second
)

// Stats counts what a client did. Throttled counts RequestLimitExceeded
// answers (HTTP 429 for CI).
type Stats struct{ Attempts, Retries, Throttled int64 }

type counters struct{ attempts, retries, throttled atomic.Int64 }

func (c *counters) snapshot() Stats {
	return Stats{Attempts: c.attempts.Load(), Retries: c.retries.Load(), Throttled: c.throttled.Load()}
}

// policy is the limiter + retry loop shared by the API 3.0 and CI clients.
type policy struct {
	service     string
	limiters    *Limiters
	maxAttempts int
	baseDelay   time.Duration
	maxDelay    time.Duration
	timeout     time.Duration
	rand        func() float64
	stats       counters
}

func newPolicy(service string, lim *Limiters, maxAttempts int, base, maxDelay, timeout time.Duration, rnd func() float64) (*policy, error) {
	switch {
	case maxAttempts < 0:
		return nil, fmt.Errorf("tcapi: MaxAttempts %d: want 0 (default %d) or more (1 = no retry)", maxAttempts, DefaultMaxAttempts)
	case base < 0 || maxDelay < 0 || timeout < 0:
		return nil, fmt.Errorf("tcapi: BaseDelay, MaxDelay and Timeout must not be negative")
	}
	p := &policy{service: service, limiters: lim, maxAttempts: maxAttempts, baseDelay: base, maxDelay: maxDelay, timeout: timeout, rand: rnd}
	if p.limiters == nil {
		p.limiters = NewLimiters(DefaultRate, 1)
	}
	if p.maxAttempts == 0 {
		p.maxAttempts = DefaultMaxAttempts
	}
	if p.baseDelay == 0 {
		p.baseDelay = DefaultBaseDelay
	}
	if p.maxDelay == 0 {
		p.maxDelay = DefaultMaxDelay
	}
	if p.maxDelay < p.baseDelay {
		p.maxDelay = p.baseDelay
	}
	if p.timeout == 0 {
		p.timeout = DefaultTimeout
	}
	if p.rand == nil {
		p.rand = rand.Float64
	}
	return p, nil
}

// backoff returns the wait before retry number n (n >= 1): full jitter over
// min(maxDelay, baseDelay * 2^(n-1)).
func (p *policy) backoff(n int) time.Duration {
	ceiling := p.maxDelay
	if n-1 < 32 {
		if d := p.baseDelay << (n - 1); d > 0 && d < ceiling {
			ceiling = d
		}
	}
	f := p.rand()
	if f < 0 || f >= 1 {
		f = 0
	}
	return time.Duration(f * float64(ceiling))
}

// do runs attempt under the limiter and retry policy. attempt gets a context
// bounded by the per-request timeout and returns nil or an *Error (with
// Service/Action already set).
//
// A call that is not idempotent (it creates something) is retried only when
// the server refused it unprocessed (RequestLimitExceeded, HTTP 429): after
// a network error, an InternalError or a 5xx the first attempt may have
// created the resource, and a retry would create a second one.
func (p *policy) do(ctx context.Context, action string, idempotent bool, attempt func(ctx context.Context) *Error) error {
	var last *Error
	for n := 1; ; n++ {
		if err := p.limiters.Wait(ctx, p.service, action); err != nil {
			if last != nil && !errors.Is(ctx.Err(), context.Canceled) {
				return giveUp(last, n-1, "waiting for the rate limiter would pass the context deadline")
			}
			if ctx.Err() != nil {
				return contextError(ctx, p.service, action, last, n-1)
			}
			return &Error{Service: p.service, Action: action, Code: CodeDeadlineExceeded,
				Message: "waiting for the rate limiter would pass the context deadline", Err: context.DeadlineExceeded}
		}
		p.stats.attempts.Add(1)
		if n > 1 {
			p.stats.retries.Add(1)
		}
		actx, cancel := context.WithTimeout(ctx, p.timeout)
		e := attempt(actx)
		cancel()
		if e == nil {
			return nil
		}
		e.Attempts = n
		if codeHasPrefix(e.Code, codeRequestLimitExceeded) || e.HTTPStatus == http.StatusTooManyRequests {
			p.stats.throttled.Add(1)
		}
		if e.Code == CodeNetworkError && ctx.Err() != nil {
			// The transport failed because the caller's context ended.
			return contextError(ctx, p.service, action, last, n)
		}
		last = e
		if !e.Retryable || n >= p.maxAttempts || (!idempotent && !refusedUnprocessed(e)) {
			return e
		}
		wait := p.backoff(n)
		if dl, ok := ctx.Deadline(); ok && !time.Now().Add(wait).Before(dl) {
			return giveUp(last, n, "the next retry would pass the context deadline")
		}
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				if errors.Is(ctx.Err(), context.DeadlineExceeded) {
					return giveUp(last, n, "the context deadline passed while waiting to retry")
				}
				return contextError(ctx, p.service, action, last, n)
			case <-t.C:
			}
		}
	}
}

// refusedUnprocessed reports an answer that says the request was turned
// away before any work was done.
func refusedUnprocessed(e *Error) bool {
	return codeHasPrefix(e.Code, codeRequestLimitExceeded) || e.HTTPStatus == http.StatusTooManyRequests
}

// sharedTransport is the connection pool every client of this package uses
// unless Options.Transport says otherwise: clients are built per invocation
// (credentials rotate), connections should outlive them.
var sharedTransport = sync.OnceValue(func() http.RoundTripper {
	dt, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		return http.DefaultTransport // replaced by the program: respect that
	}
	t := dt.Clone()
	t.MaxIdleConnsPerHost = 32
	t.IdleConnTimeout = 30 * time.Second
	return t
})

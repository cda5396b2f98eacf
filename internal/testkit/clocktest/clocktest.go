// Package clocktest is a manual clock for tests: it stands still until the
// test moves it (Advance, Set) or the code under test waits on it (Sleep), so
// lifecycles and waits pass without real sleeps. Only tests import it.
package clocktest

import (
	"context"
	"sync"
	"time"
)

// Clock is a manual clock; safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// New returns a clock that reads start.
func New(start time.Time) *Clock { return &Clock{now: start} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock on by d (back, for a negative d).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// Sleep is a wait that advances the clock by d at once instead of waiting;
// it returns ctx.Err().
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	c.Advance(d)
	return ctx.Err()
}

package cancel

import (
	"context"
	"testing"
	"time"
)

// TestWithMargin checks that the handler's context ends before the
// invocation's, so the function can still answer 504 itself: a tenth of the
// time left, at most 500 ms.
func TestWithMargin(t *testing.T) {
	t.Run("no deadline", func(t *testing.T) {
		ctx, cancel := withMargin(context.Background())
		defer cancel()
		if _, ok := ctx.Deadline(); ok {
			t.Error("a deadline appeared")
		}
	})
	tests := []struct {
		name     string
		left     time.Duration
		min, max time.Duration // margin bounds
	}{
		{"long invocation: capped at 500ms", 10 * time.Second, 500 * time.Millisecond, 500 * time.Millisecond},
		{"short invocation: a tenth", time.Second, 50 * time.Millisecond, 100 * time.Millisecond},
		{"already past: unchanged", -time.Second, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dl := time.Now().Add(tt.left)
			parent, cancelParent := context.WithDeadline(context.Background(), dl)
			defer cancelParent()
			ctx, cancel := withMargin(parent)
			defer cancel()
			got, ok := ctx.Deadline()
			if !ok {
				t.Fatal("no deadline")
			}
			if m := dl.Sub(got); m < tt.min || m > tt.max {
				t.Errorf("margin %s, want %s..%s", m, tt.min, tt.max)
			}
		})
	}
}

// Package stoptest stops what a test started in a goroutine (a server, a
// command's run): it cancels its context and waits for what it returns.
// Only tests import it.
package stoptest

import (
	"testing"
	"time"
)

// Stop calls cancel and returns what then arrives on done. The test fails at
// once, naming what, when nothing arrives within the given time.
func Stop(tb testing.TB, what string, cancel func(), done <-chan error, within time.Duration) error {
	tb.Helper()
	cancel()
	select {
	case err := <-done:
		return err
	case <-time.After(within):
		tb.Fatalf("%s did not return within %s of its context being cancelled", what, within)
		return nil
	}
}

package main

import (
	"testing"

	"github.com/scf-janitor/scf-janitor/internal/testkit/canceltest"
)

// TestFunction checks the testdata events and runs the built function end to
// end (canceltest.Run).
func TestFunction(t *testing.T) {
	canceltest.Run(t, "cancel-live-audit")
}

package main

import (
	"testing"

	"github.com/scf-janitor/scf-janitor/internal/testkit/canceltest"
)

func TestMain(m *testing.M) {
	canceltest.Main(m)
}

// TestFunction checks the testdata events and runs the built function end to
// end (canceltest.Run).
func TestFunction(t *testing.T) {
	canceltest.Run(t, "stop-transcription")
}

// Package racecheck lets a byte-heavy test leave the race detector's pass of
// `make test` for its pass without it (Makefile unit-norace). The race
// detector instruments the standard library, so deflating, base64-encoding
// or JSON-scanning megabytes costs about 14 times the CPU under -race, while
// such a test, one goroutine moving bytes, gives the detector nothing to find.
package racecheck

import "testing"

// SkipUnderRace skips the test when the binary was built with -race; what
// names the heavy work.
func SkipUnderRace(tb testing.TB, what string) {
	tb.Helper()
	if Enabled {
		tb.Skipf("%s: run without -race (make test's unit-norace pass)", what)
	}
}

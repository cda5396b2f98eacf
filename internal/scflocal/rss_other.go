//go:build !linux

package scflocal

// peakRSS is unknown outside Linux (no /proc/<pid>/status).
func peakRSS(int) int64 { return 0 }

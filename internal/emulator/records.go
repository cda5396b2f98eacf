package emulator

import (
	"sort"
	"time"
)

// uniqueID returns a newID not taken; call with taken's lock held.
func (s *Server) uniqueID(prefix string, hexLen int, taken func(id string) bool) string {
	for {
		if id := s.newID(prefix, hexLen); !taken(id) {
			return id
		}
	}
}

// newestFirst lists recs as of now, by stamp's time then id, descending.
func newestFirst[K comparable, R, V any](s *Server, recs map[K]R, current func(R, time.Time) V, stamp func(V) (time.Time, string)) []V {
	now := s.now()
	s.mu.Lock()
	out := make([]V, 0, len(recs))
	for _, rec := range recs {
		out = append(out, current(rec, now))
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		ti, idi := stamp(out[i])
		tj, idj := stamp(out[j])
		if !ti.Equal(tj) {
			return ti.After(tj)
		}
		return idi > idj
	})
	return out
}

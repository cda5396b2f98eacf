package emulator

import (
	"sort"
	"time"
)

// uniqueID returns a fresh newID(prefix, hexLen) that taken does not report
// as in use. It must be called with the lock that guards taken's records held.
func (s *Server) uniqueID(prefix string, hexLen int, taken func(id string) bool) string {
	for {
		if id := s.newID(prefix, hexLen); !taken(id) {
			return id
		}
	}
}

// newestFirst lists every record of recs as current reports it at the
// server's now, newest first: by the time stamp returns, then by its id, both
// descending. It takes s.mu while it reads recs.
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

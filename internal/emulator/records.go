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

// addRecord stores v under key(*id) as of now: an empty *id gets a new one
// (prefix and 32 hex digits), a zero *created now.
func addRecord[T any](s *Server, recs map[string]*record[T], v *T, id *string, created *time.Time, prefix string,
	key func(id string) string, current func(*record[T], time.Time) T) T {
	now := s.now()
	if created.IsZero() {
		*created = now
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if *id == "" {
		*id = s.uniqueID(prefix, 32, func(id string) bool { _, dup := recs[key(id)]; return dup })
	}
	rec := &record[T]{*v, now}
	recs[key(*id)] = rec
	return current(rec, now)
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

package sweep

import (
	"maps"
	"slices"
)

// keepRecent is how many cancelled task ids stay in the dedupe set after
// they could no longer show up in a listing (see seenSet.evict).
const keepRecent = 256

// Dedupe states.
const (
	stateQueued    uint8 = iota + 1 // cancel not finished yet
	stateKept                       // skipped, failed or would-cancel: may be listed again, remembered for the run
	stateCancelled                  // gone from the server's listing; forgotten once no page can still show it
	stateUpcoming                   // in the warning window: reported once, remembered for the run
)

// seenSet is the dedupe set: the tasks a run has acted on, by service + "\x00" +
// TaskId. The run loop owns it. Its memory follows the tasks that can still
// be listed, not every task the run has seen.
type seenSet struct {
	ids     map[string]uint8
	recent  []evictable // cancelled ids in completion order
	deleted int         // ids deleted from ids since it was last rebuilt
	peak    int         // the most ids held after a page (tests check it stays bounded)
}

type evictable struct {
	key   string
	fetch uint64 // fetches started when the cancel finished
}

func newSeenSet() *seenSet { return &seenSet{ids: map[string]uint8{}} }

func (d *seenSet) has(key string) bool {
	_, ok := d.ids[key]
	return ok
}

func (d *seenSet) set(key string, state uint8) { d.ids[key] = state }

// remove forgets a candidate that was never sent: the next run finds it again.
func (d *seenSet) remove(key string) { delete(d.ids, key) }

// forgetLater marks key cancelled when fetch page fetches had started;
// evict drops it once no page can list it.
func (d *seenSet) forgetLater(key string, fetch uint64) {
	d.ids[key] = stateCancelled
	d.recent = append(d.recent, evictable{key: key, fetch: fetch})
}

// evict forgets cancelled ids that no page from now on can contain: a page
// whose fetch started (sequence number seq) after a cancel finished no
// longer lists that task. The keepRecent most recent ones are kept anyway,
// in case the listing lags.
func (d *seenSet) evict(seq uint64) {
	n := 0
	for n < len(d.recent)-keepRecent && d.recent[n].fetch < seq {
		if d.ids[d.recent[n].key] == stateCancelled {
			delete(d.ids, d.recent[n].key)
		}
		n++
	}
	if n > 0 {
		clear(d.recent[:n])
		d.recent = d.recent[n:]
		d.deleted += n
	}
	// A Go map keeps its table size (and its deleted slots) after deletes:
	// rebuild it once it has seen more deletes than it holds ids, so its
	// memory follows the ids it holds, not the ids it ever held. A rebuild
	// copies a few hundred ids every few hundred cancels.
	if d.deleted > len(d.ids)+keepRecent {
		d.ids = maps.Clone(d.ids)
		d.deleted = 0
	}
}

// notePeak records the set's size after a page.
func (d *seenSet) notePeak() { d.peak = max(d.peak, len(d.ids)) }

// queued returns the keys still queued (their outcome unknown), sorted.
func (d *seenSet) queued() []string {
	var out []string
	for key, st := range d.ids {
		if st == stateQueued {
			out = append(out, key)
		}
	}
	slices.Sort(out)
	return out
}

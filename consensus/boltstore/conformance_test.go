package boltstore

// This test proves that a Store answers exactly like consensus.MemoryStorage,
// the in-memory twin the simulator uses: it drives both through the same
// seeded random sequence of Raft-shaped writes (appends, truncations of the
// uncommitted tail, term and vote changes, commit advances, snapshots taken
// and installed, compactions, reopens) and
// after every step compares every read the core can make. A failure names
// the seed and step that reproduce it.

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/raftlock/raftlock/consensus"
)

const (
	conformanceSeeds = 4
	conformanceSteps = 120
	// conformanceProbes is how many random Entries ranges each step compares.
	conformanceProbes = 20
)

// raftShapedWriter produces writes that obey what the core guarantees:
// terms and commits never go back, one vote per term, truncations only
// above the commit, entry terms never above the current term.
type raftShapedWriter struct {
	rng       *rand.Rand
	hs        consensus.HardState
	last      consensus.Index
	lastTerm  consensus.Term
	snapIndex consensus.Index
}

func (w *raftShapedWriter) next() (consensus.HardState, []consensus.Entry) {
	var hs consensus.HardState
	newTerm := func() {
		w.hs.Term++
		w.hs.Vote = consensus.NodeID(w.rng.IntN(4))
		hs = w.hs
	}
	switch op := w.rng.IntN(10); {
	case op < 5: // append at the end, sometimes in a new term
		if w.hs.Term == 0 || w.rng.IntN(4) == 0 {
			newTerm()
		}
		return hs, w.entries(w.last + 1)
	case op < 7: // a new leader overwrites part of the uncommitted tail
		newTerm()
		if w.last == w.hs.Commit {
			return hs, w.entries(w.last + 1)
		}
		at := w.hs.Commit + 1 + consensus.Index(w.rng.IntN(int(w.last-w.hs.Commit)))
		return hs, w.entries(at)
	case op < 9: // the commit advances
		if w.last > w.hs.Commit {
			w.hs.Commit += 1 + consensus.Index(w.rng.IntN(int(w.last-w.hs.Commit)))
		}
		return w.hs, nil
	default: // a term change with nothing else
		newTerm()
		return hs, nil
	}
}

// entries returns 1..8 entries from at in the current term and moves last.
func (w *raftShapedWriter) entries(at consensus.Index) []consensus.Entry {
	n := 1 + w.rng.IntN(8)
	ents := make([]consensus.Entry, n)
	for k := range ents {
		var data []byte
		if size := w.rng.IntN(300); size > 0 {
			data = make([]byte, size)
			for b := range data {
				data[b] = byte(w.rng.Uint32())
			}
		}
		ents[k] = consensus.Entry{Index: at + consensus.Index(k), Term: w.hs.Term, Type: consensus.EntryType(w.rng.IntN(3)), Data: data}
	}
	w.last, w.lastTerm = ents[n-1].Index, w.hs.Term
	return ents
}

func newTestRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0)) }

func TestConformsToMemoryStorage(t *testing.T) {
	for seed := uint64(1); seed <= conformanceSeeds; seed++ {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			runConformance(t, seed)
		})
	}
}

func runConformance(t *testing.T, seed uint64) {
	path := testPath(t)
	st, err := Open(path, Options{noSync: true})
	if err != nil {
		t.Fatalf("Open(%q) = %v; want nil", path, err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("Close() = %v", err)
		}
	})
	ms := consensus.NewMemoryStorage()
	w := &raftShapedWriter{rng: newTestRand(seed)}
	probe := rand.New(rand.NewPCG(seed, 1))
	for step := range conformanceSteps {
		at := fmt.Sprintf("seed %d step %d", seed, step)
		if probe.IntN(12) == 0 {
			snapshotStep(t, at, w, ms, st)
			compareStorage(t, at, probe, ms, st)
			continue
		}
		hs, ents := w.next()
		if !hs.IsEmpty() {
			ms.SetHardState(hs)
		}
		if err := ms.Append(ents); err != nil {
			t.Fatalf("seed %d step %d: MemoryStorage.Append = %v", seed, step, err)
		}
		if err := st.Save(hs, ents); err != nil {
			t.Fatalf("seed %d step %d: Save(%+v, %d entries) = %v; want nil", seed, step, hs, len(ents), err)
		}
		if probe.IntN(10) == 0 {
			// A clean Close flushes the journal; a crash leaves it to Open.
			close := st.Close
			if probe.IntN(2) == 0 {
				close = st.crash
			}
			if err := close(); err != nil {
				t.Fatalf("seed %d step %d: close = %v", seed, step, err)
			}
			if st, err = Open(path, Options{noSync: true}); err != nil {
				t.Fatalf("seed %d step %d: reopen = %v", seed, step, err)
			}
		}
		compareStorage(t, at, probe, ms, st)
		compareStorage(t, at+" (from disk)", probe, ms, diskOnly{st})
	}
}

// snapshotStep either takes a snapshot of committed entries and compacts
// the log up to it, or installs a snapshot from a leader past the commit,
// on both stores, as the driver would.
func snapshotStep(t *testing.T, at string, w *raftShapedWriter, ms *consensus.MemoryStorage, st *Store) {
	t.Helper()
	voters := []consensus.NodeID{1, 2, consensus.NodeID(3 + w.rng.IntN(3))}
	if w.rng.IntN(2) == 0 && w.hs.Commit > w.snapIndex {
		i := w.snapIndex + 1 + consensus.Index(w.rng.IntN(int(w.hs.Commit-w.snapIndex)))
		term, err := ms.Term(i)
		if err != nil {
			t.Fatalf("%s: MemoryStorage.Term(%d) = %v", at, i, err)
		}
		meta := consensus.SnapshotMeta{Index: i, Term: term, Voters: voters}
		if err := ms.SetSnapshot(meta); err != nil {
			t.Fatalf("%s: MemoryStorage.SetSnapshot(%+v) = %v", at, meta, err)
		}
		if err := st.SetSnapshot(meta); err != nil {
			t.Fatalf("%s: SetSnapshot(%+v) = %v; want nil", at, meta, err)
		}
		w.snapIndex = i
		c := i - consensus.Index(w.rng.IntN(3))
		if err := ms.Compact(c); err != nil {
			t.Fatalf("%s: MemoryStorage.Compact(%d) = %v", at, c, err)
		}
		if err := st.Compact(c); err != nil {
			t.Fatalf("%s: Compact(%d) = %v; want nil", at, c, err)
		}
		return
	}
	if w.hs.Term == 0 {
		return
	}
	i := w.hs.Commit + 1 + consensus.Index(w.rng.IntN(int(w.last-w.hs.Commit)+5))
	meta := consensus.SnapshotMeta{Index: i, Term: w.hs.Term, Voters: voters}
	w.hs.Commit, w.last, w.lastTerm, w.snapIndex = i, i, w.hs.Term, i
	if err := ms.ApplySnapshot(meta); err != nil {
		t.Fatalf("%s: MemoryStorage.ApplySnapshot(%+v) = %v", at, meta, err)
	}
	ms.SetHardState(w.hs)
	if err := st.ApplySnapshot(meta); err != nil {
		t.Fatalf("%s: ApplySnapshot(%+v) = %v; want nil", at, meta, err)
	}
	if err := st.Save(w.hs, nil); err != nil {
		t.Fatalf("%s: Save(%+v) after ApplySnapshot = %v; want nil", at, w.hs, err)
	}
}

// diskOnly reads a Store's entries past its tail cache: from bbolt, and
// from the cache only those bbolt does not hold yet (journaled), so that
// both read paths are compared with MemoryStorage.
type diskOnly struct{ *Store }

func (d diskOnly) Entries(lo, hi consensus.Index, maxBytes uint64) ([]consensus.Entry, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	cacheFrom := hi
	if d.dirty.from != 0 {
		cacheFrom = d.dirty.from
	}
	if lo <= d.idx.base.Index || hi > d.idx.last+1 || lo == hi || lo >= cacheFrom {
		// The bounds checks are shared with Entries; only the read differs.
		return d.Store.Entries(lo, hi, maxBytes)
	}
	return d.entriesFrom(lo, hi, maxBytes, cacheFrom)
}

// compareStorage compares every Term and conformanceProbes Entries ranges.
func compareStorage(t *testing.T, at string, probe *rand.Rand, want, got consensus.Storage) {
	t.Helper()
	wv, gv := viewOf(t, want), viewOf(t, got)
	checkView(t, gv, wv)
	ws, werr := want.Snapshot()
	gs, gerr := got.Snapshot()
	if werr != nil || gerr != nil || !reflect.DeepEqual(gs, ws) {
		t.Fatalf("%s: Snapshot() = %+v, %v; want %+v, %v", at, gs, gerr, ws, werr)
	}
	for i := consensus.Index(0); i <= wv.Last+2; i++ {
		wt, werr := want.Term(i)
		gt, gerr := got.Term(i)
		if gt != wt || errorClass(gerr) != errorClass(werr) {
			t.Fatalf("%s: Term(%d) = %d, %s; want %d, %s", at, i, gt, errorClass(gerr), wt, errorClass(werr))
		}
	}
	limits := []uint64{0, 1, 150, 400, 1200, noLimit}
	for range conformanceProbes {
		lo := consensus.Index(probe.IntN(int(wv.Last) + 2))
		hi := lo + consensus.Index(probe.IntN(int(wv.Last)+3-int(lo)))
		maxBytes := limits[probe.IntN(len(limits))]
		we, werr := want.Entries(lo, hi, maxBytes)
		ge, gerr := got.Entries(lo, hi, maxBytes)
		if errorClass(gerr) != errorClass(werr) {
			t.Fatalf("%s: Entries(%d, %d, %d) error = %s; want %s", at, lo, hi, maxBytes, errorClass(gerr), errorClass(werr))
		}
		if len(ge) != len(we) || (len(we) > 0 && !reflect.DeepEqual(normalize(storageView{Entries: ge}), normalize(storageView{Entries: we}))) {
			t.Fatalf("%s: Entries(%d, %d, %d) = %d entries %+v; want %d %+v", at, lo, hi, maxBytes, len(ge), ge, len(we), we)
		}
	}
}

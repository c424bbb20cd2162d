package boltstore

// This test proves that a Store answers exactly like consensus.MemoryStorage,
// the in-memory twin the simulator uses: it drives both through the same
// seeded random sequence of Raft-shaped writes (appends, truncations of the
// uncommitted tail, term and vote changes, commit advances, reopens) and
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
	rng      *rand.Rand
	hs       consensus.HardState
	last     consensus.Index
	lastTerm consensus.Term
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
			if err := st.Close(); err != nil {
				t.Fatalf("seed %d step %d: Close() = %v", seed, step, err)
			}
			if st, err = Open(path, Options{noSync: true}); err != nil {
				t.Fatalf("seed %d step %d: reopen = %v", seed, step, err)
			}
		}
		compareStorage(t, fmt.Sprintf("seed %d step %d", seed, step), probe, ms, st)
		compareStorage(t, fmt.Sprintf("seed %d step %d (from disk)", seed, step), probe, ms, diskOnly{st})
	}
}

// diskOnly reads a Store's entries past its tail cache, so that both read
// paths are compared with MemoryStorage.
type diskOnly struct{ *Store }

func (d diskOnly) Entries(lo, hi consensus.Index, maxBytes uint64) ([]consensus.Entry, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if lo <= d.idx.snap.Index || hi > d.idx.last+1 || lo == hi {
		// The bounds checks are shared with Entries; only the read differs.
		return d.Store.Entries(lo, hi, maxBytes)
	}
	return d.entriesFromDisk(lo, hi, maxBytes)
}

// compareStorage compares every Term and conformanceProbes Entries ranges.
func compareStorage(t *testing.T, at string, probe *rand.Rand, want, got consensus.Storage) {
	t.Helper()
	wv, gv := viewOf(t, want), viewOf(t, got)
	checkView(t, gv, wv)
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

package consensus

import (
	"errors"
	"fmt"
)

// ErrCompacted is returned by Storage when the asked index is below FirstIndex.
var ErrCompacted = errors.New("consensus: index compacted")

// ErrUnavailable is returned by Storage when the asked index is above LastIndex.
var ErrUnavailable = errors.New("consensus: index unavailable")

// ErrSnapshotOutOfDate is returned when a snapshot to record or install is
// not newer than the one already stored.
var ErrSnapshotOutOfDate = errors.New("consensus: snapshot out of date")

// Storage is the stable log and hard state the core reads. The driver writes to
// it (persisting each Ready) and the core only reads. Implementations: the
// in-memory MemoryStorage (simulator, tests) and the bbolt store.
//
// Six methods, not STYLE's three: the issues that introduced it name exactly
// these reads, and splitting them would only make every implementation declare two types.
type Storage interface {
	// InitialState returns the persisted HardState (zero on a fresh node).
	InitialState() (HardState, error)
	// Entries returns the entries in [lo, hi), at least one if lo < hi, and
	// stops before exceeding maxBytes in total.
	Entries(lo, hi Index, maxBytes uint64) ([]Entry, error)
	// Term returns the term of the entry at i; FirstIndex()-1 is valid too (the
	// term of the compacted prefix's last entry, 0 on a fresh log).
	Term(i Index) (Term, error)
	// FirstIndex is the index of the first entry still stored (1 on a fresh log).
	FirstIndex() (Index, error)
	// LastIndex is the index of the last stored entry (0 on an empty log).
	LastIndex() (Index, error)
	// Snapshot returns the metadata of the latest stored snapshot (empty
	// when there is none). The log is never compacted past it:
	// FirstIndex()-1 <= Snapshot().Index whenever a snapshot exists.
	Snapshot() (SnapshotMeta, error)
}

// MemoryStorage is a Storage held in memory, for the simulator and tests. It is
// not safe for concurrent use. Crashing a node in the simulator keeps its
// MemoryStorage (that is the "disk") and drops its Raft.
type MemoryStorage struct {
	hardState HardState
	// snap is the latest snapshot's metadata; its data is the caller's.
	// Compact does not check it (benchmarks compact without snapshots); a
	// caller that serves followers compacts only up to it.
	snap SnapshotMeta
	// ents[0] is a dummy entry holding the index and term before the first
	// stored entry; real entries follow it.
	// Invariant: ents[i].Index == ents[0].Index + i.
	ents []Entry
}

// NewMemoryStorage returns an empty MemoryStorage.
func NewMemoryStorage() *MemoryStorage {
	return &MemoryStorage{ents: make([]Entry, 1)}
}

// InitialState implements Storage.
func (ms *MemoryStorage) InitialState() (HardState, error) { return ms.hardState, nil }

// SetHardState records hs as persisted.
func (ms *MemoryStorage) SetHardState(hs HardState) { ms.hardState = hs }

// FirstIndex implements Storage.
func (ms *MemoryStorage) FirstIndex() (Index, error) { return ms.ents[0].Index + 1, nil }

// LastIndex implements Storage.
func (ms *MemoryStorage) LastIndex() (Index, error) { return ms.lastIndex(), nil }

func (ms *MemoryStorage) lastIndex() Index { return ms.ents[0].Index + Index(len(ms.ents)) - 1 }

// Term implements Storage.
func (ms *MemoryStorage) Term(i Index) (Term, error) {
	offset := ms.ents[0].Index
	if i < offset {
		return 0, ErrCompacted
	}
	if i > ms.lastIndex() {
		return 0, ErrUnavailable
	}
	return ms.ents[i-offset].Term, nil
}

// Entries implements Storage.
func (ms *MemoryStorage) Entries(lo, hi Index, maxBytes uint64) ([]Entry, error) {
	offset := ms.ents[0].Index
	if lo <= offset {
		return nil, ErrCompacted
	}
	if hi > ms.lastIndex()+1 {
		return nil, fmt.Errorf("memory storage: entries [%d, %d) past last index %d: %w", lo, hi, ms.lastIndex(), ErrUnavailable)
	}
	ents := ms.ents[lo-offset : hi-offset]
	return limitSize(ents, maxBytes), nil
}

// Append stores ents, replacing any stored suffix from ents[0].Index on. Entries
// at or below the compacted prefix are ignored.
func (ms *MemoryStorage) Append(ents []Entry) error {
	if len(ents) == 0 {
		return nil
	}
	first := ms.ents[0].Index + 1
	if last := ents[len(ents)-1].Index; last < first {
		return nil
	}
	if ents[0].Index < first {
		ents = ents[first-ents[0].Index:]
	}
	if ents[0].Index > ms.lastIndex()+1 {
		return fmt.Errorf("memory storage: append at %d leaves a gap after %d", ents[0].Index, ms.lastIndex())
	}
	keep := ents[0].Index - ms.ents[0].Index
	if keep < Index(len(ms.ents)) {
		// Truncating: copy, so slices handed out by Entries never change under
		// their holders.
		ms.ents = append(append([]Entry(nil), ms.ents[:keep]...), ents...)
		return nil
	}
	ms.ents = append(ms.ents, ents...)
	return nil
}

// Compact drops the stored entries up to and including i, keeping i's index
// and term as the new base (Term(i) stays valid). Entries handed out earlier
// are not changed. It fails for an i past the last index; an i at or below
// the current base is a no-op.
func (ms *MemoryStorage) Compact(i Index) error {
	offset := ms.ents[0].Index
	if i <= offset {
		return nil
	}
	if i > ms.lastIndex() {
		return fmt.Errorf("memory storage: compact to %d past last index %d: %w", i, ms.lastIndex(), ErrUnavailable)
	}
	kept := make([]Entry, 1, 1+ms.lastIndex()-i)
	kept[0] = Entry{Index: i, Term: ms.ents[i-offset].Term}
	ms.ents = append(kept, ms.ents[i-offset+1:]...)
	return nil
}

// Snapshot implements Storage.
func (ms *MemoryStorage) Snapshot() (SnapshotMeta, error) { return ms.snap, nil }

// SetSnapshot records a snapshot the state machine took at meta.Index, which
// must be in the log with meta.Term (or be the compacted base). It fails with
// ErrSnapshotOutOfDate when meta is not newer than the stored snapshot.
func (ms *MemoryStorage) SetSnapshot(meta SnapshotMeta) error {
	if meta.Index <= ms.snap.Index {
		return fmt.Errorf("memory storage: snapshot at %d, have %d: %w", meta.Index, ms.snap.Index, ErrSnapshotOutOfDate)
	}
	t, err := ms.Term(meta.Index)
	if err != nil {
		return fmt.Errorf("memory storage: snapshot at %d: %w", meta.Index, err)
	}
	if t != meta.Term {
		return fmt.Errorf("memory storage: snapshot at %d with term %d, log has term %d", meta.Index, meta.Term, t)
	}
	ms.snap = cloneSnapshotMeta(meta)
	return nil
}

// ApplySnapshot installs a snapshot received from the leader: every stored
// entry is dropped and the log starts right after meta.Index. It fails with
// ErrSnapshotOutOfDate when meta is not newer than the stored snapshot.
func (ms *MemoryStorage) ApplySnapshot(meta SnapshotMeta) error {
	if meta.Index <= ms.snap.Index {
		return fmt.Errorf("memory storage: install snapshot at %d, have %d: %w", meta.Index, ms.snap.Index, ErrSnapshotOutOfDate)
	}
	ms.snap = cloneSnapshotMeta(meta)
	ms.ents = []Entry{{Index: meta.Index, Term: meta.Term}}
	return nil
}

// cloneSnapshotMeta copies meta's membership, so the stored metadata never
// shares an array with a message or a Ready.
func cloneSnapshotMeta(meta SnapshotMeta) SnapshotMeta {
	meta.SetMembership(meta.Membership().Clone())
	return meta
}

// limitSize returns the longest prefix of ents (at least one entry) whose total
// Size stays within maxBytes.
func limitSize(ents []Entry, maxBytes uint64) []Entry {
	if len(ents) == 0 {
		return ents
	}
	size := ents[0].Size()
	n := 1
	for ; n < len(ents); n++ {
		size += ents[n].Size()
		if size > maxBytes {
			break
		}
	}
	return ents[:n]
}

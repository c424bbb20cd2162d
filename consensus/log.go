package consensus

import (
	"errors"
	"fmt"
)

// raftLog is the node's view of the replicated log: the stable prefix read
// through Storage and the unstable tail held in memory until an Advance says
// the driver persisted it.
type raftLog struct {
	storage  Storage
	unstable unstable
	// committed is the highest index known to be committed.
	// Invariant: applied <= committed <= lastIndex(); committed never decreases.
	committed Index
	// applied is the highest index handed to the state machine and advanced.
	applied Index
	// snapshot is a snapshot received from the leader that replaces the log
	// up to its index, until the Advance of the Ready that carried it says
	// it is installed; snapshotSent says a Ready carried it already.
	// Invariant: when set, unstable.offset > snapshot.Index, committed >=
	// snapshot.Index, and nothing below unstable.offset is read from storage.
	snapshot     *SnapshotMeta
	snapshotSent bool
}

// newLog opens the log stored in storage with the given commit and applied
// indexes, validating them against what is stored.
func newLog(storage Storage, committed, applied Index) (*raftLog, error) {
	last, err := storage.LastIndex()
	if err != nil {
		return nil, fmt.Errorf("consensus: storage last index: %w", err)
	}
	first, err := storage.FirstIndex()
	if err != nil {
		return nil, fmt.Errorf("consensus: storage first index: %w", err)
	}
	if first > last+1 {
		return nil, fmt.Errorf("consensus: storage first index %d past last index %d", first, last)
	}
	if committed > last {
		return nil, fmt.Errorf("consensus: stored commit index %d past last index %d", committed, last)
	}
	snap, err := storage.Snapshot()
	if err != nil {
		return nil, fmt.Errorf("consensus: storage snapshot: %w", err)
	}
	if !snap.IsEmpty() && snap.Index+1 < first {
		return nil, fmt.Errorf("consensus: storage compacted to %d, past its snapshot at %d", first-1, snap.Index)
	}
	// A crash between installing a snapshot and writing the hard state
	// leaves a stored commit below the snapshot, which is committed.
	committed = max(committed, snap.Index)
	if applied+1 < first && committed >= first {
		// The state machine must be restored from the snapshot (applied =
		// its index) or rebuilt from the log.
		return nil, fmt.Errorf("consensus: applied index %d below first stored index %d", applied, first)
	}
	if applied > committed {
		return nil, fmt.Errorf("consensus: applied index %d past commit index %d", applied, committed)
	}
	return &raftLog{
		storage:   storage,
		unstable:  unstable{offset: last + 1},
		committed: committed,
		applied:   applied,
	}, nil
}

// lastIndex is the index of the last entry (0 on an empty log).
func (l *raftLog) lastIndex() Index {
	if i, ok := l.unstable.lastIndex(); ok {
		return i
	}
	return l.unstable.offset - 1
}

// firstIndex is the index of the first entry still held (stored, or after
// a pending snapshot).
func (l *raftLog) firstIndex() (Index, error) {
	if l.snapshot != nil {
		return l.snapshot.Index + 1, nil
	}
	i, err := l.storage.FirstIndex()
	if err != nil {
		return 0, fmt.Errorf("consensus: storage first index: %w", err)
	}
	return i, nil
}

// stableLastIndex is the index of the last entry known to be persisted and
// still part of this log.
func (l *raftLog) stableLastIndex() Index { return l.unstable.offset - 1 }

// term returns the term of the entry at i. Index 0 has term 0.
func (l *raftLog) term(i Index) (Term, error) {
	if t, ok := l.unstable.term(i); ok {
		return t, nil
	}
	if i == 0 {
		return 0, nil
	}
	if s := l.snapshot; s != nil {
		if i == s.Index {
			return s.Term, nil
		}
		if i < s.Index {
			return 0, ErrCompacted
		}
	}
	if i >= l.unstable.offset {
		return 0, ErrUnavailable
	}
	t, err := l.storage.Term(i)
	if err != nil {
		return 0, fmt.Errorf("consensus: term of %d: %w", i, err)
	}
	return t, nil
}

// lastTerm is the term of the last entry.
func (l *raftLog) lastTerm() (Term, error) { return l.term(l.lastIndex()) }

// matchTerm reports whether the entry at i has term t (i == 0 matches term 0).
func (l *raftLog) matchTerm(i Index, t Term) (bool, error) {
	got, err := l.term(i)
	if errors.Is(err, ErrUnavailable) || errors.Is(err, ErrCompacted) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return got == t, nil
}

// isUpToDate is the §5.4.1 predicate: a log ending at (lasti, t) is at least as
// up to date as ours if its last term is higher, or equal with an index >= ours.
func (l *raftLog) isUpToDate(lasti Index, t Term) (bool, error) {
	ours, err := l.lastTerm()
	if err != nil {
		return false, err
	}
	return t > ours || (t == ours && lasti >= l.lastIndex()), nil
}

// findConflict returns the index of the first entry of ents whose term differs
// from ours at that index (or that we do not have), or 0 when every entry of
// ents is already in the log. Only that index may truncate: an entry we
// already hold never shortens a longer log.
func (l *raftLog) findConflict(ents []Entry) (Index, error) {
	for i := range ents {
		ok, err := l.matchTerm(ents[i].Index, ents[i].Term)
		if err != nil {
			return 0, err
		}
		if !ok {
			return ents[i].Index, nil
		}
	}
	return 0, nil
}

// findConflictByTerm returns the largest index <= i whose term is <= t, with
// that term: the fast-backtracking hint. Past the stored prefix it returns
// (i, 0).
func (l *raftLog) findConflictByTerm(i Index, t Term) (Index, Term, error) {
	if last := l.lastIndex(); i > last {
		i = last
	}
	for {
		got, err := l.term(i)
		if errors.Is(err, ErrCompacted) {
			return i, 0, nil
		}
		if err != nil {
			return 0, 0, err
		}
		if got <= t {
			return i, got, nil
		}
		i--
	}
}

// append adds ents (contiguous, ents[0].Index <= lastIndex()+1) to the unstable
// tail, replacing every entry from ents[0].Index on, and returns the new last index.
func (l *raftLog) append(ents []Entry) Index {
	if len(ents) == 0 {
		return l.lastIndex()
	}
	first := ents[0].Index
	assertf(first > l.committed, "truncating at %d, at or below commit %d", first, l.committed)
	assertf(first <= l.lastIndex()+1, "append at %d leaves a gap after %d", first, l.lastIndex())
	l.unstable.truncateAndAppend(ents)
	return l.lastIndex()
}

// entriesFrom returns entries from lo to the end, at most maxBytes (at least one).
func (l *raftLog) entriesFrom(lo Index, maxBytes uint64) ([]Entry, error) {
	if lo > l.lastIndex() {
		return nil, nil
	}
	return l.slice(lo, l.lastIndex()+1, maxBytes)
}

// slice returns the entries in [lo, hi), at least one if lo < hi, stopping
// before maxBytes in total. The result never aliases storage's arrays in a
// way an append could overwrite.
func (l *raftLog) slice(lo, hi Index, maxBytes uint64) ([]Entry, error) {
	assertf(lo <= hi, "slice lo %d > hi %d", lo, hi)
	assertf(hi <= l.lastIndex()+1, "slice hi %d past last index %d", hi, l.lastIndex())
	if lo == hi {
		return nil, nil
	}
	var ents []Entry
	if lo < l.unstable.offset {
		stableHi := min(hi, l.unstable.offset)
		stored, err := l.storage.Entries(lo, stableHi, maxBytes)
		if err != nil {
			return nil, fmt.Errorf("consensus: entries [%d, %d): %w", lo, stableHi, err)
		}
		if len(stored) == 0 {
			return nil, fmt.Errorf("consensus: storage returned no entries in [%d, %d): %w", lo, stableHi, ErrUnavailable)
		}
		if Index(len(stored)) < stableHi-lo || hi == stableHi {
			return stored[:len(stored):len(stored)], nil
		}
		ents = stored[:len(stored):len(stored)]
		lo = stableHi
	}
	tail := l.unstable.slice(lo, hi)
	if ents == nil {
		return limitSize(tail, maxBytes), nil
	}
	size := entsSize(ents)
	n := 0
	for ; n < len(tail); n++ {
		size += tail[n].Size()
		if size > maxBytes {
			break
		}
	}
	if n == 0 {
		return ents, nil
	}
	out := make([]Entry, 0, len(ents)+n)
	return append(append(out, ents...), tail[:n]...), nil
}

// entsSize is the total Size of ents.
func entsSize(ents []Entry) uint64 {
	var n uint64
	for i := range ents {
		n += ents[i].Size()
	}
	return n
}

// commitTo raises the commit index to i (never lowers it).
func (l *raftLog) commitTo(i Index) bool {
	if i <= l.committed {
		return false
	}
	assertf(i <= l.lastIndex(), "commit %d past last index %d", i, l.lastIndex())
	l.committed = i
	return true
}

// appliedTo records that the entries up to i were applied.
func (l *raftLog) appliedTo(i Index) {
	if i <= l.applied {
		return
	}
	assertf(i <= l.committed, "applied %d past commit %d", i, l.committed)
	l.applied = i
}

// hasNextCommitted reports whether committed entries wait to be applied.
// While a received snapshot is not installed, none do: it comes first.
func (l *raftLog) hasNextCommitted() bool { return l.committed > l.applied && l.snapshot == nil }

// restore replaces the log with snapshot s (§7): every entry is dropped, the
// log continues after s.Index, and s.Index is committed. The state machine
// catches up when the driver installs s.
func (l *raftLog) restore(s SnapshotMeta) {
	assertf(s.Index > l.committed, "restoring snapshot %d at or below commit %d", s.Index, l.committed)
	s = cloneSnapshotMeta(s)
	l.snapshot = &s
	l.snapshotSent = false
	l.unstable = unstable{offset: s.Index + 1}
	l.committed = s.Index
}

// snapshotInstalled records that the driver installed snapshot s: the
// storage now starts after it, and the state machine holds its state.
func (l *raftLog) snapshotInstalled(s *SnapshotMeta) {
	if l.snapshot != nil && l.snapshot.Index == s.Index {
		l.snapshot = nil
		l.snapshotSent = false
	}
	if s.Index > l.applied {
		l.applied = s.Index
	}
}

// nextCommitted returns committed, unapplied entries, at most maxBytes (at least one).
func (l *raftLog) nextCommitted(maxBytes uint64) ([]Entry, error) {
	if !l.hasNextCommitted() {
		return nil, nil
	}
	return l.slice(l.applied+1, l.committed+1, maxBytes)
}

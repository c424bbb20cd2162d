package boltstore

import (
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/raftlock/raftlock/consensus"
)

// load reads the hard state, log base and snapshot metadata and verifies the whole log
// in one sequential scan, filling s.hs and s.idx. Every check failure names
// the file (and the index) and wraps ErrCorrupt.
func (s *Store) load(tx *bolt.Tx) error {
	vd := newValueDecoder(s.h, s.table)
	meta := tx.Bucket([]byte(bucketMeta))
	if raw := meta.Get([]byte(keyHardState)); raw != nil {
		if err := vd.unframe(raw, metaValueBytesMax, &s.hs); err != nil {
			return fmt.Errorf("boltstore: %s: hard state: %w", s.path, err)
		}
	}
	var base logBase
	if raw := meta.Get([]byte(keyLogBase)); raw != nil {
		if err := vd.unframe(raw, metaValueBytesMax, &base); err != nil {
			return fmt.Errorf("boltstore: %s: log base: %w", s.path, err)
		}
	}
	if raw := meta.Get([]byte(keySnapshot)); raw != nil {
		if err := vd.unframe(raw, snapshotMetaBytesMax, &s.snap); err != nil {
			return fmt.Errorf("boltstore: %s: snapshot metadata: %w", s.path, err)
		}
	}
	idx, err := scanLog(vd, tx.Bucket([]byte(bucketLog)), base)
	if err != nil {
		return fmt.Errorf("boltstore: %s: %w", s.path, err)
	}
	if err := checkHardState(s.hs, &idx); err != nil {
		return fmt.Errorf("boltstore: %s: %w", s.path, err)
	}
	if err := checkSnapshot(s.snap, s.hs, &idx); err != nil {
		return fmt.Errorf("boltstore: %s: %w", s.path, err)
	}
	s.idx = idx
	return nil
}

// scanLog walks the log bucket in key order and checks every entry: its
// checksum and encoding, that its key is its index, that the indexes follow
// each other from base.Index+1 without a gap, and that terms never go down.
func scanLog(vd *valueDecoder, b *bolt.Bucket, base logBase) (logIndex, error) {
	idx := logIndex{base: base, last: base.Index}
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		i, ok := parseIndexKey(k)
		if !ok {
			return logIndex{}, fmt.Errorf("entry after %d: key %x is %d bytes, want %d: %w", idx.last, k, len(k), indexKeyBytes, ErrCorrupt)
		}
		if want := idx.last + 1; i != want {
			if i < want {
				return logIndex{}, fmt.Errorf("entry %d: at or below the base index %d: %w", i, base.Index, ErrCorrupt)
			}
			return logIndex{}, fmt.Errorf("entry %d: missing, the next stored entry is %d: %w", want, i, ErrCorrupt)
		}
		if v == nil {
			return logIndex{}, fmt.Errorf("entry %d: a bucket, not a value: %w", i, ErrCorrupt)
		}
		e, err := vd.entry(v)
		if err != nil {
			return logIndex{}, fmt.Errorf("entry %d: %w", i, err)
		}
		if e.Index != i {
			return logIndex{}, fmt.Errorf("entry %d: holds index %d: %w", i, e.Index, ErrCorrupt)
		}
		if lt := idx.lastTerm(); e.Term < lt {
			return logIndex{}, fmt.Errorf("entry %d: term %d below term %d of entry %d: %w", i, e.Term, lt, i-1, ErrCorrupt)
		}
		idx.append(i, e.Term)
	}
	return idx, nil
}

// checkHardState checks the hard state against the verified log: the commit
// index lies within it, and no entry has a term above the current term.
func checkHardState(hs consensus.HardState, idx *logIndex) error {
	if hs.Commit > idx.last {
		return fmt.Errorf("hard state commit %d above last index %d: %w", hs.Commit, idx.last, ErrCorrupt)
	}
	if hs.Commit < idx.base.Index {
		return fmt.Errorf("hard state commit %d below base index %d: %w", hs.Commit, idx.base.Index, ErrCorrupt)
	}
	if lt := idx.lastTerm(); lt > hs.Term {
		return fmt.Errorf("last entry term %d above hard state term %d: %w", lt, hs.Term, ErrCorrupt)
	}
	return nil
}

// checkSnapshot checks the snapshot metadata against the hard state and the
// log: a snapshot covers only committed entries, lists a bounded number of
// voters, and agrees with the log on the term of its index when the log
// still holds it.
func checkSnapshot(snap consensus.SnapshotMeta, hs consensus.HardState, idx *logIndex) error {
	if snap.IsEmpty() {
		return nil
	}
	if n := len(snap.Voters); n > consensus.VotersMax {
		return fmt.Errorf("snapshot lists %d voters, max %d: %w", n, consensus.VotersMax, ErrCorrupt)
	}
	if snap.Index > hs.Commit {
		return fmt.Errorf("snapshot index %d above hard state commit %d: %w", snap.Index, hs.Commit, ErrCorrupt)
	}
	if snap.Index >= idx.base.Index {
		if t, err := idx.term(snap.Index); err == nil && t != snap.Term {
			return fmt.Errorf("snapshot at %d has term %d, the log has term %d: %w", snap.Index, snap.Term, t, ErrCorrupt)
		}
	}
	return nil
}

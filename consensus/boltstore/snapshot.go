package boltstore

import (
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/raftlock/raftlock/consensus"
)

// Snapshot implements consensus.Storage: the metadata of the latest snapshot
// recorded by SetSnapshot or ApplySnapshot (empty when none).
func (s *Store) Snapshot() (consensus.SnapshotMeta, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return consensus.SnapshotMeta{}, ErrClosed
	}
	return cloneSnapshotMeta(s.snap), nil
}

// SetSnapshot records the metadata of a snapshot the state machine took at
// meta.Index, whose data the caller has already made durable beside the
// store. meta.Index must be stored (or be the log base) with meta.Term. It
// fails with consensus.ErrSnapshotOutOfDate when meta is not newer than the
// stored snapshot. A snapshot above the stored commit is a caller bug and
// panics: only applied, so committed, entries can be in a snapshot.
func (s *Store) SetSnapshot(meta consensus.SnapshotMeta) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.writableInBolt(); err != nil {
		return err
	}
	if meta.Index <= s.snap.Index {
		return fmt.Errorf("boltstore: snapshot at %d, have %d: %w", meta.Index, s.snap.Index, consensus.ErrSnapshotOutOfDate)
	}
	if err := checkVoters(meta); err != nil {
		return err
	}
	t, err := s.idx.term(meta.Index)
	if err != nil {
		return fmt.Errorf("boltstore: snapshot at %d: %w", meta.Index, err)
	}
	if t != meta.Term {
		return fmt.Errorf("boltstore: snapshot at %d with term %d, the log has term %d", meta.Index, meta.Term, t)
	}
	assertf(meta.Index <= s.hs.Commit, "snapshot at %d above the stored commit %d", meta.Index, s.hs.Commit)
	meta = cloneSnapshotMeta(meta)
	if err := s.commit(func(tx *bolt.Tx) error { return s.putFramed(tx, keySnapshot, &meta) }); err != nil {
		return err
	}
	s.snap = meta
	return nil
}

// ApplySnapshot installs a snapshot received from the leader, whose data the
// caller has already made durable beside the store: in one fsynced
// transaction every stored entry is dropped, the log restarts right after
// meta.Index, and the hard state's commit is raised to meta.Index (and its
// term to meta.Term, with no vote, if it was lower), so that the file is
// consistent even if the node stops before it saves the rest of the Ready.
// It fails with consensus.ErrSnapshotOutOfDate when meta is not newer than
// the stored snapshot and the log base. A snapshot at or below the stored
// commit is a caller bug (the core ignores such snapshots) and panics.
func (s *Store) ApplySnapshot(meta consensus.SnapshotMeta) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.writableInBolt(); err != nil {
		return err
	}
	if meta.Index <= s.snap.Index || meta.Index <= s.idx.base.Index {
		return fmt.Errorf("boltstore: install snapshot at %d, have snapshot %d and log base %d: %w",
			meta.Index, s.snap.Index, s.idx.base.Index, consensus.ErrSnapshotOutOfDate)
	}
	if err := checkVoters(meta); err != nil {
		return err
	}
	assertf(meta.Index > s.hs.Commit, "install snapshot at %d, at or below the stored commit %d", meta.Index, s.hs.Commit)
	meta = cloneSnapshotMeta(meta)
	hs := s.hs
	hs.Commit = meta.Index
	if hs.Term < meta.Term {
		hs = consensus.HardState{Term: meta.Term, Vote: consensus.None, Commit: meta.Index}
	}
	base := logBase{Index: meta.Index, Term: meta.Term}
	err := s.commit(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket([]byte(bucketLog)); err != nil {
			return fmt.Errorf("drop log: %w", err)
		}
		if _, err := tx.CreateBucket([]byte(bucketLog)); err != nil {
			return fmt.Errorf("recreate log: %w", err)
		}
		if err := s.putFramed(tx, keyLogBase, &base); err != nil {
			return err
		}
		if err := s.putFramed(tx, keyHardState, &hs); err != nil {
			return err
		}
		return s.putFramed(tx, keySnapshot, &meta)
	})
	if err != nil {
		return err
	}
	s.hs, s.snap = hs, meta
	s.idx = logIndex{base: base, last: base.Index}
	s.diskLast = base.Index
	s.tail.clear()
	return nil
}

// Compact drops the stored entries up to and including i, keeping i's index
// and term as the log base so that Term(FirstIndex()-1) still answers, like
// consensus.MemoryStorage.Compact: an i at or below the base is a no-op, an i
// past the last index fails with consensus.ErrUnavailable. The caller
// compacts only what a snapshot covers, so compacting above the stored
// commit is a caller bug and panics.
func (s *Store) Compact(i consensus.Index) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.writableInBolt(); err != nil {
		return err
	}
	if i <= s.idx.base.Index {
		return nil
	}
	if i > s.idx.last {
		return fmt.Errorf("boltstore: compact to %d past last index %d: %w", i, s.idx.last, consensus.ErrUnavailable)
	}
	assertf(i <= s.hs.Commit, "compact to %d above the stored commit %d", i, s.hs.Commit)
	t, err := s.idx.term(i)
	assertf(err == nil, "term of %d in the log: %v", i, err)
	base := logBase{Index: i, Term: t}
	err = s.commit(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketLog))
		for k := s.idx.firstIndex(); k <= i; k++ {
			if err := b.Delete(indexKey(k)); err != nil {
				return fmt.Errorf("delete entry %d: %w", k, err)
			}
		}
		return s.putFramed(tx, keyLogBase, &base)
	})
	if err != nil {
		return err
	}
	s.idx.compact(i, t)
	s.tail.compacted(i)
	return nil
}

// putFramed frames v and puts it under key in the meta bucket.
func (s *Store) putFramed(tx *bolt.Tx, key string, v any) error {
	val, _, err := s.fr.appendFramed(nil, v)
	if err != nil {
		return err
	}
	if err := tx.Bucket([]byte(bucketMeta)).Put([]byte(key), val); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	return nil
}

// checkVoters refuses snapshot metadata Open would refuse to read back.
func checkVoters(meta consensus.SnapshotMeta) error {
	if n := len(meta.Voters); n > consensus.VotersMax {
		return fmt.Errorf("boltstore: snapshot at %d lists %d voters, max %d", meta.Index, n, consensus.VotersMax)
	}
	if n := len(meta.Outgoing); n > consensus.VotersMax {
		return fmt.Errorf("boltstore: snapshot at %d lists %d outgoing voters, max %d", meta.Index, n, consensus.VotersMax)
	}
	if n := len(meta.Learners); n > consensus.LearnersMax {
		return fmt.Errorf("boltstore: snapshot at %d lists %d learners, max %d", meta.Index, n, consensus.LearnersMax)
	}
	if n := len(meta.ConfContext); n > consensus.ConfContextBytesMax {
		return fmt.Errorf("boltstore: snapshot at %d has a membership context of %d bytes, max %d", meta.Index, n, consensus.ConfContextBytesMax)
	}
	return nil
}

// cloneSnapshotMeta copies meta's membership, so the stored metadata never
// shares an array with a caller.
func cloneSnapshotMeta(meta consensus.SnapshotMeta) consensus.SnapshotMeta {
	meta.SetMembership(meta.Membership().Clone())
	return meta
}

// writableInBolt is writable for a write that goes to bbolt itself (a
// snapshot record, an install, a compaction): it flushes the journal first,
// since bbolt must hold the log such a write builds on. s.mu is held.
func (s *Store) writableInBolt() error {
	if err := s.writable(); err != nil {
		return err
	}
	return s.flushJournal()
}

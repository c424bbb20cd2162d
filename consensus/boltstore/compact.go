package boltstore

import (
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/raftlock/raftlock/consensus"
)

// Compact deletes the entries up to and including upTo, whose term must be t,
// and records (upTo, t) so that Term(FirstIndex()-1) still answers. The caller
// compacts only what a snapshot covers, which is committed: compacting above
// the stored commit, or with a term that is not the stored one, panics.
//
// Compact returns ErrCompacted when upTo is already compacted and
// ErrUnavailable when upTo is past the last index (installing a snapshot that
// replaces the whole log is a later issue).
func (s *Store) Compact(upTo consensus.Index, t consensus.Term) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.writable(); err != nil {
		return err
	}
	if upTo <= s.idx.snap.Index {
		return fmt.Errorf("boltstore: compact to %d, already compacted to %d: %w", upTo, s.idx.snap.Index, consensus.ErrCompacted)
	}
	if upTo > s.idx.last {
		return fmt.Errorf("boltstore: compact to %d, last index %d: %w", upTo, s.idx.last, consensus.ErrUnavailable)
	}
	assertf(upTo <= s.hs.Commit, "compact to %d above the stored commit %d", upTo, s.hs.Commit)
	stored, err := s.idx.term(upTo)
	assertf(err == nil, "term of %d in the log: %v", upTo, err)
	assertf(stored == t, "compact to %d with term %d, stored term %d", upTo, t, stored)
	meta := snapshotMeta{Index: upTo, Term: t}
	err = s.commit(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketLog))
		for i := s.idx.firstIndex(); i <= upTo; i++ {
			if err := b.Delete(indexKey(i)); err != nil {
				return fmt.Errorf("delete entry %d: %w", i, err)
			}
		}
		val, _, err := s.fr.appendFramed(nil, &meta)
		if err != nil {
			return err
		}
		return tx.Bucket([]byte(bucketMeta)).Put([]byte(keySnapshotMeta), val)
	})
	if err != nil {
		return err
	}
	s.idx.compact(upTo, t)
	s.tail.compacted(upTo)
	return nil
}

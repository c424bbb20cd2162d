package boltstore

import (
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/raftlock/raftlock/consensus"
)

// Save persists one Ready: hs when it is not empty, and ents (step 1 of the
// driver contract). It appends them to the journal as one record and
// fdatasyncs it once; a Save whose entries are too large for the journal
// (journalDirtyBytesMax) is committed to bbolt directly instead. When
// ents[0].Index is at or below the last stored index, the stored suffix from
// that index on is replaced. Entries at or below the compacted prefix are
// ignored, as MemoryStorage.Append ignores them.
//
// Save returns ErrGap when ents would leave a hole after the last index and
// ErrTooLarge for an entry above EntryDataBytesMax; both leave the store
// unchanged. When the write itself fails the store is unchanged in memory
// and every later write fails with ErrFailed: the files hold the previous
// state, or after a failed fsync a state nobody can vouch for, which the
// next Open verifies. Truncating at or below the stored commit index, or moving the
// term or commit backwards, is a caller bug and panics.
func (s *Store) Save(hs consensus.HardState, ents []consensus.Entry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.writable(); err != nil {
		return err
	}
	if hs.IsEmpty() && len(ents) == 0 {
		return nil
	}
	ents, err := s.checkSave(hs, ents)
	if err != nil {
		return err
	}
	if hs.IsEmpty() && len(ents) == 0 {
		return nil
	}
	if err := s.persist(hs, ents); err != nil {
		return err
	}
	s.remember(hs, ents)
	return nil
}

// remember brings the in-memory state up to a durable Save. s.mu is held.
func (s *Store) remember(hs consensus.HardState, ents []consensus.Entry) {
	if !hs.IsEmpty() {
		s.hs = hs
	}
	if len(ents) > 0 {
		s.idx.truncate(ents[0].Index)
		for i := range ents {
			s.idx.append(ents[i].Index, ents[i].Term)
		}
		s.tail.saved(ents)
	}
}

// writable reports why the store takes no writes, if it does not. s.mu is held.
func (s *Store) writable() error {
	if s.closed {
		return ErrClosed
	}
	if s.failed != nil {
		return fmt.Errorf("%w: %s: %w", ErrFailed, s.path, s.failed)
	}
	return nil
}

// checkSave validates a Save against the stored state and returns ents
// without the part that is already compacted. Caller bugs panic; a gap or an
// oversized entry is an error.
func (s *Store) checkSave(hs consensus.HardState, ents []consensus.Entry) ([]consensus.Entry, error) {
	for i := 1; i < len(ents); i++ {
		if ents[i].Index != ents[i-1].Index+1 {
			violated("entry %d follows entry %d", ents[i].Index, ents[i-1].Index)
		}
		if ents[i].Term < ents[i-1].Term {
			violated("entry %d term %d below term %d of entry %d", ents[i].Index, ents[i].Term, ents[i-1].Term, ents[i-1].Index)
		}
	}
	if first := s.idx.firstIndex(); len(ents) > 0 && ents[0].Index < first {
		if ents[len(ents)-1].Index < first {
			ents = nil
		} else {
			ents = ents[first-ents[0].Index:]
		}
	}
	newHS, newLast, newLastTerm := s.hs, s.idx.last, s.idx.lastTerm()
	if len(ents) > 0 {
		at := ents[0].Index
		if at > s.idx.last+1 {
			return nil, fmt.Errorf("%w: append at %d, last index %d", ErrGap, at, s.idx.last)
		}
		for i := range ents {
			if n := len(ents[i].Data); n > EntryDataBytesMax {
				return nil, fmt.Errorf("%w: entry %d data is %d bytes, max %d", ErrTooLarge, ents[i].Index, n, EntryDataBytesMax)
			}
		}
		if at <= s.idx.last {
			// §5.3: committed entries are never overwritten.
			assertf(at > s.hs.Commit, "truncating the log at %d, at or below the stored commit %d", at, s.hs.Commit)
		}
		prev, err := s.idx.term(at - 1)
		assertf(err == nil, "term of %d before the append: %v", at-1, err)
		assertf(ents[0].Term >= prev, "entry %d term %d below term %d of entry %d", at, ents[0].Term, prev, at-1)
		newLast, newLastTerm = ents[len(ents)-1].Index, ents[len(ents)-1].Term
	}
	if !hs.IsEmpty() {
		assertf(hs.Term >= s.hs.Term, "hard state term %d below the stored %d", hs.Term, s.hs.Term)
		assertf(hs.Commit >= s.hs.Commit, "hard state commit %d below the stored %d", hs.Commit, s.hs.Commit)
		if hs.Term == s.hs.Term && s.hs.Vote != consensus.None {
			assertf(hs.Vote == s.hs.Vote, "vote changed from %d to %d in term %d", s.hs.Vote, hs.Vote, hs.Term)
		}
		newHS = hs
	}
	assertf(newHS.Commit <= newLast, "commit %d above last index %d", newHS.Commit, newLast)
	assertf(newLastTerm <= newHS.Term, "last entry term %d above current term %d", newLastTerm, newHS.Term)
	return ents, nil
}

// writeReady fills tx with one Ready's hard state and entries; diskLast is
// the highest index the log bucket may hold.
func (s *Store) writeReady(tx *bolt.Tx, hs consensus.HardState, ents []consensus.Entry, diskLast consensus.Index) error {
	if !hs.IsEmpty() {
		if err := s.putFramed(tx, keyHardState, &hs); err != nil {
			return err
		}
	}
	if len(ents) == 0 {
		return nil
	}
	b := tx.Bucket([]byte(bucketLog))
	b.FillPercent = logFillPercent
	// Delete the replaced suffix key by key: the cache knows exactly which
	// indexes are stored, and deleting under a moving cursor skips keys.
	for i := ents[0].Index; i <= diskLast; i++ {
		if err := b.Delete(indexKey(i)); err != nil {
			return fmt.Errorf("boltstore: delete entry %d: %w", i, err)
		}
	}
	// bbolt keeps the key and value slices until the commit: every entry gets
	// its own region of two buffers that are never reused within the tx.
	keys := make([]byte, 0, len(ents)*indexKeyBytes)
	var vals []byte
	for i := range ents {
		keys = append(keys, indexKey(ents[i].Index)...)
		var start int
		var err error
		if vals, start, err = s.fr.appendFramed(vals, &ents[i]); err != nil {
			return err
		}
		k := keys[len(keys)-indexKeyBytes:]
		if err := b.Put(k[:indexKeyBytes:indexKeyBytes], vals[start:len(vals):len(vals)]); err != nil {
			return fmt.Errorf("boltstore: put entry %d: %w", ents[i].Index, err)
		}
	}
	return nil
}

// commit runs fill in a read-write transaction and commits it, which fsyncs
// (unless noSync). A failure of fill rolls back and leaves the store usable;
// a failure of the commit (or of the test hook standing in for a crash just
// before it) marks the store failed. s.mu is held.
func (s *Store) commit(fill func(*bolt.Tx) error) error {
	tx, err := s.db.Begin(true)
	if err != nil {
		return fmt.Errorf("boltstore: %s: begin: %w", s.path, err)
	}
	if err := fill(tx); err != nil {
		return errors.Join(fmt.Errorf("boltstore: %s: %w", s.path, err), tx.Rollback())
	}
	if s.beforeCommit != nil {
		if err := s.beforeCommit(); err != nil {
			s.failed = err
			return errors.Join(fmt.Errorf("boltstore: %s: before commit: %w", s.path, err), tx.Rollback())
		}
	}
	if err := tx.Commit(); err != nil {
		s.failed = err
		return fmt.Errorf("boltstore: %s: commit: %w", s.path, err)
	}
	return nil
}

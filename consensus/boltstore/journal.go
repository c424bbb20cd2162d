package boltstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	bolt "go.etcd.io/bbolt"
	"go.uber.org/zap"

	"github.com/raftlock/raftlock/consensus"
)

// The journal is the store's write-ahead file, beside the bbolt file (path +
// JournalSuffix). A Save appends one record to it and makes it durable with
// one fdatasync, where a bbolt commit costs two (the new pages, then the meta
// page). What the journal holds is written into bbolt later, many Saves in
// one fsynced transaction (a flush), which also records the sequence number
// of the last record it covers; the journal then starts over at offset 0.
// So a Save pays one flush to the disk, and bbolt stays the store of record
// that Open verifies and readers read.
//
// A record is a 4-byte big-endian length, then a framed value (see codec.go)
// of journalRecord: its sequence number, the hard state and the entries of
// one Save. Sequence numbers grow by one from record to record and never
// restart, so the records of the current round (those after the last flush)
// are exactly the run of consecutive sequence numbers read from offset 0
// that are above the flushed one: older rounds' records left further in the
// file have lower numbers and end the run, and so does a record torn by a
// crash (its checksum fails). A torn record was never acknowledged: Save
// returns only after the fdatasync.
//
// Rewriting bytes already in the file keeps fdatasync to the data alone;
// a write past the end also changes the file's size, which costs the file
// system a journal commit of its own, a second flush. So the file grows
// ahead of the records, journalGrowBytes of zeros at a time (synced once),
// and records are always written over bytes already there; after its
// first round the journal is rewritten in place. A zero length ends a scan.

// JournalSuffix is appended to the store's path to name its journal.
const JournalSuffix = ".journal"

// keyJournal is the meta key of the sequence number of the last journal
// record flushed into bbolt (8-byte big-endian; absent means 0).
const keyJournal = "journal"

// journalLengthBytes is the size of the length that precedes each record.
const journalLengthBytes = 4

// journalRecord is one Save as the journal holds it.
type journalRecord struct {
	Seq     uint64              `codec:"s"`
	HS      consensus.HardState `codec:"h"`
	Entries []consensus.Entry   `codec:"e"`
}

// journal is the open journal file. The Store's mu guards it.
type journal struct {
	f *os.File
	// off is where the next record goes.
	off int64
	// size is the file's size.
	size int64
	// seq is the sequence number of the last record written or flushed.
	seq uint64
	// flushed is the sequence number bbolt records as flushed.
	// Invariant: flushed <= seq.
	flushed uint64
	// sync is false only for the package's noSync benchmarks and tests.
	sync bool
	// buf is reused for encoding records.
	buf []byte
}

// openJournal opens or creates the journal at path. The directory is
// synced on every open, not only when this open created the file: a
// process that created it may have died before syncing, and the records
// this one acknowledges must not be lost with the directory entry. With
// discard (the bbolt file beside it was just created) whatever the file
// holds belongs to an earlier store and is dropped.
func openJournal(path string, sync, discard bool) (*journal, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if discard {
		if err := f.Truncate(0); err != nil {
			return nil, errors.Join(err, f.Close())
		}
	}
	if sync {
		if err := errors.Join(datasync(f), syncDirectory(filepath.Dir(path))); err != nil {
			return nil, errors.Join(err, f.Close())
		}
	}
	st, err := f.Stat()
	if err != nil {
		return nil, errors.Join(err, f.Close())
	}
	return &journal{f: f, sync: sync, size: st.Size()}, nil
}

// encode frames the record of one Save, numbered seq, into j.buf.
func (j *journal) encode(fr *framer, seq uint64, hs consensus.HardState, ents []consensus.Entry) ([]byte, error) {
	rec := journalRecord{Seq: seq, HS: hs, Entries: ents}
	buf, _, err := fr.appendFramed(append(j.buf[:0], 0, 0, 0, 0), &rec)
	if err != nil {
		return nil, err
	}
	binary.BigEndian.PutUint32(buf, uint32(len(buf)-journalLengthBytes))
	j.buf = buf
	return buf, nil
}

// append writes rec, the record numbered j.seq+1, at j.off and makes it
// durable.
func (j *journal) append(rec []byte) error {
	if end := j.off + int64(len(rec)); end > j.size {
		if err := j.grow(end); err != nil {
			return err
		}
	}
	if _, err := j.f.WriteAt(rec, j.off); err != nil {
		return err
	}
	if j.sync {
		if err := datasync(j.f); err != nil {
			return err
		}
	}
	j.off += int64(len(rec))
	j.seq++
	return nil
}

// grow extends the file with zeros to the next multiple of journalGrowBytes
// at or past end and makes the new size durable.
func (j *journal) grow(end int64) error {
	size := (end + journalGrowBytes - 1) / journalGrowBytes * journalGrowBytes
	zeros := make([]byte, min(size-j.size, journalGrowBytes))
	for off := j.size; off < size; off += int64(len(zeros)) {
		if _, err := j.f.WriteAt(zeros[:min(int64(len(zeros)), size-off)], off); err != nil {
			return err
		}
	}
	if j.sync {
		if err := datasync(j.f); err != nil {
			return err
		}
	}
	j.size = size
	return nil
}

// restart makes the next record go to offset 0, after a flush.
func (j *journal) restart() { j.off = 0 }

func (j *journal) close() error { return j.f.Close() }

// scan reads the current round's records, those numbered above flushed, and
// calls fn on each in order. It stops at the end of the run of consecutive
// numbers, at a record that does not check out (torn by a crash, or an older
// round's bytes) or at the end of the file. A first record of the round that
// skips numbers means bbolt lost a flush the journal relied on: ErrCorrupt.
func (j *journal) scan(vd *valueDecoder, flushed uint64, fn func(rec *journalRecord) error) error {
	var off int64
	var prev uint64
	var lenBuf [journalLengthBytes]byte
	var val []byte
	for {
		if _, err := j.f.ReadAt(lenBuf[:], off); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		n := int64(binary.BigEndian.Uint32(lenBuf[:]))
		if n <= crcBytes || n > journalBytesMax {
			return nil
		}
		if int64(cap(val)) < n {
			val = make([]byte, n)
		}
		val = val[:n]
		if _, err := j.f.ReadAt(val, off+journalLengthBytes); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		var rec journalRecord
		if err := vd.unframe(val, journalBytesMax, &rec); err != nil {
			return nil
		}
		if prev != 0 && rec.Seq != prev+1 {
			return nil
		}
		if prev == 0 && rec.Seq > flushed+1 {
			return fmt.Errorf("journal starts at record %d, bbolt holds records up to %d: %w", rec.Seq, flushed, ErrCorrupt)
		}
		if rec.Seq > flushed {
			if err := fn(&rec); err != nil {
				return err
			}
		}
		prev = rec.Seq
		off += journalLengthBytes + n
	}
}

// persist makes one checked Save durable: in the journal, or, for a Save
// too large for it, in a bbolt transaction of its own after a flush. s.mu
// is held.
func (s *Store) persist(hs consensus.HardState, ents []consensus.Entry) error {
	size := entriesSize(ents)
	if size > journalDirtyBytesMax {
		return s.persistDirect(hs, ents)
	}
	rec, err := s.jr.encode(s.fr, s.jr.seq+1, hs, ents)
	if err != nil {
		return err
	}
	if len(rec) > journalBytesMax {
		// Not reachable within journalDirtyBytesMax of entries; a scan would
		// take such a record for the end of the journal.
		return s.persistDirect(hs, ents)
	}
	if s.jr.off+int64(len(rec)) > journalBytesMax || s.dirty.bytes+size > journalDirtyBytesMax {
		if err := s.flushJournal(); err != nil {
			return err
		}
	}
	if s.beforeCommit != nil {
		if err := s.beforeCommit(); err != nil {
			s.failed = err
			return fmt.Errorf("boltstore: %s: before journal write: %w", s.path, err)
		}
	}
	if err := s.jr.append(rec); err != nil {
		s.failed = err
		return fmt.Errorf("boltstore: %s%s: %w", s.path, JournalSuffix, err)
	}
	s.dirty.add(hs, ents, size)
	return nil
}

// persistDirect commits a Save too large for the journal to bbolt, after
// flushing the journal so that bbolt holds the log it builds on. s.mu is
// held.
func (s *Store) persistDirect(hs consensus.HardState, ents []consensus.Entry) error {
	if err := s.flushJournal(); err != nil {
		return err
	}
	if err := s.commitToBolt(hs, ents); err != nil {
		return err
	}
	if len(ents) > 0 {
		s.diskLast = ents[len(ents)-1].Index
	}
	return nil
}

// dirtyState is what the journal holds that bbolt does not yet.
type dirtyState struct {
	// from is the lowest index any journaled Save wrote (0: none); bbolt's
	// entries from there on are missing or replaced.
	from consensus.Index
	// hs: a journaled Save changed the hard state.
	hs bool
	// bytes is the total Size of the journaled entries.
	// Invariant: bytes <= journalDirtyBytesMax, so the tail cache holds every
	// entry from from on.
	bytes uint64
}

func (d *dirtyState) add(hs consensus.HardState, ents []consensus.Entry, size uint64) {
	if !hs.IsEmpty() {
		d.hs = true
	}
	if len(ents) > 0 && (d.from == 0 || ents[0].Index < d.from) {
		d.from = ents[0].Index
	}
	d.bytes += size
}

func (d *dirtyState) empty() bool { return d.from == 0 && !d.hs }

// flushJournal writes what the journal holds into bbolt in one fsynced
// transaction, with the number of its last record, and restarts the
// journal. s.mu is held.
func (s *Store) flushJournal() error {
	if s.dirty.empty() && s.jr.seq == s.jr.flushed {
		s.jr.restart()
		return nil
	}
	from := s.dirty.from
	var ents []consensus.Entry
	if from != 0 {
		first, ok := s.tail.first()
		assertf(ok && first <= from && s.tail.ents[len(s.tail.ents)-1].Index == s.idx.last,
			"journaled entries from %d not all in the tail cache (first %d, cached %t)", from, first, ok)
		ents = s.tail.ents[from-first:]
	}
	var hs consensus.HardState
	if s.dirty.hs {
		hs = s.hs
	}
	if err := s.commitToBolt(hs, ents); err != nil {
		return err
	}
	if from != 0 {
		s.diskLast = s.idx.last
	}
	s.dirty = dirtyState{}
	s.jr.flushed = s.jr.seq
	s.jr.restart()
	return nil
}

// commitToBolt commits hs and ents in one bbolt transaction, replacing the
// stored entries from ents[0].Index on, together with the number of the last
// journal record, all of which bbolt then holds. s.mu is held.
func (s *Store) commitToBolt(hs consensus.HardState, ents []consensus.Entry) error {
	return s.commit(func(tx *bolt.Tx) error {
		if err := s.writeReady(tx, hs, ents, s.diskLast); err != nil {
			return err
		}
		return s.putJournalSeq(tx)
	})
}

// putJournalSeq records in tx that bbolt holds every journal record up to
// s.jr.seq.
func (s *Store) putJournalSeq(tx *bolt.Tx) error {
	if err := tx.Bucket([]byte(bucketMeta)).Put([]byte(keyJournal), indexKey(consensus.Index(s.jr.seq))); err != nil {
		return fmt.Errorf("put %s: %w", keyJournal, err)
	}
	return nil
}

// replayJournal opens the journal and applies the records bbolt has not
// flushed yet, as Saves, then flushes them, so that the journal starts over
// empty. A record that does not fit the log before it is ErrCorrupt. s.mu
// need not be held: Open runs it before the store is shared.
func (s *Store) replayJournal(sync, fresh bool) error {
	var flushed uint64
	if err := s.viewGuarded(func(tx *bolt.Tx) error {
		raw := tx.Bucket([]byte(bucketMeta)).Get([]byte(keyJournal))
		if raw == nil {
			return nil
		}
		v, ok := parseIndexKey(raw)
		if !ok {
			return fmt.Errorf("boltstore: %s: journal sequence %x: %w", s.path, raw, ErrCorrupt)
		}
		flushed = uint64(v)
		return nil
	}); err != nil {
		return err
	}
	jr, err := openJournal(s.path+JournalSuffix, sync, fresh)
	if err != nil {
		return fmt.Errorf("boltstore: open journal: %w", err)
	}
	s.jr = jr
	s.jr.seq, s.jr.flushed = flushed, flushed
	replayed := 0
	vd := newValueDecoder(s.h, s.table)
	err = s.jr.scan(vd, flushed, func(rec *journalRecord) error {
		ents, err := s.checkReplay(rec.HS, rec.Entries)
		if err != nil {
			return fmt.Errorf("journal record %d: %w", rec.Seq, err)
		}
		size := entriesSize(ents)
		if s.dirty.bytes+size > journalDirtyBytesMax {
			if err := s.flushJournal(); err != nil {
				return err
			}
		}
		s.remember(rec.HS, ents)
		s.dirty.add(rec.HS, ents, size)
		s.jr.seq = rec.Seq
		replayed++
		return nil
	})
	if err != nil {
		return fmt.Errorf("boltstore: %s%s: %w", s.path, JournalSuffix, err)
	}
	if err := s.flushJournal(); err != nil {
		return err
	}
	if replayed > 0 {
		// "log verified" showed bbolt before the replay; this is the log now.
		s.log.Info("journal replayed",
			zap.Int("records", replayed),
			zap.Uint64("last_index", uint64(s.idx.last)),
			zap.Uint64("term", uint64(s.hs.Term)),
			zap.Uint64("commit", uint64(s.hs.Commit)))
	}
	return nil
}

// checkReplay is checkSave for a record read back from the journal: what
// would be a caller's bug in a Save is a damaged file here.
func (s *Store) checkReplay(hs consensus.HardState, ents []consensus.Entry) (out []consensus.Entry, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("%v: %w", r, ErrCorrupt)
		}
	}()
	out, err = s.checkSave(hs, ents)
	if err != nil {
		err = fmt.Errorf("%v: %w", err, ErrCorrupt)
	}
	return out, err
}

// entriesSize is the total Size of ents.
func entriesSize(ents []consensus.Entry) uint64 {
	var n uint64
	for i := range ents {
		n += ents[i].Size()
	}
	return n
}

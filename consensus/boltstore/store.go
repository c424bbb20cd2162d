package boltstore

import (
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/hashicorp/go-msgpack/v2/codec"
	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
	"go.uber.org/zap"

	"github.com/raftlock/raftlock/consensus"
)

// Bucket and key names of the on-disk layout (see the package doc).
const (
	bucketLog    = "log"
	bucketMeta   = "meta"
	keyVersion   = "version"
	keyHardState = "hardstate"
	keyLogBase   = "compacted"
	keySnapshot  = "snapshot"
)

// FileName is the conventional name of the store's file in a node's data dir.
const FileName = "raft.db"

// Options configures Open.
type Options struct {
	// LockWait is how long Open waits for another process to release the
	// file's lock before it fails with ErrInUse; 0 means LockWaitDefault.
	LockWait time.Duration
	// Logger is optional; nil logs nothing.
	Logger *zap.Logger

	// noSync skips the fsync at commit. Benchmarks and tests of this package
	// only: there is no exported way to set it, so no flag can reach it.
	noSync bool
}

// Store is a node's durable Raft log and hard state in one bbolt file. It
// implements consensus.Storage; the driver writes each Ready with Save.
type Store struct {
	path  string
	db    *bolt.DB
	h     *codec.MsgpackHandle
	table *crc32.Table
	log   *zap.Logger

	// mu guards everything below. Writers (Save, Compact, Close) hold it for
	// their whole transaction, so readers never see the cache and the file
	// disagree.
	mu     sync.RWMutex
	closed bool
	// failed is the error of a commit that did not succeed; once set, every
	// write fails with ErrFailed.
	failed error
	// hs is the stored hard state.
	// Invariant: hs.Commit <= idx.last.
	hs consensus.HardState
	// snap is the latest snapshot's metadata (empty when none).
	// Invariant: snap.Index <= hs.Commit.
	snap consensus.SnapshotMeta
	idx  logIndex
	// tail holds the newest entries.
	// Invariant: it holds every entry from dirty.from on.
	tail tailCache
	fr   *framer
	// jr is the journal; dirty is what it holds that bbolt does not.
	jr    *journal
	dirty dirtyState
	// diskLast bounds the indexes in bbolt's log bucket (no key above it).
	// Invariant: diskLast == idx.last when dirty.from == 0.
	diskLast consensus.Index

	// beforeCommit, when set (tests only), runs after a write transaction is
	// filled and before it commits; an error rolls the transaction back, as a
	// crash at that instant would.
	beforeCommit func() error
}

var _ consensus.Storage = (*Store)(nil)

// Open opens or creates the store at path, verifies the whole log and loads
// its summary into memory. It fails with ErrInUse when another process holds
// the file, with ErrVersion for an unknown layout, and with an error wrapping
// ErrCorrupt that names the file and the index when a check fails. The
// directory holding path must exist.
func Open(path string, opts Options) (*Store, error) {
	wait := opts.LockWait
	if wait == 0 {
		wait = LockWaitDefault
	}
	if wait < 0 || wait > LockWaitMax {
		return nil, fmt.Errorf("boltstore: lock wait is %v, want (0, %v]", wait, LockWaitMax)
	}
	log := opts.Logger
	if log == nil {
		log = zap.NewNop()
	}
	db, err := openBolt(path, wait, opts.noSync)
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("%w: %s", ErrInUse, path)
	}
	if errors.Is(err, ErrCorrupt) {
		return nil, fmt.Errorf("boltstore: %s: %w", path, err)
	}
	if isBoltCorruption(err) {
		return nil, fmt.Errorf("boltstore: %s: %v: %w", path, err, ErrCorrupt)
	}
	if err != nil {
		return nil, fmt.Errorf("boltstore: open %s: %w", path, err)
	}
	s := &Store{
		path:  path,
		db:    db,
		h:     newMsgpackHandle(),
		table: castagnoli(),
		log:   log.With(zap.String("path", path)),
	}
	s.fr = newFramer(s.h)
	fresh, err := s.init(!opts.noSync)
	if err != nil {
		return nil, errors.Join(err, db.Close())
	}
	s.diskLast = s.idx.last
	if err := s.replayJournal(!opts.noSync, fresh); err != nil {
		if s.jr != nil {
			err = errors.Join(err, s.jr.close())
		}
		return nil, errors.Join(err, db.Close())
	}
	return s, nil
}

// init lays out a fresh file (syncing its directory when syncDir), then
// verifies and loads the log; fresh reports a file that had no layout.
func (s *Store) init(syncDir bool) (fresh bool, err error) {
	start := time.Now()
	var upgrade bool
	if err := s.viewGuarded(func(tx *bolt.Tx) error {
		var err error
		fresh, upgrade, err = s.checkLayout(tx)
		return err
	}); err != nil {
		return false, err
	}
	if fresh {
		if err := s.db.Update(s.createLayout); err != nil {
			return false, fmt.Errorf("boltstore: %s: create layout: %w", s.path, err)
		}
	}
	if upgrade {
		// Before any journal exists: a build that knows no journal then
		// refuses the file instead of missing what the journal holds.
		if err := s.db.Update(func(tx *bolt.Tx) error {
			return tx.Bucket([]byte(bucketMeta)).Put([]byte(keyVersion), indexKey(formatVersion))
		}); err != nil {
			return false, fmt.Errorf("boltstore: %s: upgrade layout: %w", s.path, err)
		}
	}
	if fresh && syncDir {
		// A new file's directory entry is durable only once the directory is.
		if err := syncDirectory(filepath.Dir(s.path)); err != nil {
			return false, fmt.Errorf("boltstore: %s: %w", s.path, err)
		}
	}
	if err := s.viewGuarded(s.load); err != nil {
		return false, err
	}
	s.log.Info("log verified",
		zap.Uint64("first_index", uint64(s.idx.firstIndex())),
		zap.Uint64("last_index", uint64(s.idx.last)),
		zap.Uint64("term", uint64(s.hs.Term)),
		zap.Uint64("commit", uint64(s.hs.Commit)),
		zap.Duration("took", time.Since(start)))
	return fresh, nil
}

// checkLayout reports whether the file is fresh (no buckets yet: new, or
// created by a process that died before its first commit), and otherwise
// checks its buckets and format version; upgrade reports a file of the
// layout before the journal (formatVersionNoJournal), which this build
// reads as it is and marks as its own.
func (s *Store) checkLayout(tx *bolt.Tx) (fresh, upgrade bool, err error) {
	meta := tx.Bucket([]byte(bucketMeta))
	logb := tx.Bucket([]byte(bucketLog))
	if meta == nil && logb == nil {
		return true, false, nil
	}
	if meta == nil {
		return false, false, fmt.Errorf("boltstore: %s: log bucket without meta bucket: %w", s.path, ErrCorrupt)
	}
	raw := meta.Get([]byte(keyVersion))
	v, ok := parseIndexKey(raw)
	if !ok {
		return false, false, fmt.Errorf("boltstore: %s: format version %x: %w", s.path, raw, ErrCorrupt)
	}
	if v != formatVersion && v != formatVersionNoJournal {
		return false, false, fmt.Errorf("%w: %s: version %d, this build reads %d and %d", ErrVersion, s.path, v, formatVersionNoJournal, formatVersion)
	}
	if logb == nil {
		return false, false, fmt.Errorf("boltstore: %s: meta bucket without log bucket: %w", s.path, ErrCorrupt)
	}
	return false, v == formatVersionNoJournal, nil
}

// createLayout writes the buckets and format version of a fresh file.
func (s *Store) createLayout(tx *bolt.Tx) error {
	meta, err := tx.CreateBucket([]byte(bucketMeta))
	if err != nil {
		return err
	}
	if err := meta.Put([]byte(keyVersion), indexKey(formatVersion)); err != nil {
		return err
	}
	_, err = tx.CreateBucket([]byte(bucketLog))
	return err
}

// openBolt opens the bbolt file. bbolt panics while loading a damaged
// freelist instead of returning an error; the panic becomes ErrCorrupt, and
// the file it opened is closed so its lock is released (its mapping, if any,
// stays until the process exits, which a node refusing to start soon does).
func openBolt(path string, wait time.Duration, noSync bool) (db *bolt.DB, err error) {
	var file *os.File
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, fmt.Errorf("bbolt: %v: %w", r, ErrCorrupt)
			if file != nil {
				err = errors.Join(err, unlockFile(file), file.Close())
			}
		}
	}()
	return bolt.Open(path, 0o600, &bolt.Options{
		Timeout:      wait,
		NoSync:       noSync,
		FreelistType: bolt.FreelistMapType,
		OpenFile: func(name string, flag int, perm os.FileMode) (*os.File, error) {
			f, err := os.OpenFile(name, flag, perm)
			file = f
			return f, err
		},
	})
}

// viewGuarded runs fn in a read transaction during Open. bbolt panics on
// some damaged pages (a bad page type, an impossible page id) instead of
// returning an error; at Open that is a file to refuse, not a crash, so the
// panic becomes ErrCorrupt. db.View rolls the transaction back on a panic.
func (s *Store) viewGuarded(fn func(*bolt.Tx) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("boltstore: %s: bbolt: %v: %w", s.path, r, ErrCorrupt)
		}
	}()
	return s.db.View(fn)
}

// isBoltCorruption reports whether bbolt refused the file itself as damaged.
func isBoltCorruption(err error) bool {
	return errors.Is(err, bolterrors.ErrInvalid) ||
		errors.Is(err, bolterrors.ErrChecksum) ||
		errors.Is(err, bolterrors.ErrVersionMismatch)
}

func syncDirectory(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}

// Close releases the file and its lock. Closing twice is not an error.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	var flushErr error
	if s.failed == nil {
		// Not needed for durability (Open replays the journal); it saves the
		// next Open the replay.
		flushErr = s.flushJournal()
	}
	if err := errors.Join(flushErr, s.jr.close(), s.db.Close()); err != nil {
		return fmt.Errorf("boltstore: close %s: %w", s.path, err)
	}
	return nil
}

// Path is the file the store was opened on.
func (s *Store) Path() string { return s.path }

// InitialState implements consensus.Storage.
func (s *Store) InitialState() (consensus.HardState, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return consensus.HardState{}, ErrClosed
	}
	return s.hs, nil
}

// FirstIndex implements consensus.Storage.
func (s *Store) FirstIndex() (consensus.Index, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return 0, ErrClosed
	}
	return s.idx.firstIndex(), nil
}

// LastIndex implements consensus.Storage.
func (s *Store) LastIndex() (consensus.Index, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return 0, ErrClosed
	}
	return s.idx.last, nil
}

// Term implements consensus.Storage. It answers from memory.
func (s *Store) Term(i consensus.Index) (consensus.Term, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return 0, ErrClosed
	}
	return s.idx.term(i)
}

// Entries implements consensus.Storage: the entries in [lo, hi), at least one
// when lo < hi, stopping before their total Size exceeds maxBytes. Recently
// written entries come from memory, older ones through one bbolt read
// transaction. The returned slice is the caller's; the Data of its entries
// may be shared with the store and must not be modified.
func (s *Store) Entries(lo, hi consensus.Index, maxBytes uint64) ([]consensus.Entry, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	if lo > hi {
		violated("entries [%d, %d) with lo above hi", lo, hi)
	}
	if lo <= s.idx.base.Index {
		return nil, fmt.Errorf("boltstore: entries from %d, first index %d: %w", lo, s.idx.firstIndex(), consensus.ErrCompacted)
	}
	if hi > s.idx.last+1 {
		return nil, fmt.Errorf("boltstore: entries [%d, %d) past last index %d: %w", lo, hi, s.idx.last, consensus.ErrUnavailable)
	}
	if lo == hi {
		return nil, nil
	}
	if ents, ok := s.tail.read(lo, hi, maxBytes); ok {
		return ents, nil
	}
	first, ok := s.tail.first()
	if !ok {
		first = hi
	}
	return s.entriesFrom(lo, hi, maxBytes, first)
}

// entriesFrom is Entries for a range that starts below cacheFrom: bbolt
// has the entries below cacheFrom (those after may be only in the journal),
// the cache the rest. s.mu is held (read).
func (s *Store) entriesFrom(lo, hi consensus.Index, maxBytes uint64, cacheFrom consensus.Index) ([]consensus.Entry, error) {
	diskHi := min(hi, cacheFrom)
	ents, err := s.entriesFromDisk(lo, diskHi, maxBytes)
	if err != nil || diskHi == hi || ents[len(ents)-1].Index != diskHi-1 {
		return ents, err
	}
	used := entriesSize(ents)
	if used >= maxBytes {
		return ents, nil
	}
	return s.tail.appendWithin(ents, diskHi, hi, maxBytes-used), nil
}

// entriesFromDisk is Entries through a bbolt read transaction, for a range
// the cache checked is stored. s.mu is held (read).
func (s *Store) entriesFromDisk(lo, hi consensus.Index, maxBytes uint64) ([]consensus.Entry, error) {
	var ents []consensus.Entry
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		ents, err = s.readEntries(tx.Bucket([]byte(bucketLog)), lo, hi, maxBytes)
		return err
	})
	if err != nil {
		return nil, err
	}
	return ents, nil
}

// readEntries reads [lo, hi), all of which the cache says are stored, up to
// maxBytes (at least one entry).
func (s *Store) readEntries(b *bolt.Bucket, lo, hi consensus.Index, maxBytes uint64) ([]consensus.Entry, error) {
	ents := make([]consensus.Entry, 0, min(uint64(hi-lo), entriesPreallocMax))
	var size uint64
	vd := newValueDecoder(s.h, s.table)
	c := b.Cursor()
	want := lo
	for k, v := c.Seek(indexKey(lo)); want < hi; k, v = c.Next() {
		i, ok := parseIndexKey(k)
		if !ok || i != want {
			return nil, fmt.Errorf("boltstore: %s: entry %d: missing (found key %x): %w", s.path, want, k, ErrCorrupt)
		}
		e, err := vd.entry(v)
		if err != nil {
			return nil, fmt.Errorf("boltstore: %s: entry %d: %w", s.path, i, err)
		}
		if e.Index != i {
			return nil, fmt.Errorf("boltstore: %s: entry %d: holds index %d: %w", s.path, i, e.Index, ErrCorrupt)
		}
		size += e.Size()
		if len(ents) > 0 && size > maxBytes {
			break
		}
		ents = append(ents, e)
		want++
	}
	return ents, nil
}

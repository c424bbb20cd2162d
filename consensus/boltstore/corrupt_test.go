package boltstore

// These tests prove that Open verifies the whole file and refuses, with an
// error wrapping ErrCorrupt that names the file and the index, every kind of
// damage it can see: a flipped bit, a value cut short, a valid frame holding
// garbage or the wrong entry, a gap, a term that goes down, a bad key, and a
// hard state that contradicts the log. The damage is done with bbolt
// directly on a closed store.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/raftlock/raftlock/consensus"
)

// corruptLogLast is the last index of the log the corruption tests damage.
const corruptLogLast = 60

// writeHealthyStore saves entries 1..corruptLogLast (terms 1, then 2 from 30,
// then 3 from 50) with commit 40 and closes the store.
func writeHealthyStore(t *testing.T, path string) {
	t.Helper()
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("Open(%q) = %v; want nil", path, err)
	}
	ents := append(append(makeEntries(1, 29, 1), makeEntries(30, 49, 2)...), makeEntries(50, corruptLogLast, 3)...)
	mustSave(t, s, consensus.HardState{Term: 3, Vote: 1, Commit: 40}, ents)
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v; want nil", err)
	}
}

// damage runs f in a bbolt read-write transaction on the closed store at path.
func damage(t *testing.T, path string, f func(tx *bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatalf("bolt.Open(%q) = %v", path, err)
	}
	if err := db.Update(f); err != nil {
		t.Fatalf("damaging %s: %v", path, err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("bolt Close() = %v", err)
	}
}

// frameRaw frames an arbitrary msgpack-encodable value like the store does.
func frameRaw(t *testing.T, v any) []byte {
	t.Helper()
	val, _, err := newFramer(newMsgpackHandle()).appendFramed(nil, v)
	if err != nil {
		t.Fatalf("appendFramed(%+v) = %v", v, err)
	}
	return val
}

// frameBytes frames raw bytes as if they were an encoding.
func frameBytes(body []byte) []byte {
	val := binary.BigEndian.AppendUint32(nil, crc32.Checksum(body, castagnoli()))
	return append(val, body...)
}

func logBucket(tx *bolt.Tx) *bolt.Bucket  { return tx.Bucket([]byte(bucketLog)) }
func metaBucket(tx *bolt.Tx) *bolt.Bucket { return tx.Bucket([]byte(bucketMeta)) }

// logDamage is one way to damage a healthy store, and the start of the
// message Open must refuse it with (after "boltstore: <path>: ").
type logDamage struct {
	name    string
	damage  func(t *testing.T, tx *bolt.Tx) error
	wantMsg string
}

func logDamages() []logDamage {
	return []logDamage{
		{"a flipped bit in entry 42", func(t *testing.T, tx *bolt.Tx) error {
			v := append([]byte(nil), logBucket(tx).Get(indexKey(42))...)
			v[len(v)-3] ^= 0x10
			return logBucket(tx).Put(indexKey(42), v)
		}, "entry 42: crc "},
		{"a flipped bit in the checksum of entry 1", func(t *testing.T, tx *bolt.Tx) error {
			v := append([]byte(nil), logBucket(tx).Get(indexKey(1))...)
			v[0] ^= 0x01
			return logBucket(tx).Put(indexKey(1), v)
		}, "entry 1: crc "},
		{"entry 17 cut short", func(t *testing.T, tx *bolt.Tx) error {
			return logBucket(tx).Put(indexKey(17), []byte{1, 2})
		}, "entry 17: value is 2 bytes, min 5: corrupt"},
		{"entry 17 empty", func(t *testing.T, tx *bolt.Tx) error {
			return logBucket(tx).Put(indexKey(17), []byte{})
		}, "entry 17: value is 0 bytes, min 5: corrupt"},
		{"a valid checksum over garbage in entry 8", func(t *testing.T, tx *bolt.Tx) error {
			return logBucket(tx).Put(indexKey(8), frameBytes([]byte{0xc1, 0xff, 0x00}))
		}, "entry 8: decode: "},
		{"a valid checksum over an entry with trailing bytes", func(t *testing.T, tx *bolt.Tx) error {
			v := frameRaw(t, &consensus.Entry{Index: 8, Term: 1})
			return logBucket(tx).Put(indexKey(8), frameBytes(append(v[crcBytes:], 0xc0)))
		}, "entry 8: 1 trailing bytes after the encoding: corrupt"},
		{"entry 42 holds entry 41", func(t *testing.T, tx *bolt.Tx) error {
			return logBucket(tx).Put(indexKey(42), frameRaw(t, &consensus.Entry{Index: 41, Term: 2}))
		}, "entry 42: holds index 41: corrupt"},
		{"entry 42 missing", func(t *testing.T, tx *bolt.Tx) error {
			return logBucket(tx).Delete(indexKey(42))
		}, "entry 42: missing, the next stored entry is 43: corrupt"},
		{"entry 1 missing", func(t *testing.T, tx *bolt.Tx) error {
			return logBucket(tx).Delete(indexKey(1))
		}, "entry 1: missing, the next stored entry is 2: corrupt"},
		{"the term of entry 42 goes down", func(t *testing.T, tx *bolt.Tx) error {
			return logBucket(tx).Put(indexKey(42), frameRaw(t, &consensus.Entry{Index: 42, Term: 1}))
		}, "entry 42: term 1 below term 2 of entry 41: corrupt"},
		{"a key of the wrong size", func(t *testing.T, tx *bolt.Tx) error {
			return logBucket(tx).Put([]byte{0, 1, 2}, frameRaw(t, &consensus.Entry{Index: 61, Term: 3}))
		}, "entry after 60: key 000102 is 3 bytes, want 8: corrupt"},
		{"a nested bucket in the log", func(t *testing.T, tx *bolt.Tx) error {
			_, err := logBucket(tx).CreateBucket(indexKey(corruptLogLast + 1))
			return err
		}, "entry 61: a bucket, not a value: corrupt"},
		{"an entry too large to be real", func(t *testing.T, tx *bolt.Tx) error {
			return logBucket(tx).Put(indexKey(5), make([]byte, entryValueBytesMax+1))
		}, "entry 5: value is "},
		{"a flipped bit in the hard state", func(t *testing.T, tx *bolt.Tx) error {
			v := append([]byte(nil), metaBucket(tx).Get([]byte(keyHardState))...)
			v[len(v)-1] ^= 0x01
			return metaBucket(tx).Put([]byte(keyHardState), v)
		}, "hard state: crc "},
		{"a hard state commit past the log", func(t *testing.T, tx *bolt.Tx) error {
			return metaBucket(tx).Put([]byte(keyHardState), frameRaw(t, &consensus.HardState{Term: 3, Commit: 61}))
		}, "hard state commit 61 above last index 60: corrupt"},
		{"a hard state term below the log's", func(t *testing.T, tx *bolt.Tx) error {
			return metaBucket(tx).Put([]byte(keyHardState), frameRaw(t, &consensus.HardState{Term: 2, Commit: 40}))
		}, "last entry term 3 above hard state term 2: corrupt"},
		{"a log base that overlaps the log", func(t *testing.T, tx *bolt.Tx) error {
			return metaBucket(tx).Put([]byte(keyLogBase), frameRaw(t, &logBase{Index: 5, Term: 1}))
		}, "entry 1: at or below the base index 5: corrupt"},
		{"a corrupt log base", func(t *testing.T, tx *bolt.Tx) error {
			return metaBucket(tx).Put([]byte(keyLogBase), []byte("not a frame"))
		}, "log base: crc "},
		{"a corrupt snapshot record", func(t *testing.T, tx *bolt.Tx) error {
			return metaBucket(tx).Put([]byte(keySnapshot), []byte("not a frame"))
		}, "snapshot metadata: crc "},
		{"a snapshot above the commit", func(t *testing.T, tx *bolt.Tx) error {
			return metaBucket(tx).Put([]byte(keySnapshot), frameRaw(t, &consensus.SnapshotMeta{Index: 41, Term: 2}))
		}, "snapshot index 41 above hard state commit 40: corrupt"},
		{"a snapshot whose term disagrees with the log", func(t *testing.T, tx *bolt.Tx) error {
			return metaBucket(tx).Put([]byte(keySnapshot), frameRaw(t, &consensus.SnapshotMeta{Index: 30, Term: 1}))
		}, "snapshot at 30 has term 1, the log has term 2: corrupt"},
		{"a snapshot with too many voters", func(t *testing.T, tx *bolt.Tx) error {
			voters := make([]consensus.NodeID, consensus.VotersMax+1)
			return metaBucket(tx).Put([]byte(keySnapshot), frameRaw(t, &consensus.SnapshotMeta{Index: 30, Term: 2, Voters: voters}))
		}, "snapshot lists 65 voters, max 64: corrupt"},
		{"a format version of the wrong size", func(t *testing.T, tx *bolt.Tx) error {
			return metaBucket(tx).Put([]byte(keyVersion), []byte{1})
		}, "format version 01: corrupt"},
		{"no log bucket", func(t *testing.T, tx *bolt.Tx) error {
			return tx.DeleteBucket([]byte(bucketLog))
		}, "meta bucket without log bucket: corrupt"},
		{"no meta bucket", func(t *testing.T, tx *bolt.Tx) error {
			return tx.DeleteBucket([]byte(bucketMeta))
		}, "log bucket without meta bucket: corrupt"},
	}
}

func TestOpenRefusesCorruptLog(t *testing.T) {
	for _, tc := range logDamages() {
		t.Run(tc.name, func(t *testing.T) {
			path := testPath(t)
			writeHealthyStore(t, path)
			damage(t, path, func(tx *bolt.Tx) error { return tc.damage(t, tx) })
			s, err := Open(path, Options{})
			if err == nil {
				t.Errorf("Close() = %v", s.Close())
				t.Fatalf("Open(%q) of a damaged file = nil; want ErrCorrupt", path)
			}
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Open(%q) = %v; want ErrCorrupt", path, err)
			}
			prefix := "boltstore: " + path + ": "
			if msg := err.Error(); !strings.HasPrefix(msg, prefix+tc.wantMsg) {
				t.Fatalf("Open(%q) = %q; want %q", path, msg, prefix+tc.wantMsg+"...")
			}
			// The refusal released the file: a repaired file opens.
			db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: LockWaitDefault})
			if err != nil {
				t.Fatalf("bolt.Open(%q) after a refused Open = %v; want nil", path, err)
			}
			if err := db.Close(); err != nil {
				t.Fatalf("bolt Close() = %v", err)
			}
		})
	}
}

func TestCorruptErrorFormat(t *testing.T) {
	// The exact message operators see for a bad checksum.
	path := testPath(t)
	writeHealthyStore(t, path)
	var stored uint32
	damage(t, path, func(tx *bolt.Tx) error {
		v := append([]byte(nil), logBucket(tx).Get(indexKey(42))...)
		stored = binary.BigEndian.Uint32(v)
		binary.BigEndian.PutUint32(v, stored^0xffffffff)
		return logBucket(tx).Put(indexKey(42), v)
	})
	_, err := Open(path, Options{})
	want := "boltstore: " + path + ": entry 42: crc " + hex8(stored) + ", want " + hex8(stored^0xffffffff) + ": corrupt"
	if err == nil || err.Error() != want {
		t.Fatalf("Open(%q) = %v; want %q", path, err, want)
	}
}

func hex8(v uint32) string {
	const digits = "0123456789abcdef"
	b := make([]byte, 8)
	for i := 7; i >= 0; i-- {
		b[i] = digits[v&0xf]
		v >>= 4
	}
	return string(b)
}

func TestOpenRefusesUnknownVersion(t *testing.T) {
	path := testPath(t)
	writeHealthyStore(t, path)
	damage(t, path, func(tx *bolt.Tx) error {
		return metaBucket(tx).Put([]byte(keyVersion), indexKey(formatVersion+1))
	})
	_, err := Open(path, Options{})
	if !errors.Is(err, ErrVersion) || !strings.Contains(err.Error(), "version 3, this build reads 1 and 2") {
		t.Fatalf("Open(%q) = %v; want ErrVersion naming 3, 1 and 2", path, err)
	}
}

// TestOpenUpgradesLayoutWithoutJournal: a file of the layout before the
// journal opens with its log intact and is marked with the current version.
func TestOpenUpgradesLayoutWithoutJournal(t *testing.T) {
	path := testPath(t)
	writeHealthyStore(t, path)
	before, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := viewOf(t, before)
	if err := before.Close(); err != nil {
		t.Fatal(err)
	}
	damage(t, path, func(tx *bolt.Tx) error {
		return metaBucket(tx).Put([]byte(keyVersion), indexKey(formatVersionNoJournal))
	})
	s := openStore(t, path, Options{})
	checkView(t, viewOf(t, s), want)
	if err := s.db.View(func(tx *bolt.Tx) error {
		if v, _ := parseIndexKey(metaBucket(tx).Get([]byte(keyVersion))); v != formatVersion {
			t.Errorf("version after Open: %d; want %d", v, formatVersion)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func TestOpenAfterCrashBeforeLayout(t *testing.T) {
	// A bbolt file with no buckets (its creator died before the first commit)
	// is a fresh store, not a corrupt one.
	path := testPath(t)
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatalf("bolt.Open(%q) = %v", path, err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("bolt Close() = %v", err)
	}
	s := openStore(t, path, Options{})
	checkView(t, viewOf(t, s), storageView{First: 1, Terms: []consensus.Term{0}})
}

func TestOpenRefusesDamagedPages(t *testing.T) {
	// Damage bbolt's own structures rather than values: bbolt either refuses
	// the file (meta pages) or panics on the pages (tree pages); Open turns
	// both into ErrCorrupt and never crashes.
	tests := []struct {
		name   string
		damage func(t *testing.T, f *os.File, pageSize, size int64)
	}{
		{"both meta pages", func(t *testing.T, f *os.File, pageSize, size int64) {
			overwrite(t, f, 0, 2*pageSize, 0x5a)
		}},
		{"every page after the meta pages", func(t *testing.T, f *os.File, pageSize, size int64) {
			overwrite(t, f, 2*pageSize, size-2*pageSize, 0xff)
		}},
		{"the page type of every tree page", func(t *testing.T, f *os.File, pageSize, size int64) {
			for _, id := range treePages(t, f.Name()) {
				// A page header is id (8 bytes), then flags (2 bytes).
				overwrite(t, f, int64(id)*pageSize+8, 2, 0x7f)
			}
		}},
		{"not a bbolt file at all", func(t *testing.T, f *os.File, pageSize, size int64) {
			overwrite(t, f, 0, size, 0x00)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := testPath(t)
			writeHealthyStore(t, path)
			f, err := os.OpenFile(path, os.O_RDWR, 0)
			if err != nil {
				t.Fatalf("OpenFile(%q) = %v", path, err)
			}
			info, err := f.Stat()
			if err != nil {
				t.Fatalf("Stat() = %v", err)
			}
			tc.damage(t, f, int64(os.Getpagesize()), info.Size())
			if err := f.Close(); err != nil {
				t.Fatalf("Close() = %v", err)
			}
			s, err := Open(path, Options{})
			if err == nil {
				t.Errorf("Close() = %v", s.Close())
				t.Fatalf("Open(%q) of a damaged file = nil; want ErrCorrupt", path)
			}
			if !errors.Is(err, ErrCorrupt) || !strings.HasPrefix(err.Error(), "boltstore: "+path+": ") {
				t.Fatalf("Open(%q) = %v; want ErrCorrupt naming the file", path, err)
			}
			t.Logf("Open refused: %v", err)
			// The refusal released the lock: trying again is refused the same way.
			if _, err := Open(path, Options{LockWait: 100 * time.Millisecond}); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("second Open(%q) = %v; want ErrCorrupt", path, err)
			}
		})
	}
}

// treePages returns the ids of the branch and leaf pages of the file, read
// with bbolt before the damage.
func treePages(t *testing.T, path string) []int {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, PreLoadFreelist: true})
	if err != nil {
		t.Fatalf("bolt.Open(%q) = %v", path, err)
	}
	var ids []int
	err = db.View(func(tx *bolt.Tx) error {
		for id := 2; ; id++ {
			info, err := tx.Page(id)
			if err != nil {
				return err
			}
			if info == nil {
				return nil
			}
			if info.Type == "leaf" || info.Type == "branch" {
				ids = append(ids, id)
			}
		}
	})
	if err != nil {
		t.Fatalf("listing pages of %s: %v", path, err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("bolt Close() = %v", err)
	}
	if len(ids) == 0 {
		t.Fatalf("%s has no tree pages", path)
	}
	return ids
}

func overwrite(t *testing.T, f *os.File, off, n int64, b byte) {
	t.Helper()
	if _, err := f.WriteAt(bytes.Repeat([]byte{b}, int(n)), off); err != nil {
		t.Fatalf("WriteAt(%d, %d bytes) = %v", off, n, err)
	}
}

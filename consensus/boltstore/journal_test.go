package boltstore

// These tests cover the journal (journal.go): what a crash leaves in it is
// replayed by the next Open, a torn or stale record ends the replay, a
// journal that skips records bbolt never flushed is refused, and a Save
// too large for it goes to bbolt directly.

import (
	"bufio"
	"errors"
	"os"
	"strconv"
	"syscall"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/raftlock/raftlock/consensus"
)

// journalLog writes n one-entry Saves in term 1, committing each, to s.
func journalLog(t *testing.T, s *Store, from, to consensus.Index) {
	t.Helper()
	for i := from; i <= to; i++ {
		mustSave(t, s, consensus.HardState{Term: 1, Vote: 1, Commit: i}, makeEntries(i, i, 1))
	}
}

// openToCrash opens a fresh store that the test crashes (or leaves to a
// second Open) instead of closing it.
func openToCrash(t *testing.T) *Store {
	t.Helper()
	s, err := Open(testPath(t), Options{})
	if err != nil {
		t.Fatalf("Open = %v; want nil", err)
	}
	return s
}

// reopenAfterCrash crashes s (the journal is left unflushed) and opens
// its path again.
func reopenAfterCrash(t *testing.T, s *Store) *Store {
	t.Helper()
	if err := s.crash(); err != nil {
		t.Fatalf("crash: %v", err)
	}
	return openStore(t, s.path, Options{})
}

func TestJournalReplaysAfterCrash(t *testing.T) {
	s := openToCrash(t)
	journalLog(t, s, 1, 10)
	// A new leader's truncation, journaled too.
	mustSave(t, s, consensus.HardState{Term: 2, Vote: 2, Commit: 10}, makeEntries(11, 14, 2))
	if s.dirty.empty() {
		t.Fatal("nothing journaled; the test needs Saves that bbolt has not flushed")
	}
	want := viewOf(t, s)
	s2 := reopenAfterCrash(t, s)
	checkView(t, viewOf(t, s2), want)
	if !s2.dirty.empty() || s2.jr.off != 0 {
		t.Errorf("after Open: dirty %+v, journal offset %d; want flushed and restarted", s2.dirty, s2.jr.off)
	}
}

// TestJournalTornRecordEndsReplay: the last record cut short or damaged (a
// crash inside its write, which Save never acknowledged) is dropped, and
// everything before it is kept.
func TestJournalTornRecordEndsReplay(t *testing.T) {
	damages := map[string]func(f *os.File, start, end int64) error{
		"cut short": func(f *os.File, start, end int64) error { return f.Truncate(end - 3) },
		"bit flip": func(f *os.File, start, end int64) error {
			_, err := f.WriteAt([]byte{0xff}, (start+end)/2)
			return err
		},
		"zero length": func(f *os.File, start, end int64) error {
			_, err := f.WriteAt([]byte{0, 0, 0, 0}, start)
			return err
		},
	}
	for name, damage := range damages {
		t.Run(name, func(t *testing.T) {
			s := openToCrash(t)
			journalLog(t, s, 1, 5)
			want := viewOf(t, s)
			start := s.jr.off
			journalLog(t, s, 6, 6)
			end := s.jr.off
			if err := s.crash(); err != nil {
				t.Fatal(err)
			}
			f, err := os.OpenFile(s.path+JournalSuffix, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			if err := errors.Join(damage(f, start, end), f.Close()); err != nil {
				t.Fatal(err)
			}
			checkView(t, viewOf(t, openStore(t, s.path, Options{})), want)
		})
	}
}

// TestJournalEarlierRoundIgnored: after a flush the journal is rewritten
// from offset 0; the older records left behind the new ones are not
// replayed.
func TestJournalEarlierRoundIgnored(t *testing.T) {
	s := openToCrash(t)
	journalLog(t, s, 1, 9)
	flushNow(t, s)
	// Records of indexes 10..20 from offset 0, all of one size, then a
	// flush and one record of that size over the first: the next bytes
	// are the earlier round's record of index 11, whole and valid, but
	// numbered below the new one.
	journalLog(t, s, 10, 20)
	size := s.jr.off / 11
	flushNow(t, s)
	journalLog(t, s, 21, 21)
	if s.jr.off != size {
		t.Fatalf("new record is %d bytes, earlier ones %d; the test needs them aligned", s.jr.off, size)
	}
	want := viewOf(t, s)
	checkView(t, viewOf(t, reopenAfterCrash(t, s)), want)
}

// TestJournalSkippedRecordsAreCorrupt: a journal whose first record is
// past the one after bbolt's flushed number means records bbolt relied on
// are lost; Open refuses it.
func TestJournalSkippedRecordsAreCorrupt(t *testing.T) {
	s := openToCrash(t)
	journalLog(t, s, 1, 3)
	flushNow(t, s)         // bbolt: records up to 3
	journalLog(t, s, 4, 5) // records 4 and 5 from offset 0
	path := s.path
	if err := s.crash(); err != nil {
		t.Fatal(err)
	}
	damage(t, path, func(tx *bolt.Tx) error {
		return metaBucket(tx).Put([]byte(keyJournal), indexKey(2))
	})
	_, err := Open(path, Options{})
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open with a journal starting at record 4 after flushed record 2 = %v; want ErrCorrupt", err)
	}
}

// TestJournalRecordThatDoesNotFitIsCorrupt: a well-formed record that
// contradicts the log before it (here a term going down) is refused, not
// applied and not a panic.
func TestJournalRecordThatDoesNotFitIsCorrupt(t *testing.T) {
	s := openToCrash(t)
	mustSave(t, s, consensus.HardState{Term: 3, Vote: 1, Commit: 2}, makeEntries(1, 2, 3))
	rec, err := s.jr.encode(s.fr, s.jr.seq+1, consensus.HardState{Term: 2, Vote: 1, Commit: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.jr.append(rec); err != nil {
		t.Fatal(err)
	}
	path := s.path
	if err := s.crash(); err != nil {
		t.Fatal(err)
	}
	_, err = Open(path, Options{})
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open with a record moving the term from 3 to 2 = %v; want ErrCorrupt", err)
	}
}

// TestLargeSaveBypassesJournal: a Save whose entries exceed what the
// journal holds is committed to bbolt directly, after the journal is
// flushed, and both survive a crash in order.
func TestLargeSaveBypassesJournal(t *testing.T) {
	s := openToCrash(t)
	journalLog(t, s, 1, 3)
	big := makeEntriesSized(4, 6, 1, journalDirtyBytesMax/2)
	mustSave(t, s, consensus.HardState{Term: 1, Vote: 1, Commit: 6}, big)
	if !s.dirty.empty() || s.jr.off != 0 {
		t.Fatalf("after a large Save: dirty %+v, journal offset %d; want it in bbolt", s.dirty, s.jr.off)
	}
	journalLog(t, s, 7, 8)
	want := viewOf(t, s)
	checkView(t, viewOf(t, reopenAfterCrash(t, s)), want)
}

// TestKilledWriterKeepsAcknowledgedSaves runs Saves in a second process,
// which prints each index once its Save returned, and kills it with
// SIGKILL mid-stream: every index it printed is in the store the next
// Open finds, with its data. The Saves are large enough that the journal
// is flushed into bbolt several times before the kill.
func TestKilledWriterKeepsAcknowledgedSaves(t *testing.T) {
	path := testPath(t)
	cmd := helperCommand(t, helperStream, path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acked consensus.Index
	sc := bufio.NewScanner(out)
	for acked < streamKillAfter && sc.Scan() {
		n, err := strconv.ParseUint(sc.Text(), 10, 64)
		if err != nil {
			t.Fatalf("helper printed %q", sc.Text())
		}
		acked = consensus.Index(n)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait() // killed: the error says so
	if acked < streamKillAfter {
		t.Fatalf("helper acknowledged %d saves before it ended; want %d", acked, streamKillAfter)
	}
	s := openStore(t, path, Options{})
	last, _ := s.LastIndex()
	if last < acked {
		t.Fatalf("last index %d after the kill; %d was acknowledged", last, acked)
	}
	ents, err := s.Entries(1, acked+1, noLimit)
	if err != nil || consensus.Index(len(ents)) != acked {
		t.Fatalf("Entries(1, %d) = %d entries, %v; want %d", acked+1, len(ents), err, acked)
	}
	for i, e := range ents {
		if want := streamEntry(consensus.Index(i + 1)); e.Index != want.Index || e.Term != want.Term || string(e.Data) != string(want.Data) {
			t.Fatalf("entry %d after the kill = index %d term %d, %d bytes; want what was saved", i+1, e.Index, e.Term, len(e.Data))
		}
	}
}

// TestJournalGrowsAheadOfRecords: the journal file grows by whole
// journalGrowBytes steps of zeros before the records that need them, so a
// record is always written over bytes already in the file, up to
// journalBytesMax, where it is flushed and restarted.
func TestJournalGrowsAheadOfRecords(t *testing.T) {
	s := openStore(t, testPath(t), Options{noSync: true})
	size := func() int64 {
		t.Helper()
		st, err := os.Stat(s.path + JournalSuffix)
		if err != nil {
			t.Fatal(err)
		}
		return st.Size()
	}
	mustSave(t, s, consensus.HardState{Term: 1, Vote: 1, Commit: 1}, makeEntries(1, 1, 1))
	if got := size(); got != journalGrowBytes {
		t.Fatalf("journal after one record: %d bytes; want %d", got, journalGrowBytes)
	}
	// Hard states alone (a term each): records without entries fill the
	// file, not the flush bound of entries.
	prev := s.jr.off
	for term := consensus.Term(2); ; term++ {
		mustSave(t, s, consensus.HardState{Term: term, Vote: 1, Commit: 1}, nil)
		got := size()
		if got%journalGrowBytes != 0 || got < s.jr.off || got > journalBytesMax {
			t.Fatalf("journal with records up to offset %d: %d bytes; want a multiple of %d holding them, at most %d", s.jr.off, got, journalGrowBytes, journalBytesMax)
		}
		if s.jr.off < prev { // flushed and restarted
			if got != journalBytesMax {
				t.Fatalf("journal restarted at %d bytes; want %d", got, journalBytesMax)
			}
			return
		}
		prev = s.jr.off
	}
}

// TestJournalOfAnEarlierStoreIsDropped: a journal beside a bbolt file that
// Open creates (raft.db deleted by hand to reset a node) belongs to an
// earlier store: it is neither replayed into the new one nor refused.
func TestJournalOfAnEarlierStoreIsDropped(t *testing.T) {
	for _, rounds := range []int{1, 3} {
		path := testPath(t)
		s, err := Open(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for r := 0; r < rounds; r++ {
			from := consensus.Index(r*5 + 1)
			journalLog(t, s, from, from+4)
			flushNow(t, s)
		}
		journalLog(t, s, consensus.Index(rounds*5+1), consensus.Index(rounds*5+1))
		if err := s.crash(); err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		checkView(t, viewOf(t, openStore(t, path, Options{})), storageView{First: 1, Terms: []consensus.Term{0}})
	}
}

// TestReplayedEmptyRecordKeepsNumbering: a record that replays to nothing
// (its entries all compacted) still counts: bbolt records its number, so
// the records after it, written from offset 0, are replayed next time.
func TestReplayedEmptyRecordKeepsNumbering(t *testing.T) {
	s := openToCrash(t)
	journalLog(t, s, 1, 5)
	if err := s.Compact(3); err != nil {
		t.Fatal(err)
	}
	rec, err := s.jr.encode(s.fr, s.jr.seq+1, consensus.HardState{}, makeEntries(2, 2, 1))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.jr.append(rec); err != nil {
		t.Fatal(err)
	}
	s2 := reopenAfterCrash(t, s)
	journalLog(t, s2, 6, 6)
	want := viewOf(t, s2)
	checkView(t, viewOf(t, reopenAfterCrash(t, s2)), want)
}

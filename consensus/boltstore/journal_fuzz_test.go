package boltstore

// FuzzJournalReplay proves that Open, replaying a journal of any bytes after
// a healthy bbolt file, never panics, refuses only with ErrCorrupt, and that
// what it accepts is a log a Store can serve: the bbolt prefix kept, every
// entry readable, the hard state within it. Seeds: a journal of real
// records, cut and damaged.

import (
	"errors"
	"os"
	"testing"

	"github.com/raftlock/raftlock/consensus"
)

// journalSeed returns the journal of four Saves after a flushed prefix of
// three, as a crash leaves it.
func journalSeed(f *testing.F) []byte {
	path := testPath(f)
	s, err := Open(path, Options{noSync: true})
	if err != nil {
		f.Fatal(err)
	}
	mustSave(f, s, consensus.HardState{Term: 1, Vote: 1, Commit: 3}, makeEntries(1, 3, 1))
	flushNow(f, s)
	mustSave(f, s, consensus.HardState{Term: 2, Vote: 2, Commit: 3}, makeEntries(4, 6, 2))
	mustSave(f, s, consensus.HardState{}, makeEntries(7, 7, 2))
	mustSave(f, s, consensus.HardState{Term: 3, Vote: 3, Commit: 5}, makeEntries(6, 8, 3))
	mustSave(f, s, consensus.HardState{Term: 3, Vote: 3, Commit: 8}, nil)
	if err := s.crash(); err != nil {
		f.Fatal(err)
	}
	data, err := os.ReadFile(path + JournalSuffix)
	if err != nil {
		f.Fatal(err)
	}
	return data
}

func FuzzJournalReplay(f *testing.F) {
	seed := journalSeed(f)
	f.Add(seed)
	f.Add(seed[:len(seed)/2])
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0, 5, 1, 2, 3, 4, 5})
	f.Fuzz(func(t *testing.T, journal []byte) {
		path := testPath(t)
		s, err := Open(path, Options{noSync: true})
		if err != nil {
			t.Fatal(err)
		}
		mustSave(t, s, consensus.HardState{Term: 1, Vote: 1, Commit: 3}, makeEntries(1, 3, 1))
		if err := s.Close(); err != nil { // flushed: bbolt holds record 1
			t.Fatal(err)
		}
		if err := os.WriteFile(path+JournalSuffix, journal, 0o600); err != nil {
			t.Fatal(err)
		}
		s, err = Open(path, Options{noSync: true})
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Open after a fuzzed journal = %v; want nil or ErrCorrupt", err)
			}
			return
		}
		defer func() {
			if err := s.Close(); err != nil {
				t.Errorf("Close() = %v", err)
			}
		}()
		hs, _ := s.InitialState()
		first, _ := s.FirstIndex()
		last, _ := s.LastIndex()
		if first != 1 || last < 3 || hs.Commit < 3 || hs.Commit > last || hs.Term < 1 {
			t.Fatalf("after replay: first %d, last %d, hard state %+v; want the flushed prefix kept", first, last, hs)
		}
		ents, err := s.Entries(first, last+1, noLimit)
		if err != nil || consensus.Index(len(ents)) != last-first+1 {
			t.Fatalf("Entries(%d, %d) = %d entries, %v", first, last+1, len(ents), err)
		}
		for i, e := range ents {
			if e.Index != first+consensus.Index(i) || e.Term > hs.Term || i > 0 && e.Term < ents[i-1].Term {
				t.Fatalf("entry %d: index %d term %d after %+v", i, e.Index, e.Term, hs)
			}
		}
	})
}

package boltstore

// These tests prove the Store's Storage answers and Save semantics on a real
// bbolt file in t.TempDir: round trips, truncation, size limits, the dummy
// term at FirstIndex()-1, reopening, compaction, and that caller bugs panic
// while bad input is an error.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/raftlock/raftlock/consensus"
)

func TestFreshStore(t *testing.T) {
	s := openStore(t, testPath(t), Options{})
	got := viewOf(t, s)
	want := storageView{First: 1, Last: 0, Terms: []consensus.Term{0}}
	checkView(t, got, want)
	if _, err := s.Term(1); !errors.Is(err, consensus.ErrUnavailable) {
		t.Errorf("Term(1) = %v; want ErrUnavailable", err)
	}
	if ents, err := s.Entries(1, 1, noLimit); err != nil || len(ents) != 0 {
		t.Errorf("Entries(1, 1) = %v, %v; want none, nil", ents, err)
	}
	if _, err := s.Entries(1, 2, noLimit); !errors.Is(err, consensus.ErrUnavailable) {
		t.Errorf("Entries(1, 2) = %v; want ErrUnavailable", err)
	}
	if _, err := s.Entries(0, 1, noLimit); !errors.Is(err, consensus.ErrCompacted) {
		t.Errorf("Entries(0, 1) = %v; want ErrCompacted", err)
	}
}

func TestSaveRoundTrip(t *testing.T) {
	path := testPath(t)
	s := openStore(t, path, Options{})
	hs := consensus.HardState{Term: 3, Vote: 2, Commit: 4}
	ents := []consensus.Entry{
		{Index: 1, Term: 1, Type: consensus.EntryNoop},
		{Index: 2, Term: 1, Data: []byte("acquire a")},
		{Index: 3, Term: 3, Type: consensus.EntryConfChange, Data: []byte{0, 1, 2, 255}},
		{Index: 4, Term: 3, Data: make([]byte, 1000)},
		{Index: 5, Term: 3, Data: []byte("release a")},
	}
	mustSave(t, s, hs, ents)
	want := storageView{HardState: hs, First: 1, Last: 5, Terms: []consensus.Term{0, 1, 1, 3, 3, 3}, Entries: ents}
	checkView(t, viewOf(t, s), want)

	// An empty hard state leaves the stored one alone.
	more := makeEntries(6, 7, 3)
	mustSave(t, s, consensus.HardState{}, more)
	if got, err := s.InitialState(); err != nil || got != hs {
		t.Errorf("InitialState() = %+v, %v; want %+v, nil", got, err, hs)
	}
	got, err := s.Entries(6, 8, noLimit)
	if err != nil || !reflect.DeepEqual(got, more) {
		t.Errorf("Entries(6, 8) = %+v, %v; want %+v, nil", got, err, more)
	}
}

func TestEntriesAreCopies(t *testing.T) {
	s := openStore(t, testPath(t), Options{})
	mustSave(t, s, consensus.HardState{Term: 1}, makeEntries(1, 3, 1))
	got, err := s.Entries(1, 4, noLimit)
	if err != nil {
		t.Fatalf("Entries(1, 4) = %v; want nil", err)
	}
	want := makeEntries(1, 3, 1)
	// Many more writes grow and remap the file; entries read before must not
	// point into the old mapping.
	for i := consensus.Index(4); i < 2000; i += 100 {
		mustSave(t, s, consensus.HardState{}, makeEntriesSized(i, i+99, 1, 512))
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Entries(1, 4) after more writes = %+v; want %+v", got, want)
	}
}

// makeEntriesSized returns entries lo..hi (inclusive) of term t whose data
// is size bytes that differ from entry to entry.
func makeEntriesSized(lo, hi consensus.Index, t consensus.Term, size int) []consensus.Entry {
	ents := make([]consensus.Entry, 0, hi-lo+1)
	for i := lo; i <= hi; i++ {
		d := bytes.Repeat([]byte{byte(i)}, size)
		if size >= 8 {
			binary.BigEndian.PutUint64(d, uint64(i))
		}
		ents = append(ents, consensus.Entry{Index: i, Term: t, Data: d})
	}
	return ents
}

func TestSaveTruncateThenAppend(t *testing.T) {
	tests := []struct {
		name      string
		commit    consensus.Index
		replace   []consensus.Entry
		wantTerms []consensus.Term // Term(0..last)
	}{
		{"replace the last entry", 2, makeEntries(5, 5, 3), []consensus.Term{0, 1, 1, 2, 2, 3}},
		{"replace a suffix with a longer one", 2, makeEntries(3, 7, 3), []consensus.Term{0, 1, 1, 3, 3, 3, 3, 3}},
		{"replace a suffix with a shorter one", 2, makeEntries(3, 3, 4), []consensus.Term{0, 1, 1, 4}},
		{"replace everything after the commit", 0, makeEntries(1, 2, 5), []consensus.Term{0, 5, 5}},
		{"plain append", 5, makeEntries(6, 6, 2), []consensus.Term{0, 1, 1, 2, 2, 2, 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := testPath(t)
			s, err := Open(path, Options{})
			if err != nil {
				t.Fatalf("Open(%q) = %v; want nil", path, err)
			}
			mustSave(t, s, consensus.HardState{Term: 2, Commit: tc.commit}, append(makeEntries(1, 2, 1), makeEntries(3, 5, 2)...))
			mustSave(t, s, consensus.HardState{Term: 5, Commit: tc.commit}, tc.replace)
			before := viewOf(t, s)
			if !reflect.DeepEqual(before.Terms, tc.wantTerms) {
				t.Errorf("terms after Save = %v; want %v", before.Terms, tc.wantTerms)
			}
			tail := before.Entries[tc.replace[0].Index-1:]
			if !reflect.DeepEqual(tail, tc.replace) {
				t.Errorf("entries from %d = %+v; want %+v", tc.replace[0].Index, tail, tc.replace)
			}
			if err := s.Close(); err != nil {
				t.Fatalf("Close() = %v; want nil", err)
			}
			// The file agrees with the cache: nothing of the old suffix survives.
			s2 := openStore(t, path, Options{})
			checkView(t, viewOf(t, s2), before)
		})
	}
}

func TestEntriesMaxBytes(t *testing.T) {
	s := openStore(t, testPath(t), Options{})
	ents := makeEntriesSized(1, 10, 1, 100) // Size() = 100 + overhead each
	mustSave(t, s, consensus.HardState{Term: 1}, ents)
	one := ents[0].Size()
	tests := []struct {
		name     string
		lo, hi   consensus.Index
		maxBytes uint64
		want     int
	}{
		{"zero still returns one", 1, 11, 0, 1},
		{"below one entry still returns one", 3, 11, one - 1, 1},
		{"exactly one", 1, 11, one, 1},
		{"just under three", 1, 11, 3*one - 1, 2},
		{"exactly three", 1, 11, 3 * one, 3},
		{"no limit stops at hi", 2, 6, noLimit, 4},
		{"limit above the range", 1, 11, 100 * one, 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.Entries(tc.lo, tc.hi, tc.maxBytes)
			if err != nil || len(got) != tc.want {
				t.Fatalf("Entries(%d, %d, %d) = %d entries, %v; want %d, nil", tc.lo, tc.hi, tc.maxBytes, len(got), err, tc.want)
			}
			if !reflect.DeepEqual(got, ents[tc.lo-1:int(tc.lo-1)+tc.want]) {
				t.Errorf("Entries(%d, %d, %d) = %+v; want the stored entries", tc.lo, tc.hi, tc.maxBytes, got)
			}
		})
	}
}

func TestTermAtFirstIndexMinusOne(t *testing.T) {
	s := openStore(t, testPath(t), Options{})
	if got, err := s.Term(0); err != nil || got != 0 {
		t.Fatalf("Term(0) on a fresh log = %d, %v; want 0, nil", got, err)
	}
	mustSave(t, s, consensus.HardState{Term: 4, Commit: 6}, append(makeEntries(1, 3, 2), makeEntries(4, 8, 4)...))
	if err := s.Compact(5); err != nil {
		t.Fatalf("Compact(5) = %v; want nil", err)
	}
	first, err := s.FirstIndex()
	if err != nil || first != 6 {
		t.Fatalf("FirstIndex() = %d, %v; want 6, nil", first, err)
	}
	if got, err := s.Term(first - 1); err != nil || got != 4 {
		t.Errorf("Term(%d) = %d, %v; want 4, nil", first-1, got, err)
	}
	if _, err := s.Term(first - 2); !errors.Is(err, consensus.ErrCompacted) {
		t.Errorf("Term(%d) = %v; want ErrCompacted", first-2, err)
	}
	if _, err := s.Entries(first-1, first+1, noLimit); !errors.Is(err, consensus.ErrCompacted) {
		t.Errorf("Entries(%d, %d) = %v; want ErrCompacted", first-1, first+1, err)
	}
}

func TestCompact(t *testing.T) {
	path := testPath(t)
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("Open(%q) = %v; want nil", path, err)
	}
	mustSave(t, s, consensus.HardState{Term: 3, Commit: 8}, append(makeEntries(1, 4, 1), makeEntries(5, 9, 3)...))
	tests := []struct {
		name    string
		upTo    consensus.Index
		wantErr error
	}{
		{"inside the first term", 2, nil},
		{"already compacted is a no-op", 2, nil},
		{"below the base is a no-op", 1, nil},
		{"to the end of a term run", 4, nil},
		{"past the last index", 10, consensus.ErrUnavailable},
		{"into the next term", 6, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.Compact(tc.upTo); !errors.Is(err, tc.wantErr) {
				t.Fatalf("Compact(%d) = %v; want %v", tc.upTo, err, tc.wantErr)
			}
		})
	}
	want := storageView{
		HardState: consensus.HardState{Term: 3, Commit: 8},
		First:     7, Last: 9,
		Terms:   []consensus.Term{3, 3, 3, 3},
		Entries: makeEntries(7, 9, 3),
	}
	checkView(t, viewOf(t, s), want)
	// Entries below the base are ignored; appending after it works.
	mustSave(t, s, consensus.HardState{}, makeEntries(5, 6, 3))
	checkView(t, viewOf(t, s), want)
	mustSave(t, s, consensus.HardState{}, makeEntries(10, 10, 3))
	want.Last, want.Terms, want.Entries = 10, append(want.Terms, 3), makeEntries(7, 10, 3)
	checkView(t, viewOf(t, s), want)
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v; want nil", err)
	}
	s2 := openStore(t, path, Options{})
	checkView(t, viewOf(t, s2), want)
	// Compacting everything leaves an empty log that still knows its last term.
	if err := s2.Compact(8); err != nil {
		t.Fatalf("Compact(8) = %v; want nil", err)
	}
	mustSave(t, s2, consensus.HardState{Term: 3, Commit: 10}, nil)
	if err := s2.Compact(10); err != nil {
		t.Fatalf("Compact(10) = %v; want nil", err)
	}
	checkView(t, viewOf(t, s2), storageView{HardState: consensus.HardState{Term: 3, Commit: 10}, First: 11, Last: 10, Terms: []consensus.Term{3}})
}

func TestReopenKeepsEverything(t *testing.T) {
	path := testPath(t)
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("Open(%q) = %v; want nil", path, err)
	}
	mustSave(t, s, consensus.HardState{Term: 1, Vote: 1, Commit: 0}, makeEntries(1, 3, 1))
	mustSave(t, s, consensus.HardState{Term: 2, Vote: 3, Commit: 3}, makeEntries(4, 50, 2))
	mustSave(t, s, consensus.HardState{Term: 7, Vote: 0, Commit: 40}, makeEntries(45, 60, 7))
	before := viewOf(t, s)
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v; want nil", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close() = %v; want nil", err)
	}
	if _, err := s.LastIndex(); !errors.Is(err, ErrClosed) {
		t.Errorf("LastIndex() after Close = %v; want ErrClosed", err)
	}
	if err := s.Save(consensus.HardState{Term: 8}, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Save() after Close = %v; want ErrClosed", err)
	}
	s2 := openStore(t, path, Options{})
	checkView(t, viewOf(t, s2), before)
	if before.Last != 60 || before.Terms[44] != 2 || before.Terms[45] != 7 {
		t.Errorf("view before reopen: last %d, Term(44) %d, Term(45) %d; want 60, 2, 7", before.Last, before.Terms[44], before.Terms[45])
	}
}

func TestSaveErrors(t *testing.T) {
	tests := []struct {
		name    string
		ents    []consensus.Entry
		wantErr error
	}{
		{"gap after the last index", makeEntries(5, 6, 2), ErrGap},
		{"entry too large", []consensus.Entry{{Index: 4, Term: 2, Data: make([]byte, EntryDataBytesMax+1)}}, ErrTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := openStore(t, testPath(t), Options{})
			mustSave(t, s, consensus.HardState{Term: 2, Commit: 1}, makeEntries(1, 3, 1))
			before := viewOf(t, s)
			err := s.Save(consensus.HardState{Term: 2, Commit: 3}, tc.ents)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Save(%d..) = %v; want %v", tc.ents[0].Index, err, tc.wantErr)
			}
			checkView(t, viewOf(t, s), before)
			// The refusal is not sticky: the next good Save works.
			mustSave(t, s, consensus.HardState{Term: 2, Commit: 3}, makeEntries(4, 4, 2))
		})
	}
	s := openStore(t, testPath(t), Options{})
	err := s.Save(consensus.HardState{Term: 1}, makeEntries(3, 4, 1))
	if !errors.Is(err, ErrGap) || !strings.Contains(err.Error(), "append at 3, last index 0") {
		t.Errorf("Save(3..4) on an empty log = %v; want ErrGap naming 3 and 0", err)
	}
	big := []consensus.Entry{{Index: 1, Term: 1, Data: make([]byte, EntryDataBytesMax)}}
	mustSave(t, s, consensus.HardState{Term: 1}, big)
	if got, err := s.Entries(1, 2, 0); err != nil || len(got) != 1 || len(got[0].Data) != EntryDataBytesMax {
		t.Errorf("Entries(1, 2) of a largest entry = %d entries, %v; want 1 of %d bytes", len(got), err, EntryDataBytesMax)
	}
}

func TestSaveInvariantPanics(t *testing.T) {
	base := consensus.HardState{Term: 3, Vote: 2, Commit: 4}
	tests := []struct {
		name string
		hs   consensus.HardState
		ents []consensus.Entry
		want string
	}{
		{"truncate at the commit", base, makeEntries(4, 4, 3), "truncating the log at 4, at or below the stored commit 4"},
		{"truncate below the commit", base, makeEntries(2, 6, 3), "truncating the log at 2"},
		{"term goes back", consensus.HardState{Term: 2, Vote: 2, Commit: 4}, nil, "hard state term 2 below the stored 3"},
		{"commit goes back", consensus.HardState{Term: 3, Vote: 2, Commit: 3}, nil, "hard state commit 3 below the stored 4"},
		{"second vote in a term", consensus.HardState{Term: 3, Vote: 1, Commit: 4}, nil, "vote changed from 2 to 1 in term 3"},
		{"commit past the log", consensus.HardState{Term: 3, Vote: 2, Commit: 9}, nil, "commit 9 above last index 6"},
		{"entry term above current term", consensus.HardState{}, makeEntries(7, 7, 4), "last entry term 4 above current term 3"},
		{"entry term below the previous", consensus.HardState{}, makeEntries(7, 7, 1), "entry 7 term 1 below term 3 of entry 6"},
		{"entries out of order", consensus.HardState{}, []consensus.Entry{{Index: 7, Term: 3}, {Index: 9, Term: 3}}, "entry 9 follows entry 7"},
		{"terms go down within the batch", consensus.HardState{}, []consensus.Entry{{Index: 7, Term: 3}, {Index: 8, Term: 2}}, "entry 8 term 2 below term 3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := openStore(t, testPath(t), Options{})
			mustSave(t, s, base, append(makeEntries(1, 2, 1), makeEntries(3, 6, 3)...))
			before := viewOf(t, s)
			expectPanic(t, tc.want, func() { _ = s.Save(tc.hs, tc.ents) })
			checkView(t, viewOf(t, s), before)
		})
	}
}

func TestCompactInvariantPanics(t *testing.T) {
	s := openStore(t, testPath(t), Options{})
	mustSave(t, s, consensus.HardState{Term: 3, Commit: 4}, append(makeEntries(1, 2, 1), makeEntries(3, 6, 3)...))
	expectPanic(t, "compact to 5 above the stored commit 4", func() { _ = s.Compact(5) })
}

func TestOpenOptions(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{"negative lock wait", Options{LockWait: -1}},
		{"lock wait above max", Options{LockWait: LockWaitMax + 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := testPath(t)
			if s, err := Open(path, tc.opts); err == nil {
				t.Errorf("Open(%q, %+v) = nil; want an error", path, tc.opts)
				if err := s.Close(); err != nil {
					t.Errorf("Close() = %v", err)
				}
			}
		})
	}
}

func TestTailCache(t *testing.T) {
	s := openStore(t, testPath(t), Options{noSync: true})
	const big = 1 << 20
	mustSave(t, s, consensus.HardState{Term: 1}, nil)
	var want []consensus.Entry
	for i := consensus.Index(1); i <= 12; i++ {
		ents := makeEntriesSized(i, i, 1, big)
		want = append(want, makeEntriesSized(i, i, 1, big)...)
		mustSave(t, s, consensus.HardState{}, ents)
		// The caller's slices are its own after Save.
		ents[0].Data[0]++
	}
	s.mu.RLock()
	first, ok := s.tail.first()
	bytes := s.tail.bytes
	s.mu.RUnlock()
	if !ok || bytes > tailCacheBytesMax || first <= 1 {
		t.Fatalf("tail cache after 12 MiB: first %d (%v), %d bytes; want some evicted, at most %d bytes", first, ok, bytes, tailCacheBytesMax)
	}
	// Reads across the cache boundary and inside it both see the stored entries.
	for lo := consensus.Index(1); lo <= 12; lo++ {
		got, err := s.Entries(lo, 13, noLimit)
		if err != nil || !reflect.DeepEqual(got, want[lo-1:]) {
			t.Fatalf("Entries(%d, 13) = %d entries, %v; want %d, nil", lo, len(got), err, len(want[lo-1:]))
		}
		// The caller's slice is its own.
		got[0].Index = 0
	}
	// A truncation inside the cache, then a compaction past its start.
	mustSave(t, s, consensus.HardState{Term: 2, Commit: 10}, makeEntries(11, 14, 2))
	if err := s.Compact(first + 1); err != nil {
		t.Fatalf("Compact(%d) = %v; want nil", first+1, err)
	}
	got, err := s.Entries(first+2, 15, noLimit)
	wantTail := append(append([]consensus.Entry(nil), want[first+1:10]...), makeEntries(11, 14, 2)...)
	if err != nil || !reflect.DeepEqual(got, wantTail) {
		t.Fatalf("Entries(%d, 15) after truncation and compaction = %d entries, %v; want %d", first+2, len(got), err, len(wantTail))
	}
}

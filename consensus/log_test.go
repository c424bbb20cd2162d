package consensus

// These tests prove the log's reads and writes across its stable prefix (in
// Storage) and unstable tail (in memory): term lookups, truncation at the
// first conflict only, the fast-backtracking search, size-bounded slices,
// and that entries replaced between Ready and Advance stay unstable.

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// testLog returns a log whose storage holds entries with stableTerms and
// whose unstable tail holds unstableTerms after them.
func testLog(t *testing.T, stableTerms, unstableTerms []Term) *raftLog {
	t.Helper()
	l, err := newLog(coreStorage(t, stableTerms, HardState{}), 0, 0)
	if err != nil {
		t.Fatalf("newLog = %v; want nil", err)
	}
	if len(unstableTerms) > 0 {
		l.append(termEntries(Index(len(stableTerms))+1, unstableTerms...))
	}
	return l
}

func termEntries(first Index, terms ...Term) []Entry {
	out := make([]Entry, len(terms))
	for i, term := range terms {
		out[i] = Entry{Index: first + Index(i), Term: term, Data: []byte("xxxxxxxx")}
	}
	return out
}

func logTermsOf(t *testing.T, l *raftLog) []Term {
	t.Helper()
	var out []Term
	for i := Index(1); i <= l.lastIndex(); i++ {
		term, err := l.term(i)
		if err != nil {
			t.Fatalf("term(%d) = %v; want nil", i, err)
		}
		out = append(out, term)
	}
	return out
}

func TestLogTermAcrossStableAndUnstable(t *testing.T) {
	l := testLog(t, []Term{1, 1, 2}, []Term{3, 3})
	cases := []struct {
		i    Index
		want Term
		err  error
	}{
		{0, 0, nil}, {1, 1, nil}, {3, 2, nil}, {4, 3, nil}, {5, 3, nil}, {6, 0, ErrUnavailable},
	}
	for _, tc := range cases {
		got, err := l.term(tc.i)
		if got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("term(%d) = %d, %v; want %d, %v", tc.i, got, err, tc.want, tc.err)
		}
	}
	if got := l.lastIndex(); got != 5 {
		t.Errorf("lastIndex() = %d; want 5", got)
	}
}

func TestLogAppendTruncates(t *testing.T) {
	cases := []struct {
		name     string
		stable   []Term
		unstable []Term
		at       Index
		terms    []Term
		want     []Term
	}{
		{"extend unstable", []Term{1}, []Term{1}, 3, []Term{2}, []Term{1, 1, 2}},
		{"truncate inside unstable", []Term{1}, []Term{1, 1, 1}, 3, []Term{2}, []Term{1, 1, 2}},
		{"truncate into stable", []Term{1, 1, 1}, []Term{1}, 2, []Term{3, 3}, []Term{1, 3, 3}},
		{"replace the whole log", []Term{1, 1}, nil, 1, []Term{2}, []Term{2}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := testLog(t, tc.stable, tc.unstable)
			l.append(termEntries(tc.at, tc.terms...))
			if got := logTermsOf(t, l); !slices.Equal(got, tc.want) {
				t.Fatalf("log terms = %v; want %v", got, tc.want)
			}
		})
	}
}

func TestLogAppendAtCommitPanics(t *testing.T) {
	l := testLog(t, []Term{1, 1, 1}, nil)
	l.commitTo(2)
	defer func() {
		msg, _ := recover().(string)
		if !strings.HasPrefix(msg, "invariant violated: ") {
			t.Fatalf("append at the commit index: recover() = %q; want an invariant panic", msg)
		}
	}()
	l.append(termEntries(2, 2))
}

func TestLogFindConflict(t *testing.T) {
	l := testLog(t, []Term{1, 1}, []Term{2, 2})
	cases := []struct {
		name string
		ents []Entry
		want Index
	}{
		{"empty", nil, 0},
		{"all held", termEntries(2, 1, 2), 0},
		{"duplicate prefix of a longer log", termEntries(1, 1), 0},
		{"differs at 3", termEntries(2, 1, 3, 3), 3},
		{"new after last", termEntries(4, 2, 2), 5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := l.findConflict(tc.ents)
			if got != tc.want || err != nil {
				t.Fatalf("findConflict = %d, %v; want %d, nil", got, err, tc.want)
			}
		})
	}
}

func TestLogFindConflictByTerm(t *testing.T) {
	// Index:  1 2 3 4 5 6 7
	// Term:   1 1 3 3 5 5 5
	l := testLog(t, []Term{1, 1, 3, 3}, []Term{5, 5, 5})
	cases := []struct {
		i, wantI Index
		term     Term
		wantT    Term
	}{
		{7, 7, 5, 5},
		{7, 4, 4, 3},
		{7, 2, 2, 1},
		{7, 0, 0, 0},
		{9, 7, 6, 5}, // capped at the last index
		{3, 3, 3, 3},
	}
	for _, tc := range cases {
		gotI, gotT, err := l.findConflictByTerm(tc.i, tc.term)
		if gotI != tc.wantI || gotT != tc.wantT || err != nil {
			t.Errorf("findConflictByTerm(%d, %d) = %d, %d, %v; want %d, %d, nil", tc.i, tc.term, gotI, gotT, err, tc.wantI, tc.wantT)
		}
	}
}

func TestLogSlice(t *testing.T) {
	l := testLog(t, []Term{1, 1, 1}, []Term{2, 2, 2})
	one := termEntries(1, 1)[0].Size()
	cases := []struct {
		name     string
		lo, hi   Index
		maxBytes uint64
		want     []Index
	}{
		{"stable only", 1, 3, 1 << 20, []Index{1, 2}},
		{"unstable only", 4, 7, 1 << 20, []Index{4, 5, 6}},
		{"across", 2, 6, 1 << 20, []Index{2, 3, 4, 5}},
		{"across, cut in unstable", 2, 7, 3 * one, []Index{2, 3, 4}},
		{"cut in stable", 1, 7, 2 * one, []Index{1, 2}},
		{"at least one", 3, 7, 1, []Index{3}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ents, err := l.slice(tc.lo, tc.hi, tc.maxBytes)
			if err != nil {
				t.Fatalf("slice(%d, %d) = %v; want nil", tc.lo, tc.hi, err)
			}
			var got []Index
			for _, e := range ents {
				got = append(got, e.Index)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("slice(%d, %d, %d) = %v; want %v", tc.lo, tc.hi, tc.maxBytes, got, tc.want)
			}
		})
	}
}

func TestLogSliceNeverAliasesStorage(t *testing.T) {
	l := testLog(t, []Term{1, 1, 1}, nil)
	ents, err := l.slice(1, 3, 1<<20)
	if err != nil {
		t.Fatalf("slice = %v; want nil", err)
	}
	_ = append(ents, Entry{Index: 3, Term: 9})
	if got, _ := l.term(3); got != 1 {
		t.Fatalf("term(3) after appending to a slice = %d; want 1", got)
	}
}

func TestUnstableStableToAfterReplacement(t *testing.T) {
	cases := []struct {
		name        string
		replaceAt   Index
		replaceTerm Term
		wantOffset  Index
		wantLen     int
	}{
		// Ready carried 4..6 at term 2 (Advance calls stableTo(6, 2)).
		{"unchanged", 0, 0, 7, 0},
		{"replaced inside the tail", 5, 3, 4, 2},
		{"replaced below the tail", 2, 3, 2, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := testLog(t, []Term{1, 1, 1}, []Term{2, 2, 2})
			if tc.replaceAt != 0 {
				l.append(termEntries(tc.replaceAt, tc.replaceTerm))
			}
			l.unstable.stableTo(6, 2)
			if l.unstable.offset != tc.wantOffset || len(l.unstable.entries) != tc.wantLen {
				t.Fatalf("unstable after stableTo(6, 2) = offset %d, %d entries; want %d, %d",
					l.unstable.offset, len(l.unstable.entries), tc.wantOffset, tc.wantLen)
			}
		})
	}
}

func TestUnstableTruncationKeepsHandedOutSlices(t *testing.T) {
	l := testLog(t, nil, []Term{1, 1, 1})
	handed := l.unstable.entries
	l.append(termEntries(2, 2))
	if handed[1].Term != 1 || handed[2].Term != 1 {
		t.Fatalf("entries handed out before a truncation changed to terms %d, %d; want 1, 1", handed[1].Term, handed[2].Term)
	}
}

func TestNewLogValidatesStoredState(t *testing.T) {
	cases := []struct {
		name      string
		terms     []Term
		committed Index
		applied   Index
	}{
		{"commit past last index", []Term{1}, 2, 0},
		{"applied past commit", []Term{1, 1}, 1, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := newLog(coreStorage(t, tc.terms, HardState{}), tc.committed, tc.applied); err == nil {
				t.Fatalf("newLog(commit %d, applied %d) = nil; want an error", tc.committed, tc.applied)
			}
		})
	}
}

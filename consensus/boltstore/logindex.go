package boltstore

import (
	"fmt"
	"sort"

	"github.com/raftlock/raftlock/consensus"
)

// termRun says that the entries from first up to the next run's first (or up
// to the last index) all have term.
type termRun struct {
	first consensus.Index
	term  consensus.Term
}

// logIndex is the in-memory summary of the stored log: where it starts and
// ends and the term of every entry, as runs of equal terms. A Raft log's terms
// never go down, so there is one run per term that has entries: a few hundred
// bytes where one Term per entry would be megabytes.
type logIndex struct {
	// base is the entry just before the first stored one (zero on a fresh
	// log): the last entry compacted away or covered by an installed snapshot.
	base logBase
	// last is the index of the last stored entry.
	// Invariant: last >= base.Index.
	last consensus.Index
	// runs covers (base.Index, last].
	// Invariant: empty iff last == base.Index; runs[0].first == base.Index+1;
	// firsts and terms strictly increase; every first <= last; every term >= base.Term.
	runs []termRun
}

func (li *logIndex) firstIndex() consensus.Index { return li.base.Index + 1 }

// lastTerm is the term of the last entry, or of the base when none is stored.
func (li *logIndex) lastTerm() consensus.Term {
	if len(li.runs) == 0 {
		return li.base.Term
	}
	return li.runs[len(li.runs)-1].term
}

// term returns the term at i for i in [base.Index, last].
func (li *logIndex) term(i consensus.Index) (consensus.Term, error) {
	if i < li.base.Index {
		return 0, fmt.Errorf("boltstore: term of %d, first index %d: %w", i, li.firstIndex(), consensus.ErrCompacted)
	}
	if i > li.last {
		return 0, fmt.Errorf("boltstore: term of %d, last index %d: %w", i, li.last, consensus.ErrUnavailable)
	}
	if i == li.base.Index {
		return li.base.Term, nil
	}
	// The first run starting after i; the one before it holds i.
	n := sort.Search(len(li.runs), func(k int) bool { return li.runs[k].first > i })
	if n == 0 {
		violated("index %d in (%d, %d] has no term run", i, li.base.Index, li.last)
	}
	return li.runs[n-1].term, nil
}

// truncate forgets the entries from index from on.
func (li *logIndex) truncate(from consensus.Index) {
	assertf(from > li.base.Index, "truncate from %d at or below base index %d", from, li.base.Index)
	if from > li.last {
		return
	}
	li.last = from - 1
	n := sort.Search(len(li.runs), func(k int) bool { return li.runs[k].first >= from })
	li.runs = li.runs[:n]
}

// append records an entry at last+1 with term t.
func (li *logIndex) append(i consensus.Index, t consensus.Term) {
	if i != li.last+1 {
		violated("append at %d after last index %d", i, li.last)
	}
	lt := li.lastTerm()
	if t < lt {
		violated("append term %d at %d below last term %d", t, i, lt)
	}
	li.last = i
	if len(li.runs) == 0 || t > lt {
		li.runs = append(li.runs, termRun{first: i, term: t})
	}
}

// compact forgets the entries up to and including upTo, whose term is t.
func (li *logIndex) compact(upTo consensus.Index, t consensus.Term) {
	assertf(upTo > li.base.Index, "compact to %d at or below base index %d", upTo, li.base.Index)
	assertf(upTo <= li.last, "compact to %d past last index %d", upTo, li.last)
	li.base = logBase{Index: upTo, Term: t}
	// Keep the runs from the one holding upTo+1 on, the first starting there.
	var kept []termRun
	if upTo < li.last {
		n := sort.Search(len(li.runs), func(k int) bool { return li.runs[k].first > upTo+1 })
		kept = li.runs[n-1:]
	}
	runs := make([]termRun, len(kept))
	copy(runs, kept)
	if len(runs) > 0 {
		runs[0].first = upTo + 1
	}
	li.runs = runs
}

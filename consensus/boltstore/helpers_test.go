package boltstore

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/raftlock/raftlock/consensus"
)

// testPath returns a fresh store path in a per-test directory.
func testPath(t testing.TB) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "raft.db")
}

// openStore opens path and closes it when the test ends.
func openStore(t testing.TB, path string, opts Options) *Store {
	t.Helper()
	s, err := Open(path, opts)
	if err != nil {
		t.Fatalf("Open(%q) = %v; want nil", path, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close() = %v; want nil", err)
		}
	})
	return s
}

// makeEntries returns entries lo..hi (inclusive) of term t with small data.
func makeEntries(lo, hi consensus.Index, t consensus.Term) []consensus.Entry {
	var ents []consensus.Entry
	for i := lo; i <= hi; i++ {
		ents = append(ents, consensus.Entry{Index: i, Term: t, Data: fmt.Appendf(nil, "cmd-%d-%d", i, t)})
	}
	return ents
}

func mustSave(t testing.TB, s *Store, hs consensus.HardState, ents []consensus.Entry) {
	t.Helper()
	if err := s.Save(hs, ents); err != nil {
		t.Fatalf("Save(%+v, %d entries) = %v; want nil", hs, len(ents), err)
	}
}

// storageView is everything a consensus.Storage answers about one log, for
// comparing two stores or one store before and after a reopen.
type storageView struct {
	HardState consensus.HardState
	First     consensus.Index
	Last      consensus.Index
	Terms     []consensus.Term
	Entries   []consensus.Entry
}

func viewOf(t testing.TB, st consensus.Storage) storageView {
	t.Helper()
	var v storageView
	var err error
	if v.HardState, err = st.InitialState(); err != nil {
		t.Fatalf("InitialState() = %v; want nil", err)
	}
	if v.First, err = st.FirstIndex(); err != nil {
		t.Fatalf("FirstIndex() = %v; want nil", err)
	}
	if v.Last, err = st.LastIndex(); err != nil {
		t.Fatalf("LastIndex() = %v; want nil", err)
	}
	for i := v.First - 1; i <= v.Last; i++ {
		term, err := st.Term(i)
		if err != nil {
			t.Fatalf("Term(%d) = %v; want nil", i, err)
		}
		v.Terms = append(v.Terms, term)
	}
	if v.Last >= v.First {
		if v.Entries, err = st.Entries(v.First, v.Last+1, noLimit); err != nil {
			t.Fatalf("Entries(%d, %d) = %v; want nil", v.First, v.Last+1, err)
		}
	}
	return v
}

const noLimit = ^uint64(0)

func checkView(t testing.TB, got, want storageView) {
	t.Helper()
	if !reflect.DeepEqual(normalize(got), normalize(want)) {
		t.Fatalf("storage view = %+v; want %+v", got, want)
	}
}

// normalize makes nil and empty Data compare equal: msgpack has one empty bin.
func normalize(v storageView) storageView {
	ents := make([]consensus.Entry, len(v.Entries))
	for i, e := range v.Entries {
		if len(e.Data) == 0 {
			e.Data = nil
		}
		ents[i] = e
	}
	v.Entries = ents
	return v
}

// expectPanic runs f and checks it panics with an invariant message containing want.
func expectPanic(t *testing.T, want string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		msg, ok := r.(string)
		if !ok || !strings.HasPrefix(msg, "invariant violated: ") || !strings.Contains(msg, want) {
			t.Fatalf("panic = %v; want \"invariant violated: ...%s...\"", r, want)
		}
	}()
	f()
}

// errorClass names which Storage sentinel err is, for comparing two stores.
func errorClass(err error) string {
	switch {
	case err == nil:
		return "nil"
	case errors.Is(err, consensus.ErrCompacted):
		return "ErrCompacted"
	case errors.Is(err, consensus.ErrUnavailable):
		return "ErrUnavailable"
	}
	return "other: " + err.Error()
}

// crash closes s as a crash would: the journal is not flushed into bbolt,
// so the next Open must replay it.
func (s *Store) crash() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return errors.Join(s.jr.close(), s.db.Close())
}

// flushNow flushes s's journal into bbolt, as a Save reaching the bound
// would, and restarts it.
func flushNow(t testing.TB, s *Store) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.flushJournal(); err != nil {
		t.Fatalf("flushJournal() = %v", err)
	}
}

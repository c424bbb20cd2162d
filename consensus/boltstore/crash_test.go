package boltstore

// These tests prove that a write transaction that does not commit changes
// nothing, in memory or on disk, and that after a failed commit the store
// refuses further writes (the state of a file after a failed fsync is
// unknown; the node must restart and let Open verify it).

import (
	"errors"
	"testing"

	"github.com/raftlock/raftlock/consensus"
)

func TestUncommittedSaveLeavesPreviousState(t *testing.T) {
	path := testPath(t)
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("Open(%q) = %v; want nil", path, err)
	}
	mustSave(t, s, consensus.HardState{Term: 2, Vote: 1, Commit: 2}, append(makeEntries(1, 2, 1), makeEntries(3, 5, 2)...))
	before := viewOf(t, s)

	errCrash := errors.New("simulated crash before commit")
	s.beforeCommit = func() error { return errCrash }
	// A truncation, a new term and a new vote: all or nothing.
	err = s.Save(consensus.HardState{Term: 3, Vote: 3, Commit: 2}, makeEntries(3, 9, 3))
	if !errors.Is(err, errCrash) {
		t.Fatalf("Save with a failing commit = %v; want %v", err, errCrash)
	}
	checkView(t, viewOf(t, s), before)
	s.beforeCommit = nil
	if err := s.Save(consensus.HardState{Term: 3, Vote: 3, Commit: 2}, nil); !errors.Is(err, ErrFailed) {
		t.Errorf("Save after a failed commit = %v; want ErrFailed", err)
	}
	if err := s.Compact(1); !errors.Is(err, ErrFailed) {
		t.Errorf("Compact after a failed commit = %v; want ErrFailed", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v; want nil", err)
	}
	s2 := openStore(t, path, Options{})
	checkView(t, viewOf(t, s2), before)
	// The reopened store takes writes again.
	mustSave(t, s2, consensus.HardState{Term: 3, Vote: 3, Commit: 2}, makeEntries(3, 9, 3))
}

package boltstore

// These tests prove the snapshot records: SetSnapshot keeps only a newer
// snapshot that matches the log, ApplySnapshot replaces the whole log in one
// transaction and leaves a file that reopens (even when the rest of the Ready
// never gets saved), and both refuse caller bugs with a panic.

import (
	"errors"
	"reflect"
	"testing"

	"github.com/raftlock/raftlock/consensus"
)

// snapshotTestLog saves entries 1..10 (term 1 to 4, term 2 from 5) with commit 8.
func snapshotTestLog(t *testing.T, s *Store) {
	t.Helper()
	mustSave(t, s, consensus.HardState{Term: 2, Vote: 1, Commit: 8}, append(makeEntries(1, 4, 1), makeEntries(5, 10, 2)...))
}

func TestSetSnapshot(t *testing.T) {
	path := testPath(t)
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("Open(%q) = %v; want nil", path, err)
	}
	snapshotTestLog(t, s)
	voters := []consensus.NodeID{1, 2, 3}
	tests := []struct {
		name    string
		meta    consensus.SnapshotMeta
		wantErr error // nil: success; errAny: some error
	}{
		{"the first snapshot", consensus.SnapshotMeta{Index: 4, Term: 1, Voters: voters}, nil},
		{"not newer", consensus.SnapshotMeta{Index: 4, Term: 1, Voters: voters}, consensus.ErrSnapshotOutOfDate},
		{"older", consensus.SnapshotMeta{Index: 3, Term: 1, Voters: voters}, consensus.ErrSnapshotOutOfDate},
		{"the wrong term", consensus.SnapshotMeta{Index: 6, Term: 1, Voters: voters}, errAny},
		{"past the log", consensus.SnapshotMeta{Index: 11, Term: 2, Voters: voters}, consensus.ErrUnavailable},
		{"too many voters", consensus.SnapshotMeta{Index: 6, Term: 2, Voters: make([]consensus.NodeID, consensus.VotersMax+1)}, errAny},
		{"a newer one", consensus.SnapshotMeta{Index: 7, Term: 2, Voters: voters}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := s.SetSnapshot(tc.meta)
			if (tc.wantErr == nil) != (err == nil) || (tc.wantErr != nil && tc.wantErr != errAny && !errors.Is(err, tc.wantErr)) {
				t.Fatalf("SetSnapshot(%+v) = %v; want %v", tc.meta, err, tc.wantErr)
			}
		})
	}
	want := consensus.SnapshotMeta{Index: 7, Term: 2, Voters: voters}
	got, err := s.Snapshot()
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("Snapshot() = %+v, %v; want %+v, nil", got, err, want)
	}
	got.Voters[0] = 99 // The caller's copy.
	if err := s.Compact(7); err != nil {
		t.Fatalf("Compact(7) = %v; want nil", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v; want nil", err)
	}
	s2 := openStore(t, path, Options{})
	if got, err := s2.Snapshot(); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("Snapshot() after reopen = %+v, %v; want %+v, nil", got, err, want)
	}
	expectPanic(t, "snapshot at 9 above the stored commit 8", func() {
		_ = s2.SetSnapshot(consensus.SnapshotMeta{Index: 9, Term: 2})
	})
}

// errAny stands for "some error" in a table.
var errAny = errors.New("any error")

func TestApplySnapshot(t *testing.T) {
	tests := []struct {
		name   string
		meta   consensus.SnapshotMeta
		wantHS consensus.HardState
	}{
		{"past the log in a later term", consensus.SnapshotMeta{Index: 20, Term: 4, Voters: []consensus.NodeID{1, 2, 3}}, consensus.HardState{Term: 4, Commit: 20}},
		{"inside the uncommitted tail", consensus.SnapshotMeta{Index: 9, Term: 2, Voters: []consensus.NodeID{1, 2}}, consensus.HardState{Term: 2, Vote: 1, Commit: 9}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := testPath(t)
			s, err := Open(path, Options{})
			if err != nil {
				t.Fatalf("Open(%q) = %v; want nil", path, err)
			}
			snapshotTestLog(t, s)
			if err := s.ApplySnapshot(tc.meta); err != nil {
				t.Fatalf("ApplySnapshot(%+v) = %v; want nil", tc.meta, err)
			}
			want := storageView{HardState: tc.wantHS, First: tc.meta.Index + 1, Last: tc.meta.Index, Terms: []consensus.Term{tc.meta.Term}}
			checkView(t, viewOf(t, s), want)
			// The node stops before saving the rest of the Ready: the file
			// still opens, and holds the snapshot.
			if err := s.Close(); err != nil {
				t.Fatalf("Close() = %v; want nil", err)
			}
			s2 := openStore(t, path, Options{})
			checkView(t, viewOf(t, s2), want)
			if got, err := s2.Snapshot(); err != nil || !reflect.DeepEqual(got, tc.meta) {
				t.Fatalf("Snapshot() after reopen = %+v, %v; want %+v", got, err, tc.meta)
			}
			// The log goes on after the snapshot.
			mustSave(t, s2, consensus.HardState{Term: tc.meta.Term + 1, Commit: tc.meta.Index}, makeEntries(tc.meta.Index+1, tc.meta.Index+3, tc.meta.Term+1))
			if got, err := s2.Entries(tc.meta.Index+1, tc.meta.Index+4, noLimit); err != nil || len(got) != 3 {
				t.Fatalf("Entries after the snapshot = %d entries, %v; want 3, nil", len(got), err)
			}
		})
	}
}

func TestApplySnapshotRefusals(t *testing.T) {
	s := openStore(t, testPath(t), Options{})
	snapshotTestLog(t, s)
	if err := s.SetSnapshot(consensus.SnapshotMeta{Index: 5, Term: 2}); err != nil {
		t.Fatalf("SetSnapshot(5) = %v; want nil", err)
	}
	before := viewOf(t, s)
	if err := s.ApplySnapshot(consensus.SnapshotMeta{Index: 5, Term: 2}); !errors.Is(err, consensus.ErrSnapshotOutOfDate) {
		t.Errorf("ApplySnapshot(5) with snapshot 5 stored = %v; want ErrSnapshotOutOfDate", err)
	}
	expectPanic(t, "install snapshot at 8, at or below the stored commit 8", func() {
		_ = s.ApplySnapshot(consensus.SnapshotMeta{Index: 8, Term: 2})
	})
	checkView(t, viewOf(t, s), before)

	// A crash just before the commit leaves the previous log.
	errCrash := errors.New("simulated crash before commit")
	s.beforeCommit = func() error { return errCrash }
	if err := s.ApplySnapshot(consensus.SnapshotMeta{Index: 30, Term: 5}); !errors.Is(err, errCrash) {
		t.Fatalf("ApplySnapshot with a failing commit = %v; want %v", err, errCrash)
	}
	checkView(t, viewOf(t, s), before)
}

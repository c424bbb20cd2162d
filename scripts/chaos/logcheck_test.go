// These tests prove the log verdicts on logs built in memory from real lock
// commands: agreeing logs pass; a committed entry that differs, a commit
// index below what a node reported, an acknowledged grant or create missing
// from the log, and an answer that differs from the log's result are each
// caught.
package main

import (
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/raftlock/raftlock/consensus"
	"github.com/raftlock/raftlock/consensus/snapfile"
	"github.com/raftlock/raftlock/locks"
	"github.com/raftlock/raftlock/locks/lockmodel"
	"github.com/raftlock/raftlock/server"
)

// testLog encodes commands as entries 1.. of term 1 (entry 1 a leader's
// no-op), committed up to commit.
func testLog(t *testing.T, name string, commit consensus.Index, cmds ...locks.Command) nodeLog {
	t.Helper()
	l := nodeLog{name: name, first: 1, commit: commit}
	l.entries = append(l.entries, consensus.Entry{Index: 1, Term: 1, Type: consensus.EntryNoop})
	for i, c := range cmds {
		c.Time = time.Unix(1, 0).UnixNano()
		data, err := locks.EncodeCommand(c)
		if err != nil {
			t.Fatalf("EncodeCommand(%+v) = %v", c, err)
		}
		l.entries = append(l.entries, consensus.Entry{Index: consensus.Index(i + 2), Term: 1, Type: consensus.EntryNormal, Data: data})
	}
	return l
}

// Index 2 creates lease 2; index 3 grants "a" to it (token 3); index 4 is a
// refused acquire of "a" by a lease of its own.
var testCommands = []locks.Command{
	{Kind: locks.KindCreateLease, RequestID: "k-create", TTL: locks.Duration(10 * time.Second)},
	{Kind: locks.KindAcquire, RequestID: "k-acquire", Name: "a", LeaseID: 2},
	{Kind: locks.KindAcquire, RequestID: "k-held", Name: "a", TTL: locks.Duration(10 * time.Second)},
}

func TestLogVerdicts(t *testing.T) {
	other := append([]locks.Command(nil), testCommands...)
	other[2].Name = "b" // granted instead of refused
	cases := []struct {
		name     string
		logs     []nodeLog
		reported consensus.Index
		want     string
	}{
		{"agree", []nodeLog{testLog(t, "n1", 4, testCommands...), testLog(t, "n2", 4, testCommands...)}, 4, ""},
		{"shorter log agrees", []nodeLog{testLog(t, "n1", 4, testCommands...), testLog(t, "n2", 3, testCommands[:2]...)}, 3, ""},
		{"committed entry missing", []nodeLog{testLog(t, "n1", 4, testCommands...), testLog(t, "n2", 4, testCommands[:2]...)}, 4, "n2: log holds committed entries up to 3"},
		{"uncommitted tail may differ", []nodeLog{testLog(t, "n1", 3, testCommands...), testLog(t, "n2", 3, other...)}, 3, ""},
		{"committed entry differs", []nodeLog{testLog(t, "n1", 4, testCommands...), testLog(t, "n2", 4, other...)}, 4, "committed entry 4 differs"},
		{"commit lost", []nodeLog{testLog(t, "n1", 3, testCommands...), testLog(t, "n2", 3, testCommands...)}, 4, "a node reported commit 4"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := checkLogsAgree(tc.logs, tc.reported)
			got := strings.Join(v.Violations, "; ")
			switch {
			case tc.want == "" && !v.OK:
				t.Errorf("checkLogsAgree = %s; want no violation", got)
			case tc.want != "" && (v.OK || !strings.Contains(got, tc.want)):
				t.Errorf("checkLogsAgree = %v %q; want a violation containing %q", v.OK, got, tc.want)
			}
		})
	}
	t.Run("applied state", func(t *testing.T) {
		same := checkAppliedState([]nodeLog{testLog(t, "n1", 4, testCommands...), testLog(t, "n2", 4, testCommands...)})
		if !same.OK {
			t.Errorf("checkAppliedState(same logs) = %q; want ok", same.Violations)
		}
		diff := checkAppliedState([]nodeLog{testLog(t, "n1", 4, testCommands...), testLog(t, "n2", 4, other...)})
		if diff.OK {
			t.Errorf("checkAppliedState(logs differing at 4) = ok; want a hash mismatch")
		}
	})
}

func TestAcknowledgedVerdict(t *testing.T) {
	l := testLog(t, "n1", 4, testCommands...)
	rep, err := replay(&l, l.committed())
	if err != nil {
		t.Fatalf("replay = %v", err)
	}
	op := func(in lockmodel.Input, out lockmodel.Output) porcupine.Operation {
		return porcupine.Operation{Input: in, Output: out}
	}
	create := op(lockmodel.Input{Kind: lockmodel.KindCreateLease}, lockmodel.Output{Status: lockmodel.StatusOK, Lease: 2})
	grant := op(lockmodel.Input{Kind: lockmodel.KindAcquire, Name: "a", Lease: 2}, lockmodel.Output{Status: lockmodel.StatusOK, Token: 3, Lease: 2})
	held := op(lockmodel.Input{Kind: lockmodel.KindAcquire, Name: "a"}, lockmodel.Output{Status: lockmodel.StatusLockHeld, Token: 3})
	cases := []struct {
		name string
		ops  []porcupine.Operation
		keys []string
		want string
	}{
		{"all as the log says", []porcupine.Operation{create, grant, held}, []string{"k-create", "k-acquire", "k-held"}, ""},
		{"acknowledged but absent", []porcupine.Operation{create}, []string{"k-missing"}, "not in the committed log"},
		{"wrong lease id", []porcupine.Operation{op(create.Input.(lockmodel.Input), lockmodel.Output{Status: lockmodel.StatusOK, Lease: 7})}, []string{"k-create"}, "the log created it at 2"},
		{"grant with another token", []porcupine.Operation{op(grant.Input.(lockmodel.Input), lockmodel.Output{Status: lockmodel.StatusOK, Token: 4, Lease: 2})}, []string{"k-acquire"}, "not a grant in the committed log"},
		{"ok where the log refused", []porcupine.Operation{op(held.Input.(lockmodel.Input), lockmodel.Output{Status: lockmodel.StatusOK, Token: 4, Lease: 4})}, []string{"k-held"}, `"lock_held"`},
		{"refused where the log granted", []porcupine.Operation{op(grant.Input.(lockmodel.Input), lockmodel.Output{Status: lockmodel.StatusLockHeld})}, []string{"k-acquire"}, "answered lock_held"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := checkAcknowledged(tc.ops, tc.keys, rep, math.MinInt64)
			got := strings.Join(v.Violations, "; ")
			switch {
			case tc.want == "" && !v.OK:
				t.Errorf("checkAcknowledged = %s; want no violation", got)
			case tc.want != "" && (v.OK || !strings.Contains(got, tc.want)):
				t.Errorf("checkAcknowledged = %v %q; want a violation containing %q", v.OK, got, tc.want)
			}
		})
	}
}

// TestCompactedLog proves the verdicts over a log compacted to a snapshot:
// the lock table rebuilt from the snapshot and the entries after it equals
// the one replayed from the whole log, and a request whose entry is only in
// the snapshot is not required once it precedes the log's first entry.
func TestCompactedLog(t *testing.T) {
	whole := testLog(t, "n1", 4, testCommands...)
	at3, err := replay(&whole, 3)
	if err != nil {
		t.Fatalf("replay(whole, 3) = %v", err)
	}
	dataDir := t.TempDir()
	dir, err := snapfile.Open(filepath.Join(dataDir, server.SnapshotDirName), nil)
	if err != nil {
		t.Fatalf("snapfile.Open = %v", err)
	}
	meta := consensus.SnapshotMeta{Index: 3, Term: 1, Voters: []consensus.NodeID{1}}
	w, err := dir.Create(meta)
	if err != nil {
		t.Fatalf("Create(%+v) = %v", meta, err)
	}
	if err := at3.table.Snapshot(w); err != nil {
		t.Fatalf("Snapshot = %v", err)
	}
	if _, err := w.Commit(); err != nil {
		t.Fatalf("Commit = %v", err)
	}
	compacted := nodeLog{name: "n2", dataDir: dataDir, snap: meta, first: 4, commit: 4, entries: whole.entries[3:]}
	if v := checkAppliedState([]nodeLog{whole, compacted}); !v.OK {
		t.Errorf("checkAppliedState(whole, compacted) = %q; want ok", v.Violations)
	}
	rep, err := replay(&compacted, 4)
	if err != nil {
		t.Fatalf("replay(compacted) = %v", err)
	}
	create := porcupine.Operation{Call: 10, Input: lockmodel.Input{Kind: lockmodel.KindCreateLease}, Output: lockmodel.Output{Status: lockmodel.StatusOK, Lease: 2}}
	if v := checkAcknowledged([]porcupine.Operation{create}, []string{"k-create"}, rep, 20); !v.OK {
		t.Errorf("checkAcknowledged(create before the first entry) = %q; want ok", v.Violations)
	}
	if v := checkAcknowledged([]porcupine.Operation{create}, []string{"k-create"}, rep, 5); v.OK {
		t.Errorf("checkAcknowledged(create after the first entry, absent) = ok; want a violation")
	}
}

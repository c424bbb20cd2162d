package consensus

// These tests prove the core's side of log compaction and InstallSnapshot
// (§7) on the in-test network: a follower behind the leader's compacted log
// catches up through MsgSnap; the snapshot reaches the driver in a Ready
// before any entry after it and is answered only after that Ready; a
// snapshot the follower already covers changes nothing or only the commit
// index; the transport's report moves the leader out of the snapshot state;
// and a node restarts from a snapshot and the log after it.

import (
	"errors"
	"slices"
	"testing"
)

// snapshotLeader takes a snapshot of node id at its applied index and
// compacts its storage up to keep entries before it.
func (nw *coreNet) snapshotLeader(id NodeID, keep Index) SnapshotMeta {
	nw.t.Helper()
	st := nw.stores[id]
	applied := nw.nodes[id].Status().Applied
	term, err := st.Term(applied)
	if err != nil {
		nw.t.Fatalf("node %d: Term(%d) = %v; want nil", id, applied, err)
	}
	meta := SnapshotMeta{Index: applied, Term: term, Voters: nw.ids}
	if err := st.SetSnapshot(meta); err != nil {
		nw.t.Fatalf("node %d: SetSnapshot(%d) = %v; want nil", id, applied, err)
	}
	if err := st.Compact(applied - keep); err != nil {
		nw.t.Fatalf("node %d: Compact(%d) = %v; want nil", id, applied-keep, err)
	}
	return meta
}

func TestLaggingFollowerCatchesUpBySnapshot(t *testing.T) {
	nw := newCoreNet(t, 3)
	nw.elect(1)
	nw.cut[3] = true
	for i := 0; i < 20; i++ {
		nw.propose(1, "a")
	}
	meta := nw.snapshotLeader(1, 2)
	nw.cut[3] = false
	nw.propose(1, "b")
	nw.tick(1)

	if got := nw.sent[MsgSnap]; got != 1 {
		t.Fatalf("MsgSnap sent %d times; want 1", got)
	}
	if got := nw.restored[3]; len(got) != 1 || got[0].Index != meta.Index || got[0].Term != meta.Term ||
		!slices.Equal(got[0].Voters, meta.Voters) {
		t.Fatalf("node 3 restored %v; want [%v]", got, meta)
	}
	lead, follower := nw.nodes[1].Status(), nw.nodes[3].Status()
	if follower.Commit != lead.Commit || follower.Applied != lead.Applied || follower.LastIndex != lead.LastIndex {
		t.Fatalf("node 3 commit %d applied %d last %d; want the leader's %d %d %d",
			follower.Commit, follower.Applied, follower.LastIndex, lead.Commit, lead.Applied, lead.LastIndex)
	}
	// Node 3 applied only what came after the snapshot.
	if got := nw.appliedData(3); !slices.Equal(got, []string{"b"}) {
		t.Fatalf("node 3 applied %q after the snapshot; want [b]", got)
	}
	if first, _ := nw.stores[3].FirstIndex(); first != meta.Index+1 {
		t.Fatalf("node 3 FirstIndex() = %d; want %d", first, meta.Index+1)
	}
	if pr := nw.nodes[1].prs[3]; pr.state != stateReplicate || pr.match != lead.LastIndex {
		t.Fatalf("leader's progress of node 3 is %s match %d; want replicate match %d", pr.state, pr.match, lead.LastIndex)
	}
}

func TestSnapshotReadyContract(t *testing.T) {
	st := coreStorage(t, []Term{1, 1}, HardState{Term: 1, Commit: 1})
	r, err := New(coreConfig(2, []NodeID{1, 2, 3}, st))
	if err != nil {
		t.Fatalf("New = %v; want nil", err)
	}
	snap := SnapshotMeta{Index: 10, Term: 2, Voters: []NodeID{1, 2, 3}}
	if err := r.Step(Message{Type: MsgSnap, From: 1, To: 2, Term: 2, Snapshot: &snap}); err != nil {
		t.Fatalf("Step(MsgSnap) = %v; want nil", err)
	}
	// An append after the snapshot, stepped before the driver's next Ready.
	app := Message{Type: MsgApp, From: 1, To: 2, Term: 2, Index: 10, LogTerm: 2, Commit: 11,
		Entries: []Entry{{Index: 11, Term: 2, Data: []byte("x")}}}
	if err := r.Step(app); err != nil {
		t.Fatalf("Step(MsgApp) = %v; want nil", err)
	}
	if !r.HasReady() {
		t.Fatalf("HasReady() = false after a snapshot; want true")
	}
	rd := r.Ready()
	if rd.Snapshot == nil || rd.Snapshot.Index != 10 || rd.Snapshot.Term != 2 {
		t.Fatalf("Ready().Snapshot = %v; want index 10 term 2", rd.Snapshot)
	}
	if len(rd.CommittedEntries) != 0 {
		t.Fatalf("Ready().CommittedEntries = %v with a snapshot to install; want none", rd.CommittedEntries)
	}
	if len(rd.Entries) != 1 || rd.Entries[0].Index != 11 {
		t.Fatalf("Ready().Entries = %v; want entry 11", rd.Entries)
	}
	if rd.HardState.Commit != 11 || rd.HardState.Term != 2 {
		t.Fatalf("Ready().HardState = %+v; want term 2 commit 11", rd.HardState)
	}
	var acks []Index
	for _, m := range rd.Messages {
		if m.Type == MsgAppResp && !m.Reject {
			acks = append(acks, m.Index)
		}
	}
	if !slices.Equal(acks, []Index{10, 11}) {
		t.Fatalf("acknowledged %v; want [10 11]", acks)
	}
	if err := st.ApplySnapshot(*rd.Snapshot); err != nil {
		t.Fatalf("ApplySnapshot = %v; want nil", err)
	}
	st.SetHardState(rd.HardState)
	if err := st.Append(rd.Entries); err != nil {
		t.Fatalf("Append = %v; want nil", err)
	}
	r.Advance(rd)
	if got := r.Status().Applied; got != 10 {
		t.Fatalf("Applied after installing = %d; want 10", got)
	}
	rd = r.Ready()
	if rd.Snapshot != nil || len(rd.CommittedEntries) != 1 || rd.CommittedEntries[0].Index != 11 {
		t.Fatalf("next Ready() = snapshot %v, committed %v; want no snapshot and entry 11", rd.Snapshot, rd.CommittedEntries)
	}
	r.Advance(rd)
	if r.HasReady() {
		t.Fatalf("HasReady() = true after everything was advanced; want false")
	}
}

func TestSnapshotAlreadyCovered(t *testing.T) {
	tests := []struct {
		name string
		// the follower's log terms and commit index
		terms  []Term
		commit Index
		snap   SnapshotMeta
		// want: the acknowledged index, the commit after, whether the log is replaced
		wantAck     Index
		wantCommit  Index
		wantRestore bool
	}{
		{name: "at or below commit", terms: []Term{1, 1, 1}, commit: 3, snap: SnapshotMeta{Index: 2, Term: 1, Voters: []NodeID{1, 2, 3}},
			wantAck: 3, wantCommit: 3},
		{name: "log holds its last entry", terms: []Term{1, 1, 1, 2, 2}, commit: 1, snap: SnapshotMeta{Index: 4, Term: 2, Voters: []NodeID{1, 2, 3}},
			wantAck: 4, wantCommit: 4},
		{name: "log differs at its index", terms: []Term{1, 1, 1, 1}, commit: 1, snap: SnapshotMeta{Index: 4, Term: 2, Voters: []NodeID{1, 2, 3}},
			wantAck: 4, wantCommit: 4, wantRestore: true},
		{name: "log too short", terms: []Term{1}, commit: 1, snap: SnapshotMeta{Index: 9, Term: 2, Voters: []NodeID{1, 2, 3}},
			wantAck: 9, wantCommit: 9, wantRestore: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := coreStorage(t, tt.terms, HardState{Term: 2, Commit: tt.commit})
			r, err := New(coreConfig(2, []NodeID{1, 2, 3}, st))
			if err != nil {
				t.Fatalf("New = %v; want nil", err)
			}
			last := r.Status().LastIndex
			snap := tt.snap
			if err := r.Step(Message{Type: MsgSnap, From: 1, To: 2, Term: 2, Snapshot: &snap}); err != nil {
				t.Fatalf("Step(MsgSnap) = %v; want nil", err)
			}
			rd := r.Ready()
			if got := rd.Snapshot != nil; got != tt.wantRestore {
				t.Fatalf("Ready().Snapshot = %v; want restore %v", rd.Snapshot, tt.wantRestore)
			}
			if len(rd.Messages) != 1 || rd.Messages[0].Type != MsgAppResp || rd.Messages[0].Index != tt.wantAck {
				t.Fatalf("answer = %+v; want MsgAppResp index %d", rd.Messages, tt.wantAck)
			}
			st2 := r.Status()
			if st2.Commit != tt.wantCommit {
				t.Fatalf("Commit = %d; want %d", st2.Commit, tt.wantCommit)
			}
			if !tt.wantRestore && st2.LastIndex != last {
				t.Fatalf("LastIndex = %d; want %d kept", st2.LastIndex, last)
			}
		})
	}
}

func TestReportSnapshot(t *testing.T) {
	tests := []struct {
		name      string
		delivered bool
		// want is the first message the leader sends node 3 after the
		// report: a probe right after the snapshot, or the snapshot again.
		wantType  MessageType
		wantIndex Index
	}{
		{name: "delivered probes after the snapshot", delivered: true, wantType: MsgApp, wantIndex: 6},
		{name: "failed sends the snapshot again", delivered: false, wantType: MsgSnap},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nw := newCoreNet(t, 3)
			nw.elect(1)
			nw.cut[3] = true
			for i := 0; i < 5; i++ {
				nw.propose(1, "a")
			}
			meta := nw.snapshotLeader(1, 0)
			if meta.Index != 6 {
				t.Fatalf("snapshot at %d; want 6", meta.Index)
			}
			nw.cut[3] = false
			// The snapshot never arrives: the tap drops it.
			nw.tap = func(m Message) bool { return m.Type != MsgSnap }
			nw.tick(1)
			pr := nw.nodes[1].prs[3]
			if pr.state != stateSnapshot || pr.pendingSnapshot != meta.Index {
				t.Fatalf("progress of node 3 is %s pending %d; want snapshot pending %d", pr.state, pr.pendingSnapshot, meta.Index)
			}
			// Paused: heartbeats draw no further MsgSnap.
			nw.tick(1)
			nw.tick(1)
			if got := nw.sent[MsgSnap]; got != 0 {
				t.Fatalf("MsgSnap delivered %d times through the tap; want 0", got)
			}
			var first *Message
			nw.tap = func(m Message) bool {
				if first == nil && m.To == 3 && m.Type != MsgHeartbeat {
					first = &m
				}
				return true
			}
			nw.nodes[1].ReportSnapshot(3, tt.delivered)
			if pr.state != stateProbe {
				t.Fatalf("progress of node 3 after the report is %s; want probe", pr.state)
			}
			for i := 0; i < 3; i++ {
				nw.tick(1)
			}
			if first == nil || first.Type != tt.wantType || (tt.wantType == MsgApp && first.Index != tt.wantIndex) {
				t.Fatalf("first message to node 3 after the report = %+v; want %s at index %d", first, tt.wantType, tt.wantIndex)
			}
			// Either way the follower catches up, by a second snapshot or
			// by the probe's rejection leading to one.
			if got, want := nw.nodes[3].Status().Commit, nw.nodes[1].Status().Commit; got != want {
				t.Fatalf("node 3 commit = %d; want the leader's %d", got, want)
			}
			if got := len(nw.restored[3]); got != 1 {
				t.Fatalf("node 3 installed %d snapshots; want 1", got)
			}
		})
	}
}

func TestRestartFromSnapshot(t *testing.T) {
	st := coreStorage(t, []Term{1, 1, 1, 2, 2, 2}, HardState{Term: 2, Commit: 6})
	meta := SnapshotMeta{Index: 5, Term: 2, Voters: []NodeID{1}}
	if err := st.SetSnapshot(meta); err != nil {
		t.Fatalf("SetSnapshot = %v; want nil", err)
	}
	if err := st.Compact(5); err != nil {
		t.Fatalf("Compact(5) = %v; want nil", err)
	}
	if _, err := New(coreConfig(1, []NodeID{1}, st)); err == nil {
		t.Fatalf("New with applied 0 over a log compacted to 5 = nil; want an error")
	}
	cfg := coreConfig(1, []NodeID{1}, st)
	cfg.Applied = 5
	r, err := New(cfg)
	if err != nil {
		t.Fatalf("New with applied 5 = %v; want nil", err)
	}
	rd := r.Ready()
	if len(rd.CommittedEntries) != 1 || rd.CommittedEntries[0].Index != 6 {
		t.Fatalf("Ready().CommittedEntries = %v; want entry 6 only", rd.CommittedEntries)
	}
}

func TestSnapshotMessageValidation(t *testing.T) {
	st := coreStorage(t, []Term{1}, HardState{Term: 1, Commit: 1})
	r, err := New(coreConfig(2, []NodeID{1, 2, 3}, st))
	if err != nil {
		t.Fatalf("New = %v; want nil", err)
	}
	snap := func(i Index, term Term, voters ...NodeID) *SnapshotMeta {
		return &SnapshotMeta{Index: i, Term: term, Voters: voters}
	}
	tests := []struct {
		name string
		m    Message
	}{
		{name: "no snapshot", m: Message{Type: MsgSnap, From: 1, To: 2, Term: 2}},
		{name: "index 0", m: Message{Type: MsgSnap, From: 1, To: 2, Term: 2, Snapshot: snap(0, 1, 1, 2, 3)}},
		{name: "term above message", m: Message{Type: MsgSnap, From: 1, To: 2, Term: 2, Snapshot: snap(5, 3, 1, 2, 3)}},
		{name: "term 0", m: Message{Type: MsgSnap, From: 1, To: 2, Term: 2, Snapshot: snap(5, 0, 1, 2, 3)}},
		{name: "no voters", m: Message{Type: MsgSnap, From: 1, To: 2, Term: 2, Snapshot: snap(5, 1)}},
		{name: "voter None", m: Message{Type: MsgSnap, From: 1, To: 2, Term: 2, Snapshot: snap(5, 1, 1, 0)}},
		{name: "voter twice", m: Message{Type: MsgSnap, From: 1, To: 2, Term: 2, Snapshot: snap(5, 1, 1, 2, 1)}},
		{name: "snapshot on MsgApp", m: Message{Type: MsgApp, From: 1, To: 2, Term: 2, Snapshot: snap(5, 1, 1, 2, 3)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := r.Status()
			if err := r.Step(tt.m); !errors.Is(err, ErrInvalidMessage) {
				t.Fatalf("Step(%s) = %v; want ErrInvalidMessage", tt.name, err)
			}
			if after := r.Status(); after != before {
				t.Fatalf("Status() = %+v after a refused message; want %+v", after, before)
			}
		})
	}
}

func TestMemoryStorageSnapshots(t *testing.T) {
	st := coreStorage(t, []Term{1, 1, 2}, HardState{Term: 2, Commit: 3})
	if err := st.SetSnapshot(SnapshotMeta{Index: 2, Term: 2, Voters: []NodeID{1}}); err == nil {
		t.Fatalf("SetSnapshot with the wrong term = nil; want an error")
	}
	if err := st.SetSnapshot(SnapshotMeta{Index: 2, Term: 1, Voters: []NodeID{1}}); err != nil {
		t.Fatalf("SetSnapshot(2) = %v; want nil", err)
	}
	if err := st.SetSnapshot(SnapshotMeta{Index: 2, Term: 1, Voters: []NodeID{1}}); !errors.Is(err, ErrSnapshotOutOfDate) {
		t.Fatalf("SetSnapshot(2) again = %v; want ErrSnapshotOutOfDate", err)
	}
	if err := st.ApplySnapshot(SnapshotMeta{Index: 1, Term: 1, Voters: []NodeID{1}}); !errors.Is(err, ErrSnapshotOutOfDate) {
		t.Fatalf("ApplySnapshot(1) = %v; want ErrSnapshotOutOfDate", err)
	}
	if err := st.ApplySnapshot(SnapshotMeta{Index: 7, Term: 3, Voters: []NodeID{1}}); err != nil {
		t.Fatalf("ApplySnapshot(7) = %v; want nil", err)
	}
	first, _ := st.FirstIndex()
	last, _ := st.LastIndex()
	term, err := st.Term(7)
	if first != 8 || last != 7 || term != 3 || err != nil {
		t.Fatalf("after ApplySnapshot(7): first %d last %d Term(7) %d, %v; want 8 7 3 nil", first, last, term, err)
	}
	if got, _ := st.Snapshot(); got.Index != 7 {
		t.Fatalf("Snapshot().Index = %d; want 7", got.Index)
	}
}

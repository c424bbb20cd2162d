package consensus

// These tests prove the Ready/Advance contract at the core's edge: a vote
// travels in the same Ready as the HardState recording it, SoftState appears
// only on change, and entries replaced between a Ready and its Advance stay
// unstable and are handed out again.

import (
	"slices"
	"testing"
)

func TestVoteAndItsResponseShareAReady(t *testing.T) {
	nw := newCoreNet(t, 3)
	r := nw.nodes[2]
	if err := r.Step(Message{Type: MsgVote, From: 3, To: 2, Term: 4}); err != nil {
		t.Fatalf("Step(MsgVote) = %v; want nil", err)
	}
	rd := r.Ready()
	if rd.HardState.Term != 4 || rd.HardState.Vote != 3 {
		t.Fatalf("Ready().HardState = %+v; want term 4 vote 3", rd.HardState)
	}
	if len(rd.Messages) != 1 || rd.Messages[0].Type != MsgVoteResp || rd.Messages[0].Reject {
		t.Fatalf("Ready().Messages = %v; want the grant", rd.Messages)
	}
}

func TestSoftStateOnlyOnChange(t *testing.T) {
	nw := newCoreNet(t, 3)
	r := nw.nodes[1]
	for r.Status().Role != RolePreCandidate {
		r.Tick()
	}
	rd := r.Ready()
	if rd.SoftState == nil || rd.SoftState.Role != RolePreCandidate {
		t.Fatalf("Ready().SoftState = %v; want pre-candidate", rd.SoftState)
	}
	nw.stores[1].SetHardState(rd.HardState)
	r.Advance(rd)
	r.Tick()
	if rd := r.Ready(); rd.SoftState != nil {
		t.Fatalf("Ready().SoftState without a change = %+v; want nil", *rd.SoftState)
	}
}

func TestEntriesReplacedBeforeAdvanceAreHandedOutAgain(t *testing.T) {
	nw := newCoreNetFrom(t,
		coreStorage(t, []Term{1}, HardState{Term: 1, Commit: 1}),
		coreStorage(t, []Term{1}, HardState{Term: 1, Commit: 1}),
		coreStorage(t, []Term{1}, HardState{Term: 1, Commit: 1}),
	)
	r, st := nw.nodes[2], nw.stores[2]
	// The leader of term 1 sends entries 2 and 3; the Ready carrying them is
	// persisted, but before its Advance the leader of term 2 replaces 3.
	if err := r.Step(Message{Type: MsgApp, From: 1, To: 2, Term: 1, Index: 1, LogTerm: 1,
		Entries: []Entry{{Index: 2, Term: 1}, {Index: 3, Term: 1}}}); err != nil {
		t.Fatalf("Step(MsgApp term 1) = %v; want nil", err)
	}
	rd := r.Ready()
	st.SetHardState(rd.HardState)
	if err := st.Append(rd.Entries); err != nil {
		t.Fatalf("Append = %v; want nil", err)
	}
	if err := r.Step(Message{Type: MsgApp, From: 3, To: 2, Term: 2, Index: 2, LogTerm: 1,
		Entries: []Entry{{Index: 3, Term: 2}}}); err != nil {
		t.Fatalf("Step(MsgApp term 2) = %v; want nil", err)
	}
	r.Advance(rd)
	rd = r.Ready()
	var got []Term
	for _, e := range rd.Entries {
		got = append(got, e.Term)
	}
	if len(rd.Entries) == 0 || rd.Entries[len(rd.Entries)-1].Index != 3 || !slices.Equal(got[len(got)-1:], []Term{2}) {
		t.Fatalf("Ready().Entries after the replacement = %v; want it to end with entry 3 of term 2", rd.Entries)
	}
	st.SetHardState(rd.HardState)
	if err := st.Append(rd.Entries); err != nil {
		t.Fatalf("Append = %v; want nil", err)
	}
	r.Advance(rd)
	if term, err := st.Term(3); err != nil || term != 2 {
		t.Fatalf("stored Term(3) = %d, %v; want 2, nil", term, err)
	}
	if len(r.log.unstable.entries) != 0 {
		t.Fatalf("unstable entries after Advance = %v; want none", r.log.unstable.entries)
	}
}

func TestPreCandidateStepsDownForLeaderOfItsTerm(t *testing.T) {
	nw := newCoreNet(t, 3)
	nw.elect(1)
	nw.cut[2] = true
	r := nw.nodes[2]
	for r.Status().Role != RolePreCandidate {
		r.Tick()
	}
	nw.flush()
	delete(nw.cut, 2)
	nw.tick(1)
	if st := r.Status(); st.Role != RoleFollower || st.Lead != 1 || st.Term != 1 {
		t.Fatalf("pre-candidate after a heartbeat: role %s lead %d term %d; want follower of 1 at term 1", st.Role, st.Lead, st.Term)
	}
}

func TestLeaderIgnoresHigherTermVotes(t *testing.T) {
	nw := newCoreNet(t, 3)
	nw.elect(1)
	for _, typ := range []MessageType{MsgPreVote, MsgVote} {
		out := nw.stepAndCollect(Message{Type: typ, From: 3, To: 1, Term: 9, Index: 50, LogTerm: 8})
		if len(out) != 0 {
			t.Fatalf("leader answered %s at a higher term with %v; want nothing", typ, out)
		}
		if st := nw.nodes[1].Status(); st.Role != RoleLeader || st.Term != 1 {
			t.Fatalf("after %s: role %s term %d; want leader at term 1", typ, st.Role, st.Term)
		}
	}
}

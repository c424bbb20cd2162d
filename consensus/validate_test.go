package consensus

// These tests prove that messages no correct peer sends are refused by Step
// with ErrInvalidMessage, without a panic and without changing the core.

import (
	"errors"
	"testing"
)

func TestStepRejectsMalformedMessages(t *testing.T) {
	ents := func(first Index, terms ...Term) []Entry {
		out := make([]Entry, len(terms))
		for i, term := range terms {
			out[i] = Entry{Index: first + Index(i), Term: term}
		}
		return out
	}
	cases := []struct {
		name string
		m    Message
	}{
		{"zero type", Message{Type: 0, From: 2, To: 1, Term: 1}},
		{"unknown type", Message{Type: 200, From: 2, To: 1, Term: 1}},
		{"snapshot not supported", Message{Type: MsgSnap, From: 2, To: 1, Term: 1}},
		{"wrong recipient", Message{Type: MsgHeartbeat, From: 2, To: 3, Term: 1}},
		{"from none", Message{Type: MsgHeartbeat, From: None, To: 1, Term: 1}},
		{"from self", Message{Type: MsgHeartbeat, From: 1, To: 1, Term: 1}},
		{"undecodable membership entry", Message{Type: MsgApp, From: 2, To: 1, Term: 1, Entries: []Entry{{Index: 1, Term: 1, Type: EntryConfChange, Data: []byte{1, 0}}}}},
		{"membership entry without voters", Message{Type: MsgApp, From: 2, To: 1, Term: 1, Entries: []Entry{{Index: 1, Term: 1, Type: EntryConfChange, Data: EncodeMembership(Membership{})}}}},
		{"snapshot with a learner that votes", Message{Type: MsgSnap, From: 2, To: 1, Term: 1, Snapshot: &SnapshotMeta{Index: 5, Term: 1, Voters: []NodeID{1, 2}, Learners: []NodeID{2}}}},
		{"entries on a heartbeat", Message{Type: MsgHeartbeat, From: 2, To: 1, Term: 1, Entries: ents(1, 1)}},
		{"entries not after prevLogIndex", Message{Type: MsgApp, From: 2, To: 1, Term: 1, Index: 0, Entries: ents(2, 1)}},
		{"entries not contiguous", Message{Type: MsgApp, From: 2, To: 1, Term: 1, Entries: []Entry{{Index: 1, Term: 1}, {Index: 3, Term: 1}}}},
		{"entry term above message term", Message{Type: MsgApp, From: 2, To: 1, Term: 1, Entries: ents(1, 2)}},
		{"entry terms falling", Message{Type: MsgApp, From: 2, To: 1, Term: 3, Entries: ents(1, 3, 2)}},
		{"entry term below prevLogTerm", Message{Type: MsgApp, From: 2, To: 1, Term: 3, Index: 4, LogTerm: 2, Entries: ents(5, 1)}},
		{"prevLogTerm above term", Message{Type: MsgApp, From: 2, To: 1, Term: 1, Index: 4, LogTerm: 2}},
		{"entry index overflow", Message{Type: MsgApp, From: 2, To: 1, Term: 1, Index: ^Index(0), Entries: ents(0, 1)}},
		{"unknown entry type", Message{Type: MsgApp, From: 2, To: 1, Term: 1, Entries: []Entry{{Index: 1, Term: 1, Type: 9}}}},
		{"reject hint above index", Message{Type: MsgAppResp, From: 2, To: 1, Term: 1, Index: 3, Reject: true, RejectHint: 4}},
		{"term past the max", Message{Type: MsgHeartbeat, From: 2, To: 1, Term: ^Term(0)}},
		{"vote at term 0", Message{Type: MsgVote, From: 2, To: 1, Term: 0}},
		{"pre-vote with log term above term", Message{Type: MsgPreVote, From: 2, To: 1, Term: 1, LogTerm: 2}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			nw := newCoreNet(t, 3)
			r := nw.nodes[1]
			before := r.Status()
			if err := r.Step(tc.m); !errors.Is(err, ErrInvalidMessage) {
				t.Fatalf("Step(%+v) = %v; want ErrInvalidMessage", tc.m, err)
			}
			if after := r.Status(); after != before {
				t.Fatalf("Status() after a refused message = %+v; want %+v", after, before)
			}
			if rd := r.Ready(); len(rd.Messages) != 0 || len(rd.Entries) != 0 {
				t.Fatalf("Ready() after a refused message = %d messages, %d entries; want none", len(rd.Messages), len(rd.Entries))
			}
		})
	}
}

func TestStepRejectsImpossibleProtocolMessages(t *testing.T) {
	cases := []struct {
		name string
		m    func(nw *coreNet) Message
	}{
		{"ack past the leader's log", func(nw *coreNet) Message {
			return Message{Type: MsgAppResp, From: 2, To: 1, Term: 1, Index: 99}
		}},
		{"rejection past the leader's log", func(nw *coreNet) Message {
			return Message{Type: MsgAppResp, From: 2, To: 1, Term: 1, Index: 99, Reject: true, RejectHint: 98}
		}},
		{"append from another leader of our term", func(nw *coreNet) Message {
			return Message{Type: MsgApp, From: 2, To: 1, Term: 1, Index: 1, LogTerm: 1}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			nw := newCoreNet(t, 3)
			nw.elect(1)
			if err := nw.nodes[1].Step(tc.m(nw)); !errors.Is(err, ErrInvalidMessage) {
				t.Fatalf("Step = %v; want ErrInvalidMessage", err)
			}
			if st := nw.nodes[1].Status(); st.Role != RoleLeader || st.Commit != 1 {
				t.Fatalf("Status() = %+v; want the leader unchanged at commit 1", st)
			}
		})
	}
}

func TestAppendBelowCommitNeverTruncates(t *testing.T) {
	nw := newCoreNet(t, 3)
	nw.elect(1)
	nw.propose(1, "a")
	// Node 2 committed index 2 at term 1. A MsgApp whose prevLogIndex is
	// below that (a stale or broken sender) must not touch the committed
	// prefix: the follower answers with its commit index instead.
	m := Message{Type: MsgApp, From: 3, To: 2, Term: 2, Index: 1, LogTerm: 1,
		Entries: []Entry{{Index: 2, Term: 2}}, Commit: 2}
	out := nw.stepAndCollect(m)
	if len(out) != 1 || out[0].Type != MsgAppResp || out[0].Reject || out[0].Index != 2 {
		t.Fatalf("Step(MsgApp below commit) sent %v; want one MsgAppResp acknowledging 2", out)
	}
	if got := nw.logTerms(2); len(got) != 2 || got[1] != 1 {
		t.Fatalf("node 2 log terms = %v; want [1 1]", got)
	}
}

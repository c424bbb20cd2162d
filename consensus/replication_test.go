package consensus

// These tests prove the leader's replication flow control: entries batched
// per MsgApp up to MaxMsgBytes, at most MaxInflightMsgs MsgApps in flight
// per pipelining follower, and a follower that never lets a duplicated
// MsgApp shorten its log.

import (
	"slices"
	"testing"
)

func TestAppendBatchingAndInflightWindow(t *testing.T) {
	cases := []struct {
		name        string
		maxBytes    uint64
		maxInflight int
		wantMsgs    int // MsgApps with entries to node 2 while acks are held
		wantMaxEnts int // the most entries one MsgApp carries
	}{
		{"one entry per message, window 2", 1, 2, 2, 1},
		{"one entry per message, window 4", 1, 4, 4, 1},
		{"one entry per message, window past the entries", 1, 64, 10, 1},
		{"large batches", 1 << 20, 2, 1, 10},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			nw := newCoreNet(t, 3)
			cfg := coreConfig(1, nw.ids, nw.stores[1])
			cfg.MaxMsgBytes, cfg.MaxInflightMsgs = tc.maxBytes, tc.maxInflight
			nw.start(1, cfg)
			nw.elect(1)
			nw.propose(1, "warm") // node 2 pipelines now
			msgs, maxEnts := 0, 0
			nw.tap = func(m Message) bool {
				if m.Type == MsgApp && m.To == 2 && len(m.Entries) > 0 {
					msgs++
					maxEnts = max(maxEnts, len(m.Entries))
				}
				return !(m.Type == MsgAppResp && m.From == 2)
			}
			for i := 0; i < 10; i++ {
				if _, _, err := nw.nodes[1].Propose([]byte("0123456789")); err != nil {
					t.Fatalf("Propose = %v; want nil", err)
				}
			}
			nw.stabilize()
			if msgs != tc.wantMsgs || maxEnts != tc.wantMaxEnts {
				t.Fatalf("MsgApps to node 2 = %d, most entries in one = %d; want %d, %d", msgs, maxEnts, tc.wantMsgs, tc.wantMaxEnts)
			}
			// Acknowledgements flowing again drain the rest.
			nw.tap = nil
			for i := 0; i < 3; i++ {
				nw.tick(1, 2, 3)
			}
			if got, want := nw.logTerms(2), nw.logTerms(1); !slices.Equal(got, want) {
				t.Fatalf("node 2 log terms %v; want the leader's %v", got, want)
			}
		})
	}
}

func TestDuplicateAppendNeverTruncates(t *testing.T) {
	nw := newCoreNetFrom(t,
		coreStorage(t, []Term{1, 1, 1, 1}, HardState{Term: 1}),
		coreStorage(t, []Term{1, 1, 1, 1}, HardState{Term: 1}),
		coreStorage(t, []Term{1, 1, 1, 1}, HardState{Term: 1}),
	)
	// A late duplicate of an early MsgApp of the leader of term 1.
	m := Message{Type: MsgApp, From: 1, To: 2, Term: 1, Index: 1, LogTerm: 1, Entries: []Entry{{Index: 2, Term: 1}}}
	out := nw.stepAndCollect(m)
	if len(out) != 1 || out[0].Reject || out[0].Index != 2 {
		t.Fatalf("Step(duplicate MsgApp) sent %v; want one acknowledgement of 2", out)
	}
	if got := nw.logTerms(2); !slices.Equal(got, []Term{1, 1, 1, 1}) {
		t.Fatalf("log terms after a duplicate = %v; want [1 1 1 1]", got)
	}
}

func TestLostPipelinedAppendRecoversWithoutNewProposals(t *testing.T) {
	// Node 3 is down, so commitment needs node 2. The only MsgApp carrying
	// the proposal to node 2 is lost while node 2 pipelines; no further
	// proposal comes. Heartbeat responses must expose the gap (an empty
	// MsgApp at next-1 draws a rejection) so the entry still commits.
	nw := newCoreNet(t, 3)
	nw.elect(1)
	nw.propose(1, "warm")
	nw.cut[3] = true
	lost := false
	nw.tap = func(m Message) bool {
		if m.Type == MsgApp && m.To == 2 && len(m.Entries) > 0 && !lost {
			lost = true
			return false
		}
		return true
	}
	i := nw.propose(1, "x")
	if !lost {
		t.Fatalf("no MsgApp to node 2 was dropped")
	}
	for n := 0; n < 3*coreHeartbeatTicks; n++ {
		nw.tick(1, 2)
	}
	if got := nw.nodes[1].Status().Commit; got < i {
		t.Fatalf("Commit = %d; want >= %d", got, i)
	}
}

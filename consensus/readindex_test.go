package consensus

// These tests prove the ReadIndex protocol: a read is answered only after a
// quorum confirmed the leadership that took it, at a commit index that
// covers the leader's own term; followers get the index from the leader; and
// reads are dropped (never answered) when leadership is lost.

import (
	"errors"
	"slices"
	"testing"
)

func TestReadIndexOnLeader(t *testing.T) {
	nw := newCoreNet(t, 3)
	nw.elect(1)
	nw.propose(1, "a")
	if err := nw.nodes[1].ReadIndex([]byte("r1")); err != nil {
		t.Fatalf("ReadIndex(%q) = %v; want nil", "r1", err)
	}
	nw.stabilize()
	want := []ReadState{{Index: 2, RequestCtx: []byte("r1")}}
	if got := nw.reads[1]; !readStatesEqual(got, want) {
		t.Fatalf("read states = %v; want %v", got, want)
	}
}

func TestReadIndexNeedsQuorum(t *testing.T) {
	nw := newCoreNet(t, 3)
	nw.elect(1)
	nw.cut[2], nw.cut[3] = true, true
	if err := nw.nodes[1].ReadIndex([]byte("r")); err != nil {
		t.Fatalf("ReadIndex = %v; want nil", err)
	}
	for i := 0; i < coreElectionTicks/2; i++ {
		nw.tick(1)
	}
	if got := nw.reads[1]; len(got) != 0 {
		t.Fatalf("read states without a quorum = %v; want none", got)
	}
	// One follower back makes a quorum; the next heartbeat confirms.
	delete(nw.cut, 2)
	nw.tick(1)
	if got := nw.reads[1]; len(got) != 1 || string(got[0].RequestCtx) != "r" {
		t.Fatalf("read states with a quorum = %v; want the read", got)
	}
}

func TestReadIndexDroppedOnLeadershipLoss(t *testing.T) {
	nw := newCoreNet(t, 3)
	nw.elect(1)
	nw.cut[2], nw.cut[3] = true, true
	if err := nw.nodes[1].ReadIndex([]byte("r")); err != nil {
		t.Fatalf("ReadIndex = %v; want nil", err)
	}
	for i := 0; i < 2*coreElectionTicks && nw.nodes[1].Status().Role == RoleLeader; i++ {
		nw.tick(1)
	}
	clear(nw.cut)
	for i := 0; i < 4*coreElectionTicks; i++ {
		nw.tick(1, 2, 3)
	}
	if got := nw.reads[1]; len(got) != 0 {
		t.Fatalf("read states after losing leadership = %v; want none", got)
	}
}

func TestReadIndexOneNode(t *testing.T) {
	nw := newCoreNet(t, 1)
	nw.elect(1)
	if err := nw.nodes[1].ReadIndex([]byte("r")); err != nil {
		t.Fatalf("ReadIndex = %v; want nil", err)
	}
	if rd := nw.nodes[1].Ready(); len(rd.ReadStates) != 1 || rd.ReadStates[0].Index != 1 {
		t.Fatalf("Ready().ReadStates = %v; want one at index 1", rd.ReadStates)
	}
}

func TestReadIndexViaFollower(t *testing.T) {
	nw := newCoreNet(t, 3)
	nw.elect(1)
	nw.propose(1, "a")
	nw.propose(1, "b")
	if err := nw.nodes[2].ReadIndex([]byte("f")); err != nil {
		t.Fatalf("follower ReadIndex = %v; want nil", err)
	}
	nw.stabilize()
	want := []ReadState{{Index: 3, RequestCtx: []byte("f")}}
	if got := nw.reads[2]; !readStatesEqual(got, want) {
		t.Fatalf("follower read states = %v; want %v", got, want)
	}
	if got := nw.reads[1]; len(got) != 0 {
		t.Fatalf("leader read states = %v; want none (the read was the follower's)", got)
	}
}

func TestReadIndexNoLeader(t *testing.T) {
	nw := newCoreNet(t, 3)
	if err := nw.nodes[1].ReadIndex([]byte("r")); !errors.Is(err, ErrNoLeader) {
		t.Fatalf("ReadIndex without a leader = %v; want ErrNoLeader", err)
	}
}

func TestReadIndexWaitsForCommitInTerm(t *testing.T) {
	nw := newCoreNet(t, 3)
	hold := true
	nw.tap = func(m Message) bool { return !hold || m.Type != MsgAppResp }
	nw.elect(1)
	if got := nw.nodes[1].Status().Commit; got != 0 {
		t.Fatalf("Commit with acknowledgements held = %d; want 0", got)
	}
	if err := nw.nodes[1].ReadIndex([]byte("r")); err != nil {
		t.Fatalf("ReadIndex = %v; want nil", err)
	}
	nw.tick(1, 2, 3) // heartbeats are answered, but nothing of term 1 is committed
	if got := nw.reads[1]; len(got) != 0 {
		t.Fatalf("read states before the first commit of the term = %v; want none", got)
	}
	hold = false
	nw.tick(1, 2, 3)
	want := []ReadState{{Index: 1, RequestCtx: []byte("r")}}
	if got := nw.reads[1]; !readStatesEqual(got, want) {
		t.Fatalf("read states after the commit = %v; want %v", got, want)
	}
}

func TestReadIndexPendingBound(t *testing.T) {
	nw := newCoreNet(t, 3)
	nw.elect(1)
	nw.cut[2], nw.cut[3] = true, true
	for i := 0; i < PendingReadsMax; i++ {
		if err := nw.nodes[1].ReadIndex(nil); err != nil {
			t.Fatalf("ReadIndex #%d = %v; want nil", i, err)
		}
	}
	if err := nw.nodes[1].ReadIndex(nil); !errors.Is(err, ErrProposalDropped) {
		t.Fatalf("ReadIndex past %d pending = %v; want ErrProposalDropped", PendingReadsMax, err)
	}
}

func readStatesEqual(a, b []ReadState) bool {
	return slices.EqualFunc(a, b, func(x, y ReadState) bool {
		return x.Index == y.Index && string(x.RequestCtx) == string(y.RequestCtx)
	})
}

func TestReadIndexBurstIsOneRound(t *testing.T) {
	nw := newCoreNet(t, 3)
	nw.elect(1)
	heartbeats := 0
	nw.tap = func(m Message) bool {
		if m.Type == MsgHeartbeat && len(m.Context) > 0 {
			heartbeats++
		}
		return true
	}
	const burst = 50
	for i := 0; i < burst; i++ {
		if err := nw.nodes[1].ReadIndex([]byte{byte(i)}); err != nil {
			t.Fatalf("ReadIndex #%d = %v; want nil", i, err)
		}
	}
	nw.stabilize()
	if got := len(nw.reads[1]); got != burst {
		t.Fatalf("read states = %d; want %d", got, burst)
	}
	if heartbeats != 2 {
		t.Fatalf("heartbeats carrying a read context = %d; want 2 (one round to two followers)", heartbeats)
	}
}

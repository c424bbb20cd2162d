package consensus

// Membership changes (§6) and leadership transfer on the in-test network:
// learners catch up without voting, voters change only through the joint
// configuration whose decisions need both majorities, a removed leader hands
// over, a removed node cannot disrupt, a truncated membership entry stops
// counting, and TimeoutNow moves the leadership without an election timeout.

import (
	"errors"
	"slices"
	"testing"
)

// join adds a fresh node id that knows no membership: it learns it from
// the log the leader sends once the node is added.
func (nw *coreNet) join(id NodeID) {
	nw.t.Helper()
	nw.ids = append(nw.ids, id)
	nw.stores[id] = NewMemoryStorage()
	nw.start(id, coreConfig(id, nil, nw.stores[id]))
}

// change proposes cc on leader and stabilizes, failing on a refusal.
func (nw *coreNet) change(leader NodeID, op ConfChangeOp, node NodeID) {
	nw.t.Helper()
	if _, _, err := nw.nodes[leader].ProposeConfChange(ConfChange{Op: op, Node: node}); err != nil {
		nw.t.Fatalf("node %d: ProposeConfChange(%s %d) = %v; want nil", leader, op, node, err)
	}
	nw.stabilize()
}

// wantMembership fails unless node id uses a non-joint membership with
// exactly voters and learners.
func (nw *coreNet) wantMembership(id NodeID, voters, learners []NodeID) {
	nw.t.Helper()
	m, _ := nw.nodes[id].Membership()
	if !slices.Equal(m.Voters, voters) || m.Joint() || !slices.Equal(m.Learners, learners) {
		nw.t.Fatalf("node %d: Membership() = %s; want voters=%v learners=%v", id, m, voters, learners)
	}
}

func TestMembershipEncoding(t *testing.T) {
	ms := []Membership{
		{Voters: []NodeID{1}},
		{Voters: []NodeID{1, 2, 3, 4}, Outgoing: []NodeID{1, 2, 3}, Learners: []NodeID{9}, Context: []byte("dir")},
		{Voters: []NodeID{1 << 62}, Learners: []NodeID{2, 3}},
	}
	for _, m := range ms {
		got, err := DecodeMembership(EncodeMembership(m))
		if err != nil || !got.Equal(&m) {
			t.Errorf("DecodeMembership(EncodeMembership(%s)) = %s, %v; want it back", m, got, err)
		}
	}
	bad := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"unknown format", []byte{2, 1, 1, 0, 0, 0}},
		{"truncated", EncodeMembership(Membership{Voters: []NodeID{1, 2}})[:3]},
		{"trailing bytes", append(EncodeMembership(Membership{Voters: []NodeID{1}}), 0)},
		{"no voters", EncodeMembership(Membership{})},
		{"voter none", EncodeMembership(Membership{Voters: []NodeID{0}})},
		{"unsorted", EncodeMembership(Membership{Voters: []NodeID{2, 1}})},
		{"twice", EncodeMembership(Membership{Voters: []NodeID{1, 1}})},
		{"learner votes", EncodeMembership(Membership{Voters: []NodeID{1}, Learners: []NodeID{1}})},
		{"too many voters", EncodeMembership(Membership{Voters: make([]NodeID, VotersMax+1)})},
		{"context too large", EncodeMembership(Membership{Voters: []NodeID{1}, Context: make([]byte, ConfContextBytesMax+1)})},
	}
	for _, tc := range bad {
		if m, err := DecodeMembership(tc.data); err == nil {
			t.Errorf("%s: DecodeMembership = %s, nil; want an error", tc.name, m)
		}
	}
}

func FuzzDecodeMembership(f *testing.F) {
	f.Add(EncodeMembership(Membership{Voters: []NodeID{1, 2, 3}, Outgoing: []NodeID{1, 2}, Learners: []NodeID{4}, Context: []byte("x")}))
	f.Add([]byte{1, 1, 1, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := DecodeMembership(data)
		if err != nil {
			return
		}
		again, err := DecodeMembership(EncodeMembership(m))
		if err != nil || !again.Equal(&m) {
			t.Fatalf("re-encoding %s gives %s, %v", m, again, err)
		}
	})
}

func TestGrowThreeToFive(t *testing.T) {
	nw := newCoreNet(t, 3)
	nw.elect(1)
	nw.propose(1, "before")
	for _, id := range []NodeID{4, 5} {
		nw.join(id)
		nw.change(1, ConfAddLearner, id)
		// A heartbeat round lets the leader find where the learner's
		// empty log starts and replicate to it.
		nw.tick(1)
		if got := nw.appliedData(id); !slices.Equal(got, []string{"before"}) {
			t.Fatalf("learner %d applied %q; want [before]", id, got)
		}
		nw.change(1, ConfPromote, id)
	}
	all := []NodeID{1, 2, 3, 4, 5}
	for _, id := range all {
		nw.wantMembership(id, all, nil)
	}
	if st := nw.nodes[1].Status(); st.ConfPending {
		t.Fatalf("Status().ConfPending = true after the change finished; want false")
	}
	// Three of five is now a quorum without the old voters 2 and 3.
	nw.cut[2], nw.cut[3] = true, true
	i := nw.propose(1, "after")
	if c := nw.nodes[1].Status().Commit; c < i {
		t.Fatalf("commit %d < %d with voters 1, 4, 5 up; want committed", c, i)
	}
}

func TestJointConfigurationNeedsBothMajorities(t *testing.T) {
	nw := newCoreNet(t, 3)
	nw.elect(1)
	nw.join(4)
	nw.change(1, ConfAddLearner, 4)
	nw.tick(1)
	// C_old = {1,2,3}, C_new = {1,2,3,4}. With 3 and 4 down, {1,2} is a
	// majority of C_old but not of C_new: nothing may commit.
	jointIndex, _, err := nw.nodes[1].ProposeConfChange(ConfChange{Op: ConfPromote, Node: 4})
	if err != nil {
		t.Fatalf("ProposeConfChange(promote 4) = %v; want nil", err)
	}
	nw.cut[3], nw.cut[4] = true, true
	nw.stabilize()
	if c := nw.nodes[1].Status().Commit; c >= jointIndex {
		t.Fatalf("commit %d reached the joint entry %d with only {1,2}; want it below", c, jointIndex)
	}
	if _, _, err := nw.nodes[1].ProposeConfChange(ConfChange{Op: ConfRemove, Node: 2}); !errors.Is(err, ErrConfChangePending) {
		t.Fatalf("second ProposeConfChange = %v; want ErrConfChangePending", err)
	}
	// {1,2,4} is a majority of both halves.
	nw.cut[4] = false
	nw.tick(1)
	nw.wantMembership(1, []NodeID{1, 2, 3, 4}, nil)
	if st := nw.nodes[1].Status(); st.ConfPending || st.Commit < st.ConfIndex {
		t.Fatalf("Status() = %+v; want the change finished", st)
	}
}

func TestRemoveLeaderHandsOver(t *testing.T) {
	nw := newCoreNet(t, 3)
	nw.elect(1)
	nw.propose(1, "x")
	nw.change(1, ConfRemove, 1)
	// No ticks: the removed leader steps down once C_new commits and its
	// MsgTimeoutNow makes a remaining voter campaign at once.
	leaders := nw.leaders()
	if len(leaders) != 1 || leaders[0] == 1 {
		t.Fatalf("leaders %v after removing leader 1; want one of 2, 3", leaders)
	}
	nw.wantMembership(leaders[0], []NodeID{2, 3}, nil)
	if st := nw.nodes[1].Status(); st.Role != RoleFollower {
		t.Fatalf("removed node 1 is %s; want follower", st.Role)
	}
	nw.propose(leaders[0], "y")
	// The removed node never campaigns again, however long it waits.
	term := nw.nodes[leaders[0]].Status().Term
	for range 10 * coreElectionTicks {
		nw.tick(1, leaders[0])
	}
	if st := nw.nodes[leaders[0]].Status(); st.Role != RoleLeader || st.Term != term {
		t.Fatalf("leader %d is %s at term %d after the removed node waited; want leader at %d", leaders[0], st.Role, st.Term, term)
	}
}

func TestRemovedNodeCannotDisrupt(t *testing.T) {
	nw := newCoreNet(t, 3)
	nw.elect(1)
	// Node 3 sees the joint entry (it is in C_old) but not C_new: it still
	// thinks it votes, and times out waiting for a leader that left it.
	nw.tap = func(m Message) bool {
		if m.To != 3 || m.Type != MsgApp {
			return true
		}
		for _, e := range m.Entries {
			if ms, err := DecodeMembership(e.Data); e.Type == EntryConfChange && err == nil && !ms.Joint() {
				return false
			}
		}
		return true
	}
	nw.change(1, ConfRemove, 3)
	nw.tap = nil
	nw.wantMembership(1, []NodeID{1, 2}, nil)
	term := nw.nodes[1].Status().Term
	for range 10 * coreElectionTicks {
		nw.tick(1, 2, 3)
	}
	if st := nw.nodes[1].Status(); st.Role != RoleLeader || st.Term != term {
		t.Fatalf("leader 1 is %s at term %d after removed node 3 campaigned; want leader at term %d", st.Role, st.Term, term)
	}
	nw.propose(1, "still")
}

func TestTruncatedMembershipEntryStopsCounting(t *testing.T) {
	nw := newCoreNet(t, 5)
	nw.elect(1)
	nw.join(6)
	// Only node 2 receives leader 1's membership entry.
	nw.tap = func(m Message) bool { return m.From != 1 || m.To == 2 }
	if _, _, err := nw.nodes[1].ProposeConfChange(ConfChange{Op: ConfAddLearner, Node: 6}); err != nil {
		t.Fatalf("ProposeConfChange = %v; want nil", err)
	}
	nw.stabilize()
	nw.tap = nil
	nw.wantMembership(2, []NodeID{1, 2, 3, 4, 5}, []NodeID{6})
	nw.cut[1], nw.cut[2] = true, true
	for _, id := range []NodeID{4, 5} {
		nw.nodes[id].ForgetLeader()
	}
	nw.elect(3)
	nw.propose(3, "new leader")
	nw.cut[2] = false
	nw.tick(3)
	nw.wantMembership(2, []NodeID{1, 2, 3, 4, 5}, nil)
	if got := nw.appliedData(2); !slices.Equal(got, []string{"new leader"}) {
		t.Fatalf("node 2 applied %q; want [new leader]", got)
	}
}

func TestConfChangeRefusals(t *testing.T) {
	nw := newCoreNet(t, 3)
	if _, _, err := nw.nodes[2].ProposeConfChange(ConfChange{Op: ConfAddLearner, Node: 4}); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("ProposeConfChange on a follower = %v; want ErrNotLeader", err)
	}
	nw.elect(1)
	nw.join(4)
	nw.cut[4] = true
	nw.change(1, ConfAddLearner, 4)
	for i := range PromoteLagEntriesMax + 1 {
		if _, _, err := nw.nodes[1].Propose([]byte{byte(i)}); err != nil {
			t.Fatalf("Propose = %v; want nil", err)
		}
	}
	nw.stabilize()
	cases := []struct {
		name string
		cc   ConfChange
	}{
		{"add a voter", ConfChange{Op: ConfAddLearner, Node: 2}},
		{"add a learner twice", ConfChange{Op: ConfAddLearner, Node: 4}},
		{"promote a voter", ConfChange{Op: ConfPromote, Node: 2}},
		{"promote a lagging learner", ConfChange{Op: ConfPromote, Node: 4}},
		{"remove a stranger", ConfChange{Op: ConfRemove, Node: 9}},
		{"node none", ConfChange{Op: ConfRemove, Node: None}},
		{"unknown op", ConfChange{Op: 99, Node: 4}},
	}
	for _, tc := range cases {
		if _, _, err := nw.nodes[1].ProposeConfChange(tc.cc); !errors.Is(err, ErrInvalidConfChange) {
			t.Errorf("%s: ProposeConfChange(%+v) = %v; want ErrInvalidConfChange", tc.name, tc.cc, err)
		}
	}
	one := newCoreNet(t, 1)
	one.elect(1)
	if _, _, err := one.nodes[1].ProposeConfChange(ConfChange{Op: ConfRemove, Node: 1}); !errors.Is(err, ErrInvalidConfChange) {
		t.Fatalf("removing the last voter = %v; want ErrInvalidConfChange", err)
	}
}

func TestLearnerNeverCampaigns(t *testing.T) {
	nw := newCoreNet(t, 3)
	nw.elect(1)
	nw.join(4)
	nw.change(1, ConfAddLearner, 4)
	nw.cut[1] = true
	nw.sent = make(map[MessageType]int)
	for range 10 * coreElectionTicks {
		nw.tick(4)
	}
	if n := nw.sent[MsgPreVote] + nw.sent[MsgVote]; n != 0 {
		t.Fatalf("learner sent %d vote requests; want 0", n)
	}
	if _, _, err := nw.nodes[1].ProposeConfChange(ConfChange{Op: ConfRemove, Node: 4}); err != nil {
		t.Fatalf("removing learner 4 = %v; want nil", err)
	}
}

func TestRestartKeepsMembership(t *testing.T) {
	nw := newCoreNet(t, 3)
	nw.elect(1)
	nw.join(4)
	nw.change(1, ConfAddLearner, 4)
	nw.tick(1)
	nw.change(1, ConfPromote, 4)
	all := []NodeID{1, 2, 3, 4}
	// Node 2 restarts with the initial voters; its log says otherwise.
	nw.start(2, coreConfig(2, []NodeID{1, 2, 3}, nw.stores[2]))
	nw.wantMembership(2, all, nil)
	// The joined node restarts knowing no voters, as it started.
	nw.start(4, coreConfig(4, nil, nw.stores[4]))
	nw.wantMembership(4, all, nil)
}

func TestTransferLeadership(t *testing.T) {
	nw := newCoreNet(t, 3)
	nw.elect(1)
	// Node 3 lags: the leader brings it up to date before TimeoutNow.
	nw.cut[3] = true
	for range 5 {
		nw.propose(1, "x")
	}
	nw.cut[3] = false
	if err := nw.nodes[1].TransferLeadership(3); err != nil {
		t.Fatalf("TransferLeadership(3) = %v; want nil", err)
	}
	if _, _, err := nw.nodes[1].Propose([]byte("during")); !errors.Is(err, ErrProposalDropped) {
		t.Fatalf("Propose during a transfer = %v; want ErrProposalDropped", err)
	}
	// No ticks: the transfer needs no election timeout.
	nw.stabilize()
	if got := nw.leaders(); !slices.Equal(got, []NodeID{3}) {
		t.Fatalf("leaders %v after the transfer; want [3]", got)
	}
	if st := nw.nodes[3].Status(); st.TransferCampaigns != 1 || st.TimeoutCampaigns != 0 {
		t.Fatalf("node 3 campaigns: %d by transfer, %d by timeout; want 1, 0", st.TransferCampaigns, st.TimeoutCampaigns)
	}
	nw.propose(3, "after")
	if got := nw.appliedData(1); len(got) != 6 || got[5] != "after" {
		t.Fatalf("node 1 applied %q; want 5 x then after", got)
	}
}

func TestTransferLeadershipRefusalsAndTimeout(t *testing.T) {
	nw := newCoreNet(t, 3)
	if err := nw.nodes[1].TransferLeadership(2); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("TransferLeadership on a follower = %v; want ErrNotLeader", err)
	}
	nw.elect(1)
	for _, to := range []NodeID{1, 9} {
		if err := nw.nodes[1].TransferLeadership(to); !errors.Is(err, ErrInvalidTransfer) {
			t.Fatalf("TransferLeadership(%d) = %v; want ErrInvalidTransfer", to, err)
		}
	}
	nw.cut[2] = true
	if err := nw.nodes[1].TransferLeadership(2); err != nil {
		t.Fatalf("TransferLeadership(2) = %v; want nil", err)
	}
	for range coreElectionTicks {
		nw.tick(1, 3)
	}
	st := nw.nodes[1].Status()
	if st.Role != RoleLeader || st.LeadTransferee != None {
		t.Fatalf("after an election timeout: %s, transferee %d; want leader, transfer abandoned", st.Role, st.LeadTransferee)
	}
	nw.propose(1, "accepted again")
	one := newCoreNet(t, 1)
	one.elect(1)
	if err := one.nodes[1].TransferLeadership(None); !errors.Is(err, ErrInvalidTransfer) {
		t.Fatalf("TransferLeadership(None) alone = %v; want ErrInvalidTransfer", err)
	}
}

func TestJointQuorumMath(t *testing.T) {
	m := Membership{Voters: []NodeID{1, 2, 5, 6}, Outgoing: []NodeID{1, 2, 3}}
	match := map[NodeID]uint64{1: 9, 2: 3, 3: 2, 5: 9, 6: 9}
	var buf []Index
	newQ, buf := quorumValue(m.Voters, func(id NodeID) uint64 { return match[id] }, buf)
	oldQ, _ := quorumValue(m.Outgoing, func(id NodeID) uint64 { return match[id] }, buf)
	// C_new {1,2,5,6} holds 9 on three of four; C_old {1,2,3} holds only 3
	// on two of three: the joint commit index is 3.
	if newQ != 9 || oldQ != 3 {
		t.Fatalf("quorumValue = %d (new), %d (old); want 9, 3", newQ, oldQ)
	}
	yes := func(ids ...NodeID) func(NodeID) bool { return func(id NodeID) bool { return slices.Contains(ids, id) } }
	cases := []struct {
		ids  []NodeID
		want bool
	}{
		{[]NodeID{1, 5, 6}, false}, // majority of C_new only
		{[]NodeID{1, 2}, false},    // majority of C_old only
		{[]NodeID{1, 2, 5}, true},  // both
	}
	for _, tc := range cases {
		got := majority(m.Voters, yes(tc.ids...)) && majority(m.Outgoing, yes(tc.ids...))
		if got != tc.want {
			t.Errorf("joint majority of %v = %v; want %v", tc.ids, got, tc.want)
		}
	}
}

package consensus

// These tests drive small clusters of cores through the in-test network of
// corenet_test.go and check elections, replication, commitment, pre-vote,
// leader stickiness, CheckQuorum and the durability rule of Advance.

import (
	"errors"
	"slices"
	"testing"
)

func TestThreeNodesElectAndCommit(t *testing.T) {
	nw := newCoreNet(t, 3)
	nw.elect(1)
	if got := nw.leaders(); !slices.Equal(got, []NodeID{1}) {
		t.Fatalf("leaders() = %v; want [1]", got)
	}
	want := []string{"a", "b", "c"}
	for _, d := range want {
		nw.propose(1, d)
	}
	for _, id := range nw.ids {
		st := nw.nodes[id].Status()
		if st.Lead != 1 || st.Term != 1 {
			t.Errorf("node %d: Status() lead %d term %d; want lead 1 term 1", id, st.Lead, st.Term)
		}
		if st.Commit != 4 || st.Applied != 4 {
			t.Errorf("node %d: commit %d applied %d; want 4 and 4", id, st.Commit, st.Applied)
		}
		if got := nw.appliedData(id); !slices.Equal(got, want) {
			t.Errorf("node %d applied %q; want %q", id, got, want)
		}
	}
}

func TestOneNodeCommitsOnlyAfterAdvance(t *testing.T) {
	st := NewMemoryStorage()
	r, err := New(coreConfig(1, []NodeID{1}, st))
	if err != nil {
		t.Fatalf("New = %v; want nil", err)
	}
	for i := 0; i < 2*coreElectionTicks && r.Status().Role != RoleLeader; i++ {
		r.Tick()
	}
	if got := r.Status().Role; got != RoleLeader {
		t.Fatalf("Role = %s; want leader", got)
	}
	persist := func(rd Ready) {
		if !rd.HardState.IsEmpty() {
			st.SetHardState(rd.HardState)
		}
		if err := st.Append(rd.Entries); err != nil {
			t.Fatalf("Append = %v; want nil", err)
		}
	}
	// The no-op is appended but not on disk: nothing may commit.
	rd := r.Ready()
	if len(rd.Entries) != 1 || rd.Entries[0].Type != EntryNoop {
		t.Fatalf("Ready().Entries = %v; want the no-op", rd.Entries)
	}
	if got := r.Status().Commit; got != 0 {
		t.Fatalf("Commit before Advance = %d; want 0", got)
	}
	persist(rd)
	r.Advance(rd)
	if got := r.Status().Commit; got != 1 {
		t.Fatalf("Commit after Advance = %d; want 1", got)
	}
	rd = r.Ready()
	if rd.HardState.Commit != 1 || len(rd.CommittedEntries) != 1 {
		t.Fatalf("Ready() = commit %d, %d committed entries; want 1 and 1", rd.HardState.Commit, len(rd.CommittedEntries))
	}
	persist(rd)
	r.Advance(rd)

	i, term, err := r.Propose([]byte("x"))
	if err != nil || i != 2 || term != 1 {
		t.Fatalf("Propose(%q) = %d, %d, %v; want 2, 1, nil", "x", i, term, err)
	}
	if got := r.Status().Commit; got != 1 {
		t.Fatalf("Commit after Propose = %d; want 1", got)
	}
	rd = r.Ready()
	if got := r.Status().Commit; got != 1 {
		t.Fatalf("Commit after Ready = %d; want 1", got)
	}
	persist(rd)
	r.Advance(rd)
	if got := r.Status().Commit; got != 2 {
		t.Fatalf("Commit after Advance = %d; want 2", got)
	}
	rd = r.Ready()
	if len(rd.CommittedEntries) != 1 || string(rd.CommittedEntries[0].Data) != "x" {
		t.Fatalf("CommittedEntries = %v; want the proposal", rd.CommittedEntries)
	}
	r.Advance(rd)
	if r.HasReady() {
		t.Fatalf("HasReady() = true after everything was advanced; want false")
	}
}

func TestPreVoteDoesNotBumpTerm(t *testing.T) {
	nw := newCoreNet(t, 3)
	nw.elect(1)
	nw.cut[3] = true
	for i := 0; i < 5*coreElectionTicks; i++ {
		nw.tick(1, 2, 3)
	}
	if st := nw.nodes[3].Status(); st.Term != 1 || st.Role == RoleCandidate || st.Role == RoleLeader {
		t.Fatalf("isolated node 3: term %d role %s; want term 1, not candidate or leader", st.Term, st.Role)
	}
	delete(nw.cut, 3)
	for i := 0; i < 3*coreElectionTicks; i++ {
		nw.tick(1, 2, 3)
	}
	for _, id := range nw.ids {
		if st := nw.nodes[id].Status(); st.Term != 1 || st.Lead != 1 {
			t.Errorf("node %d after rejoin: term %d lead %d; want term 1 lead 1", id, st.Term, st.Lead)
		}
	}
}

func TestVoteRequestsInLeaderLease(t *testing.T) {
	cases := []struct {
		name     string
		typ      MessageType
		wantTerm Term // the voter's term after granting
		wantVote NodeID
	}{
		{"vote", MsgVote, 5, 3},
		{"pre-vote", MsgPreVote, 1, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			nw := newCoreNet(t, 3)
			nw.elect(1)
			req := Message{Type: tc.typ, From: 3, To: 2, Term: 5, Index: 100, LogTerm: 1}
			if out := nw.stepAndCollect(req); len(out) != 0 {
				t.Fatalf("in lease: Step(%s) sent %v; want nothing", tc.typ, out)
			}
			if st := nw.nodes[2].Status(); st.Term != 1 || st.Vote != 1 || st.Lead != 1 {
				t.Fatalf("in lease: term %d vote %d lead %d; want 1, 1, 1", st.Term, st.Vote, st.Lead)
			}
			// Without the leader for an election timeout the lease is over.
			nw.cut[1] = true
			for i := 0; i < coreElectionTicks; i++ {
				nw.nodes[2].Tick()
			}
			nw.flush()
			nw.queue = nil
			out := nw.stepAndCollect(req)
			if len(out) != 1 || out[0].Reject || out[0].Term != 5 {
				t.Fatalf("lease over: Step(%s) sent %v; want one grant at term 5", tc.typ, out)
			}
			if st := nw.nodes[2].Status(); st.Term != tc.wantTerm || st.Vote != tc.wantVote {
				t.Fatalf("lease over: term %d vote %d; want %d, %d", st.Term, st.Vote, tc.wantTerm, tc.wantVote)
			}
		})
	}
}

func TestPreVoteGrantChangesNothing(t *testing.T) {
	nw := newCoreNet(t, 3)
	r := nw.nodes[2]
	for i := 0; i < 3; i++ {
		r.Tick()
	}
	before, elapsed := r.Status(), r.electionElapsed
	out := nw.stepAndCollect(Message{Type: MsgPreVote, From: 3, To: 2, Term: 1, Index: 0, LogTerm: 0})
	if len(out) != 1 || out[0].Type != MsgPreVoteResp || out[0].Reject || out[0].Term != 1 {
		t.Fatalf("Step(MsgPreVote) sent %v; want one grant at term 1", out)
	}
	if after := r.Status(); after != before {
		t.Errorf("Status() after a pre-vote grant = %+v; want %+v", after, before)
	}
	if r.electionElapsed != elapsed {
		t.Errorf("electionElapsed after a pre-vote grant = %d; want %d (hashicorp/raft#609)", r.electionElapsed, elapsed)
	}
}

func TestLeaderStepsDownWithoutQuorum(t *testing.T) {
	nw := newCoreNet(t, 3)
	nw.elect(1)
	for i := 0; i < 3*coreElectionTicks; i++ {
		nw.tick(1, 2, 3)
		if st := nw.nodes[1].Status(); st.Role != RoleLeader || !st.QuorumActive {
			t.Fatalf("connected leader at tick %d: role %s quorum active %v; want leader, true", i, st.Role, st.QuorumActive)
		}
	}
	nw.cut[1] = true
	for i := 0; i < 2*coreElectionTicks && nw.nodes[1].Status().Role == RoleLeader; i++ {
		nw.tick(1)
	}
	st := nw.nodes[1].Status()
	if st.Role != RoleFollower || st.Term != 1 || st.Lead != None || st.QuorumActive {
		t.Fatalf("isolated leader: role %s term %d lead %d quorum active %v; want follower, 1, 0, false",
			st.Role, st.Term, st.Lead, st.QuorumActive)
	}
}

func TestQuorumActiveGoesFalseBeforeStepDown(t *testing.T) {
	nw := newCoreNet(t, 3)
	nw.elect(1)
	nw.cut[1] = true
	sawInactive := false
	for i := 0; i < 2*coreElectionTicks && nw.nodes[1].Status().Role == RoleLeader; i++ {
		nw.tick(1)
		if !nw.nodes[1].Status().QuorumActive {
			sawInactive = true
		}
	}
	if !sawInactive {
		t.Fatalf("QuorumActive stayed true until step-down; want false once no quorum was heard for %d ticks", coreElectionTicks)
	}
}

func TestStalePreCandidateLearnsTerm(t *testing.T) {
	// etcd-io/etcd#8243: node 1 holds the longest log at a lower term; the
	// others are at term 5 without a leader. Only node 1 times out. If the
	// others ignored its stale pre-votes the cluster would stall.
	nw := newCoreNetFrom(t,
		coreStorage(t, []Term{1, 1, 2}, HardState{Term: 2}),
		coreStorage(t, []Term{1, 1}, HardState{Term: 5}),
		coreStorage(t, []Term{1, 1}, HardState{Term: 5}),
	)
	for i := 0; i < 6*coreElectionTicks && nw.nodes[1].Status().Role != RoleLeader; i++ {
		nw.tick(1)
	}
	if st := nw.nodes[1].Status(); st.Role != RoleLeader || st.Term != 6 {
		t.Fatalf("node 1: role %s term %d; want leader at term 6", st.Role, st.Term)
	}
	for _, id := range nw.ids {
		if got := nw.logTerms(id); !slices.Equal(got, []Term{1, 1, 2, 6}) {
			t.Errorf("node %d log terms %v; want [1 1 2 6]", id, got)
		}
	}
}

func TestStaleLeaderStepsDown(t *testing.T) {
	nw := newCoreNet(t, 3)
	nw.elect(1)
	nw.cut[1] = true
	for i := 0; i < 4*coreElectionTicks && len(nw.leaders()) < 2; i++ {
		nw.tick(2, 3)
	}
	if got := nw.leaders(); len(got) != 2 {
		t.Fatalf("leaders() = %v; want the stale one and a new one", got)
	}
	delete(nw.cut, 1)
	nw.tick(1) // heartbeats at term 1 draw answers at term 2
	if got := nw.leaders(); len(got) != 1 || got[0] == 1 {
		t.Fatalf("leaders() = %v; want one new leader", got)
	}
	if st := nw.nodes[1].Status(); st.Role != RoleFollower || st.Term != 2 {
		t.Fatalf("old leader: role %s term %d; want follower at term 2", st.Role, st.Term)
	}
}

func TestOneVotePerTerm(t *testing.T) {
	nw := newCoreNet(t, 3)
	vote := func(from NodeID) []Message {
		return nw.stepAndCollect(Message{Type: MsgVote, From: from, To: 2, Term: 1})
	}
	cases := []struct {
		name       string
		from       NodeID
		restart    bool
		wantReject bool
	}{
		{"first candidate", 1, false, false},
		{"second candidate", 3, false, true},
		{"first candidate again", 1, false, false},
		{"second candidate after restart", 3, true, true},
		{"first candidate after restart", 1, true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.restart {
				nw.start(2, coreConfig(2, nw.ids, nw.stores[2]))
			}
			out := vote(tc.from)
			if len(out) != 1 || out[0].Type != MsgVoteResp || out[0].Reject != tc.wantReject {
				t.Fatalf("Step(MsgVote from %d) sent %v; want one MsgVoteResp with reject %v", tc.from, out, tc.wantReject)
			}
			if hs, _ := nw.stores[2].InitialState(); hs.Vote != 1 {
				t.Fatalf("persisted vote = %d; want 1", hs.Vote)
			}
		})
	}
}

func TestVoteUpToDateCheck(t *testing.T) {
	// The voter's log ends at index 3 with term 2 (§5.4.1).
	cases := []struct {
		name      string
		lastIndex Index
		lastTerm  Term
		grant     bool
	}{
		{"higher last term, shorter log", 1, 3, true},
		{"same term, same length", 3, 2, true},
		{"same term, longer log", 4, 2, true},
		{"same term, shorter log", 2, 2, false},
		{"lower last term, longer log", 10, 1, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			nw := newCoreNetFrom(t,
				coreStorage(t, nil, HardState{}),
				coreStorage(t, []Term{1, 2, 2}, HardState{Term: 2}),
				coreStorage(t, nil, HardState{}),
			)
			for _, typ := range []MessageType{MsgPreVote, MsgVote} {
				out := nw.stepAndCollect(Message{Type: typ, From: 1, To: 2, Term: 3, Index: tc.lastIndex, LogTerm: tc.lastTerm})
				if len(out) != 1 || out[0].Reject == tc.grant {
					t.Fatalf("Step(%s last %d/%d) sent %v; want grant %v", typ, tc.lastIndex, tc.lastTerm, out, tc.grant)
				}
			}
		})
	}
}

func TestRestartResumesApplying(t *testing.T) {
	nw := newCoreNet(t, 3)
	nw.elect(1)
	for _, d := range []string{"a", "b", "c"} {
		nw.propose(1, d)
	}
	cfg := coreConfig(2, nw.ids, nw.stores[2])
	cfg.Applied = 2
	nw.start(2, cfg)
	rd := nw.nodes[2].Ready()
	var got []Index
	for _, e := range rd.CommittedEntries {
		got = append(got, e.Index)
	}
	if !slices.Equal(got, []Index{3, 4}) {
		t.Fatalf("CommittedEntries after restart with Applied 2 = %v; want [3 4]", got)
	}
	if st := nw.nodes[2].Status(); st.Term != 1 || st.Vote != 1 || st.Commit != 4 {
		t.Fatalf("restarted Status() = %+v; want term 1, vote 1, commit 4", st)
	}
}

func TestFastBacktracking(t *testing.T) {
	// The leader-to-be and node 2 share a log; node 3 holds 1,000 conflicting
	// uncommitted entries. Repair must take round trips bounded by the
	// number of distinct conflicting terms, not by the entries.
	prefix := repeatTerm(1, 5)
	cases := []struct {
		name        string
		leader      []Term
		follower    []Term
		rejectsMax  int
		leaderFinal Term
	}{
		{"one conflicting term", append(slices.Clone(prefix), repeatTerm(3, 1000)...),
			append(slices.Clone(prefix), repeatTerm(2, 1000)...), 2, 4},
		{"follower longer", append(append(slices.Clone(prefix), repeatTerm(2, 10)...), repeatTerm(4, 100)...),
			append(append(slices.Clone(prefix), repeatTerm(2, 10)...), repeatTerm(3, 1000)...), 2, 5},
		{"many conflicting terms", append(slices.Clone(prefix), repeatTerm(9, 10)...),
			slices.Concat(prefix, repeatTerm(2, 250), repeatTerm(3, 250), repeatTerm(5, 250), repeatTerm(7, 250)), 5, 10},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lt := tc.leader[len(tc.leader)-1]
			nw := newCoreNetFrom(t,
				coreStorage(t, tc.leader, HardState{Term: lt, Commit: 5}),
				coreStorage(t, tc.leader, HardState{Term: lt, Commit: 5}),
				coreStorage(t, tc.follower, HardState{Term: lt, Commit: 5}),
			)
			rejects := 0
			nw.tap = func(m Message) bool {
				if m.Type == MsgAppResp && m.Reject && m.From == 3 {
					rejects++
				}
				return true
			}
			nw.elect(1)
			if st := nw.nodes[1].Status(); st.Term != tc.leaderFinal {
				t.Fatalf("leader term = %d; want %d", st.Term, tc.leaderFinal)
			}
			want := append(slices.Clone(tc.leader), tc.leaderFinal)
			if got := nw.logTerms(3); !slices.Equal(got, want) {
				t.Fatalf("node 3 log after repair has %d entries; want %d matching the leader's", len(got), len(want))
			}
			if rejects > tc.rejectsMax {
				t.Fatalf("repair took %d rejections; want at most %d", rejects, tc.rejectsMax)
			}
		})
	}
}

func TestReplicationRecoversFromLostAppends(t *testing.T) {
	nw := newCoreNet(t, 3)
	nw.elect(1)
	nw.propose(1, "warm") // node 3 is pipelining now
	lost := 0
	nw.tap = func(m Message) bool {
		if m.Type == MsgApp && m.To == 3 && len(m.Entries) > 0 && lost < 5 {
			lost++
			return false
		}
		return true
	}
	var want []string
	for i := 0; i < 20; i++ {
		d := string(rune('a' + i))
		want = append(want, d)
		nw.propose(1, d)
	}
	for i := 0; i < 3*coreHeartbeatTicks+2; i++ {
		nw.tick(1, 2, 3)
	}
	if lost != 5 {
		t.Fatalf("lost %d MsgApps; want 5", lost)
	}
	want = append([]string{"warm"}, want...)
	for _, id := range nw.ids {
		if got := nw.appliedData(id); !slices.Equal(got, want) {
			t.Errorf("node %d applied %q; want %q", id, got, want)
		}
	}
}

func TestReportUnreachableFallsBackToProbe(t *testing.T) {
	nw := newCoreNet(t, 3)
	nw.elect(1)
	nw.propose(1, "a")
	r := nw.nodes[1]
	if got := r.prs[2].state; got != stateReplicate {
		t.Fatalf("progress of 2 = %s; want replicate", got)
	}
	r.ReportUnreachable(2)
	if pr := r.prs[2]; pr.state != stateProbe || pr.next != pr.match+1 {
		t.Fatalf("after ReportUnreachable(2): state %s next %d match %d; want probe, match+1", pr.state, pr.next, pr.match)
	}
	nw.propose(1, "b")
	nw.tick(1, 2, 3)
	if got := nw.appliedData(2); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("node 2 applied %q; want [a b]", got)
	}
}

func TestProposeRefusals(t *testing.T) {
	nw := newCoreNet(t, 3)
	if _, _, err := nw.nodes[1].Propose([]byte("x")); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("Propose on a follower = %v; want ErrNotLeader", err)
	}
	nw.elect(1)
	nw.cut[2], nw.cut[3] = true, true
	r := nw.nodes[1]
	var err error
	for i := 0; i <= UncommittedEntriesMax && err == nil; i++ {
		_, _, err = r.Propose(nil)
	}
	if !errors.Is(err, ErrProposalDropped) {
		t.Fatalf("Propose past %d uncommitted entries = %v; want ErrProposalDropped", UncommittedEntriesMax, err)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	ok := func() Config { return coreConfig(1, []NodeID{1, 2, 3}, NewMemoryStorage()) }
	cases := []struct {
		name   string
		mutate func(*Config)
	}{
		{"no id", func(c *Config) { c.ID = None }},
		{"id not a voter", func(c *Config) { c.ID = 4 }},
		{"duplicate voter", func(c *Config) { c.Voters = []NodeID{1, 2, 2} }},
		{"no storage", func(c *Config) { c.Storage = nil }},
		{"no rand", func(c *Config) { c.Rand = nil }},
		{"heartbeat not below election", func(c *Config) { c.HeartbeatTicks = c.ElectionTicks }},
		{"zero heartbeat", func(c *Config) { c.HeartbeatTicks = 0 }},
		{"window too large", func(c *Config) { c.MaxInflightMsgs = MaxInflightMsgsMax + 1 }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := ok()
			tc.mutate(&cfg)
			if _, err := New(cfg); !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("New = %v; want ErrInvalidConfig", err)
			}
		})
	}
}

func TestCommitCountsOnlyCurrentTerm(t *testing.T) {
	// Node 1 leads term 3 with an entry of term 2 at index 2 that node 2
	// also holds. §5.4.2, Figure 8: a quorum holding it does not commit it;
	// only the test knob that reproduces the bug does.
	cases := []struct {
		name       string
		skip       bool
		wantCommit Index
	}{
		{"current-term rule", false, 1},
		{"figure 8 bug knob", true, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			nw := newCoreNetFrom(t,
				coreStorage(t, []Term{1, 2}, HardState{Term: 2, Commit: 1}),
				coreStorage(t, []Term{1, 2}, HardState{Term: 2, Commit: 1}),
				coreStorage(t, []Term{1}, HardState{Term: 2, Commit: 1}),
			)
			cfg := coreConfig(1, nw.ids, nw.stores[1])
			cfg.testSkipCurrentTermCommit = tc.skip
			nw.start(1, cfg)
			nw.tap = func(m Message) bool { return m.Type != MsgApp }
			nw.elect(1)
			if got := nw.nodes[1].Status().Term; got != 3 {
				t.Fatalf("leader term = %d; want 3", got)
			}
			nw.stepAndCollect(Message{Type: MsgAppResp, From: 2, To: 1, Term: 3, Index: 2})
			if got := nw.nodes[1].Status().Commit; got != tc.wantCommit {
				t.Fatalf("Commit after a quorum holds the term-2 entry = %d; want %d", got, tc.wantCommit)
			}
		})
	}
}

func TestForgetLeader(t *testing.T) {
	t.Run("crashed leader: fast failover", func(t *testing.T) {
		nw := newCoreNet(t, 3)
		nw.elect(1)
		nw.cut[1] = true
		nw.nodes[2].ForgetLeader()
		nw.nodes[3].ForgetLeader()
		ticks := 0
		for ; ticks < coreElectionTicks && len(nw.leaders()) < 2; ticks++ {
			nw.tick(2, 3)
		}
		if want := coreHeartbeatTicks + coreElectionTicks/2; ticks > want {
			t.Fatalf("new leader after %d ticks; want at most %d (below the election timeout %d)",
				ticks, want, coreElectionTicks)
		}
		if st := nw.nodes[2].Status(); st.Term != 2 {
			t.Fatalf("term after failover = %d; want 2", st.Term)
		}
	})
	t.Run("live leader: no disruption", func(t *testing.T) {
		nw := newCoreNet(t, 3)
		nw.elect(1)
		nw.nodes[2].ForgetLeader()
		for i := 0; i < 3*coreElectionTicks; i++ {
			nw.tick(1, 2, 3)
		}
		for _, id := range nw.ids {
			if st := nw.nodes[id].Status(); st.Term != 1 || st.Lead != 1 {
				t.Fatalf("node %d: term %d lead %d; want 1, 1", id, st.Term, st.Lead)
			}
		}
	})
}

// TestForgetLeaderNeverPostpones: ForgetLeader only brings a campaign
// forward; a follower one tick from its own election timeout keeps it.
func TestForgetLeaderNeverPostpones(t *testing.T) {
	nw := newCoreNet(t, 3)
	nw.elect(1)
	nw.cut[1] = true
	r := nw.nodes[2]
	for try := 0; try < 10; try++ {
		if err := r.Step(Message{Type: MsgHeartbeat, From: 1, To: 2, Term: r.term}); err != nil {
			t.Fatal(err)
		}
		rto := r.randomizedElectionTimeout
		for r.electionElapsed < rto-1 {
			r.Tick()
		}
		left := rto - r.electionElapsed
		r.ForgetLeader()
		if after := rto - r.electionElapsed; after > left {
			t.Fatalf("try %d: ForgetLeader moved the campaign from %d tick(s) away to %d", try, left, after)
		}
	}
}

// After ForgetLeader, a campaign that does not win is retried after the
// short delay again, not after a full election timeout: a split vote
// between followers that all saw the crash must not cost a whole timeout.
func TestForgetLeaderRetriesFast(t *testing.T) {
	nw := newCoreNet(t, 3)
	nw.elect(1)
	// Node 2 no longer hears the leader; node 3 does and refuses its
	// pre-votes, so every campaign of node 2 fails.
	nw.tap = func(m Message) bool { return m.From != 1 || m.To != 2 }
	nw.nodes[2].ForgetLeader()
	before := nw.nodes[2].Status().TimeoutCampaigns
	for range 2 * coreElectionTicks {
		nw.tick(1, 2, 3)
	}
	// Delays of [1, 1+ElectionTicks/2) ticks: at least 2*10/5 = 4 campaigns
	// in two election timeouts; a full timeout each would allow at most 2.
	if got := nw.nodes[2].Status().TimeoutCampaigns - before; got < 4 {
		t.Fatalf("node 2 campaigned %d times in %d ticks after ForgetLeader; want >= 4", got, 2*coreElectionTicks)
	}
	if got := nw.leaders(); len(got) != 1 || got[0] != 1 {
		t.Fatalf("leaders %v; want [1] (pre-vote keeps the live leader)", got)
	}
	// Hearing from a leader again ends the fast retries.
	nw.tap = nil
	nw.tick(1)
	before = nw.nodes[2].Status().TimeoutCampaigns
	for range 2 * coreElectionTicks {
		nw.tick(1, 2, 3)
	}
	if got := nw.nodes[2].Status().TimeoutCampaigns - before; got != 0 {
		t.Fatalf("node 2 campaigned %d times while hearing from the leader; want 0", got)
	}
}

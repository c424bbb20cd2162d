package consensus

// Scripted membership scenarios on the simulator's nodes: exact
// interleavings behind what random runs found, with every checker on.

import (
	"errors"
	"fmt"
	"testing"
)

// tryStep runs one scripted step and checks every property after it,
// returning the failure instead of failing the test.
func (s *simulator) tryStep(do func() error) (err error) {
	s.step++
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	if err := do(); err != nil {
		return err
	}
	return s.check()
}

// tickDeliver ticks node id once and delivers every message in flight,
// returning the first failure.
func (s *simulator) tickDeliver(id NodeID) error {
	n := s.nodes[id-1]
	s.now += simUnitsPerTick
	if err := s.tryStep(func() error { n.raft.Tick(); return s.drain(n) }); err != nil {
		return err
	}
	for i := 0; ; i++ {
		at, ok := s.net.next()
		if !ok {
			return nil
		}
		if i == simReadysMax*len(s.nodes)*100 {
			return fmt.Errorf("still delivering after %d messages", i)
		}
		s.now = at
		if err := s.tryStep(s.deliver); err != nil {
			return err
		}
	}
}

// confChange has leader id carry out cc, retrying a promotion (with a
// heartbeat round between tries) until the learner has caught up, and
// delivers everything until the change is finished.
func (s *simulator) confChange(t *testing.T, id NodeID, cc ConfChange) {
	t.Helper()
	n := s.nodes[id-1]
	for i := 0; ; i++ {
		_, _, err := n.raft.ProposeConfChange(cc)
		if err == nil {
			break
		}
		if !errors.Is(err, ErrInvalidConfChange) || i == 4*simElectionTicks {
			t.Fatalf("node %d: ProposeConfChange(%s %d) = %v; want nil", id, cc.Op, cc.Node, err)
		}
		if err := s.tickDeliver(id); err != nil {
			t.Fatalf("%s %d: %v\n%s", cc.Op, cc.Node, err, s.trace.last(40))
		}
	}
	for i := 0; n.raft.Status().ConfPending; i++ {
		if i == 4*simElectionTicks {
			t.Fatalf("node %d: %s %d still pending after %d ticks", id, cc.Op, cc.Node, i)
		}
		if err := s.tickDeliver(id); err != nil {
			t.Fatalf("%s %d: %v\n%s", cc.Op, cc.Node, err, s.trace.last(40))
		}
	}
}

// isolate cuts every link of node id, both ways, or heals them.
func (s *simulator) isolate(id NodeID, cut bool) {
	for j := range s.nodes {
		if j != int(id-1) {
			s.net.cut[id-1][j], s.net.cut[j][id-1] = cut, cut
		}
	}
}

// TestScenarioReusedIDElectsStaleLeader replays, step by step, what
// -sim.bug=reuseid found (seed 2309 of -sim.profile=grow): an id removed
// and then added back with EMPTY storage gives its vote to a node that still
// uses an old membership listing it, and that node leads with a log that
// lacks committed entries. Node 3 is cut off from the start and keeps the
// initial membership {1,2,3}. Leader 1 adds 4, then removes 2: the cluster
// is {1,3,4}. The operator wipes 2 and starts it afresh to add it back, at
// the leader's term 1 having voted for the leader (as the server does). Node
// 3 reaches only 2: its first pre-vote (term 1) is refused, the refusal
// raises it to term 1, and 2 grants the next pre-vote and vote (term 2; no
// log, no leader heard): 3 wins term 2 with the majority {2,3} of {1,2,3},
// lacking the entries committed in term 1. The checkers must catch it; with
// a fresh id instead of 2 the same steps are safe, because the removed node 2
// keeps its log and refuses the stale candidate.
func TestScenarioReusedIDElectsStaleLeader(t *testing.T) {
	for _, reuse := range []bool{true, false} {
		t.Run(fmt.Sprintf("reuse=%v", reuse), func(t *testing.T) {
			s := scriptSimPool(t, 3, 5)
			s.isolate(3, true)
			s.electNode(t, 1)
			s.deliverAll(t, nil)
			if err := s.provision(s.nodes[3], HardState{}); err != nil {
				t.Fatalf("provision(node 4) = %v; want nil", err)
			}
			s.confChange(t, 1, ConfChange{Op: ConfAddLearner, Node: 4})
			s.confChange(t, 1, ConfChange{Op: ConfPromote, Node: 4})
			s.confChange(t, 1, ConfChange{Op: ConfRemove, Node: 2})
			if m, _ := s.nodes[0].raft.Membership(); m.IsMember(2) || !m.IsVoter(3) || !m.IsVoter(4) {
				t.Fatalf("leader 1: Membership() = %s; want voters [1 3 4]", m)
			}
			joiner := NodeID(5)
			if reuse {
				joiner = 2
			}
			// The joiner is provisioned and reachable by node 3 alone, as
			// if the leader's messages to it were still on their way. As
			// the server does (README), it starts at the leader's term,
			// having voted for the leader: that does not help.
			hs := HardState{Term: s.nodes[0].raft.Status().Term, Vote: 1}
			if err := s.provision(s.nodes[joiner-1], hs); err != nil {
				t.Fatalf("provision(node %d) = %v; want nil", joiner, err)
			}
			s.isolate(joiner, true)
			s.isolate(3, true)
			s.net.cut[2][joiner-1], s.net.cut[joiner-1][2] = false, false
			s.net.cut[2][1], s.net.cut[1][2] = false, false // 3 reaches the removed node 2 too
			var err error
			for i := 0; i < 4*simElectionTicks && err == nil; i++ {
				err = s.tickDeliver(3)
			}
			var v *safetyViolation
			switch {
			case reuse && !errors.As(err, &v):
				t.Fatalf("node 3 with the vote of the wiped node 2: %v; want a safety violation", err)
			case reuse:
				t.Logf("caught by %s: %v", v.checker, v.err)
			case err != nil:
				t.Fatalf("node 3 with fresh node %d: %v; want nil\n%s", joiner, err, s.trace.last(40))
			case s.nodes[2].raft.Status().Role == RoleLeader:
				t.Fatalf("node 3 leads with the stale membership {1,2,3}; want it refused by node 2")
			}
		})
	}
}

// TestScenarioSelfRemovedLeaderLosesLeadershipBeforeCNew replays what seed
// 36 of -sim.profile=members found: leader 1 of {1,2} removes itself. The
// joint configuration {2}/{1,2} commits, and the leader appends C_new {2};
// before node 2 receives it, the link breaks and CheckQuorum deposes node 1.
// Node 1 uses C_new, where it does not vote, so it never campaigns; node 2
// uses C_old,new and needs node 1's vote, which node 1 refuses because its
// log (with C_new) is longer. Once the link heals, a leader must emerge:
// node 1, still a voter of the committed joint configuration, may campaign,
// wins node 2's vote, commits C_new and hands over.
func TestScenarioSelfRemovedLeaderLosesLeadershipBeforeCNew(t *testing.T) {
	s := scriptSim(t, 2)
	s.electNode(t, 1)
	s.deliverAll(t, nil)
	leader := s.nodes[0]
	joint, _, err := leader.raft.ProposeConfChange(ConfChange{Op: ConfRemove, Node: 1})
	if err != nil {
		t.Fatalf("ProposeConfChange(remove 1) = %v; want nil", err)
	}
	s.stepScripted(t, func() error { return s.drain(leader) })
	// Deliver until the joint entry commits and C_new is appended, holding
	// back everything that would carry C_new to node 2.
	cNew := joint + 1
	s.deliverAll(t, func(m Message) bool {
		return m.Type == MsgApp && m.To == 2 && len(m.Entries) > 0 && m.Entries[len(m.Entries)-1].Index >= cNew
	})
	if m, i := leader.raft.Membership(); i != cNew || m.Joint() || m.IsVoter(1) {
		t.Fatalf("leader: Membership() = %s at %d; want C_new {2} at %d", m, i, cNew)
	}
	s.isolate(1, true)
	for i := 0; leader.raft.Status().Role == RoleLeader; i++ {
		if i == 4*simElectionTicks {
			t.Fatalf("node 1 still leads after %d ticks cut off; want CheckQuorum to depose it", i)
		}
		if err := s.tickDeliver(1); err != nil {
			t.Fatal(err)
		}
	}
	s.isolate(1, false)
	for i := 0; s.leaderIndex() < 0; i++ {
		if i == 20*simElectionTicks {
			m1, _ := s.nodes[0].raft.Membership()
			m2, _ := s.nodes[1].raft.Membership()
			t.Fatalf("no leader %d ticks after the heal (node 1 uses %s, node 2 uses %s); want one", i, m1, m2)
		}
		for _, id := range []NodeID{1, 2} {
			if err := s.tickDeliver(id); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i := 0; s.nodes[1].raft.Status().Role != RoleLeader || s.nodes[1].raft.Status().ConfPending; i++ {
		if i == 20*simElectionTicks {
			t.Fatalf("node 2: %+v after %d more ticks; want it leading C_new {2}", s.nodes[1].raft.Status(), i)
		}
		for _, id := range []NodeID{1, 2} {
			if err := s.tickDeliver(id); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestScenarioSilentLeaderLeaseEndsOnLearner replays the heart of what seed
// 2475 of -sim.profile=members found: leader 1 appended the joint
// configuration promoting learner 9 and lost its leadership before 9 had
// the entry; 1 then needed 9's vote (a majority of {1,9}), and 9, still a
// learner in its own eyes, never campaigns, so it never forgot leader 1: its
// election timer restarted its lease every timeout and it ignored 1's
// pre-votes as if leader 1 were still alive, forever. A node that has not
// heard from its leader for a whole election timeout must forget it,
// whether or not it may campaign.
func TestScenarioSilentLeaderLeaseEndsOnLearner(t *testing.T) {
	s := scriptSimPool(t, 1, 2)
	s.electNode(t, 1)
	if err := s.provision(s.nodes[1], HardState{}); err != nil {
		t.Fatalf("provision(node 2) = %v; want nil", err)
	}
	s.confChange(t, 1, ConfChange{Op: ConfAddLearner, Node: 2})
	if err := s.tickDeliver(1); err != nil {
		t.Fatal(err)
	}
	learner := s.nodes[1].raft
	if st := learner.Status(); st.Lead != 1 {
		t.Fatalf("learner 2: Status().Lead = %d; want 1", st.Lead)
	}
	s.isolate(1, true)
	for i := range 6 * simElectionTicks {
		if err := s.tickDeliver(2); err != nil {
			t.Fatalf("tick %d: %v", i, err)
		}
	}
	if st := learner.Status(); st.Lead != None {
		t.Fatalf("learner 2 after %d ticks without a word from leader 1: Status().Lead = %d; want %d", 6*simElectionTicks, st.Lead, None)
	}
}

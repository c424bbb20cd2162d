package consensus

// This file holds scripted scenarios on the simulator's nodes and network:
// exact interleavings that random runs found once and that must stay fixed.
// Each step is chosen by the test, not by the seed; the checkers still run
// after every delivery.

import (
	"cmp"
	"fmt"
	"slices"
	"testing"
)

// scriptSim returns a simulator of n nodes on a calm network with no faults
// and no clients, whose cores send one entry per MsgApp.
func scriptSim(t *testing.T, n int) *simulator {
	t.Helper()
	return scriptSimPool(t, n, n)
}

// scriptSimPool is scriptSim with ids n+1..pool left to join.
func scriptSimPool(t *testing.T, n, pool int) *simulator {
	t.Helper()
	s := newSimulator(simConfig{seed: 1, nodes: n, pool: pool, steps: 0, profile: profileMixed})
	s.plan = faultPlan{heartbeatTicks: 1, maxMsgBytes: 1, weather: weatherCalm}
	s.net.weather = weatherCalm.params()
	for _, nd := range s.nodes[:n] {
		if err := s.start(nd); err != nil {
			t.Fatalf("start(node %d) = %v; want nil", nd.id, err)
		}
	}
	return s
}

// deliverAll delivers every message in flight, and those they cause, except
// the ones hold keeps back; it returns those.
func (s *simulator) deliverAll(t *testing.T, hold func(Message) bool) []Message {
	t.Helper()
	var held []Message
	for i := 0; ; i++ {
		at, ok := s.net.next()
		if !ok {
			return held
		}
		if i == simReadysMax*len(s.nodes)*100 {
			t.Fatalf("deliverAll: still delivering after %d messages", i)
		}
		s.now = at
		m, _ := s.net.queue.peekValue()
		if hold != nil && hold(m) {
			s.net.queue.pop()
			held = append(held, m)
			continue
		}
		s.stepScripted(t, s.deliver)
	}
}

// stepScripted runs one scripted step and checks every property after it; a
// panic in the core fails the test instead of the whole test binary.
func (s *simulator) stepScripted(t *testing.T, do func() error) {
	t.Helper()
	s.step++
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("step %d: panic: %v\nlast events:\n%s", s.step, r, s.trace.last(40))
		}
	}()
	if err := do(); err != nil {
		t.Fatalf("step %d: %v\nlast events:\n%s", s.step, err, s.trace.last(40))
	}
	if err := s.check(); err != nil {
		t.Fatalf("step %d: %v\nlast events:\n%s", s.step, err, s.trace.last(40))
	}
}

// inject delivers m now, as if it had just arrived.
func (s *simulator) inject(t *testing.T, m Message) {
	t.Helper()
	s.net.queue.push(s.now, m)
	s.stepScripted(t, s.deliver)
}

// electNode makes node id the leader: it ticks id alone until it campaigns,
// delivering every message, and fails if another node wins.
func (s *simulator) electNode(t *testing.T, id NodeID) {
	t.Helper()
	n := s.nodes[id-1]
	for i := 0; n.raft.Status().Role != RoleLeader; i++ {
		if i == 4*simElectionTicks {
			t.Fatalf("node %d is %v after %d ticks; want leader", id, n.raft.Status().Role, i)
		}
		s.now += simUnitsPerTick
		s.stepScripted(t, func() error { n.raft.Tick(); return s.drain(n) })
		s.deliverAll(t, nil)
	}
}

// TestSimulatorScenarioReorderedAppends replays what seed 1 found against the
// first core (fc80d73): two pipelined MsgApps reach a follower in reverse
// order, the follower rejects the later one, and the rejection reaches a
// leader that still has both in flight. The leader once restarted the
// follower's window below the in-flight indexes and panicked; it must fall
// back and repair the follower instead.
func TestSimulatorScenarioReorderedAppends(t *testing.T) {
	s := scriptSim(t, 3)
	s.electNode(t, 1)
	s.deliverAll(t, nil)
	leader := s.nodes[0]
	for i := range 2 {
		data := fmt.Appendf(nil, "x%d", i)
		if _, _, err := leader.raft.Propose(data); err != nil {
			t.Fatalf("Propose(%q) = %v; want nil", data, err)
		}
	}
	s.stepScripted(t, func() error { return s.drain(leader) })
	toFollower := func(m Message) bool { return m.Type == MsgApp && m.To == 2 && len(m.Entries) > 0 }
	held := s.deliverAll(t, toFollower)
	slices.SortStableFunc(held, func(a, b Message) int { return cmp.Compare(a.Entries[0].Index, b.Entries[0].Index) })
	if len(held) < 2 || held[0].Entries[0].Index == held[len(held)-1].Entries[0].Index {
		t.Fatalf("MsgApps with entries to node 2: %+v; want two with different entries (one entry each)", held)
	}
	s.inject(t, held[len(held)-1]) // the later entry first: node 2 rejects it
	rejected := s.deliverAll(t, func(m Message) bool { return m.Type == MsgAppResp && m.Reject })
	if len(rejected) != 1 {
		t.Fatalf("rejections from node 2: %d; want 1", len(rejected))
	}
	for _, m := range held[:len(held)-1] {
		s.inject(t, m)
	}
	s.deliverAll(t, nil)
	s.inject(t, rejected[0]) // the stale rejection reaches the leader
	s.deliverAll(t, nil)
	for range 3 * simElectionTicks { // heartbeats repair whatever is left
		s.now += simUnitsPerTick
		for _, n := range s.nodes {
			s.stepScripted(t, func() error { n.raft.Tick(); return s.drain(n) })
		}
		s.deliverAll(t, nil)
	}
	want := leader.raft.Status().LastIndex
	for _, n := range s.nodes {
		if got := n.applied; got != want {
			t.Errorf("node %d applied %d; want %d (the leader's last index)", n.id, got, want)
		}
	}
}

// TestSimulatorScenarioRemovedVoterCommitsJoint replays what seed 44 of the
// membership profile found against b1df88e: the acknowledgement of the voter
// being removed is the one that commits the joint configuration (C_new =
// {1,2,3} has its majority from 1 and 2, C_old = {1,2,3,4} needs 4). The
// leader then appends C_new at once, which drops the sender's progress, and
// went on to send the sender more entries through the progress it had just
// dropped: a nil dereference. The leader must commit, leave the joint
// configuration, and stop replicating to the removed node.
func TestSimulatorScenarioRemovedVoterCommitsJoint(t *testing.T) {
	s := scriptSim(t, 4)
	s.electNode(t, 1)
	s.deliverAll(t, nil)
	leader := s.nodes[0]
	joint, _, err := leader.raft.ProposeConfChange(ConfChange{Op: ConfRemove, Node: 4})
	if err != nil {
		t.Fatalf("ProposeConfChange(remove 4) = %v; want nil", err)
	}
	s.stepScripted(t, func() error { return s.drain(leader) })
	held := s.deliverAll(t, func(m Message) bool {
		return (m.Type == MsgApp && m.To == 3) || (m.Type == MsgAppResp && m.From == 4 && m.Index >= joint)
	})
	var ack []Message
	for _, m := range held {
		if m.Type == MsgAppResp {
			ack = append(ack, m)
		}
	}
	if len(ack) == 0 {
		t.Fatalf("held messages %+v; want node 4's acknowledgement of the joint entry %d", held, joint)
	}
	if c := leader.raft.Status().Commit; c >= joint {
		t.Fatalf("commit %d with only node 2's acknowledgement; want below the joint entry %d", c, joint)
	}
	s.inject(t, ack[0]) // node 4's acknowledgement commits the joint entry
	s.deliverAll(t, nil)
	m, _ := leader.raft.Membership()
	if st := leader.raft.Status(); st.Commit < joint || m.Joint() || m.IsMember(4) {
		t.Fatalf("leader: commit %d, Membership() = %s; want the joint entry %d committed and C_new without node 4", st.Commit, m, joint)
	}
	if _, ok := leader.raft.Progress()[4]; ok {
		t.Fatalf("leader Progress() lists node 4 after C_new; want it dropped")
	}
}

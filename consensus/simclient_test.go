package consensus

// This file holds the simulator's clients, which propose and read through
// whichever node they reach, and the liveness phase: once every fault heals,
// a leader must commit a proposal and answer a read within simLivenessTicks.

import (
	"errors"
	"fmt"
)

// leaderIndex returns the position of the live leader of the highest term, or -1.
func (s *simulator) leaderIndex() int {
	best, bestTerm := -1, Term(0)
	for i, n := range s.nodes {
		if !n.up() {
			continue
		}
		if st := n.raft.Status(); st.Role == RoleLeader && (best < 0 || st.Term > bestTerm) {
			best, bestTerm = i, st.Term
		}
	}
	return best
}

// clientTarget picks the node a client calls: usually the leader, as a client
// that follows redirects would, sometimes any live node.
func (s *simulator) clientTarget() *simNode {
	n := s.nodes[s.randomLive()]
	if i := s.leaderIndex(); i >= 0 && s.rng.IntN(100) < 80 {
		n = s.nodes[i]
	}
	if !n.up() || n.paused(s.now) {
		return nil // the call would hang; the client gives up
	}
	return n
}

func (s *simulator) propose() error {
	s.schedule(s.now+1+simTime(s.rng.Int64N(int64(s.plan.proposeGapMax))), agendaItem{kind: agPropose})
	if s.healing {
		// Once healed only the liveness probe proposes: a background load
		// above what a slow plan (1-byte messages, one in flight) replicates
		// would keep any backlog from draining, and that is overload, not a
		// liveness bug.
		return nil
	}
	if n := s.clientTarget(); n != nil {
		s.opSeq++
		_, err := s.proposeOn(n, fmt.Appendf(nil, "p%d", s.opSeq))
		return err
	}
	return nil
}

// proposeOn proposes data on n; ok is false when n refused it as it may.
func (s *simulator) proposeOn(n *simNode, data []byte) (ok bool, err error) {
	index, term, err := n.raft.Propose(data)
	s.trace.add(traceEvent{step: s.step, at: s.now, kind: tracePropose, node: n.id,
		detail: fmt.Sprintf("Propose(%q) = (%d, %d, %v)", data, index, term, err)})
	switch {
	case err == nil:
		s.stats.proposals++
		s.promises.proposed(n.id, index, term, data)
		if s.healing && s.probe.node == None {
			s.probe = livenessProbe{node: n.id, index: index, term: term}
		}
		return true, s.drain(n)
	case errors.Is(err, ErrNotLeader), errors.Is(err, ErrProposalDropped), errors.Is(err, ErrNoLeader):
		return false, nil
	}
	return false, fmt.Errorf("node %d: Propose(%q) = %w; want nil, ErrNotLeader or ErrProposalDropped", n.id, data, err)
}

func (s *simulator) readIndex() error {
	s.schedule(s.now+1+simTime(s.rng.Int64N(int64(s.plan.readGapMax))), agendaItem{kind: agRead})
	if n := s.clientTarget(); n != nil {
		s.opSeq++
		_, err := s.readOn(n, fmt.Appendf(nil, "r%d", s.opSeq))
		return err
	}
	return nil
}

// readOn calls ReadIndex(rctx) on n; ok is false when n refused it as it may.
func (s *simulator) readOn(n *simNode, rctx []byte) (ok bool, err error) {
	s.reads.invoked(rctx, n.id, s.commitFloor())
	err = n.raft.ReadIndex(rctx)
	s.trace.add(traceEvent{step: s.step, at: s.now, kind: traceRead, node: n.id,
		detail: fmt.Sprintf("ReadIndex(%q) = %v", rctx, err)})
	switch {
	case err == nil:
		return true, s.drain(n)
	case errors.Is(err, ErrNotLeader), errors.Is(err, ErrProposalDropped), errors.Is(err, ErrNoLeader):
		return false, nil
	}
	return false, fmt.Errorf("node %d: ReadIndex(%q) = %w; want nil, ErrNoLeader or ErrProposalDropped", n.id, rctx, err)
}

// commitFloor is the highest commit index known anywhere: applied by a node
// (so acknowledged to its proposer) or known committed by a live node.
func (s *simulator) commitFloor() Index {
	floor := s.maxApplied
	for _, n := range s.nodes {
		if n.up() {
			floor = max(floor, n.raft.Status().Commit)
		}
	}
	return floor
}

// onApplied follows the liveness probe.
func (s *simulator) onApplied(n *simNode, e Entry) {
	if p := &s.probe; p.node == n.id && p.index == e.Index {
		if e.Term == p.term {
			p.committed = true
		} else {
			*p = livenessProbe{} // lost to a new leader: propose again
		}
	}
}

// healAndRecover ends the faults and requires a leader to commit a proposal
// and answer a read within simLivenessTicks.
func (s *simulator) healAndRecover() error {
	s.healing = true
	s.net.heal()
	s.net.weather = weatherCalm.params()
	s.note("HEAL: all links up, calm network, every node restarts")
	for _, n := range s.nodes {
		n.arm = crashNone
		n.pausedUntil = 0
		if err := s.restart(n); err != nil {
			return err
		}
	}
	healed := s.now
	deadline := s.now + simLivenessTicks*simUnitsPerTick
	hardDeadline := s.now + simLivenessTicksMax*simUnitsPerTick
	var commit Index
	for s.now <= deadline {
		if s.probe.committed && s.probe.readAnswered {
			return nil
		}
		// A backlog left by the faults takes time to replicate (and cannot
		// commit before a current-term entry behind it does): while the
		// commit index or the log a quorum holds keeps rising the cluster is
		// live, so the budget restarts, up to a hard cap. A stall still
		// fails within simLivenessTicks.
		if c := s.maxCommit() + s.quorumLastIndex(); c > commit {
			commit = c
			deadline = min(max(deadline, s.now+simLivenessTicks*simUnitsPerTick), hardDeadline)
		}
		if err := s.nudgeProbe(); err != nil {
			return err
		}
		if err := s.stepOnce(); err != nil {
			return err
		}
	}
	return fmt.Errorf("%w: %d ticks after the heal: proposal committed %v, read answered %v (leader %d)",
		errLiveness, (s.now-healed)/simUnitsPerTick, s.probe.committed, s.probe.readAnswered, s.leaderIndex()+1)
}

// maxCommit is the highest commit index of any running node.
func (s *simulator) maxCommit() Index {
	var c Index
	for _, n := range s.nodes {
		if n.up() {
			c = max(c, n.raft.Status().Commit)
		}
	}
	return c
}

// quorumLastIndex is the highest last index that a quorum of the running
// voters reach (in each half of a joint configuration): it rises as
// followers catch up with a leader's backlog. The voters are those of the
// membership in effect on the node that knows the highest commit index;
// removed nodes and learners, which may run on, do not count.
func (s *simulator) quorumLastIndex() Index {
	var ref *simNode
	for _, n := range s.nodes {
		if n.up() && (ref == nil || n.raft.Status().Commit > ref.raft.Status().Commit) {
			ref = n
		}
	}
	if ref == nil {
		return 0
	}
	m, _ := ref.raft.Membership()
	if len(m.Voters) == 0 {
		return 0 // a joiner that knows nothing yet
	}
	last := func(id NodeID) uint64 {
		if int(id) > len(s.nodes) || !s.nodes[id-1].up() {
			return 0
		}
		return uint64(s.nodes[id-1].raft.Status().LastIndex)
	}
	a, buf := quorumValue(m.Voters, last, nil)
	b, _ := quorumValue(m.Outgoing, last, buf)
	return Index(min(a, b))
}

// livenessReadPrefix starts the request context of every liveness read; the
// heal phase ends when any of them is answered.
const livenessReadPrefix = "liveness read "

// nudgeProbe proposes the liveness probe on the leader, and once it is
// committed asks a random node for a read, until both succeed.
func (s *simulator) nudgeProbe() error {
	i := s.leaderIndex()
	if i < 0 {
		return nil
	}
	p := &s.probe
	if !p.committed {
		if p.node != None && s.nodes[p.node-1].up() && s.nodes[p.node-1].raft.Status().Role == RoleLeader {
			return nil // in flight
		}
		p.node = None
		_, err := s.proposeOn(s.nodes[i], []byte("liveness probe"))
		return err
	}
	if p.readAsked && s.now-p.readAskedAt < simElectionTicks*simUnitsPerTick {
		return nil // in flight; asked again each election timeout in case it was refused or lost
	}
	n := s.nodes[s.randomLive()]
	if !n.up() {
		return nil // crashed: ask another next step
	}
	s.opSeq++
	ok, err := s.readOn(n, fmt.Appendf(nil, "%s%d", livenessReadPrefix, s.opSeq))
	if ok {
		p.readAsked, p.readAskedAt = true, s.now
	}
	return err
}

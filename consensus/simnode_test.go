package consensus

// This file holds the simulator's node: a core, its MemoryStorage (the node's
// "disk", which survives crashes) and a driver that carries out every Ready
// exactly as doc.go's contract says: persist, send, apply, advance. A crash
// drops the core and everything volatile; an armed crash strikes in the middle
// of the next Ready, at one of the points where a real process can die.

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
)

// simReadysMax bounds the Readys one input may produce before the simulator
// calls the core livelocked.
const simReadysMax = 64

// crashPoint is where in a Ready an armed crash strikes.
type crashPoint uint8

const (
	crashNone          crashPoint = iota
	crashBeforePersist            // computed the Ready, died before the write was durable: all of it is lost
	crashAfterPersist             // the write is durable, no message left
	crashAfterSend                // written and sent, not applied
	crashPoints                   // the number of points
)

func (p crashPoint) String() string {
	switch p {
	case crashBeforePersist:
		return "before persist"
	case crashAfterPersist:
		return "after persist, before send"
	case crashAfterSend:
		return "after send, before apply"
	}
	return "idle"
}

// simNode is one member of the simulated cluster.
type simNode struct {
	id NodeID
	// created is false for a pool id never added yet: it does not run and
	// no fault restarts it. joiner is true for a node that started with no
	// membership (Config.Voters nil) and learns it from the log. retired is
	// true for a removed node the operator stopped for good. added is true
	// once the leader accepted a change adding it (its id is then never
	// added again).
	created, joiner, retired, added bool
	storage                         *MemoryStorage
	// raft is nil while the node is down.
	raft *Raft
	// incarnation counts restarts; scheduled faults aimed at an older
	// incarnation miss.
	incarnation int
	// applied is the last index this incarnation's state machine applied.
	applied Index
	// dirtyFrom is the lowest index written to storage since the last check; 0 if none.
	dirtyFrom Index
	// durableCommit is the commit index on the node's disk, as last persisted.
	durableCommit Index
	// arm, when set, crashes the node at that point of its next Ready, to
	// restart armRestart later.
	arm        crashPoint
	armRestart simTime
	// soft is the last role and leader the core reported.
	soft SoftState
	// pausedUntil is when a paused node resumes; it neither ticks nor
	// receives before then.
	pausedUntil simTime
	// unreachable collects the peers a Ready's messages could not reach.
	unreachable []NodeID
	// snap is the node's snapshot state (simsnap_test.go).
	snap simSnap
}

func (n *simNode) up() bool { return n.raft != nil }

func (n *simNode) paused(now simTime) bool { return now < n.pausedUntil }

// start creates the node's core from its storage.
func (s *simulator) start(n *simNode) error {
	if s.cfg.bugs.forgetVote && n.incarnation > 0 {
		// The knob: this node's disk forgets whom it voted for.
		hs, err := n.storage.InitialState()
		if err != nil {
			return err
		}
		hs.Vote = None
		n.storage.SetHardState(hs)
	}
	voters := s.voters
	if n.joiner {
		voters = nil
	}
	cfg := Config{
		ID:              n.id,
		Voters:          voters,
		Storage:         simSnapStorage{n},
		ElectionTicks:   simElectionTicks,
		HeartbeatTicks:  s.plan.heartbeatTicks,
		Rand:            rand.New(rand.NewPCG(s.rng.Uint64(), s.rng.Uint64())),
		MaxMsgBytes:     s.plan.maxMsgBytes,
		MaxInflightMsgs: s.plan.maxInflight,
	}
	s.cfg.bugs.apply(&cfg)
	// The state machine restarts from the node's latest snapshot.
	cfg.Applied = n.snap.meta.Index
	r, err := New(cfg)
	if err != nil {
		return fmt.Errorf("New(node %d, incarnation %d) = %w; want a core", n.id, n.incarnation, err)
	}
	n.raft = r
	n.applied = cfg.Applied
	n.pausedUntil = 0
	n.soft = SoftState{}
	return s.drain(n)
}

// crash drops n's core and volatile state; its storage survives. An armed
// crash schedules its own restart.
func (s *simulator) crash(n *simNode, why string) {
	if !n.up() {
		return
	}
	if n.arm != crashNone {
		s.scheduleRestart(n, n.armRestart)
	}
	n.raft = nil
	n.arm = crashNone
	n.incarnation++
	s.stats.crashes++
	s.promises.forget(n.id)
	s.trace.add(traceEvent{step: s.step, at: s.now, kind: traceCrash, node: n.id, detail: "CRASH " + why})
}

// drain carries out n's Readys until the core has nothing more to do.
func (s *simulator) drain(n *simNode) error {
	for i := 0; n.up() && n.raft.HasReady(); i++ {
		if i == simReadysMax {
			return fmt.Errorf("node %d produced %d Readys for one input: livelock", n.id, i)
		}
		if err := s.handleReady(n, n.raft.Ready()); err != nil {
			return err
		}
		for _, to := range n.unreachable {
			if n.up() {
				n.raft.ReportUnreachable(to)
			}
		}
		n.unreachable = n.unreachable[:0]
		n.reportSnapshots()
	}
	return nil
}

// handleReady carries out one Ready: persist, send, apply, advance, unless an
// armed crash strikes first.
func (s *simulator) handleReady(n *simNode, rd Ready) error {
	if rd.SoftState != nil && *rd.SoftState != n.soft {
		n.soft = *rd.SoftState
		s.trace.add(traceEvent{step: s.step, at: s.now, kind: traceRole, node: n.id,
			detail: fmt.Sprintf("is %v in term %d, leader %d", n.soft.Role, n.raft.Status().Term, n.soft.Lead)})
		if n.soft.Role == RoleLeader {
			log, err := n.durableLog()
			if err != nil {
				return err
			}
			s.view.won = append(s.view.won, nodeView{id: n.id, up: true, role: RoleLeader, term: n.raft.Status().Term, log: log})
			s.stats.elections++
			s.onLeader(n)
		}
	}
	for _, m := range rd.Messages {
		if m.Type == MsgVoteResp && !m.Reject {
			s.onVoteGranted(n)
			break
		}
	}
	if n.arm == crashBeforePersist {
		s.crash(n, crashBeforePersist.String())
		return nil
	}
	if err := s.persist(n, rd); err != nil {
		return err
	}
	if n.arm == crashAfterPersist {
		s.crash(n, crashAfterPersist.String())
		return nil
	}
	if err := s.sendAll(n, rd.Messages); err != nil {
		return err
	}
	if n.arm == crashAfterSend {
		s.crash(n, crashAfterSend.String())
		return nil
	}
	if err := s.apply(n, rd); err != nil {
		return err
	}
	n.raft.Advance(rd)
	return s.maybeSnapshot(n)
}

// persist is step 1 of the driver contract: one atomic write of the hard
// state and entries.
func (s *simulator) persist(n *simNode, rd Ready) error {
	if err := s.installSnapshot(n, rd); err != nil {
		return err
	}
	if !rd.HardState.IsEmpty() {
		if err := checkHardState(n, rd.HardState); err != nil {
			return err
		}
		n.storage.SetHardState(rd.HardState)
	}
	if err := checkOverwrite(n, rd.Entries); err != nil {
		return err
	}
	if len(rd.Entries) > 0 {
		if err := n.storage.Append(rd.Entries); err != nil {
			return fmt.Errorf("node %d: persisting Ready.Entries from %d: %w", n.id, rd.Entries[0].Index, err)
		}
		if first := rd.Entries[0].Index; n.dirtyFrom == 0 || first < n.dirtyFrom {
			n.dirtyFrom = first
		}
	}
	if rd.HardState.IsEmpty() {
		return nil
	}
	return s.observeCommit(n, rd.HardState)
}

// checkHardState checks that hs may replace n's persisted hard state: terms
// never go back, and a vote once on disk never changes within its term.
func checkHardState(n *simNode, hs HardState) error {
	old, err := n.storage.InitialState()
	if err != nil {
		return err
	}
	if hs.Term < old.Term {
		return &safetyViolation{checker: "durable state", err: fmt.Errorf("node %d persisted term %d over term %d", n.id, hs.Term, old.Term)}
	}
	if hs.Term == old.Term && old.Vote != None && hs.Vote != old.Vote {
		return &safetyViolation{checker: "durable state", err: fmt.Errorf("node %d persisted vote %d in term %d, after voting %d", n.id, hs.Vote, hs.Term, old.Vote)}
	}
	return nil
}

// checkOverwrite checks that ents rewrite no entry n's disk marks committed.
func checkOverwrite(n *simNode, ents []Entry) error {
	for _, e := range ents {
		if e.Index > n.durableCommit {
			return nil
		}
		old, err := n.storage.Entries(e.Index, e.Index+1, math.MaxUint64)
		if err != nil {
			return nil // past the stored log: an append, not a rewrite
		}
		if !chkSameEntry(old[0], e) {
			return &safetyViolation{checker: "durable state", err: fmt.Errorf("node %d rewrote committed entry %s (commit %d) with %s",
				n.id, chkDescribe(old[0]), n.durableCommit, chkDescribe(e))}
		}
	}
	return nil
}

// observeCommit reports the entries a persisted commit index newly covers.
func (s *simulator) observeCommit(n *simNode, hs HardState) error {
	if hs.Commit < n.durableCommit {
		return &safetyViolation{checker: "durable state", err: fmt.Errorf("node %d persisted commit index %d after %d", n.id, hs.Commit, n.durableCommit)}
	}
	for i := n.durableCommit + 1; i <= hs.Commit; i++ {
		ents, err := n.storage.Entries(i, i+1, math.MaxUint64)
		if err != nil {
			return fmt.Errorf("node %d persisted commit index %d, past its log: %w", n.id, hs.Commit, err)
		}
		s.view.applied = append(s.view.applied, applyEvent{node: n.id, term: hs.Term, entry: ents[0], durable: true})
	}
	n.durableCommit = hs.Commit
	return nil
}

// sendAll is step 2: hand every message to the network.
func (s *simulator) sendAll(n *simNode, msgs []Message) error {
	for _, m := range msgs {
		if m.From != n.id || m.To == n.id || m.To == None || int(m.To) > len(s.nodes) {
			return fmt.Errorf("node %d sent %v from %d to %d", n.id, m.Type, m.From, m.To)
		}
		sent := s.nodes[m.To-1].up() && s.net.send(m, s.now)
		if !sent {
			n.unreachable = append(n.unreachable, m.To)
		}
		n.noteSnapshotSent(m, sent)
	}
	return nil
}

// apply is step 3: apply the committed entries in order and hand over the
// read states.
func (s *simulator) apply(n *simNode, rd Ready) error {
	if len(rd.CommittedEntries) > 0 {
		term := n.raft.Status().Term
		for _, e := range rd.CommittedEntries {
			if e.Index != n.applied+1 {
				return &safetyViolation{checker: "apply order", err: fmt.Errorf("node %d applied index %d after %d: CommittedEntries skip or repeat", n.id, e.Index, n.applied)}
			}
			n.applied = e.Index
			s.view.applied = append(s.view.applied, applyEvent{node: n.id, term: term, entry: e})
			s.maxApplied = max(s.maxApplied, e.Index)
			s.onApplied(n, e)
			if err := s.onCommittedConf(e); err != nil {
				return err
			}
		}
		s.trace.add(traceEvent{step: s.step, at: s.now, kind: traceApply, node: n.id,
			a: uint64(rd.CommittedEntries[0].Index), b: uint64(n.applied)})
	}
	for _, rs := range rd.ReadStates {
		s.view.reads = append(s.view.reads, readEvent{node: n.id, rs: rs})
		s.stats.reads++
		s.trace.add(traceEvent{step: s.step, at: s.now, kind: traceReadState, node: n.id,
			a: uint64(rs.Index), detail: string(rs.RequestCtx)})
	}
	return nil
}

// nodeView returns n as the checkers see it, and starts a new dirty range.
func (n *simNode) view() (nodeView, error) {
	v := nodeView{id: n.id, up: n.up(), dirtyFrom: n.dirtyFrom}
	n.dirtyFrom = 0
	if n.up() {
		st := n.raft.Status()
		v.role, v.term = st.Role, st.Term
	}
	var err error
	v.log, err = n.durableLog()
	return v, err
}

// durableLog returns n's stored log, index 1 first; the slice is never changed.
func (n *simNode) durableLog() ([]Entry, error) {
	first, err := n.storage.FirstIndex()
	if err != nil {
		return nil, err
	}
	last, err := n.storage.LastIndex()
	if err != nil {
		return nil, err
	}
	if first != 1 {
		return nil, fmt.Errorf("node %d: storage starts at %d; the simulator does not model compaction", n.id, first)
	}
	if last == 0 {
		return nil, nil
	}
	return n.storage.Entries(1, last+1, math.MaxUint64)
}

// stepErr reports whether err from Step is a failure: every message the
// simulator delivers was sent by a correct peer, however late or duplicated.
func stepErr(n *simNode, m Message, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, ErrInvalidMessage) {
		return fmt.Errorf("node %d: Step(%v from %d, term %d, index %d) = %w; want nil for a message a peer sent",
			n.id, m.Type, m.From, m.Term, m.Index, err)
	}
	return fmt.Errorf("node %d: Step(%v from %d) = %w; want nil", n.id, m.Type, m.From, err)
}

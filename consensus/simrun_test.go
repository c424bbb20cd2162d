package consensus

// This file holds the simulator's run loop: the agenda of scheduled events
// beside the network's deliveries, one step at a time in virtual time, and the
// check of every property after each step.

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime/debug"
)

// agendaKind is what a scheduled agenda item does.
type agendaKind uint8

const (
	agTick agendaKind = iota
	agPropose
	agRead
	agFault
	agCrash
	agRestart
	agFlap
	agMember
)

// agendaItem is one scheduled event other than a message delivery.
type agendaItem struct {
	kind        agendaKind
	node        NodeID
	incarnation int        // agCrash: the incarnation it aims at
	point       crashPoint // agCrash: where it strikes
	gap         simTime    // agCrash: restart delay; agFlap: toggle period
	left        int        // agFlap: toggles left
	cut         [][]bool   // agFlap: the partition toggled
}

// simulator is one run.
type simulator struct {
	cfg    simConfig
	plan   faultPlan
	rng    *rand.Rand
	now    simTime
	step   int
	nodes  []*simNode // ids 1..pool; those not created yet are down
	voters []NodeID   // the initial voters
	mem    *memberDriver
	net    *simnet
	agenda timedQueue[agendaItem]
	trace  *traceRing

	view     clusterView // the applications and reads of the current step
	checkers []simChecker
	election *electionSafety
	reads    *readLinearizability
	promises *proposalPromise

	maxApplied Index
	opSeq      int
	healing    bool
	stack      string // the stack of a panic in the core
	// retiredSnaps are the snapshots of wiped nodes, which may still be in flight.
	retiredSnaps []map[Index][]Entry
	probe        livenessProbe
	stats        simStats
}

// livenessProbe is the proposal and read that must succeed after the heal.
type livenessProbe struct {
	node         NodeID
	index        Index
	term         Term
	committed    bool
	readAsked    bool
	readAskedAt  simTime // when the last liveness read was asked
	readAnswered bool
}

func newSimulator(cfg simConfig) *simulator {
	rng := rand.New(rand.NewPCG(cfg.seed, cfg.seed^0x9e3779b97f4a7c15))
	cfg.pool = max(cfg.pool, cfg.nodes)
	s := &simulator{
		cfg:      cfg,
		rng:      rng,
		plan:     newFaultPlan(rng, cfg.profile),
		net:      newSimnet(rng, cfg.pool),
		trace:    newTraceRing(*flagSimTrace),
		election: newElectionSafety(),
		reads:    newReadLinearizability(),
		promises: newProposalPromise(),
	}
	s.net.weather = s.plan.weather.params()
	for i := range cfg.pool {
		id := NodeID(i + 1)
		if i < cfg.nodes {
			s.voters = append(s.voters, id)
		}
		s.nodes = append(s.nodes, &simNode{id: id, storage: NewMemoryStorage(), created: i < cfg.nodes, added: i < cfg.nodes})
	}
	s.mem = newMemberDriver(cfg, s.voters)
	s.checkers = []simChecker{s.election, newLeaderAppendOnly(), newLogMatching(),
		newLeaderCompleteness(), newStateMachineSafety(), newQuorumDurability(s.voters), newRemovedLeader(s.voters),
		s.reads, s.promises}
	return s
}

// runSim runs cfg to the end and returns its failure, if any.
func runSim(cfg simConfig) (simStats, error) {
	s := newSimulator(cfg)
	err := s.runCatching()
	s.stats.steps = s.step
	s.stats.ticks = int(s.now / simUnitsPerTick)
	s.stats.maxApplied = s.maxApplied
	s.stats.net = s.net.stats
	s.stats.members = s.mem.stats
	if err != nil {
		return s.stats, &simFailure{cfg: s.cfg, plan: s.plan, mem: s.mem.String(), step: s.step, at: s.now, err: err,
			trace: s.trace.last(*flagSimTrace), stack: s.stack}
	}
	return s.stats, nil
}

// runCatching runs s and turns a panic in the core into its failure.
func (s *simulator) runCatching() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
			s.stack = string(debug.Stack())
		}
	}()
	return s.run()
}

func (s *simulator) run() error {
	for _, n := range s.nodes {
		if n.created {
			if err := s.start(n); err != nil {
				return err
			}
		}
		s.schedule(simTime(s.rng.Int64N(int64(simUnitsPerTick))), agendaItem{kind: agTick, node: n.id})
	}
	s.schedule(0, agendaItem{kind: agPropose})
	s.schedule(0, agendaItem{kind: agRead})
	s.schedule(1, agendaItem{kind: agFault})
	if s.mem.profile != memNone {
		s.schedule(1, agendaItem{kind: agMember})
	}
	for s.step < s.cfg.steps {
		if err := s.stepOnce(); err != nil {
			return err
		}
	}
	return s.healAndRecover()
}

func (s *simulator) schedule(at simTime, it agendaItem) { s.agenda.push(at, it) }

// stepOnce carries out the earliest event and checks every property.
func (s *simulator) stepOnce() error {
	s.step++
	if err := s.dispatch(); err != nil {
		return err
	}
	return s.check()
}

// dispatch carries out the earliest pending event; deliveries go first on a tie.
func (s *simulator) dispatch() error {
	at, ok := s.agenda.peek()
	if !ok {
		return errors.New("the agenda ran dry")
	}
	if dt, ok := s.net.next(); ok && dt <= at {
		s.now = dt
		return s.deliver()
	}
	it := s.agenda.pop()
	s.now = it.at
	switch it.v.kind {
	case agTick:
		return s.tick(it.v.node)
	case agPropose:
		return s.propose()
	case agRead:
		return s.readIndex()
	case agFault:
		s.fault()
	case agCrash:
		s.scheduledCrash(it.v)
	case agRestart:
		return s.restart(s.nodes[it.v.node-1])
	case agFlap:
		s.flapToggle(it.v)
	case agMember:
		return s.memberAct()
	}
	return nil
}

func (s *simulator) deliver() error {
	m, ok := s.net.deliver()
	n := s.nodes[m.To-1]
	if ok && n.up() && n.paused(s.now) {
		s.net.queue.push(n.pausedUntil, m) // waits in the socket buffer
		return nil
	}
	if !ok || !n.up() {
		s.trace.add(traceEvent{step: s.step, at: s.now, kind: traceLost, node: m.To, msg: m})
		return nil
	}
	s.trace.add(traceEvent{step: s.step, at: s.now, kind: traceDeliver, node: m.To, msg: m})
	if err := stepErr(n, m, n.raft.Step(m)); err != nil {
		return err
	}
	s.onRepairAck(n, m)
	return s.drain(n)
}

func (s *simulator) tick(id NodeID) error {
	s.schedule(s.now+simUnitsPerTick, agendaItem{kind: agTick, node: id})
	n := s.nodes[id-1]
	if !n.up() || n.paused(s.now) {
		return nil
	}
	s.trace.add(traceEvent{step: s.step, at: s.now, kind: traceTick, node: id})
	n.raft.Tick()
	return s.drain(n)
}

func (s *simulator) restart(n *simNode) error {
	if n.up() || !n.created || n.retired {
		return nil
	}
	s.trace.add(traceEvent{step: s.step, at: s.now, kind: traceRestart, node: n.id,
		detail: fmt.Sprintf("RESTART (incarnation %d)", n.incarnation)})
	return s.start(n)
}

// note records a fault action in the trace.
func (s *simulator) note(detail string) {
	s.trace.add(traceEvent{step: s.step, at: s.now, kind: traceFault, detail: detail})
}

// check runs every checker on the cluster as it is after the step.
func (s *simulator) check() error {
	s.view.nodes = s.view.nodes[:0]
	for _, n := range s.nodes {
		if !n.created {
			continue // an id never added: no log, no role
		}
		v, err := n.view()
		if err != nil {
			return err
		}
		s.view.nodes = append(s.view.nodes, v)
	}
	for _, c := range s.checkers {
		if err := c.check(&s.view); err != nil {
			return &safetyViolation{checker: c.name(), err: err}
		}
	}
	for _, r := range s.view.reads {
		if bytes.HasPrefix(r.rs.RequestCtx, []byte(livenessReadPrefix)) {
			s.probe.readAnswered = true
		}
	}
	s.view.applied = s.view.applied[:0]
	s.view.reads = s.view.reads[:0]
	s.view.won = s.view.won[:0]
	return nil
}

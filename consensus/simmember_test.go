package consensus

// This file teaches the simulator membership changes (§6) and leadership
// transfer. A run has a pool of node ids larger than its initial cluster; the
// ids outside it start as joiners (Config.Voters nil: they know nothing and
// learn the membership from the log) and exist only once first added. On a
// seeded schedule an operator asks the current leader for a change: add a
// learner, promote it (retried until it has caught up), remove a voter or a
// learner (the leader itself included), or transfer the leadership. A
// membership profile says which changes: random ones, or a target the run
// cycles through under the usual faults: grow (3 -> 5 -> 3 ...), shrink
// (5 -> 3 -> 5 ...), replace the leader (add, promote, remove the old leader)
// and remove the leader (it removes itself, then a node is added back).
//
// Every node added is a fresh id, never one removed before. Re-adding a
// removed id, even with EMPTY storage, is unsafe in Raft, and the simulator
// showed it within a few thousand seeds (-sim.bug=reuseid, seed 2309 of
// -sim.profile=grow: two leaders in term 3): a member that lags far behind
// (partitioned, or a removed node that never learned of its removal) still
// uses an old membership that lists the id as a voter, and the wiped node,
// which remembers no vote and no log, grants it. Node 3, removed but running
// with membership {1,2,3}, got the vote of the wiped and re-added node 1 and
// led term 3 beside the real leader 4 of {2,4,5}. Starting the wiped node at
// the leader's term with its vote given (what the server does) only moves the
// stale election one term up (TestScenarioReusedIDElectsStaleLeader). No vote
// rule on the wiped node fixes it while it replays the old entries that list
// it as a voter; the server must give a joining node a new id (as etcd does)
// or an incarnation that old memberships cannot name.
//
// Removed nodes keep running, crashing and restarting like any other (the
// "removed server that disrupts" of §6); beyond simRemovedRunningMax of them
// the operator retires the oldest for good. The test-only bug wipeearly wipes
// a voter as soon as its removal is proposed, while the joint configuration
// still counts it, to show the checkers notice a lost copy of the committed
// log.
//
// Every decision is drawn from a source of its own, seeded by the run's seed,
// so that runs without membership changes replay as they did before.

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// memberProfile is which membership changes a run makes.
type memberProfile uint8

const (
	// memNone keeps the initial membership ("fixed").
	memNone memberProfile = iota
	// memRandom makes random changes and transfers.
	memRandom
	// memGrow grows the cluster by two voters, shrinks it back, and again.
	memGrow
	// memShrink shrinks the cluster by two voters, grows it back, and again.
	memShrink
	// memReplace replaces the leader: adds a learner, promotes it, removes
	// the node that led when the replacement began; and again.
	memReplace
	// memRemoveLeader has the leader remove itself, then adds a node back; and again.
	memRemoveLeader
	// memAny lets the seed choose.
	memAny
)

// memberProfileNames are the -sim.profile names of the membership profiles.
var memberProfileNames = [...]string{"fixed", "members", "grow", "shrink", "replace", "removeleader"}

func (p memberProfile) String() string {
	if int(p) < len(memberProfileNames) {
		return memberProfileNames[p]
	}
	return ""
}

// parseSimProfile reads -sim.profile: a fault profile (mixed, churn, storm,
// steady), a membership profile, or one of each separated by a comma. What
// it does not name, the seed chooses.
func parseSimProfile(s string) (planProfile, memberProfile, error) {
	fault, mem := profileAny, memAny
	if s == "" {
		return fault, mem, nil
	}
	for _, tok := range strings.Split(s, ",") {
		if p, err := parsePlanProfile(tok); err == nil && tok != "" {
			fault = p
			continue
		}
		i := slices.Index(memberProfileNames[:], tok)
		if i < 0 {
			return profileAny, memAny, fmt.Errorf("unknown -sim.profile %q; want mixed, churn, storm or steady, and/or %s",
				tok, strings.Join(memberProfileNames[:], ", "))
		}
		mem = memberProfile(i)
	}
	return fault, mem, nil
}

// profileFlag is the -sim.profile value that replays fault and mem.
func profileFlag(fault planProfile, mem memberProfile) string {
	var toks []string
	if fault != profileAny {
		toks = append(toks, fault.String())
	}
	if mem != memAny {
		toks = append(toks, mem.String())
	}
	return strings.Join(toks, ",")
}

// drawMemberProfile is the membership profile seed runs when the flags leave
// it open: four runs in ten keep their membership, the others change it.
func drawMemberProfile(seed uint64) memberProfile {
	rng := rand.New(rand.NewPCG(seed, 0x6d656d62657273))
	return simPick(rng, memNone, memNone, memNone, memNone, memRandom, memRandom,
		memGrow, memShrink, memReplace, memRemoveLeader)
}

// memberNodes is the initial cluster size of profile p when -sim.nodes does
// not say: grow starts from 3 and shrink from 5, as issue 8 asks; the others
// take the seed's size.
func memberNodes(p memberProfile, seed uint64) int {
	switch p {
	case memGrow:
		return 3
	case memShrink:
		return 5
	}
	return simNodesForSeed(seed)
}

// simJoinersMax is how many ids beyond the initial voters a run that
// changes its membership may add; simRemovedRunningMax how many removed
// nodes keep running before the oldest is retired.
const (
	simJoinersMax        = 6
	simRemovedRunningMax = 2
)

// memberPool is how many node ids a run of profile p over nodes initial
// voters has.
func memberPool(p memberProfile, nodes int) int {
	if p == memNone || p == memAny {
		return nodes
	}
	return nodes + simJoinersMax
}

// memberStats counts what the operator asked and what the committed log shows.
type memberStats struct {
	// asked counts ProposeConfChange calls, accepted those that returned
	// nil, transfers TransferLeadership calls that returned nil, wipes the
	// removed nodes re-provisioned with empty storage.
	asked, accepted, transfers, wipes int
	// From the committed membership entries: learners added, learners
	// promoted, voters removed (leaders that removed themselves among them),
	// learners removed.
	learnersAdded, promoted, votersRemoved, leadersRemoved, learnersRemoved int
	// minVoters and maxVoters bound the committed voter counts (outside joint).
	minVoters, maxVoters int
}

func (a *memberStats) add(b memberStats) {
	a.asked += b.asked
	a.accepted += b.accepted
	a.transfers += b.transfers
	a.wipes += b.wipes
	a.learnersAdded += b.learnersAdded
	a.promoted += b.promoted
	a.votersRemoved += b.votersRemoved
	a.leadersRemoved += b.leadersRemoved
	a.learnersRemoved += b.learnersRemoved
	if b.maxVoters > 0 {
		if a.minVoters == 0 || b.minVoters < a.minVoters {
			a.minVoters = b.minVoters
		}
		a.maxVoters = max(a.maxVoters, b.maxVoters)
	}
}

// memberDriver is the run's operator.
type memberDriver struct {
	profile memberProfile
	rng     *rand.Rand
	// gapMax bounds the time between two operator actions; transferPct is
	// the percentage of them that transfer the leadership.
	gapMax      simTime
	transferPct int
	// lo and hi are the voter counts grow and shrink cycle between; goal is
	// the one they head for now.
	lo, hi, goal int
	// replacing is the node memReplace is replacing (the leader when the
	// replacement began), or None.
	replacing NodeID
	// committed is the membership of the newest committed membership entry
	// any node applied, at index committedAt.
	committed   Membership
	committedAt Index
	stats       memberStats
}

func newMemberDriver(cfg simConfig, voters []NodeID) *memberDriver {
	d := &memberDriver{
		profile:   cfg.members,
		rng:       rand.New(rand.NewPCG(cfg.seed, 0x6f70657261746f72)),
		committed: Membership{Voters: slices.Clone(voters)},
		lo:        cfg.nodes,
		hi:        cfg.nodes,
	}
	d.gapMax = simPick[simTime](d.rng, 3, 8, 20) * simUnitsPerTick
	d.transferPct = simPick(d.rng, 5, 15, 30)
	switch d.profile {
	case memGrow:
		d.hi = cfg.nodes + 2
		d.goal = d.hi
	case memShrink:
		d.lo = max(1, cfg.nodes-2)
		d.goal = d.lo
	}
	d.stats.minVoters, d.stats.maxVoters = len(voters), len(voters)
	return d
}

func (d *memberDriver) String() string {
	if d.profile == memNone {
		return "fixed membership"
	}
	return fmt.Sprintf("%v membership: change every <= %d ticks, %d%% transfers", d.profile, d.gapMax/simUnitsPerTick, d.transferPct)
}

// memberAct is one operator action, scheduled on the agenda.
func (s *simulator) memberAct() error {
	d := s.mem
	if s.healing {
		return nil
	}
	s.schedule(s.now+1+simTime(d.rng.Int64N(int64(d.gapMax))), agendaItem{kind: agMember})
	i := s.leaderIndex()
	if i < 0 || s.nodes[i].paused(s.now) {
		return nil // no leader to ask; the operator retries later
	}
	ld := s.nodes[i]
	m, _ := ld.raft.Membership()
	if d.rng.IntN(100) < d.transferPct {
		return s.transfer(ld, &m)
	}
	st := ld.raft.Status()
	if st.ConfPending {
		if d.rng.IntN(4) != 0 || len(m.Voters) < 2 {
			return nil
		}
		// One change at a time: a second one now must be refused.
		cc := ConfChange{Op: ConfRemove, Node: simPick(d.rng, m.Voters...)}
		return s.proposeConf(ld, cc, st)
	}
	cc, ok := d.next(ld.id, &m, s.spareIDs(&m))
	if !ok {
		return nil
	}
	if n := s.nodes[cc.Node-1]; cc.Op == ConfAddLearner && (!n.created || n.added) {
		s.retireRemoved(&m)
		// As the server does for a node added again (README): it starts
		// at the leader's term, having voted for the leader.
		if err := s.provision(n, HardState{Term: st.Term, Vote: ld.id}); err != nil {
			return err
		}
	}
	return s.proposeConf(ld, cc, st)
}

// spareIDs returns the ids the operator may add to m: those no change ever
// added (a node created for an add the leader refused is still empty);
// with the reuseid bug, every id m does not list.
func (s *simulator) spareIDs(m *Membership) []NodeID {
	var spare []NodeID
	for _, n := range s.nodes {
		if m.IsMember(n.id) {
			continue
		}
		if !n.added || s.cfg.bugs.reuseID {
			spare = append(spare, n.id)
		}
	}
	return spare
}

// retireRemoved stops for good the oldest removed nodes (those m does not
// list) beyond simRemovedRunningMax.
func (s *simulator) retireRemoved(m *Membership) {
	var removed []*simNode
	for _, n := range s.nodes {
		if n.added && !n.retired && !m.IsMember(n.id) {
			removed = append(removed, n)
		}
	}
	for _, n := range removed[:max(0, len(removed)-simRemovedRunningMax)] {
		if n.up() {
			n.raft = nil
			s.promises.forget(n.id)
		}
		n.retired, n.arm = true, crashNone
		n.incarnation++
		s.trace.add(traceEvent{step: s.step, at: s.now, kind: traceCrash, node: n.id, detail: "RETIRED: removed, stopped for good"})
	}
}

// next picks the change the profile asks for next, given the leader's
// committed, non-joint membership m and the ids it may add.
func (d *memberDriver) next(leader NodeID, m *Membership, spare []NodeID) (ConfChange, bool) {
	voters := len(m.Voters)
	add := func() (ConfChange, bool) {
		if len(m.Learners) > 0 {
			return ConfChange{Op: ConfPromote, Node: simPick(d.rng, m.Learners...)}, true
		}
		if len(spare) == 0 {
			return ConfChange{}, false
		}
		return ConfChange{Op: ConfAddLearner, Node: simPick(d.rng, spare...)}, true
	}
	remove := func(id NodeID) (ConfChange, bool) {
		if voters < 2 && slices.Contains(m.Voters, id) {
			return ConfChange{}, false // never the last voter
		}
		return ConfChange{Op: ConfRemove, Node: id}, true
	}
	switch d.profile {
	case memRandom:
		switch r := d.rng.IntN(10); {
		case r < 4:
			return add()
		case r < 5 && len(m.Learners) > 0:
			return remove(simPick(d.rng, m.Learners...))
		default:
			return remove(simPick(d.rng, m.Voters...))
		}
	case memGrow, memShrink:
		if voters == d.goal {
			d.goal = d.lo + d.hi - d.goal
		}
		if voters < d.goal {
			return add()
		}
		return remove(simPick(d.rng, m.Voters...)) // the leader, sometimes
	case memReplace:
		if d.replacing == None || !slices.Contains(m.Voters, d.replacing) {
			d.replacing = leader
		}
		if voters > d.lo {
			id := d.replacing
			d.replacing = None
			return remove(id)
		}
		return add()
	case memRemoveLeader:
		if voters >= d.lo {
			return remove(leader)
		}
		return add()
	}
	return ConfChange{}, false
}

// proposeConf asks leader ld for change cc; st is its status before.
func (s *simulator) proposeConf(ld *simNode, cc ConfChange, st Status) error {
	d := s.mem
	d.stats.asked++
	cc.Context = fmt.Appendf(nil, "directory %d", d.stats.asked)
	index, term, err := ld.raft.ProposeConfChange(cc)
	s.trace.add(traceEvent{step: s.step, at: s.now, kind: traceFault, node: ld.id,
		detail: fmt.Sprintf("ProposeConfChange(%s %d) = (%d, %d, %v)", cc.Op, cc.Node, index, term, err)})
	switch {
	case err == nil && st.ConfPending:
		return fmt.Errorf("node %d: ProposeConfChange(%s %d) = nil while the change at %d is pending; want %v",
			ld.id, cc.Op, cc.Node, st.ConfIndex, ErrConfChangePending)
	case err == nil:
		d.stats.accepted++
		if cc.Op == ConfAddLearner {
			s.nodes[cc.Node-1].added = true
		}
		if s.cfg.bugs.wipeEarly && cc.Op == ConfRemove {
			if m, _ := ld.raft.Membership(); m.Joint() {
				// The bug: the removed voter's disk is wiped while the joint
				// configuration that still counts it is not even committed.
				s.note(fmt.Sprintf("BUG wipeearly: wiping node %d as its removal is proposed", cc.Node))
				if err := s.provision(s.nodes[cc.Node-1], HardState{}); err != nil {
					return err
				}
			}
		}
		return s.drain(ld)
	case errors.Is(err, ErrConfChangePending):
		// Pending, or this leader has not committed an entry of its term yet.
		return nil
	case errors.Is(err, ErrInvalidConfChange) && cc.Op == ConfPromote:
		return nil // the learner has not caught up; the operator retries
	case errors.Is(err, ErrProposalDropped) && st.LeadTransferee != None:
		return nil
	}
	return fmt.Errorf("node %d: ProposeConfChange(%s %d) = %w; want nil, %v (pending %v), %v for a learner behind, or %v while transferring",
		ld.id, cc.Op, cc.Node, err, ErrConfChangePending, st.ConfPending, ErrInvalidConfChange, ErrProposalDropped)
}

// transfer asks leader ld to hand its leadership to a random voter of m
// (itself, which it must refuse) or to the best one (None).
func (s *simulator) transfer(ld *simNode, m *Membership) error {
	d := s.mem
	to := None
	if d.rng.IntN(3) != 0 {
		to = simPick(d.rng, slices.Concat(m.Voters, m.Outgoing)...)
	}
	err := ld.raft.TransferLeadership(to)
	s.trace.add(traceEvent{step: s.step, at: s.now, kind: traceFault, node: ld.id,
		detail: fmt.Sprintf("TransferLeadership(%d) = %v", to, err)})
	others := slices.ContainsFunc(slices.Concat(m.Voters, m.Outgoing), func(id NodeID) bool { return id != ld.id })
	switch {
	case err == nil && (to == ld.id || !others):
		return fmt.Errorf("node %d: TransferLeadership(%d) = nil with voters %s; want %v", ld.id, to, m, ErrInvalidTransfer)
	case err == nil:
		d.stats.transfers++
		return s.drain(ld)
	case errors.Is(err, ErrInvalidTransfer) && (to == ld.id || !others):
		return nil
	}
	return fmt.Errorf("node %d: TransferLeadership(%d) = %w with voters %s; want nil", ld.id, to, err, m)
}

// provision readies node n to be added as a learner: a fresh id is created;
// one that was a member before is wiped, crashed if running, and restarted
// with empty storage and no membership, so it never rejoins with its old
// log. Its disk starts with hard state hs.
func (s *simulator) provision(n *simNode, hs HardState) error {
	what := "CREATE"
	if n.created {
		what = "WIPE"
		s.mem.stats.wipes++
	}
	if n.up() {
		n.raft = nil
		s.promises.forget(n.id)
	}
	s.retireSnapshots(n)
	n.arm = crashNone
	n.incarnation++
	n.storage = NewMemoryStorage()
	n.storage.SetHardState(hs)
	n.snap = simSnap{}
	n.applied, n.durableCommit, n.dirtyFrom = 0, 0, 1
	n.created, n.joiner, n.retired = true, true, false
	n.unreachable = n.unreachable[:0]
	s.trace.add(traceEvent{step: s.step, at: s.now, kind: traceRestart, node: n.id,
		detail: fmt.Sprintf("%s with empty storage (incarnation %d)", what, n.incarnation)})
	return s.start(n)
}

// onCommittedConf follows the committed membership entries, once each, in
// index order, for the statistics: which changes the cluster went through.
func (s *simulator) onCommittedConf(e Entry) error {
	d := s.mem
	if e.Type != EntryConfChange || e.Index <= d.committedAt {
		return nil
	}
	m, err := DecodeMembership(e.Data)
	if err != nil {
		return fmt.Errorf("committed membership entry %d: %w", e.Index, err)
	}
	old := d.committed
	d.committed, d.committedAt = m, e.Index
	st := &d.stats
	for _, id := range m.Learners {
		if !old.IsMember(id) {
			st.learnersAdded++
		}
	}
	for _, id := range old.Learners {
		switch {
		case slices.Contains(m.Voters, id):
			st.promoted++
		case !m.IsMember(id):
			st.learnersRemoved++
		}
	}
	if m.Joint() {
		return nil
	}
	for _, id := range old.Outgoing {
		if slices.Contains(m.Voters, id) {
			continue
		}
		st.votersRemoved++
		if s.election.leaders[e.Term] == id {
			st.leadersRemoved++
		}
	}
	st.minVoters = min(st.minVoters, len(m.Voters))
	st.maxVoters = max(st.maxVoters, len(m.Voters))
	return nil
}

// memberRuns sums the membership statistics of the runs of one profile.
type memberRuns struct {
	runs  int
	stats memberStats
}

func (st *memberStats) String() string {
	return fmt.Sprintf("%d changes asked, %d accepted, %d transfers, %d wipes; committed: %d learners added, "+
		"%d promoted, %d voters removed (%d leaders by themselves), %d learners removed; voters %d..%d",
		st.asked, st.accepted, st.transfers, st.wipes, st.learnersAdded, st.promoted, st.votersRemoved,
		st.leadersRemoved, st.learnersRemoved, st.minVoters, st.maxVoters)
}

// checkMemberCoverage fails unless the CI seeds took every membership
// profile where it aims: grow reached two more voters, shrink two fewer,
// replace and remove-the-leader removed leaders, random runs promoted and
// removed voters and learners; so the checkers are known to have watched
// those changes.
func checkMemberCoverage(t *testing.T, byMem map[memberProfile]*memberRuns) {
	t.Helper()
	want := []struct {
		p    memberProfile
		what string
		ok   func(st *memberStats) bool
	}{
		{memGrow, "3 voters grown to 5", func(st *memberStats) bool { return st.minVoters == 3 && st.maxVoters == 5 }},
		{memShrink, "5 voters shrunk to 3", func(st *memberStats) bool { return st.minVoters == 3 && st.maxVoters == 5 }},
		{memReplace, "a promotion and a leader removed", func(st *memberStats) bool { return st.promoted > 0 && st.leadersRemoved > 0 }},
		{memRemoveLeader, "a leader removed by itself", func(st *memberStats) bool { return st.leadersRemoved > 0 }},
		{memRandom, "promotions and removals of voters and learners", func(st *memberStats) bool {
			return st.promoted > 0 && st.votersRemoved > 0 && st.learnersRemoved > 0
		}},
	}
	for _, w := range want {
		r := byMem[w.p]
		if r == nil || !w.ok(&r.stats) {
			t.Errorf("CI seeds of membership profile %v: %+v; want %s", w.p, r, w.what)
		}
	}
}

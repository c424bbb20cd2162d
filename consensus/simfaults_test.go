package consensus

// This file holds the simulator's fault schedule: a plan drawn from the seed
// (how often faults strike, how the network behaves, how the cores are tuned),
// the fault actions (partitions of every shape, flapping links, crashes at any
// point of a Ready, restarts, weather changes) and the reactive faults that
// make the rare interleavings behind real Raft bugs common: crashing a node
// right after it grants a vote (a second candidate in the same term then asks
// it again after it restarts), and crashing new leaders while entries of
// older terms are only partly replicated (Figure 8).

import (
	"fmt"
	"math/rand/v2"
)

// simElectionTicks is every core's election timeout T in ticks.
const simElectionTicks = 10

// faultPlan is how one run treats its cluster; newFaultPlan draws it from the seed.
type faultPlan struct {
	profile planProfile
	// Core tuning.
	heartbeatTicks int
	maxMsgBytes    uint64
	maxInflight    int
	// faultGapMax bounds the time between two fault actions (uniform in [1, max]).
	faultGapMax simTime
	// proposeGapMax and readGapMax bound the time between client operations.
	proposeGapMax, readGapMax simTime
	// voteCrashPct is the percentage of granted votes whose voter crashes
	// around sending the grant.
	voteCrashPct int
	// leaderCrashPct is the percentage of new leaders crashed within two
	// election timeouts of winning.
	leaderCrashPct int
	// repairCrashPct is the percentage of acknowledgements of older-term
	// entries after which the leader crashes within a tick.
	repairCrashPct int
	// midReadyPct is the percentage of random crashes that strike inside a Ready.
	midReadyPct int
	// bouncePct is the percentage of random crashes that bounce the leader:
	// it restarts at once, and everyone else's election timer is running.
	bouncePct int
	weather   weatherKind
}

func simPick[T any](rng *rand.Rand, choices ...T) T { return choices[rng.IntN(len(choices))] }

// planProfile is the flavour of a run's faults.
type planProfile uint8

const (
	// profileMixed draws every knob at random.
	profileMixed planProfile = iota
	// profileLeaderChurn kills new leaders and leaders repairing logs, with one
	// entry per MsgApp: entries of many terms end up on single disks, the
	// ground Figure 8 grows on.
	profileLeaderChurn
	// profileElectionStorm bounces leaders (crash, restart at once) so that
	// several nodes campaign in one term, and crashes voters around their grants.
	profileElectionStorm
	// profileSteady keeps clients busy over a lossy, reordering network with
	// rare crashes: long logs, pipelining and log repair after partitions.
	profileSteady
	// profileAny lets the seed choose.
	profileAny
)

func (p planProfile) String() string {
	switch p {
	case profileMixed:
		return "mixed"
	case profileLeaderChurn:
		return "churn"
	case profileElectionStorm:
		return "storm"
	case profileSteady:
		return "steady"
	}
	return ""
}

// parsePlanProfile reads -sim.profile; "" is profileAny.
func parsePlanProfile(s string) (planProfile, error) {
	for p := range profileAny + 1 {
		if s == p.String() {
			return p, nil
		}
	}
	return profileAny, fmt.Errorf("unknown -sim.profile %q; want mixed, churn, storm or steady", s)
}

// newFaultPlan draws a plan; profile, when not profileAny, overrides the drawn one.
func newFaultPlan(rng *rand.Rand, profile planProfile) faultPlan {
	p := faultPlan{
		profile:        simPick(rng, profileMixed, profileMixed, profileLeaderChurn, profileElectionStorm, profileSteady),
		heartbeatTicks: simPick(rng, 1, 2, 3),
		maxMsgBytes:    simPick[uint64](rng, 1, 200, 0),
		maxInflight:    simPick(rng, 1, 4, 0),
		faultGapMax:    simPick[simTime](rng, 2, 5, 10, 20) * simUnitsPerTick,
		proposeGapMax:  simPick[simTime](rng, 1, 3, 8) * simUnitsPerTick,
		readGapMax:     simPick[simTime](rng, 2, 6, 15) * simUnitsPerTick,
		voteCrashPct:   simPick(rng, 0, 20, 50),
		leaderCrashPct: simPick(rng, 0, 30, 80),
		repairCrashPct: simPick(rng, 0, 30, 80),
		midReadyPct:    simPick(rng, 0, 30, 70),
		bouncePct:      simPick(rng, 0, 20),
		weather:        weatherKind(rng.IntN(int(weatherKinds))),
	}
	if profile != profileAny {
		p.profile = profile
	}
	switch p.profile {
	case profileLeaderChurn:
		// 1 byte: every MsgApp carries exactly one entry, so a leader's log
		// reaches followers piecemeal, as Figure 8 needs.
		p.maxMsgBytes = 1
		p.leaderCrashPct, p.repairCrashPct = 80, 80
		p.proposeGapMax = simUnitsPerTick
		p.weather = simPick(rng, weatherCalm, weatherLossy)
	case profileElectionStorm:
		p.voteCrashPct, p.bouncePct = 70, 80
		p.weather = weatherCalm
	case profileSteady:
		p.faultGapMax = simPick[simTime](rng, 10, 20) * simUnitsPerTick
		p.proposeGapMax = simPick[simTime](rng, 5, 10)
		p.readGapMax = 2 * simUnitsPerTick
		p.voteCrashPct, p.leaderCrashPct, p.repairCrashPct, p.bouncePct = 0, 0, 0, 0
		p.weather = weatherLossy
	}
	return p
}

func (p faultPlan) String() string {
	return fmt.Sprintf("%v: heartbeat %d ticks, msg bytes %d, inflight %d, fault gap <= %d ticks, "+
		"vote crash %d%%, leader crash %d%%, repair crash %d%%, mid-Ready crash %d%%, bounce %d%%, %s network",
		p.profile, p.heartbeatTicks, p.maxMsgBytes, p.maxInflight, p.faultGapMax/simUnitsPerTick,
		p.voteCrashPct, p.leaderCrashPct, p.repairCrashPct, p.midReadyPct, p.bouncePct, p.weather.params().name)
}

// fault carries out one random fault action and schedules the next.
func (s *simulator) fault() {
	if s.healing {
		return
	}
	s.schedule(s.now+1+simTime(s.rng.Int64N(int64(s.plan.faultGapMax))), agendaItem{kind: agFault})
	r := s.rng.IntN(100)
	if s.plan.profile == profileElectionStorm && r < 50 {
		s.crashSome()
		return
	}
	switch {
	case r < 25:
		s.partition()
	case r < 37:
		s.net.heal()
		s.note("heal all links")
	case r < 55:
		s.crashSome()
	case r < 62:
		s.pauseSome()
	case r < 74:
		k := weatherKind(s.rng.IntN(int(weatherKinds)))
		s.net.weather = k.params()
		s.note("network turns " + s.net.weather.name)
	case r < 86:
		s.flap()
	case r < 94:
		s.restartSome()
	default:
		s.forgetLeaderSome()
	}
}

// forgetLeaderSome tells some followers their leader's connection broke, as
// the transport's PeerDown does after a crash (fast failover) — but at a
// random time, so as often as not the leader is alive and well: safety must
// not depend on the signal being right.
func (s *simulator) forgetLeaderSome() {
	var told []NodeID
	for _, n := range s.nodes {
		if n.up() && n.raft.Status().Role == RoleFollower && s.rng.IntN(2) == 0 {
			n.raft.ForgetLeader()
			told = append(told, n.id)
		}
	}
	s.note(fmt.Sprintf("leader connection lost on nodes %v", told))
}

// partitionShape names a way of cutting the cluster.
type partitionShape uint8

const (
	shapeMinority       partitionShape = iota // a random minority apart from the majority
	shapeLeaderMinority                       // the leader with a minority apart from the majority
	shapeIsolateLeader                        // the leader alone
	shapeThreeWay                             // three groups, usually no majority anywhere
	shapeBridge                               // two halves that only one node links
	shapeRing                                 // each node hears only its two neighbours
	shapeOneWay                               // one link lost in one direction
	shapeLeaderDeaf                           // the leader sends but hears nothing
	partitionShapes                           // the number of shapes
)

func (p partitionShape) String() string {
	return [...]string{"minority", "leader+minority", "isolated leader", "three-way", "bridge", "ring",
		"one-way link", "deaf leader"}[p]
}

// partition cuts the network in a random shape.
func (s *simulator) partition() {
	shape := partitionShape(s.rng.IntN(int(partitionShapes)))
	s.cutShape(shape)
	s.note(fmt.Sprintf("partition: %v %s", shape, s.links()))
}

// cutShape sets the link matrix to shape, drawing its details from the seed.
func (s *simulator) cutShape(shape partitionShape) {
	live := s.liveIndexes() // ids never added or retired take no part
	n := len(live)
	if n < 2 {
		return
	}
	perm := s.rng.Perm(n) // node perm[k]+1 is the k-th node of the shape
	for k := range perm {
		perm[k] = live[perm[k]]
	}
	leader := s.leaderIndex()
	if leader >= 0 {
		// Put the leader first, for the shapes that are about it.
		for k, i := range perm {
			if i == leader {
				perm[0], perm[k] = perm[k], perm[0]
			}
		}
	}
	group := make([]int, len(s.nodes))
	switch shape {
	case shapeMinority, shapeLeaderMinority, shapeIsolateLeader:
		k := 1
		if n >= 3 {
			k = 1 + s.rng.IntN((n-1)/2)
		}
		if shape == shapeIsolateLeader {
			k = 1
		}
		start := 0
		if shape == shapeMinority {
			start = s.rng.IntN(n - k + 1)
		}
		for _, i := range perm[start : start+k] {
			group[i] = 1
		}
		s.net.isolate(group)
	case shapeThreeWay:
		for k, i := range perm {
			group[i] = k % 3
		}
		s.net.isolate(group)
	case shapeBridge:
		// perm[0] bridges perm[1:half] and perm[half:].
		half := 1 + (n-1)/2
		for _, i := range perm[half:] {
			group[i] = 1
		}
		s.net.isolate(group)
		for j := range s.nodes {
			s.net.cut[perm[0]][j], s.net.cut[j][perm[0]] = false, false
		}
	case shapeRing:
		for i := range s.net.cut {
			for j := range s.net.cut[i] {
				s.net.cut[i][j] = i != j
			}
		}
		for k, i := range perm {
			j := perm[(k+1)%n]
			s.net.cut[i][j], s.net.cut[j][i] = false, false
		}
	case shapeOneWay:
		s.net.cut[perm[0]][perm[1]] = true
		if s.rng.IntN(2) == 0 {
			s.net.cut[perm[0]][perm[1]], s.net.cut[perm[1]][perm[0]] = false, true
		}
	case shapeLeaderDeaf:
		for j := range s.nodes {
			if j != perm[0] {
				s.net.cut[j][perm[0]] = true
			}
		}
	}
}

// links describes the current link matrix for the trace.
func (s *simulator) links() string {
	b := []byte{'['}
	for i := range s.net.cut {
		for j := range s.net.cut[i] {
			if i != j && s.net.cut[i][j] {
				b = fmt.Appendf(b, " %d-/->%d", i+1, j+1)
			}
		}
	}
	return string(append(b, ' ', ']'))
}

// flap toggles a random partition on and off a few times, a tick or a few apart.
func (s *simulator) flap() {
	saved := s.net.cut
	s.net.cut = newLinkMatrix(len(s.nodes))
	shape := partitionShape(s.rng.IntN(int(partitionShapes)))
	s.cutShape(shape)
	flapCut := s.net.cut
	s.net.cut = saved
	toggles := 2 + 2*s.rng.IntN(4)
	period := simTime(1+s.rng.IntN(simElectionTicks)) * simUnitsPerTick
	s.note(fmt.Sprintf("flapping %v, %d toggles every %d ticks", shape, toggles, period/simUnitsPerTick))
	s.schedule(s.now+1, agendaItem{kind: agFlap, left: toggles, cut: flapCut, gap: period})
}

// flapToggle is one toggle of a flapping partition.
func (s *simulator) flapToggle(it agendaItem) {
	if s.healing {
		return
	}
	if it.left%2 == 0 {
		for i := range s.net.cut {
			copy(s.net.cut[i], it.cut[i])
		}
		s.note("flap: partition " + s.links())
	} else {
		s.net.heal()
		s.note("flap: heal")
	}
	if it.left--; it.left > 0 {
		s.schedule(s.now+it.gap, it)
	}
}

// crashSome crashes the leader or a random node, now or inside its next Ready.
func (s *simulator) crashSome() {
	i := s.leaderIndex()
	if i >= 0 && s.rng.IntN(100) < s.plan.bouncePct {
		n := s.nodes[i]
		s.crash(n, "(bounce)")
		s.scheduleRestart(n, simTime(s.rng.Int64N(3)))
		return
	}
	if i < 0 || s.rng.IntN(2) == 0 {
		i = s.randomLive()
	}
	n := s.nodes[i]
	if !n.up() {
		return
	}
	restart := s.restartDelay()
	if s.rng.IntN(100) < s.plan.midReadyPct {
		n.arm = crashPoint(1 + s.rng.IntN(int(crashPoints)-1))
		n.armRestart = restart
		s.note(fmt.Sprintf("arm crash of node %d %v", n.id, n.arm))
		return
	}
	s.crash(n, "(idle)")
	s.scheduleRestart(n, restart)
}

// armPoint draws where in a Ready an armed crash strikes; half the time (and
// always when churning leaders) after the write and before the send, which
// leaves entries, votes and commit indexes on one disk only.
func (s *simulator) armPoint() crashPoint {
	if s.plan.profile == profileLeaderChurn || s.rng.IntN(2) == 0 {
		return crashAfterPersist
	}
	return crashPoint(1 + s.rng.IntN(int(crashPoints)-1))
}

// leaderRestartDelay draws how long a leader crashed by a reactive fault stays
// down: when churning, long enough for the others to elect a leader without it.
func (s *simulator) leaderRestartDelay() simTime {
	if s.plan.profile == profileLeaderChurn {
		return simTime(1+s.rng.IntN(6)) * simElectionTicks * simUnitsPerTick
	}
	return s.restartDelay()
}

// restartDelay draws how long a crashed node stays down.
func (s *simulator) restartDelay() simTime {
	switch r := s.rng.IntN(100); {
	case r < 30:
		return simTime(s.rng.Int64N(int64(2 * simUnitsPerTick)))
	case r < 80:
		return simTime(1+s.rng.IntN(3)) * simElectionTicks * simUnitsPerTick
	default:
		return simTime(5+s.rng.IntN(6)) * simElectionTicks * simUnitsPerTick
	}
}

// pauseSome stops the leader or a random node for a while, as a long GC pause
// or SIGSTOP would: it keeps its volatile state, neither ticks nor reads its
// messages (they wait for it), and resumes believing what it believed, often
// a leadership that has meanwhile passed to another node.
func (s *simulator) pauseSome() {
	i := s.leaderIndex()
	if i < 0 || s.rng.IntN(2) == 0 {
		i = s.randomLive()
	}
	n := s.nodes[i]
	if !n.up() || n.paused(s.now) {
		return
	}
	n.pausedUntil = s.now + simTime(1+s.rng.IntN(4*simElectionTicks))*simUnitsPerTick
	s.note(fmt.Sprintf("pause node %d for %d ticks", n.id, (n.pausedUntil-s.now)/simUnitsPerTick))
}

// restartSome restarts a random crashed node ahead of its schedule.
func (s *simulator) restartSome() {
	n := s.nodes[s.randomLive()]
	if !n.up() {
		s.scheduleRestart(n, 0)
	}
}

// onVoteGranted may crash n around the Ready that carries its vote, so that it
// restarts with that vote on disk (or, when it dies before persisting, with
// no vote and no grant sent) while the election is still on.
func (s *simulator) onVoteGranted(n *simNode) {
	if s.healing || n.arm != crashNone || s.rng.IntN(100) >= s.plan.voteCrashPct {
		return
	}
	// Mostly after the grant left: the candidate counts it, and the voter
	// must remember it across the restart.
	n.arm = crashAfterSend
	if s.rng.IntN(3) == 0 {
		n.arm = crashPoint(1 + s.rng.IntN(int(crashPoints)-1))
	}
	// Mostly back before the other candidates' requests of this term arrive.
	n.armRestart = simTime(s.rng.Int64N(3))
	if s.rng.IntN(100) < 30 {
		n.armRestart = simTime(s.rng.Int64N(int64(3 * simUnitsPerTick)))
	}
	s.note(fmt.Sprintf("node %d granted a vote: arm crash %v", n.id, n.arm))
}

// onLeader may crash the new leader n inside the Ready that announces it
// (its no-op entry then stays on its disk alone, or is lost), or schedule a
// crash soon, while it is still replicating entries of the terms before its own.
func (s *simulator) onLeader(n *simNode) {
	if s.healing || n.arm != crashNone || s.rng.IntN(100) >= s.plan.leaderCrashPct {
		return
	}
	if s.rng.IntN(2) == 0 {
		n.arm = s.armPoint()
		n.armRestart = s.leaderRestartDelay()
		s.note(fmt.Sprintf("node %d won: arm crash %v", n.id, n.arm))
		return
	}
	at := s.now + simTime(s.rng.Int64N(int64(2*simElectionTicks*simUnitsPerTick)))
	s.schedule(at, agendaItem{kind: agCrash, node: n.id, incarnation: n.incarnation,
		point: crashPoint(s.rng.IntN(int(crashPoints))), gap: s.leaderRestartDelay()})
}

// onRepairAck may crash leader n, inside the Ready it computes next or within
// a tick, after a follower acknowledged an entry of an older term: the leader
// is repairing logs, its own no-op may not be on a quorum yet, and the entries
// it just re-replicated must not be treated as committed (Figure 8).
func (s *simulator) onRepairAck(n *simNode, m Message) {
	if s.healing || m.Type != MsgAppResp || m.Reject || s.rng.IntN(100) >= s.plan.repairCrashPct {
		return
	}
	st := n.raft.Status()
	if st.Role != RoleLeader {
		return
	}
	if t, err := n.storage.Term(m.Index); err != nil || t == 0 || t >= st.Term {
		return
	}
	if n.arm != crashNone {
		return
	}
	if s.rng.IntN(2) == 0 {
		// Inside the Ready this acknowledgement causes: perhaps after the new
		// commit index is on disk and before the next entries leave.
		n.arm = s.armPoint()
		n.armRestart = s.leaderRestartDelay()
		s.note(fmt.Sprintf("leader %d repairing a follower: arm crash %v", n.id, n.arm))
		return
	}
	at := s.now + simTime(s.rng.Int64N(int64(simUnitsPerTick)))
	s.schedule(at, agendaItem{kind: agCrash, node: n.id, incarnation: n.incarnation, gap: s.leaderRestartDelay()})
}

// scheduledCrash carries out a crash onLeader scheduled, unless the node
// restarted meanwhile.
func (s *simulator) scheduledCrash(it agendaItem) {
	n := s.nodes[it.node-1]
	if s.healing || !n.up() || n.incarnation != it.incarnation || n.arm != crashNone {
		return
	}
	if it.point == crashNone {
		s.crash(n, "(idle, scheduled)")
		s.scheduleRestart(n, it.gap)
		return
	}
	n.arm, n.armRestart = it.point, it.gap
	s.note(fmt.Sprintf("arm crash of node %d %v", n.id, n.arm))
}

// scheduleRestart restarts n after delay.
func (s *simulator) scheduleRestart(n *simNode, delay simTime) {
	s.schedule(s.now+delay, agendaItem{kind: agRestart, node: n.id})
}

func newLinkMatrix(n int) [][]bool {
	cut := make([][]bool, n)
	for i := range cut {
		cut[i] = make([]bool, n)
	}
	return cut
}

// liveIndexes returns the positions in s.nodes of the nodes that take part
// in the run: created and not retired (running or crashed).
func (s *simulator) liveIndexes() []int {
	live := make([]int, 0, len(s.nodes))
	for i, n := range s.nodes {
		if n.created && !n.retired {
			live = append(live, i)
		}
	}
	return live
}

// randomLive draws the position of a node that takes part in the run.
func (s *simulator) randomLive() int {
	live := s.liveIndexes()
	return live[s.rng.IntN(len(live))]
}

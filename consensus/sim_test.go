package consensus

// This file holds the seeded fault simulator of DESIGN.md §3.4 and its tests.
//
// A run drives 3, 5 or 7 cores over the simulated network of simnet_test.go,
// crashing and restarting them, partitioning them and feeding them client
// proposals and ReadIndex calls, all drawn from one seeded source, with time
// in virtual ticks. After every step (one delivery, one tick, one client call
// or one fault, with every Ready it causes carried out) the checkers of
// checker_test.go check the Raft safety properties. After the fault phase
// everything heals, and a leader must commit a proposal and answer a read
// within simLivenessTicks. A failure prints its seed, the command that replays
// it exactly, and the last events of the run.

import (
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"runtime/debug"
	"sync"
	"testing"
	"time"
)

var (
	flagSimSeeds = flag.Int("sim.seeds", 0, "simulator: run this many seeds from -sim.firstseed instead of the CI set")
	flagSimFirst = flag.Uint64("sim.firstseed", 1, "simulator: the first seed -sim.seeds runs")
	flagSimSeed  = flag.Uint64("sim.seed", 0, "simulator: replay this one seed")
	flagSimNodes = flag.Int("sim.nodes", 0, "simulator: cluster size 3, 5 or 7; 0 picks by seed")
	flagSimSteps = flag.Int("sim.steps", 0, "simulator: steps of the fault phase; 0 means the default")
	flagSimBug   = flag.String("sim.bug", "", "simulator: turn on a test-only bug: figure8, uptodate or forgetvote")
	flagSimProf  = flag.String("sim.profile", "", "simulator: force a fault profile: mixed, churn or storm")
	flagSimTrace = flag.Int("sim.trace", 60, "simulator: trace events printed with a failure")
)

const (
	// simStepsDefault is the length of a run's fault phase in steps.
	simStepsDefault = 3000
	// simCISeeds is how many seeds plain go test runs.
	simCISeeds = 30
	// simLivenessTicks bounds the ticks from the heal to a committed proposal
	// and an answered read.
	simLivenessTicks = 20 * simElectionTicks
)

// simBugs are the test-only bugs a run turns on, to prove the checkers catch them.
type simBugs struct {
	// figure8 lets leaders commit entries of earlier terms by counting replicas.
	figure8 bool
	// upToDate lets nodes vote without the §5.4.1 up-to-date check.
	upToDate bool
	// forgetVote clears a node's persisted vote when it restarts.
	forgetVote bool
}

func parseSimBugs(s string) (simBugs, error) {
	switch s {
	case "":
		return simBugs{}, nil
	case "figure8":
		return simBugs{figure8: true}, nil
	case "uptodate":
		return simBugs{upToDate: true}, nil
	case "forgetvote":
		return simBugs{forgetVote: true}, nil
	}
	return simBugs{}, fmt.Errorf("unknown -sim.bug %q; want figure8, uptodate or forgetvote", s)
}

// apply turns the core's knobs for b on in cfg.
func (b simBugs) apply(cfg *Config) {
	cfg.testSkipCurrentTermCommit = b.figure8
	cfg.testSkipUpToDateCheck = b.upToDate
}

func (b simBugs) String() string {
	switch {
	case b.figure8:
		return "figure8"
	case b.upToDate:
		return "uptodate"
	case b.forgetVote:
		return "forgetvote"
	}
	return ""
}

// simConfig is everything a run depends on: the same simConfig replays the same run.
type simConfig struct {
	seed    uint64
	nodes   int
	steps   int
	bugs    simBugs
	profile planProfile // profileAny: the seed picks
}

func (c simConfig) replay() string {
	cmd := fmt.Sprintf("go test ./consensus -run TestSimulator -sim.seed=%d -sim.nodes=%d -sim.steps=%d",
		c.seed, c.nodes, c.steps)
	if b := c.bugs.String(); b != "" {
		cmd += " -sim.bug=" + b
	}
	if c.profile != profileAny {
		cmd += " -sim.profile=" + c.profile.String()
	}
	return cmd
}

// simNodesForSeed is the cluster size a seed runs with unless -sim.nodes says otherwise.
func simNodesForSeed(seed uint64) int { return [...]int{3, 5, 7}[seed%3] }

// simFailure is a run that broke a property.
type simFailure struct {
	cfg   simConfig
	plan  faultPlan
	step  int
	at    simTime
	err   error
	trace string
	stack string
}

func (f *simFailure) Error() string {
	s := fmt.Sprintf("seed %d, %d nodes: step %d, tick %d: %v\nplan: %v\nreplay: %s\nlast events:\n%s",
		f.cfg.seed, f.cfg.nodes, f.step, f.at/simUnitsPerTick, f.err, f.plan, f.cfg.replay(), f.trace)
	if f.stack != "" {
		s += "stack:\n" + f.stack
	}
	return s
}

func (f *simFailure) Unwrap() error { return f.err }

// safetyViolation is a checker's verdict that a run broke its property.
type safetyViolation struct {
	checker string
	err     error
}

func (v *safetyViolation) Error() string { return v.checker + ": " + v.err.Error() }

func (v *safetyViolation) Unwrap() error { return v.err }

// errLiveness is wrapped by the failure of a run that did not recover after the heal.
var errLiveness = errors.New("liveness")

// simStats counts what a run did.
type simStats struct {
	steps, ticks, proposals, elections, crashes, reads int
	maxApplied                                         Index
	net                                                netStats
}

func (a *simStats) add(b simStats) {
	a.steps += b.steps
	a.ticks += b.ticks
	a.proposals += b.proposals
	a.elections += b.elections
	a.crashes += b.crashes
	a.reads += b.reads
	a.maxApplied += b.maxApplied
	a.net.sent += b.net.sent
	a.net.delivered += b.net.delivered
	a.net.dropped += b.net.dropped
	a.net.cut += b.net.cut
	a.net.duplicated += b.net.duplicated
}

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
	nodes  []*simNode
	voters []NodeID
	net    *simnet
	agenda timedQueue[agendaItem]
	trace  *traceRing

	view     clusterView // the applications and reads of the current step
	checkers []simChecker
	reads    *readLinearizability
	promises *proposalPromise

	maxApplied Index
	opSeq      int
	healing    bool
	stack      string // the stack of a panic in the core
	probe      livenessProbe
	stats      simStats
}

// livenessProbe is the proposal and read that must succeed after the heal.
type livenessProbe struct {
	node         NodeID
	index        Index
	term         Term
	committed    bool
	readPending  string // the rctx of the read in flight, "" when none
	readAnswered bool
}

func newSimulator(cfg simConfig) *simulator {
	rng := rand.New(rand.NewPCG(cfg.seed, cfg.seed^0x9e3779b97f4a7c15))
	s := &simulator{
		cfg:      cfg,
		rng:      rng,
		plan:     newFaultPlan(rng, cfg.profile),
		net:      newSimnet(rng, cfg.nodes),
		trace:    newTraceRing(),
		reads:    newReadLinearizability(),
		promises: newProposalPromise(),
	}
	s.net.weather = s.plan.weather.params()
	s.checkers = []simChecker{newElectionSafety(), newLeaderAppendOnly(), newLogMatching(),
		newLeaderCompleteness(), newStateMachineSafety(), newQuorumDurability(), s.reads, s.promises}
	for i := range cfg.nodes {
		id := NodeID(i + 1)
		s.voters = append(s.voters, id)
		s.nodes = append(s.nodes, &simNode{id: id, storage: NewMemoryStorage()})
	}
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
	if err != nil {
		return s.stats, &simFailure{cfg: cfg, plan: s.plan, step: s.step, at: s.now, err: err,
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
		if err := s.start(n); err != nil {
			return err
		}
		s.schedule(simTime(s.rng.Int64N(int64(simUnitsPerTick))), agendaItem{kind: agTick, node: n.id})
	}
	s.schedule(0, agendaItem{kind: agPropose})
	s.schedule(0, agendaItem{kind: agRead})
	s.schedule(1, agendaItem{kind: agFault})
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
	}
	return nil
}

func (s *simulator) deliver() error {
	m, ok := s.net.deliver()
	n := s.nodes[m.To-1]
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
	if !n.up() {
		return nil
	}
	s.trace.add(traceEvent{step: s.step, at: s.now, kind: traceTick, node: id})
	n.raft.Tick()
	return s.drain(n)
}

func (s *simulator) restart(n *simNode) error {
	if n.up() {
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
	if i := s.leaderIndex(); i >= 0 && s.rng.IntN(100) < 80 {
		return s.nodes[i]
	}
	n := s.nodes[s.rng.IntN(len(s.nodes))]
	if !n.up() {
		return nil
	}
	return n
}

func (s *simulator) propose() error {
	s.schedule(s.now+1+simTime(s.rng.Int64N(int64(s.plan.proposeGapMax))), agendaItem{kind: agPropose})
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

// check runs every checker on the cluster as it is after the step.
func (s *simulator) check() error {
	s.view.nodes = s.view.nodes[:0]
	for _, n := range s.nodes {
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
		if string(r.rs.RequestCtx) == s.probe.readPending {
			s.probe.readAnswered = true
		}
	}
	s.view.applied = s.view.applied[:0]
	s.view.reads = s.view.reads[:0]
	s.view.won = s.view.won[:0]
	return nil
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
		if err := s.restart(n); err != nil {
			return err
		}
	}
	healed := s.now
	deadline := s.now + simLivenessTicks*simUnitsPerTick
	for s.now <= deadline {
		if s.probe.committed && s.probe.readAnswered {
			return nil
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
	if p.readPending != "" && !p.readAnswered && s.step%(simElectionTicks*len(s.nodes)) != 0 {
		return nil // in flight; asked again now and then in case it was refused
	}
	n := s.nodes[s.rng.IntN(len(s.nodes))]
	s.opSeq++
	rctx := fmt.Sprintf("liveness read %d", s.opSeq)
	ok, err := s.readOn(n, []byte(rctx))
	if ok {
		p.readPending = rctx
	}
	return err
}

// simCases returns the runs the flags ask for.
func simCases(t *testing.T) []simConfig {
	bugs, err := parseSimBugs(*flagSimBug)
	if err != nil {
		t.Fatal(err)
	}
	profile, err := parsePlanProfile(*flagSimProf)
	if err != nil {
		t.Fatal(err)
	}
	steps := *flagSimSteps
	if steps <= 0 {
		steps = simStepsDefault
	}
	seeds := []uint64{}
	switch {
	case *flagSimSeed != 0:
		seeds = append(seeds, *flagSimSeed)
	case *flagSimSeeds > 0:
		for i := range uint64(*flagSimSeeds) {
			seeds = append(seeds, *flagSimFirst+i)
		}
	default:
		for i := range uint64(simCISeeds) {
			seeds = append(seeds, 1+i)
		}
	}
	var cases []simConfig
	for _, seed := range seeds {
		nodes := *flagSimNodes
		if nodes == 0 {
			nodes = simNodesForSeed(seed)
		}
		cases = append(cases, simConfig{seed: seed, nodes: nodes, steps: steps, bugs: bugs, profile: profile})
	}
	return cases
}

// TestSimulator runs the CI seeds (or those the flags ask for) and fails with
// the seed, the replay command and a trace on the first broken property.
func TestSimulator(t *testing.T) {
	cases := simCases(t)
	var (
		mu     sync.Mutex
		total  simStats
		failed []string
		sizes  = map[int]int{}
	)
	start := time.Now()
	t.Run("seeds", func(t *testing.T) {
		for _, c := range cases {
			t.Run(fmt.Sprintf("seed=%d/nodes=%d", c.seed, c.nodes), func(t *testing.T) {
				t.Parallel()
				st, err := runSim(c)
				mu.Lock()
				total.add(st)
				sizes[c.nodes]++
				if err != nil {
					failed = append(failed, c.replay())
				}
				mu.Unlock()
				if err != nil {
					t.Fatal(err)
				}
			})
		}
	})
	elapsed := time.Since(start)
	t.Logf("sim: %d runs (3 nodes: %d, 5 nodes: %d, 7 nodes: %d), %d failed; %d steps, %d ticks in %v: %.0f steps/s",
		len(cases), sizes[3], sizes[5], sizes[7], len(failed), total.steps, total.ticks, elapsed.Round(time.Millisecond),
		float64(total.steps)/elapsed.Seconds())
	t.Logf("sim: %d proposals accepted, %d elections, %d crashes, %d reads answered, %d messages sent (%d lost to weather, %d to cuts, %d duplicated)",
		total.proposals, total.elections, total.crashes, total.reads, total.net.sent, total.net.dropped, total.net.cut, total.net.duplicated)
	for _, f := range failed {
		t.Logf("sim: FAILED: %s", f)
	}
}

// TestSimulatorDeterministic proves a seed replays exactly: two runs of one
// seed see the same events, and another seed sees different ones.
func TestSimulatorDeterministic(t *testing.T) {
	digest := func(cfg simConfig) (uint64, int) {
		s := newSimulator(cfg)
		if err := s.run(); err != nil {
			t.Fatalf("run(seed %d) = %v; want nil", cfg.seed, err)
		}
		return s.trace.digest, s.step
	}
	cfg := simConfig{seed: 7, nodes: 5, steps: 1500, profile: profileAny}
	d1, n1 := digest(cfg)
	d2, n2 := digest(cfg)
	if d1 != d2 || n1 != n2 {
		t.Errorf("seed %d twice: digests %x (%d steps) and %x (%d steps); want equal", cfg.seed, d1, n1, d2, n2)
	}
	cfg.seed = 8
	if d3, _ := digest(cfg); d3 == d1 {
		t.Errorf("seeds 7 and 8: both digests %x; want different", d1)
	}
}

// simFindSeedsMax bounds the seeds a TestSimulatorFinds test tries before it
// concludes the simulator cannot find its bug.
const simFindSeedsMax = 60

// simFindCase is a test-only bug and the runs that must expose it.
type simFindCase struct {
	bugs    simBugs
	nodes   int
	steps   int
	profile planProfile
}

// findBug runs seeds 1, 2, ... with fc's bug on until a checker reports a
// violation, and fails unless one does within simFindSeedsMax seeds and the
// same seed passes with the bug off.
func findBug(t *testing.T, fc simFindCase) {
	t.Helper()
	if *flagSimSeed != 0 || *flagSimSeeds != 0 {
		t.Skip("-sim.seed or -sim.seeds given: only TestSimulator runs")
	}
	for seed := uint64(1); seed <= simFindSeedsMax; seed++ {
		cfg := simConfig{seed: seed, nodes: fc.nodes, steps: fc.steps, bugs: fc.bugs, profile: fc.profile}
		_, err := runSim(cfg)
		if err == nil {
			continue
		}
		var v *safetyViolation
		if !errors.As(err, &v) {
			t.Fatalf("runSim(seed %d, bug %v) = %v; want a safety violation or nil", seed, fc.bugs, err)
		}
		t.Logf("bug %v found by the %s checker at seed %d (%d seeds tried): %v", fc.bugs, v.checker, seed, seed, v)
		cfg.bugs = simBugs{}
		if _, err := runSim(cfg); err != nil {
			t.Fatalf("runSim(seed %d, no bug) = %v; want nil", seed, err)
		}
		return
	}
	t.Fatalf("runSim(bug %v, %d nodes, %d steps, profile %v): no violation in seeds 1..%d; want one",
		fc.bugs, fc.nodes, fc.steps, fc.profile, simFindSeedsMax)
}

// TestSimulatorFindsFigure8Bug proves the checkers catch a leader that commits
// entries of earlier terms by counting replicas (§5.4.2, Figure 8): leader
// churn leaves entries of several terms on single disks, and a later leader
// overwrites what the buggy one called committed.
func TestSimulatorFindsFigure8Bug(t *testing.T) {
	findBug(t, simFindCase{bugs: simBugs{figure8: true}, nodes: 3, steps: 10000, profile: profileLeaderChurn})
}

// TestSimulatorFindsUpToDateBug proves the checkers catch votes granted
// without the §5.4.1 up-to-date check: a stale node wins and drops committed entries.
func TestSimulatorFindsUpToDateBug(t *testing.T) {
	findBug(t, simFindCase{bugs: simBugs{upToDate: true}, nodes: 3, steps: simStepsDefault, profile: profileMixed})
}

// TestSimulatorFindsForgottenVote proves the checkers catch a node that forgets
// its vote across a restart: crashed right after granting, it grants again in
// the same term, and the term gets two leaders.
func TestSimulatorFindsForgottenVote(t *testing.T) {
	findBug(t, simFindCase{bugs: simBugs{forgetVote: true}, nodes: 3, steps: 10000, profile: profileLeaderChurn})
}

// BenchmarkSimulator measures the simulator's speed in steps per second.
func BenchmarkSimulator(b *testing.B) {
	for _, nodes := range []int{3, 5, 7} {
		b.Run(fmt.Sprintf("nodes=%d", nodes), func(b *testing.B) {
			steps := 0
			start := time.Now()
			for i := 0; b.Loop(); i++ {
				st, err := runSim(simConfig{seed: uint64(i + 1), nodes: nodes, steps: simStepsDefault, profile: profileAny})
				if err != nil {
					b.Fatal(err)
				}
				steps += st.steps
			}
			b.ReportMetric(float64(steps)/time.Since(start).Seconds(), "steps/s")
		})
	}
}

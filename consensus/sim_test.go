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
	flagSimBug   = flag.String("sim.bug", "", "simulator: turn on a test-only bug: figure8, uptodate, forgetvote, wipeearly or reuseid")
	flagSimProf  = flag.String("sim.profile", "", "simulator: force a fault profile (mixed, churn, storm, steady), "+
		"a membership profile (fixed, members, grow, shrink, replace, removeleader) or one of each, comma-separated")
	flagSimTrace = flag.Int("sim.trace", 60, "simulator: trace events printed with a failure")
)

const (
	// simStepsDefault is the length of a run's fault phase in steps.
	simStepsDefault = 3000
	// simCISeeds is how many seeds plain go test runs.
	simCISeeds = 90
	// simLivenessTicks bounds the ticks from the heal to a committed proposal
	// and an answered read.
	simLivenessTicks = 20 * simElectionTicks
	// simLivenessTicksMax caps the heal phase while the commit index keeps
	// rising (a long backlog replicating over a slow network).
	simLivenessTicksMax = 200 * simElectionTicks
)

// simBugs are the test-only bugs a run turns on, to prove the checkers catch them.
type simBugs struct {
	// figure8 lets leaders commit entries of earlier terms by counting replicas.
	figure8 bool
	// upToDate lets nodes vote without the §5.4.1 up-to-date check.
	upToDate bool
	// forgetVote clears a node's persisted vote when it restarts.
	forgetVote bool
	// wipeEarly wipes a voter's disk as soon as its removal is proposed,
	// before the joint configuration that still counts it commits.
	wipeEarly bool
	// reuseID adds removed ids back, wiped, instead of fresh ids: unsafe,
	// see simmember_test.go.
	reuseID bool
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
	case "wipeearly":
		return simBugs{wipeEarly: true}, nil
	case "reuseid":
		return simBugs{reuseID: true}, nil
	}
	return simBugs{}, fmt.Errorf("unknown -sim.bug %q; want figure8, uptodate, forgetvote, wipeearly or reuseid", s)
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
	case b.wipeEarly:
		return "wipeearly"
	case b.reuseID:
		return "reuseid"
	}
	return ""
}

// simConfig is everything a run depends on: the same simConfig replays the same run.
type simConfig struct {
	seed  uint64
	nodes int // the initial voters, ids 1..nodes
	// pool is how many node ids the run has (0 means nodes); the ids after
	// nodes join when first added (simmember_test.go).
	pool    int
	steps   int
	bugs    simBugs
	profile planProfile   // profileAny: the seed picks
	members memberProfile // the zero value memNone keeps the membership fixed
}

func (c simConfig) replay() string {
	cmd := fmt.Sprintf("go test ./consensus -run '^TestSimulator$' -sim.seed=%d -sim.nodes=%d -sim.steps=%d",
		c.seed, c.nodes, c.steps)
	if b := c.bugs.String(); b != "" {
		cmd += " -sim.bug=" + b
	}
	if p := profileFlag(c.profile, c.members); p != "" {
		cmd += " -sim.profile=" + p
	}
	return cmd
}

// simNodesForSeed is the cluster size a seed runs with unless -sim.nodes says otherwise.
func simNodesForSeed(seed uint64) int { return [...]int{3, 5, 7}[seed%3] }

// simFailure is a run that broke a property.
type simFailure struct {
	cfg   simConfig
	plan  faultPlan
	mem   string // the membership driver
	step  int
	at    simTime
	err   error
	trace string
	stack string
}

func (f *simFailure) Error() string {
	s := fmt.Sprintf("seed %d, %d nodes (pool %d): step %d, tick %d: %v\nplan: %v; %s\nreplay: %s\nlast events:\n%s",
		f.cfg.seed, f.cfg.nodes, f.cfg.pool, f.step, f.at/simUnitsPerTick, f.err, f.plan, f.mem, f.cfg.replay(), f.trace)
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
	members                                            memberStats
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
	a.members.add(b.members)
}

// simCases returns the runs the flags ask for.
func simCases(t *testing.T) []simConfig {
	bugs, err := parseSimBugs(*flagSimBug)
	if err != nil {
		t.Fatal(err)
	}
	profile, members, err := parseSimProfile(*flagSimProf)
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
		mem := members
		if mem == memAny {
			mem = drawMemberProfile(seed)
		}
		nodes := *flagSimNodes
		if nodes == 0 {
			nodes = memberNodes(mem, seed)
		}
		cases = append(cases, simConfig{seed: seed, nodes: nodes, pool: memberPool(mem, nodes), steps: steps,
			bugs: bugs, profile: profile, members: mem})
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
		byMem  = map[memberProfile]*memberRuns{}
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
				if byMem[c.members] == nil {
					byMem[c.members] = &memberRuns{}
				}
				byMem[c.members].runs++
				byMem[c.members].stats.add(st.members)
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
	for p := memNone; p < memAny; p++ {
		if r := byMem[p]; r != nil {
			t.Logf("sim: %v: %d runs; %s", p, r.runs, &r.stats)
		}
	}
	for _, f := range failed {
		t.Logf("sim: FAILED: %s", f)
	}
	if *flagSimSeed == 0 && *flagSimSeeds == 0 && *flagSimProf == "" && *flagSimNodes == 0 && !t.Failed() {
		checkMemberCoverage(t, byMem)
	}
}

// TestSimulatorDeterministic proves a seed replays exactly: two runs of one
// seed see the same events, and another seed sees different ones; with a
// fixed membership and with membership changes.
func TestSimulatorDeterministic(t *testing.T) {
	digest := func(cfg simConfig) (uint64, int) {
		s := newSimulator(cfg)
		if err := s.run(); err != nil {
			t.Fatalf("run(seed %d) = %v; want nil", cfg.seed, err)
		}
		return s.trace.digest, s.step
	}
	tests := []struct {
		name string
		cfg  simConfig
	}{
		{"fixed", simConfig{seed: 7, nodes: 5, steps: 1500, profile: profileAny}},
		{"members", simConfig{seed: 7, nodes: 3, pool: 5, steps: 1500, profile: profileAny, members: memRandom}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			d1, n1 := digest(cfg)
			d2, n2 := digest(cfg)
			if d1 != d2 || n1 != n2 {
				t.Errorf("seed %d twice: digests %x (%d steps) and %x (%d steps); want equal", cfg.seed, d1, n1, d2, n2)
			}
			cfg.seed = 8
			if d3, _ := digest(cfg); d3 == d1 {
				t.Errorf("seeds 7 and 8: both digests %x; want different", d1)
			}
		})
	}
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

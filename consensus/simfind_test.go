package consensus

// This file proves the simulator has teeth: with a test-only bug switched on,
// a fixed set of seeds exposes a violation, and the same seed passes with the
// bug off.

import (
	"errors"
	"testing"
)

// simFindSeedsMax bounds the seeds a TestSimulatorFinds test tries before it
// concludes the simulator cannot find its bug.
const simFindSeedsMax = 100

// simFindCase is a test-only bug and the runs that must expose it.
type simFindCase struct {
	bugs    simBugs
	nodes   int
	steps   int
	profile planProfile
	members memberProfile
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
		cfg := simConfig{seed: seed, nodes: fc.nodes, pool: memberPool(fc.members, fc.nodes), steps: fc.steps,
			bugs: fc.bugs, profile: fc.profile, members: fc.members}
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

// TestSimulatorFindsEarlyWipe proves the membership-aware checkers catch an
// operator that wipes a voter's disk as soon as its removal is proposed:
// the joint configuration still counts that voter, and a committed entry
// loses the majority of the membership that committed it.
func TestSimulatorFindsEarlyWipe(t *testing.T) {
	findBug(t, simFindCase{bugs: simBugs{wipeEarly: true}, nodes: 5, steps: simStepsDefault, profile: profileMixed, members: memShrink})
}

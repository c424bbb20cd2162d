package consensus

// TestHealedClusterConverges is a liveness check that needs no new
// proposals: after a phase of lost messages, cut and restarted nodes and
// proposals, the network heals and nothing more is proposed; within a
// bounded number of ticks there must be one leader, its whole log
// committed, and every node at its commit index having applied the same
// entries. (A check that proposes after healing hides a lagging follower
// that only a new proposal would unstick.)

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

const (
	convergeSeeds      = 40
	convergeFaultSteps = 400
	convergeTicksMax   = 30 * coreElectionTicks
)

func TestHealedClusterConverges(t *testing.T) {
	for seed := uint64(1); seed <= convergeSeeds; seed++ {
		n := 3 + 2*int(seed%2)
		t.Run(fmt.Sprintf("seed=%d/nodes=%d", seed, n), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			nw := newCoreNet(t, n)
			for i, id := range nw.ids {
				cfg := coreConfig(id, nw.ids, nw.stores[id])
				cfg.Rand = rand.New(rand.NewPCG(seed, uint64(i)))
				nw.start(id, cfg)
			}
			nw.tap = func(Message) bool { return rng.IntN(10) >= 3 }
			for step := 0; step < convergeFaultSteps; step++ {
				convergeFaultStep(nw, rng)
			}
			clear(nw.cut)
			nw.tap = nil
			for tick := 0; tick < convergeTicksMax; tick++ {
				nw.tick(nw.ids...)
				if convergeDone(nw) {
					return
				}
			}
			for _, id := range nw.ids {
				t.Logf("node %d: %+v", id, nw.nodes[id].Status())
			}
			t.Fatalf("cluster did not converge within %d ticks of healing", convergeTicksMax)
		})
	}
}

// convergeFaultStep does one random thing: tick everyone, propose on a
// leader, cut or heal one node, or restart one.
func convergeFaultStep(nw *coreNet, rng *rand.Rand) {
	switch k := rng.IntN(10); {
	case k < 6:
		nw.tick(nw.ids...)
	case k < 8:
		for _, id := range nw.leaders() {
			if _, _, err := nw.nodes[id].Propose([]byte{byte(rng.IntN(256))}); err == nil {
				nw.stabilize()
			}
		}
	case k < 9:
		nw.cut[nw.ids[rng.IntN(len(nw.ids))]] = true
	case rng.IntN(2) == 0:
		delete(nw.cut, nw.ids[rng.IntN(len(nw.ids))])
	default:
		convergeRestart(nw, nw.ids[rng.IntN(len(nw.ids))], rng)
	}
}

// convergeRestart crashes node id and starts it again from its storage,
// resuming after what it applied.
func convergeRestart(nw *coreNet, id NodeID, rng *rand.Rand) {
	cfg := coreConfig(id, nw.ids, nw.stores[id])
	cfg.Rand = rand.New(rand.NewPCG(rng.Uint64(), uint64(id)))
	if ents := nw.applied[id]; len(ents) > 0 {
		cfg.Applied = ents[len(ents)-1].Index
	}
	nw.start(id, cfg)
}

// convergeDone reports whether one leader leads every node, its whole log is
// committed everywhere, and all nodes applied the same entries.
func convergeDone(nw *coreNet) bool {
	leaders := nw.leaders()
	if len(leaders) != 1 {
		return false
	}
	ls := nw.nodes[leaders[0]].Status()
	if ls.Commit != ls.LastIndex {
		return false
	}
	for _, id := range nw.ids {
		st := nw.nodes[id].Status()
		if st.Lead != leaders[0] || st.Term != ls.Term || st.Commit != ls.Commit || st.Applied != ls.Commit {
			return false
		}
		if !slices.EqualFunc(nw.applied[id], nw.applied[leaders[0]], func(a, b Entry) bool {
			return a.Index == b.Index && a.Term == b.Term
		}) {
			nw.t.Fatalf("node %d applied a different sequence than leader %d", id, leaders[0])
		}
	}
	return true
}

package lockmodel

// This test proves the model accepts what a correct server produces: clients
// in goroutines drive the sequential reference implementation (every call
// under one mutex, so linearizable by construction) with random operations,
// waiting acquires, unseen lease expiries and lost answers, and Check must
// accept every recorded history, for many seeds. Goroutine scheduling varies
// between runs; the seed fixes each client's choices, and the verdict must be
// the same for every interleaving. To show the check is not vacuous, each
// history is then corrupted with a read and a fence that no token order allows,
// which Check must reject.

import (
	"flag"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

var randomSeeds = flag.Int("lockmodel.seeds", 40, "seeds for TestRandomHistories")

const (
	randomClients      = 5
	randomOpsPerClient = 60
)

func TestRandomHistories(t *testing.T) {
	testRandomHistories(t, Options{Fence: FenceHolderOnly})
}

// TestRandomHistoriesFenceOrNewer runs the same under FenceHolderOrNewer,
// the reference validating fences of free locks by the newest grant.
func TestRandomHistoriesFenceOrNewer(t *testing.T) {
	testRandomHistories(t, Options{Fence: FenceHolderOrNewer})
}

func testRandomHistories(t *testing.T, opts Options) {
	seeds := *randomSeeds
	if testing.Short() {
		seeds = 8
	}
	for seed := range uint64(seeds) {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			ref := newReference()
			ref.fenceOrNewer = opts.Fence == FenceHolderOrNewer
			h := randomHistoryOf(t, seed, ref)
			start := time.Now()
			res := checkWith(t, opts, h, true)
			t.Logf("Check(%d operations, %d partitions) = %s in %v", len(h), res.Partitions, res.Linearizable, time.Since(start))
			if t.Failed() {
				t.Logf("replay: go test ./locks/lockmodel -run 'TestRandomHistories/seed=%d$'", seed)
				return
			}
			if res.Operations != len(h) {
				t.Errorf("Check().Operations = %d; want %d", res.Operations, len(h))
			}
			bad, ok := corruptAfterGrant(h)
			if !ok {
				return
			}
			start = time.Now()
			checkWith(t, opts, bad, false)
			t.Logf("Check(corrupted) in %v", time.Since(start))
		})
	}
}

// randomHistoryOf runs the random clients of one seed against srv.
func randomHistoryOf(t *testing.T, seed uint64, srv Server) []porcupine.Operation {
	t.Helper()
	h, err := Drive(srv, DriveConfig{Seed: seed, Clients: randomClients, OpsPerClient: randomOpsPerClient})
	if err != nil {
		t.Fatalf("Drive() error = %v; want nil", err)
	}
	return h
}

// corruptAfterGrant inserts, right after the earliest answered grant of a
// lock, a read that finds the lock free and then a fence that finds the
// grant's token valid: once a grant is gone its token never comes back, so no
// correct server answers both. The earliest grant keeps the prefix the checker
// must exhaust small.
func corruptAfterGrant(h []porcupine.Operation) ([]porcupine.Operation, bool) {
	first := -1
	for i, op := range h {
		in, out := op.Input.(Input), op.Output.(Output)
		if in.Kind == KindAcquire && out.Status == StatusOK && out.Token != 0 && (first < 0 || op.Return < h[first].Return) {
			first = i
		}
	}
	if first < 0 {
		return nil, false
	}
	scale := func(ts int64) int64 {
		if ts == math.MaxInt64 {
			return ts
		}
		return 3 * ts // room for two events between any two
	}
	bad := make([]porcupine.Operation, len(h), len(h)+2)
	for i, op := range h {
		bad[i] = op
		bad[i].Call, bad[i].Return = scale(op.Call), scale(op.Return)
	}
	g := bad[first]
	in, out := g.Input.(Input), g.Output.(Output)
	bad = append(bad,
		op(randomClients, g.Return+1, g.Return+1, read(in.Name), free()),
		op(randomClients, g.Return+2, g.Return+2, fence(in.Name, out.Token), ok()))
	return bad, true
}

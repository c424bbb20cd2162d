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
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

var randomSeeds = flag.Int("lockmodel.seeds", 40, "seeds for TestRandomHistories")

const (
	randomClients      = 5
	randomOpsPerClient = 60
)

var (
	randomLocks     = []string{"a", "b", "c"}
	randomElections = []string{"e1", "e2"}
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

// randomServer is what the random clients drive: one sequential
// implementation of the API behind a mutex.
type randomServer interface {
	// apply runs one operation that does not wait.
	apply(in Input) Output
	// enqueue starts a waiting acquire or campaign: the answer, or a wait
	// handle (nil when answered at once) for finish.
	enqueue(in Input) (Output, any)
	// finish ends a wait: the grant if it won, else the cancellation's answer.
	finish(wait any) Output
	// expire ends a lease as the leader's lease clock does, unseen.
	expire(id LeaseID) bool
}

// randomHistoryOf runs the clients of one seed against srv.
func randomHistoryOf(t *testing.T, seed uint64, srv randomServer) []porcupine.Operation {
	t.Helper()
	rec := NewRecorder()
	var wg sync.WaitGroup
	for c := range randomClients {
		wg.Add(1)
		go func() { // exits after randomOpsPerClient operations
			defer wg.Done()
			cl := &randomClient{id: c, srv: srv, rec: rec, rng: rand.New(rand.NewPCG(seed, uint64(c))), tokens: map[objectKey][]Token{}}
			for range randomOpsPerClient {
				cl.step()
			}
		}()
	}
	wg.Wait()
	h, err := rec.History()
	if err != nil {
		t.Fatalf("History() error = %v; want nil", err)
	}
	return h
}

// randomClient is one client goroutine's memory: its leases and the tokens
// it has seen per object.
type randomClient struct {
	id  int
	srv randomServer
	rec *Recorder
	// reliable: no request or answer is lost.
	reliable bool
	rng      *rand.Rand
	leases   []LeaseID
	tokens   map[objectKey][]Token
}

func (c *randomClient) lease() LeaseID {
	if len(c.leases) == 0 {
		return LeaseID(1 + c.rng.IntN(3)) // perhaps someone else's, perhaps none
	}
	return c.leases[c.rng.IntN(len(c.leases))]
}

func (c *randomClient) token(k objectKey) Token {
	ts := c.tokens[k]
	if len(ts) == 0 || c.rng.IntN(10) == 0 {
		return Token(1 + c.rng.IntN(40))
	}
	if c.rng.IntN(2) == 0 {
		return ts[len(ts)-1]
	}
	return ts[c.rng.IntN(len(ts))]
}

func (c *randomClient) learn(in Input, out Output) {
	if out.Status == StatusOK && in.Kind == KindCreateLease {
		c.leases = append(c.leases, out.Lease)
	}
	if out.Token != 0 && (out.Status == StatusOK || out.Status == StatusLockHeld) {
		k := keyOf(in)
		c.tokens[k] = append(c.tokens[k], out.Token)
	}
}

// step picks and performs one operation.
func (c *randomClient) step() {
	lock := randomLocks[c.rng.IntN(len(randomLocks))]
	election := randomElections[c.rng.IntN(len(randomElections))]
	var in Input
	switch p := c.rng.IntN(100); {
	case p < 3:
		c.srv.expire(c.lease()) // the leader's lease clock: clients do not see it
		return
	case p < 10 || len(c.leases) == 0:
		in = createLease()
	case p < 18:
		in = keepAlive(c.lease())
	case p < 21:
		in = revoke(c.lease())
	case p < 42:
		in = acquire(lock, c.lease(), fmt.Sprintf("c%d", c.id))
		if c.rng.IntN(8) == 0 {
			in.Lease = 0
		}
		in.Wait = c.rng.IntN(3) == 0
	case p < 56:
		in = release(lock, c.token(objectKey{name: lock}))
	case p < 66:
		in = read(lock)
	case p < 72:
		in = fence(lock, c.token(objectKey{name: lock}))
	case p < 80:
		in = campaign(election, fmt.Sprintf("c%d-%d", c.id, c.rng.IntN(100)), c.lease())
		in.Wait = c.rng.IntN(2) == 0
	case p < 85:
		in = proclaim(election, c.token(objectKey{election: true, name: election}), fmt.Sprintf("p%d", c.rng.IntN(100)))
	case p < 90:
		in = resign(election, c.token(objectKey{election: true, name: election}))
	default:
		in = leader(election)
	}
	c.perform(in)
}

// perform records and runs in, sometimes losing the request or its answer.
func (c *randomClient) perform(in Input) {
	call := c.rec.Invoke(c.id, in)
	runtime.Gosched()
	loss := c.rng.IntN(100)
	if c.reliable {
		loss = 100
	}
	if loss < 2 {
		return // lost before the server saw it: never answered
	}
	var out Output
	if in.Wait && (in.Kind == KindAcquire || in.Kind == KindCampaign) {
		var w any
		out, w = c.srv.enqueue(in)
		if w != nil {
			runtime.Gosched() // the wait: others may free the lock meanwhile
			runtime.Gosched()
			out = c.srv.finish(w)
		}
	} else {
		out = c.srv.apply(in)
	}
	runtime.Gosched()
	switch {
	case loss < 4:
		return // the answer was lost: never answered
	case loss < 6:
		c.rec.Return(call, Output{Status: StatusUnknown}) // a timeout
		return
	}
	c.rec.Return(call, out)
	c.learn(in, out)
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

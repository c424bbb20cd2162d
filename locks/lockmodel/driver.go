package lockmodel

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"

	"github.com/anishathalye/porcupine"
)

// ErrInvalidConfig is wrapped by Drive when a DriveConfig is out of bounds.
var ErrInvalidConfig = errors.New("lockmodel: invalid drive config")

// Server is a sequential implementation of the client API that Drive's
// clients call concurrently: each method must run under the implementation's
// own mutex (that is what makes the recorded history linearizable when the
// implementation is right). The lock table wrapped in a mutex is one; the
// package tests' reference is another.
type Server interface {
	// Apply runs one operation that does not wait (Input.Wait false, or any
	// kind but acquire and campaign).
	Apply(in Input) Output
	// Enqueue starts a waiting acquire or campaign: its answer when it is
	// answered at once, else a wait handle (non-nil) for Finish.
	Enqueue(in Input) (Output, any)
	// Finish ends a wait when it runs out: the grant if one won the race,
	// else the answer to its cancellation.
	Finish(wait any) Output
	// Expire ends a lease as the leader's lease clock does, unseen by
	// clients; a lease that does not exist is ignored.
	Expire(id LeaseID)
}

// DriveConfig sizes one random run of Drive.
type DriveConfig struct {
	// Seed fixes every client's choices (not the goroutine interleaving).
	Seed uint64
	// Clients and OpsPerClient: goroutines, and operations each issues.
	Clients, OpsPerClient int
	// Locks and Elections are the names used; nil means a, b, c and e1, e2.
	Locks, Elections []string
	// Lossless turns off lost requests and answers; by default about 6% of
	// operations end with an unknown outcome.
	Lossless bool
}

// Drive runs cfg.Clients goroutines issuing random operations on srv (leases,
// locks with and without waiting, elections, fences with current and stale
// tokens, unseen expiries, lost requests and answers) and returns the
// recorded history for Check. It returns once every client is done.
func Drive(srv Server, cfg DriveConfig) ([]porcupine.Operation, error) {
	if cfg.Clients < 1 || cfg.Clients > DriveClientsMax {
		return nil, fmt.Errorf("%w: %d clients, want 1..%d", ErrInvalidConfig, cfg.Clients, DriveClientsMax)
	}
	if cfg.OpsPerClient < 1 || cfg.OpsPerClient > DriveOpsPerClientMax {
		return nil, fmt.Errorf("%w: %d operations per client, want 1..%d", ErrInvalidConfig, cfg.OpsPerClient, DriveOpsPerClientMax)
	}
	if cfg.Locks == nil {
		cfg.Locks = []string{"a", "b", "c"}
	}
	if cfg.Elections == nil {
		cfg.Elections = []string{"e1", "e2"}
	}
	if len(cfg.Locks) == 0 || len(cfg.Elections) == 0 {
		return nil, fmt.Errorf("%w: %d locks and %d elections, want at least 1 of each", ErrInvalidConfig, len(cfg.Locks), len(cfg.Elections))
	}
	rec := NewRecorder()
	var wg sync.WaitGroup
	for c := range cfg.Clients {
		wg.Add(1)
		go func() { // exits after cfg.OpsPerClient operations
			defer wg.Done()
			cl := &driveClient{id: c, cfg: &cfg, srv: srv, rec: rec, rng: rand.New(rand.NewPCG(cfg.Seed, uint64(c))), tokens: map[objectKey][]Token{}}
			for range cfg.OpsPerClient {
				cl.step()
			}
		}()
	}
	wg.Wait()
	return rec.History()
}

// driveClient is one client goroutine's memory: its leases and the tokens it
// has seen per object.
type driveClient struct {
	id     int
	cfg    *DriveConfig
	srv    Server
	rec    *Recorder
	rng    *rand.Rand
	leases []LeaseID
	tokens map[objectKey][]Token
}

// lease picks one of the client's leases, or, before it has one, a small id
// that may be another client's or nobody's.
func (c *driveClient) lease() LeaseID {
	if len(c.leases) == 0 {
		return LeaseID(1 + c.rng.IntN(driveGuessLeaseMax))
	}
	return c.leases[c.rng.IntN(len(c.leases))]
}

// token picks a token for k: mostly the newest seen, sometimes an older one,
// sometimes a guess.
func (c *driveClient) token(k objectKey) Token {
	ts := c.tokens[k]
	if len(ts) == 0 || c.rng.IntN(10) == 0 {
		return Token(1 + c.rng.IntN(driveGuessTokenMax))
	}
	if c.rng.IntN(2) == 0 {
		return ts[len(ts)-1]
	}
	return ts[c.rng.IntN(len(ts))]
}

func (c *driveClient) learn(in Input, out Output) {
	if out.Status == StatusOK && in.Kind == KindCreateLease {
		c.leases = append(c.leases, out.Lease)
	}
	if out.Token != 0 && (out.Status == StatusOK || out.Status == StatusLockHeld) {
		k := keyOf(in)
		c.tokens[k] = append(c.tokens[k], out.Token)
	}
}

// step picks and performs one operation. The mix, in percent: 3 unseen
// expiries, 7 creates, 8 keepalives, 3 revokes, 21 acquires, 14 releases,
// 10 reads, 6 fences, 8 campaigns, 5 proclaims, 5 resigns, 10 leader reads.
func (c *driveClient) step() {
	lock := c.cfg.Locks[c.rng.IntN(len(c.cfg.Locks))]
	election := c.cfg.Elections[c.rng.IntN(len(c.cfg.Elections))]
	lk, el := objectKey{name: lock}, objectKey{election: true, name: election}
	var in Input
	switch p := c.rng.IntN(100); {
	case p < 3:
		c.srv.Expire(c.lease())
		return
	case p < 10 || len(c.leases) == 0:
		in = Input{Kind: KindCreateLease, TTL: driveTTL}
	case p < 18:
		in = Input{Kind: KindKeepAlive, Lease: c.lease()}
	case p < 21:
		in = Input{Kind: KindRevoke, Lease: c.lease()}
	case p < 42:
		in = Input{Kind: KindAcquire, Name: lock, Lease: c.lease(), Owner: fmt.Sprintf("c%d", c.id), Wait: c.rng.IntN(3) == 0}
		if c.rng.IntN(8) == 0 {
			in.Lease, in.TTL = 0, driveTTL
		}
	case p < 56:
		in = Input{Kind: KindRelease, Name: lock, Token: c.token(lk)}
	case p < 66:
		in = Input{Kind: KindRead, Name: lock}
	case p < 72:
		in = Input{Kind: KindFence, Name: lock, Token: c.token(lk)}
	case p < 80:
		in = Input{Kind: KindCampaign, Name: election, Value: fmt.Sprintf("c%d-%d", c.id, c.rng.IntN(100)), Lease: c.lease(), Wait: c.rng.IntN(2) == 0}
	case p < 85:
		in = Input{Kind: KindProclaim, Name: election, Token: c.token(el), Value: fmt.Sprintf("p%d", c.rng.IntN(100))}
	case p < 90:
		in = Input{Kind: KindResign, Name: election, Token: c.token(el)}
	default:
		in = Input{Kind: KindLeader, Name: election}
	}
	c.perform(in)
}

// perform records and runs in, sometimes losing the request (2%) or its
// answer (2%), or answering it with a timeout (2%).
func (c *driveClient) perform(in Input) {
	call := c.rec.Invoke(c.id, in)
	runtime.Gosched()
	loss := c.rng.IntN(100)
	if c.cfg.Lossless {
		loss = 100
	}
	if loss < 2 {
		return // lost before the server saw it: never answered
	}
	var out Output
	if in.Wait && (in.Kind == KindAcquire || in.Kind == KindCampaign) {
		var w any
		out, w = c.srv.Enqueue(in)
		if w != nil {
			runtime.Gosched() // the wait: others may free the lock meanwhile
			runtime.Gosched()
			out = c.srv.Finish(w)
		}
	} else {
		out = c.srv.Apply(in)
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

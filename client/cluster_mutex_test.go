package client

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// mutexTTL is the session ttl of the mutex tests: long enough that no
// session is lost to a slow keepalive under -race or during a failover.
const mutexTTL = 5 * time.Second

// exclusion checks, inside critical sections, that no two holders overlap
// and that each holder's fencing token is greater than every earlier one.
type exclusion struct {
	inside atomic.Int32
	mu     sync.Mutex
	last   Token
	grants int
}

// enter records a holder with tok; it fails the test on an overlap or a
// token not above the previous holder's.
func (x *exclusion) enter(t *testing.T, who string, tok Token) {
	t.Helper()
	if n := x.inside.Add(1); n != 1 {
		t.Errorf("%s got the lock with token %d while %d others held it", who, tok, n-1)
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if tok <= x.last {
		t.Errorf("%s: Lock() token %d; want > previous holder's %d", who, tok, x.last)
	}
	x.last = tok
	x.grants++
}

func (x *exclusion) leave() { x.inside.Add(-1) }

func (x *exclusion) count() (grants int, last Token) {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.grants, x.last
}

// lockRound takes m, checks the exclusion, and unlocks.
func lockRound(t *testing.T, ctx context.Context, x *exclusion, who string, m *Mutex) error {
	tok, err := m.Lock(ctx)
	if err != nil {
		return fmt.Errorf("%s: Lock(%q) = %v; want a token", who, m.Name(), err)
	}
	x.enter(t, who, tok)
	x.leave()
	if err := m.Unlock(ctx); err != nil {
		return fmt.Errorf("%s: Unlock(%q) with token %d = %v; want nil", who, m.Name(), tok, err)
	}
	return nil
}

// TestClusterMutexContention: 16 clients, each with its own session and its
// endpoints in a different order, take one lock three times each. Never two
// holders at once, tokens strictly increase from holder to holder, and
// everyone gets the lock every round.
func TestClusterMutexContention(t *testing.T) {
	const clients, rounds = 16, 3
	ctx := testContext(t)
	_, urls := startCluster(t, ctx)
	var x exclusion
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := range clients {
		c := newClusterClient(t, rotate(urls, i))
		m := NewMutex(newSession(t, ctx, c, mutexTTL), "contended")
		wg.Add(1)
		// Exits after its rounds or its first error.
		go func() {
			defer wg.Done()
			for r := range rounds {
				if err := lockRound(t, ctx, &x, fmt.Sprintf("client %d round %d", i, r), m); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if grants, _ := x.count(); grants != clients*rounds {
		t.Errorf("%d grants; want %d (every client, every round)", grants, clients*rounds)
	}
}

// TestClusterMutexLeaderFailover: clients lock and unlock one lock in a
// loop while the cluster's Raft leader is stopped (a crash: no transfer).
// The SDK fails over to the surviving nodes and every client keeps getting
// the lock; no two holders overlap and tokens keep rising across the new
// leader's grants.
func TestClusterMutexLeaderFailover(t *testing.T) {
	const clients, roundsAfter = 4, 3
	ctx := testContext(t)
	cl, urls := startCluster(t, ctx)
	var x exclusion
	// stopped closes once the leader node is stopped; each client then
	// does roundsAfter more rounds.
	stopped := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	started := make(chan struct{}, clients)
	for i := range clients {
		c := newClusterClient(t, rotate(urls, i))
		m := NewMutex(newSession(t, ctx, c, mutexTTL), "failover")
		wg.Add(1)
		// Exits after roundsAfter rounds past the stop, or its first error.
		go func() {
			defer wg.Done()
			after := 0
			for r := 0; after < roundsAfter; r++ {
				select {
				case <-stopped:
					after++
				default:
				}
				if err := lockRound(t, ctx, &x, fmt.Sprintf("client %d round %d", i, r), m); err != nil {
					errs <- err
					return
				}
				if r == 0 {
					started <- struct{}{}
				}
			}
		}()
	}
	for range clients {
		recv(t, started, testTimeout, "every client's first grant")
	}
	leader, err := cl.WaitLeader(ctx)
	if err != nil {
		t.Fatalf("WaitLeader() = %v; want a leader", err)
	}
	before, _ := x.count()
	cl.Stop(leader)
	close(stopped)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	grants, last := x.count()
	if grants < before+clients*roundsAfter {
		t.Errorf("%d grants after the leader stopped; want >= %d", grants-before, clients*roundsAfter)
	}
	// Every grant was released, and the surviving nodes' next grant
	// continues above the last token the clients saw.
	c := newClusterClient(t, urls)
	if info, err := c.Lock(ctx, "failover"); err != nil || info.Held {
		t.Errorf("Lock(%q) = %+v, %v; want not held, nil", "failover", info, err)
	}
	m := NewMutex(newSession(t, ctx, c, mutexTTL), "failover")
	if tok, err := m.TryLock(ctx); err != nil || tok <= last {
		t.Errorf("TryLock(%q) = %d, %v; want a token > %d, nil", "failover", tok, err, last)
	}
}

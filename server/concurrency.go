package server

import (
	"fmt"
	"sync"
)

// waitLimiter caps the requests that hold a connection open while they
// wait (blocking GETs, waiting acquires and campaigns, event streams), per
// client and on the whole node (issue 10). One client cannot take every
// slot of the node's hub (SubscribersMax) and lock the others out; the node
// cap bounds the goroutines and connections all clients together hold on
// this listener, forwarded ones included (which the leader's hub cannot
// see).
type waitLimiter struct {
	perClientMax int
	totalMax     int

	mu sync.Mutex
	// perClient counts the slots of each client holding at least one; a
	// client's entry goes with its last slot, so the map holds at most
	// totalMax keys.
	// Invariant: every count is in [1, perClientMax]; they sum to total.
	perClient map[string]int
	// Invariant: 0 <= total <= totalMax.
	total int
}

// newWaitLimiter returns a limiter of perClientMax slots per client and
// totalMax in all.
func newWaitLimiter(perClientMax, totalMax int) *waitLimiter {
	assertf(perClientMax >= 1, "waits per client max %d, want >= 1", perClientMax)
	assertf(totalMax >= perClientMax, "waits max %d, want >= per client max %d", totalMax, perClientMax)
	return &waitLimiter{perClientMax: perClientMax, totalMax: totalMax, perClient: make(map[string]int)}
}

// acquire takes a slot for key; the returned func gives it back (call it
// exactly once; later calls do nothing). Past either cap it returns an
// ErrTooManyRequests naming both numbers.
func (l *waitLimiter) acquire(key string) (release func(), err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := l.perClient[key]; n >= l.perClientMax {
		return nil, fmt.Errorf("%w: client has %d waiting requests and event streams open, max %d", ErrTooManyRequests, n, l.perClientMax)
	}
	if l.total >= l.totalMax {
		return nil, fmt.Errorf("%w: node has %d waiting requests and event streams open, max %d", ErrTooManyRequests, l.total, l.totalMax)
	}
	l.perClient[key]++
	l.total++
	var once sync.Once
	return func() { once.Do(func() { l.release(key) }) }, nil
}

func (l *waitLimiter) release(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := l.perClient[key]
	assertf(n >= 1, "release of client %q with %d slots", key, n)
	assertf(l.total >= 1, "release with %d slots taken", l.total)
	l.total--
	if n == 1 {
		delete(l.perClient, key)
		return
	}
	l.perClient[key] = n - 1
}

// counts returns the slots taken in all and the clients holding them.
func (l *waitLimiter) counts() (total, clients int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total, len(l.perClient)
}

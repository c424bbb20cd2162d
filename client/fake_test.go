// This file is the in-test fake of the raftlock HTTP API the SDK tests run
// against: the routes, bodies, codes and headers of DESIGN.md §5 over a small
// in-memory lock table with real-time lease expiry, FIFO waiters, fencing
// tokens from one increasing index, Idempotency-Key dedup and election
// observers. Several fakeNode endpoints can share one table; a node may name
// a leader in X-Raftlock-Leader and carries a fault hook for tests.
package client

import (
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/raftlock/raftlock/client/wire"
)

// fakeTTLMin is the shortest ttl the fake accepts. The real server's is 1s;
// the fake goes lower so session-loss tests run in a fraction of a second.
const fakeTTLMin = 50 * time.Millisecond

// fakeState is the lock table every fakeNode of one fake cluster shares.
type fakeState struct {
	mu        sync.Mutex
	closed    bool
	index     uint64
	leases    map[uint64]*fakeLease
	locks     map[string]*fakeLock
	elections map[string]*fakeLock
	// lastToken is the newest token ever granted per lock, for Fence.
	lastToken map[string]uint64
	dedup     map[string]*fakeDedup
	// changed is closed and replaced whenever an election changes.
	changed chan struct{}
	quit    chan struct{}
}

type fakeLease struct {
	id       uint64
	ttl      time.Duration
	deadline time.Time
	timer    *time.Timer
	// single: created by an acquire for one lock alone; freed with it.
	single bool
}

type fakeLock struct {
	holder  *wire.Holder
	value   string
	waiters []*fakeWaiter
}

type fakeWaiter struct {
	lease        uint64
	owner, value string
	// done closes when the waiter is granted or withdrawn.
	done chan struct{}
}

type fakeDedup struct {
	fingerprint string
	done        chan struct{}
	status      int
	body        []byte
}

func newFakeState() *fakeState {
	return &fakeState{
		leases: map[uint64]*fakeLease{}, locks: map[string]*fakeLock{}, elections: map[string]*fakeLock{},
		lastToken: map[string]uint64{}, dedup: map[string]*fakeDedup{},
		changed: make(chan struct{}), quit: make(chan struct{}),
	}
}

// close stops every lease timer and ends event streams.
func (f *fakeState) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return
	}
	f.closed = true
	for _, l := range f.leases {
		l.timer.Stop()
	}
	close(f.quit)
}

// fakeAnswer is what a handler answers: a status and a JSON body.
type fakeAnswer struct {
	status int
	body   any
}

func ok(body any) fakeAnswer { return fakeAnswer{http.StatusOK, body} }

func fail(status int, code, format string, args ...any) fakeAnswer {
	return fakeAnswer{status, wire.Error{Error: wire.ErrorDetail{Code: code, Message: fmt.Sprintf(format, args...)}}}
}

func lockHeld(h *wire.Holder, format string, args ...any) fakeAnswer {
	a := fail(http.StatusConflict, wire.CodeLockHeld, format, args...)
	e := a.body.(wire.Error)
	hc := *h
	e.Error.Holder = &hc
	a.body = e
	return a
}

// next returns the next index; the caller holds f.mu.
func (f *fakeState) next() uint64 {
	f.index++
	return f.index
}

func (f *fakeState) notify() {
	close(f.changed)
	f.changed = make(chan struct{})
}

func (f *fakeState) newLease(ttl time.Duration, single bool) (*fakeLease, *fakeAnswer) {
	if ttl == 0 {
		ttl = TTLDefault
	}
	if ttl < fakeTTLMin || ttl > time.Hour {
		a := fail(http.StatusBadRequest, wire.CodeInvalidArgument, "ttl is %v, min %v, max %v", ttl, fakeTTLMin, time.Hour)
		return nil, &a
	}
	l := &fakeLease{id: f.next(), ttl: ttl, deadline: time.Now().Add(ttl), single: single}
	f.leases[l.id] = l
	id := l.id
	// The timer's goroutine exits after one expiry check.
	l.timer = time.AfterFunc(ttl, func() { f.expire(id) })
	return l, nil
}

// expire drops lease id once its deadline has passed, else re-arms.
func (f *fakeState) expire(id uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	l := f.leases[id]
	if f.closed || l == nil {
		return
	}
	if left := time.Until(l.deadline); left > 0 {
		l.timer.Reset(left)
		return
	}
	f.dropLease(id)
}

// dropLease ends lease id: its waits are withdrawn, then its locks and
// elections freed and handed to their next live waiter.
func (f *fakeState) dropLease(id uint64) {
	l := f.leases[id]
	delete(f.leases, id)
	l.timer.Stop()
	for _, election := range []bool{false, true} {
		ns := f.ns(election)
		for _, lk := range ns {
			kept := lk.waiters[:0]
			for _, w := range lk.waiters {
				if w.lease == id {
					close(w.done)
					continue
				}
				kept = append(kept, w)
			}
			lk.waiters = kept
		}
		for name, lk := range ns {
			if lk.holder != nil && lk.holder.LeaseID == id {
				f.free(election, name)
			}
		}
	}
}

// free hands lock name to its first waiter whose lease is alive, or deletes it.
func (f *fakeState) free(election bool, name string) {
	ns := f.ns(election)
	lk := ns[name]
	lk.holder = nil
	for len(lk.waiters) > 0 {
		w := lk.waiters[0]
		lk.waiters = lk.waiters[1:]
		if f.leases[w.lease] == nil {
			continue // dropLease already withdrew and woke it
		}
		f.grant(election, name, lk, w.lease, w.owner, w.value)
		close(w.done)
		break
	}
	if lk.holder == nil {
		delete(ns, name)
	}
	if election {
		f.notify()
	}
}

func (f *fakeState) grant(election bool, name string, lk *fakeLock, lease uint64, owner, value string) {
	tok := f.next()
	lk.holder = &wire.Holder{LeaseID: lease, Owner: owner, Token: tok, AcquiredAt: time.Now().UTC()}
	lk.value = value
	if !election {
		f.lastToken[name] = tok
	}
}

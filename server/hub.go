package server

import (
	"fmt"
	"sync"

	"github.com/raftlock/raftlock/locks"
)

// hub wakes the requests that wait on the lock table: blocking GETs and event
// streams watch an object's key and get a channel closed at the next change
// of it; queued acquires and campaigns register for the grant to their lease.
// The FSM feeds it after each Apply without blocking: closing a channel and a
// send to a one-slot buffer never wait. Subscribers are bounded
// (SubscribersMax): a request past the bound gets too_many_requests.
type hub struct {
	mu sync.Mutex
	// watchers maps a key to the channel closed at its next change and the
	// number of requests holding it; the entry goes when both are done, so
	// the map holds only keys someone waits on.
	watchers map[string]*watcher
	// grants maps a (name, lease) to the channels of the requests waiting
	// for that grant; each has one slot of buffer.
	grants map[grantKey][]chan locks.Holder
	// subscribers counts the slots taken by waiting requests.
	// Invariant: 0 <= subscribers <= SubscribersMax.
	subscribers int
}

type watcher struct {
	ch   chan struct{}
	refs int
}

// grantKey names one queued acquire: the lease waiting on a lock or election.
type grantKey struct {
	name     string
	election bool
	lease    locks.LeaseID
}

// grant is one grant an Apply made.
type grant struct {
	key    grantKey
	holder locks.Holder
}

func newHub() *hub {
	return &hub{watchers: make(map[string]*watcher), grants: make(map[grantKey][]chan locks.Holder)}
}

// subscribe takes a subscriber slot for one waiting request; the returned
// func gives it back (call it exactly once).
func (h *hub) subscribe() (release func(), err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.subscribers >= SubscribersMax {
		return nil, fmt.Errorf("%w: node has %d waiting requests, max %d", ErrTooManyRequests, h.subscribers, SubscribersMax)
	}
	h.subscribers++
	var once sync.Once
	return func() {
		once.Do(func() {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.subscribers--
			assertf(h.subscribers >= 0, "hub subscribers %d", h.subscribers)
		})
	}, nil
}

// watch returns a channel closed at the next change of key, and done, to
// call once when no longer waiting on it. Call watch before reading the
// object, so a change between the read and the wait is not missed.
func (h *hub) watch(key string) (ch <-chan struct{}, done func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	w := h.watchers[key]
	if w == nil {
		w = &watcher{ch: make(chan struct{})}
		h.watchers[key] = w
	}
	w.refs++
	return w.ch, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		w.refs--
		if w.refs == 0 && h.watchers[key] == w {
			delete(h.watchers, key)
		}
	}
}

// awaitGrant registers for the grant of k; cancel unregisters (call it once
// the wait is over, granted or not).
func (h *hub) awaitGrant(k grantKey) (ch <-chan locks.Holder, cancel func()) {
	c := make(chan locks.Holder, 1)
	h.mu.Lock()
	h.grants[k] = append(h.grants[k], c)
	h.mu.Unlock()
	return c, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		list := h.grants[k]
		for i, x := range list {
			if x == c {
				list = append(list[:i], list[i+1:]...)
				break
			}
		}
		if len(list) == 0 {
			delete(h.grants, k)
		} else {
			h.grants[k] = list
		}
	}
}

// notify wakes the watchers of keys and delivers grants. It never blocks.
func (h *hub) notify(keys []string, grants []grant) {
	if len(keys) == 0 && len(grants) == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, k := range keys {
		if w := h.watchers[k]; w != nil {
			close(w.ch)
			delete(h.watchers, k)
		}
	}
	for _, g := range grants {
		for _, c := range h.grants[g.key] {
			select {
			case c <- g.holder:
			default: // a grant is delivered once; a second cannot happen for one lease
			}
		}
	}
}

// waiting counts the subscriber slots taken, for metrics.
func (h *hub) waiting() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.subscribers
}

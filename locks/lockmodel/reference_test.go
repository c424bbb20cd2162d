package lockmodel

import (
	"slices"
	"sync"
)

// reference is a sequential implementation of the client API of DESIGN.md §4
// and §5, written as plainly as possible: every call runs under one mutex, so
// any history its concurrent callers record is linearizable by construction.
// It keeps a log index like the lock table (one per mutating entry) and hands
// a freed lock to its first live waiter in the freeing entry.
type reference struct {
	// fenceOrNewer selects FenceHolderOrNewer: a fence of a free lock is
	// valid with a token above every grant of that lock.
	fenceOrNewer bool

	mu      sync.Mutex
	index   uint64
	leases  map[LeaseID]*refLease
	objects map[objectKey]*refObject
	newest  map[objectKey]Token // the newest grant of each object
}

type refLease struct {
	own bool // created by an acquire for one object
}

type refObject struct {
	held    bool
	lease   LeaseID
	token   Token
	owner   string
	value   string
	own     bool
	waiters []*refWaiter
}

// refWaiter is an acquire waiting in a lock's queue.
type refWaiter struct {
	in      Input
	lease   LeaseID
	granted Token // set when the lock was handed over
	gone    bool  // withdrawn because its lease ended
}

func newReference() *reference {
	return &reference{leases: map[LeaseID]*refLease{}, objects: map[objectKey]*refObject{}, newest: map[objectKey]Token{}}
}

func (r *reference) next() uint64 {
	r.index++
	return r.index
}

func (r *reference) object(k objectKey) *refObject {
	o := r.objects[k]
	if o == nil {
		o = &refObject{}
		r.objects[k] = o
	}
	return o
}

// Apply executes one non-waiting operation.
func (r *reference) Apply(in Input) Output {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := keyOf(in)
	switch in.Kind {
	case KindCreateLease:
		id := LeaseID(r.next())
		r.leases[id] = &refLease{}
		return Output{Status: StatusOK, Lease: id}
	case KindKeepAlive:
		if r.leases[in.Lease] == nil {
			return Output{Status: StatusNotFound}
		}
		return Output{Status: StatusOK}
	case KindRevoke:
		if r.leases[in.Lease] == nil {
			return Output{Status: StatusNotFound}
		}
		r.endLease(in.Lease, r.next())
		return Output{Status: StatusOK}
	case KindAcquire, KindCampaign:
		return r.acquire(in, nil)
	case KindRelease, KindResign:
		o := r.object(k)
		if !o.held || o.token != in.Token {
			if in.Kind == KindResign {
				return Output{Status: StatusNotLeader}
			}
			return Output{Status: StatusNotHolder}
		}
		r.free(k, r.next())
		return Output{Status: StatusOK}
	case KindFence, KindProclaim:
		o := r.object(k)
		if in.Kind == KindFence && r.fenceOrNewer && !o.held && in.Token > r.newest[k] {
			return Output{Status: StatusOK}
		}
		if !o.held || o.token != in.Token {
			if in.Kind == KindProclaim {
				return Output{Status: StatusNotLeader}
			}
			return Output{Status: StatusStaleToken}
		}
		if in.Kind == KindProclaim {
			r.next()
			o.value = in.Value
		}
		return Output{Status: StatusOK}
	case KindRead, KindLeader:
		o := r.object(k)
		if !o.held {
			return Output{Status: StatusOK}
		}
		out := Output{Status: StatusOK, Held: true, Token: o.token, Lease: o.lease, Owner: o.owner, Value: o.value}
		if in.Kind == KindLeader {
			out.Owner = ""
		} else {
			out.Value = ""
		}
		return out
	}
	panic("reference: unknown kind " + in.Kind.String())
}

// acquire grants a free object, answers a retry of the holder, refuses, or
// (w != nil) enqueues w. It runs under r.mu.
func (r *reference) acquire(in Input, w *refWaiter) Output {
	k := keyOf(in)
	o := r.object(k)
	if in.Lease != 0 && r.leases[in.Lease] == nil {
		return Output{Status: StatusNotFound}
	}
	if o.held && in.Lease != 0 && o.lease == in.Lease {
		return Output{Status: StatusOK, Token: o.token, Lease: o.lease}
	}
	idx := r.next()
	lease, own := in.Lease, false
	if !o.held || w != nil {
		if lease == 0 {
			lease, own = LeaseID(idx), true
			r.leases[lease] = &refLease{own: true}
		}
	}
	if !o.held {
		*o = refObject{held: true, lease: lease, token: Token(idx), owner: in.Owner, value: in.Value, own: own, waiters: o.waiters}
		r.newest[k] = Token(idx)
		return Output{Status: StatusOK, Token: Token(idx), Lease: lease}
	}
	if w != nil {
		w.lease = lease
		o.waiters = append(o.waiters, w)
		return Output{}
	}
	return Output{Status: StatusLockHeld, Token: o.token, Lease: o.lease}
}

// free releases object k in entry idx and hands it to its first waiter whose
// lease is alive.
func (r *reference) free(k objectKey, idx uint64) {
	o := r.objects[k]
	if o.own {
		r.endLease(o.lease, idx)
		return // endLease freed o
	}
	o.held = false
	for len(o.waiters) > 0 {
		w := o.waiters[0]
		o.waiters = o.waiters[1:]
		if r.leases[w.lease] == nil {
			continue
		}
		o.held, o.lease, o.token, o.owner, o.value, o.own = true, w.lease, Token(idx), w.in.Owner, w.in.Value, r.leases[w.lease].own
		w.granted = Token(idx)
		r.newest[k] = Token(idx)
		return
	}
	*o = refObject{}
}

// endLease revokes or expires a lease in entry idx: its waits are withdrawn,
// then its objects freed in key order.
func (r *reference) endLease(id LeaseID, idx uint64) {
	delete(r.leases, id)
	var keys []objectKey
	for k, o := range r.objects {
		o.waiters = slices.DeleteFunc(o.waiters, func(w *refWaiter) bool {
			if w.lease == id {
				w.gone = true
				return true
			}
			return false
		})
		if o.held && o.lease == id {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, compareKeys)
	for _, k := range keys {
		o := r.objects[k]
		o.own = false
		r.free(k, idx)
	}
}

// Enqueue is the first half of a waiting acquire: it grants or refuses at
// once, or queues the returned waiter.
func (r *reference) Enqueue(in Input) (Output, any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	w := &refWaiter{in: in}
	out := r.acquire(in, w)
	if out.Status != 0 {
		return out, nil
	}
	return out, w
}

// Finish is the second half: the wait ran out. A grant that won the race is
// the answer; otherwise the wait is cancelled in its own entry.
func (r *reference) Finish(wait any) Output {
	w := wait.(*refWaiter)
	r.mu.Lock()
	defer r.mu.Unlock()
	if w.granted != 0 {
		return Output{Status: StatusOK, Token: w.granted, Lease: w.lease}
	}
	if w.gone {
		return Output{Status: StatusNotFound}
	}
	k := keyOf(w.in)
	o := r.objects[k]
	o.waiters = slices.DeleteFunc(o.waiters, func(x *refWaiter) bool { return x == w })
	r.next()
	if w.in.Lease == 0 {
		delete(r.leases, w.lease) // the lease made for this acquire goes with it
	}
	return Output{Status: StatusLockHeld, Token: o.token, Lease: o.lease}
}

// Expire ends a lease the way the leader's lease clock does, unseen by
// clients.
func (r *reference) Expire(id LeaseID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.leases[id] != nil {
		r.endLease(id, r.next())
	}
}

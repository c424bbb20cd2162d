package locks

import (
	"container/heap"
	"sort"
	"strings"
)

// LockInfo is a lock or an election as reads see it.
type LockInfo struct {
	// Kind is ObjectLock or ObjectElection.
	Kind ObjectKind
	// Name is the lock or election name.
	Name string
	// Held reports a holder (an election: a leader).
	Held bool
	// Holder is the holder when Held.
	Holder Holder
	// Waiters is the FIFO queue, first to be granted first.
	Waiters []Waiter
	// ModifyIndex is the index of the last entry that changed the object;
	// for an absent object, an index at or after the one that removed it.
	ModifyIndex Index
}

// Waiter is one queued acquire.
type Waiter struct {
	// LeaseID is the waiting lease.
	LeaseID LeaseID
	// Owner and Value are what the acquire carried.
	Owner string
	// Value is the election value the acquire carried.
	Value string
	// EnqueuedAt is the index of the acquire that queued it.
	EnqueuedAt Index
}

// LeaseInfo is a lease as reads see it.
type LeaseInfo struct {
	// ID is the lease id (the index of the creating entry).
	ID LeaseID
	// TTL is the lease's ttl.
	TTL Duration
	// GrantedAt is the creating entry's command time, unix nanoseconds.
	GrantedAt int64
	// Checkpointed is the remaining time of the last checkpoint, 0 = none.
	Checkpointed Duration
	// Single reports a lease created by an acquire for one object alone.
	Single bool
	// Creator is the ACL token the lease was created for (0: none).
	Creator AccessorID
	// Locks and Elections are the names it holds, sorted.
	Locks, Elections []string
	// Waits are the objects it waits for, locks first, sorted by name.
	Waits []ObjectRef
	// ModifyIndex is the index of the last entry that changed the lease.
	ModifyIndex Index
}

// ObjectRef names a lock or an election.
type ObjectRef struct {
	// Kind is ObjectLock or ObjectElection.
	Kind ObjectKind
	// Name is its name.
	Name string
}

// LeaseTimer is what a leader's LeaseClock needs of one lease.
type LeaseTimer struct {
	// ID is the lease.
	ID LeaseID
	// TTL is its ttl.
	TTL Duration
	// Checkpointed is its last checkpointed remaining time, 0 = none.
	Checkpointed Duration
}

// Stats counts the table's contents, for metrics.
type Stats struct {
	// Leases, Locks, Elections and Waiters count live objects.
	Leases, Locks, Elections, Waiters int
	// DedupRecords counts the request-id records kept.
	DedupRecords int
}

// Lock returns lock name (Held false when nobody holds it).
func (t *Table) Lock(name string) LockInfo {
	return t.info(name, false)
}

// Election returns election name (Held false when it has no leader).
func (t *Table) Election(name string) LockInfo {
	return t.info(name, true)
}

func (t *Table) info(name string, election bool) LockInfo {
	li := LockInfo{Kind: objectKind(election), Name: name, ModifyIndex: t.removedIndex}
	lk := t.namespace(election)[name]
	if lk == nil {
		return li
	}
	li.Held = true
	li.Holder = lk.holder
	li.ModifyIndex = lk.modifyIndex
	if len(lk.waiters) > 0 {
		li.Waiters = make([]Waiter, len(lk.waiters))
		for i, w := range lk.waiters {
			li.Waiters[i] = Waiter{LeaseID: w.lease, Owner: w.owner, Value: w.value, EnqueuedAt: w.enqueuedAt}
		}
	}
	return li
}

// Lease returns lease id, or false when it does not exist.
func (t *Table) Lease(id LeaseID) (LeaseInfo, bool) {
	ls := t.leases[id]
	if ls == nil {
		return LeaseInfo{}, false
	}
	li := LeaseInfo{ID: ls.id, TTL: ls.ttl, GrantedAt: ls.grantedAt, Checkpointed: ls.checkpointed, Single: ls.single, Creator: ls.creator, ModifyIndex: ls.modifyIndex}
	objs := append([]holding(nil), ls.objs...)
	sort.Slice(objs, func(i, j int) bool { return holdingLess(objs[i], objs[j]) })
	for _, o := range objs {
		switch {
		case o.waiting:
			li.Waits = append(li.Waits, ObjectRef{Kind: objectKind(o.election), Name: o.name})
		case o.election:
			li.Elections = append(li.Elections, o.name)
		default:
			li.Locks = append(li.Locks, o.name)
		}
	}
	return li, true
}

// ListLocks returns the held locks whose names start with prefix and sort
// after after, in name order, at most limit of them (ListMax when limit is
// not in [1, ListMax]); more reports that the listing was cut short. It scans
// every name once and keeps the first limit+1 in a bounded heap: O(n log
// limit) for a table of n locks.
func (t *Table) ListLocks(prefix, after string, limit int) (infos []LockInfo, more bool) {
	return t.list(false, prefix, after, limit, nil)
}

// ListLocksWhere is ListLocks of the names keep accepts (the names a token
// may read): the limit counts only those. keep must not touch the table.
func (t *Table) ListLocksWhere(prefix, after string, limit int, keep func(name string) bool) (infos []LockInfo, more bool) {
	return t.list(false, prefix, after, limit, keep)
}

// ListElections is ListLocks for elections.
func (t *Table) ListElections(prefix, after string, limit int) (infos []LockInfo, more bool) {
	return t.list(true, prefix, after, limit, nil)
}

func (t *Table) list(election bool, prefix, after string, limit int, keep func(string) bool) ([]LockInfo, bool) {
	if limit < 1 || limit > ListMax {
		limit = ListMax
	}
	// first holds the limit+1 smallest matching names seen, largest on top.
	first := make(nameHeap, 0, limit+1)
	for name := range t.namespace(election) {
		if !strings.HasPrefix(name, prefix) || name <= after || (keep != nil && !keep(name)) {
			continue
		}
		if len(first) <= limit {
			heap.Push(&first, name)
		} else if name < first[0] {
			first[0] = name
			heap.Fix(&first, 0)
		}
	}
	names := []string(first)
	sort.Strings(names)
	more := len(names) > limit
	if more {
		names = names[:limit]
	}
	infos := make([]LockInfo, len(names))
	for i, name := range names {
		infos[i] = t.info(name, election)
	}
	return infos, more
}

// nameHeap is a max-heap of names, for container/heap.
type nameHeap []string

func (h nameHeap) Len() int           { return len(h) }
func (h nameHeap) Less(i, j int) bool { return h[i] > h[j] }
func (h nameHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *nameHeap) Push(x any)        { *h = append(*h, x.(string)) }
func (h *nameHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// Fence checks a fencing token for lock name: nil when token is the current
// holder's, or, for a free lock, when token is newer than every grant the
// lock ever had; otherwise an error wrapping ErrStaleToken (ErrInvalidArgument
// for token 0). A released holder's token is stale. For a free lock the table
// keeps only an upper bound of its past grants (the highest token of any
// freed lock), so a token can be reported stale although it is newer than
// that lock's own grants: the safe side.
func (t *Table) Fence(name string, token Token) error {
	if token == 0 {
		return errorf(ErrInvalidArgument, "token is 0, min 1")
	}
	if lk := t.locks[name]; lk != nil {
		if lk.holder.Token == token {
			return nil
		}
		return errorf(ErrStaleToken, "lock %q is held with token %d, not %d", name, lk.holder.Token, token)
	}
	if token <= t.forgottenMax {
		return errorf(ErrStaleToken, "lock %q is free and token %d is not above %d, the newest grant it may have had", name, token, t.forgottenMax)
	}
	return nil
}

// LeaseTimers lists every lease's ttl and checkpoint in id order, for a new
// leader's LeaseClock.
func (t *Table) LeaseTimers() []LeaseTimer {
	out := make([]LeaseTimer, 0, len(t.leases))
	for _, ls := range t.leases {
		out = append(out, LeaseTimer{ID: ls.id, TTL: ls.ttl, Checkpointed: ls.checkpointed})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// RequestResult returns what a retry of request id would answer without
// changing anything: the first result, or the grant if that result was a
// queued acquire granted since. ok is false when no record holds id.
func (t *Table) RequestResult(id string) (r Result, ok bool) {
	rec, ok := t.dedup.get(id)
	if !ok {
		return Result{}, false
	}
	r = rec.result
	r.Duplicate = true
	return r, true
}

// Stats counts what the table holds.
func (t *Table) Stats() Stats {
	return Stats{Leases: len(t.leases), Locks: len(t.locks), Elections: len(t.elections), Waiters: t.waiters, DedupRecords: t.dedup.len()}
}

package locks

import (
	"container/heap"
	"sort"
)

// LeaseClock is the leader's timer of lease deadlines (DESIGN.md §4). Time
// enters as monotonic readings, now, in nanoseconds since any fixed origin of
// this node (the server passes time.Since(start)); the clock never reads one.
// It is not safe for concurrent use.
//
// The server's protocol, while it leads:
//
//  1. On gaining leadership, once it has applied its first entry of the new
//     term: Reset(now, table.LeaseTimers()). Each deadline becomes now + the
//     checkpointed remaining time, or now + ttl when the lease has none, so
//     a lease never expires earlier than under any earlier leader.
//  2. After every Apply while leading: Observe(table, now). It tracks leases
//     the entry created (CreateLease, or an Acquire without a lease id) with a
//     deadline of now + ttl and forgets those it revoked or expired. (Track
//     and Forget do the same one lease at a time.)
//  3. Keepalive (after the quorum check of the keepalive request): resets the
//     deadline to now + ttl. When it returns clear, a checkpoint of this lease
//     may be in the log: the server commits CheckpointLeases{id, Remaining: 0}
//     before answering the client, or a next leader could use the old
//     remaining time and expire the lease before the deadline just promised.
//     Only a late keepalive finds one (step 5): a healthy one writes nothing.
//  4. Periodically: Expired(now, n) lists leases past their deadline; propose
//     ExpireLease for each. They are not reported again (nor kept alive)
//     unless Track or Reset brings them back.
//  5. Periodically (every checkpoint interval C): Checkpoints(now) and
//     propose them, CheckpointsPerCommandMax per command. Only quiet leases
//     (at most ttl/CheckpointQuietDivisor left: a keepalive was missed) and
//     leases whose record stands are recorded, so a lease kept alive in time
//     is never in the log and its keepalives never write. The price: a lease
//     nobody keeps alive is first recorded only by a leader that lasts
//     ttl/CheckpointQuietDivisor + C; after that, with elections every E > C,
//     it lives at most about ttl/(1 - C/E) instead of for ever.
type LeaseClock struct {
	timers map[LeaseID]*leaseTimer
	// due orders the timers not yet reported by Expired by (deadline, id).
	// Invariant: a timer is in due iff !expiring, and then at due[heapIndex].
	due deadlineHeap
}

type leaseTimer struct {
	id        LeaseID
	heapIndex int
	ttl       Duration
	deadline  Duration
	// checkpointed: a checkpoint of this lease was handed out (or Reset
	// found one in the table) and not cleared since: its record stands, so
	// a keepalive must clear it.
	checkpointed bool
	// expiring: reported by Expired; no longer kept alive or reported.
	expiring bool
}

// NewLeaseClock returns a clock that tracks no lease.
func NewLeaseClock() *LeaseClock {
	return &LeaseClock{timers: make(map[LeaseID]*leaseTimer)}
}

// deadlineHeap is a min-heap of timers by (deadline, id), for container/heap.
type deadlineHeap []*leaseTimer

func (h deadlineHeap) Len() int { return len(h) }
func (h deadlineHeap) Less(i, j int) bool {
	if h[i].deadline != h[j].deadline {
		return h[i].deadline < h[j].deadline
	}
	return h[i].id < h[j].id
}
func (h deadlineHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].heapIndex = i
	h[j].heapIndex = j
}
func (h *deadlineHeap) Push(x any) {
	lt := x.(*leaseTimer)
	lt.heapIndex = len(*h)
	*h = append(*h, lt)
}
func (h *deadlineHeap) Pop() any {
	old := *h
	lt := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	lt.heapIndex = -1
	return lt
}

// Reset forgets every lease and tracks leases, each with a deadline of now +
// its checkpointed remaining time, or now + its ttl when it has none. A lease
// with a checkpoint starts marked so that its first keepalive clears it.
func (c *LeaseClock) Reset(now Duration, leases []LeaseTimer) {
	clear(c.timers)
	c.due = c.due[:0]
	for _, lt := range leases {
		rem := lt.TTL
		if lt.Checkpointed > 0 && lt.Checkpointed < lt.TTL {
			rem = lt.Checkpointed
		}
		t := &leaseTimer{id: lt.ID, ttl: lt.TTL, deadline: now + rem, checkpointed: lt.Checkpointed > 0, heapIndex: len(c.due)}
		c.timers[lt.ID] = t
		c.due = append(c.due, t)
	}
	heap.Init(&c.due)
}

// Track starts timing a new lease: deadline now + ttl. A lease tracked
// already is reset the same way.
func (c *LeaseClock) Track(id LeaseID, ttl Duration, now Duration) {
	c.Forget(id)
	t := &leaseTimer{id: id, ttl: ttl, deadline: now + ttl}
	c.timers[id] = t
	heap.Push(&c.due, t)
}

// Observe brings the clock up to date with the entry t applied last: leases
// in t.Changes() that exist and are not tracked start at now + ttl; leases
// that no longer exist are forgotten.
func (c *LeaseClock) Observe(t *Table, now Duration) {
	for _, ch := range t.Changes() {
		if ch.Kind != ObjectLease {
			continue
		}
		ls := t.leases[ch.LeaseID]
		switch {
		case ls == nil:
			c.Forget(ch.LeaseID)
		case c.timers[ch.LeaseID] == nil:
			c.Track(ch.LeaseID, ls.ttl, now)
		}
	}
}

// Forget stops timing a lease (revoked or expired).
func (c *LeaseClock) Forget(id LeaseID) {
	lt := c.timers[id]
	if lt == nil {
		return
	}
	delete(c.timers, id)
	if !lt.expiring {
		heap.Remove(&c.due, lt.heapIndex)
	}
}

// Keepalive resets lease id's deadline to now + ttl and returns the ttl. ok
// is false when the lease is unknown, or already past its deadline or
// reported by Expired (its expiry is on its way). clear reports that the
// server must commit CheckpointLeases{id, 0} before answering (step 3).
func (c *LeaseClock) Keepalive(id LeaseID, now Duration) (ttl Duration, clear, ok bool) {
	lt := c.timers[id]
	if lt == nil || lt.expiring || now >= lt.deadline {
		return 0, false, false
	}
	lt.deadline = now + lt.ttl
	heap.Fix(&c.due, lt.heapIndex)
	clear = lt.checkpointed
	lt.checkpointed = false
	return lt.ttl, clear, true
}

// Remaining returns the time left until lease id's deadline (0 once past),
// and false when the lease is not tracked.
func (c *LeaseClock) Remaining(id LeaseID, now Duration) (Duration, bool) {
	lt := c.timers[id]
	if lt == nil {
		return 0, false
	}
	return max(lt.deadline-now, 0), true
}

// Expired returns up to limit leases past their deadline at now, earliest
// deadline first (ties by id), and marks them so they are not reported again.
// It costs O(k log n) for k leases reported.
func (c *LeaseClock) Expired(now Duration, limit int) []LeaseID {
	var out []LeaseID
	for len(out) < limit && len(c.due) > 0 && c.due[0].deadline <= now {
		lt := heap.Pop(&c.due).(*leaseTimer)
		lt.expiring = true
		out = append(out, lt.id)
	}
	return out
}

// Checkpoints returns the remaining time at now of the leases that need a
// checkpoint, in id order, for CheckpointLeases commands, and marks each as
// checkpointed. A remaining time is at least 1ns (0 would mean "clear") and
// at most the ttl.
//
// A lease needs one when its record stands (nobody kept it alive since: a
// lease left to expire is recorded every round, which bounds how far
// elections stretch it) or when it is quiet (at most
// ttl/CheckpointQuietDivisor left: clients renew every ttl/3, so a keepalive
// was missed). A lease kept alive in time is never recorded, so its
// keepalives never write to the log.
//
// Why only those: keepalives are not in the log, so a new leader cannot tell
// a lease renewed just before the old leader died from a dead one; only a
// record tells it, and a record must be cleared by a write when the lease is
// renewed. Recording only quiet leases keeps that write off healthy
// keepalives. The price is that a lease nobody keeps alive is first recorded
// only under a leader that lasts ttl/CheckpointQuietDivisor + C (C the
// checkpoint interval); until then each leader restarts its ttl. After that
// each election costs at most C, so with elections every E > C it lives at
// most about ttl/(1 - C/E). (etcd 3.4 by default never checkpoints: its
// leases stretch without bound under elections.)
func (c *LeaseClock) Checkpoints(now Duration) []Checkpoint {
	var out []Checkpoint // few: most leases are kept alive in time
	for id, lt := range c.timers {
		if lt.expiring {
			continue
		}
		remaining := lt.deadline - now
		if !lt.checkpointed && remaining > lt.ttl/CheckpointQuietDivisor {
			continue
		}
		out = append(out, Checkpoint{LeaseID: id, Remaining: min(max(remaining, Nanosecond), lt.ttl)})
		lt.checkpointed = true
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LeaseID < out[j].LeaseID })
	return out
}

// Len returns the number of leases tracked.
func (c *LeaseClock) Len() int {
	return len(c.timers)
}

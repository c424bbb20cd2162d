package locks

import "sort"

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
//  2. When a lease is created (CreateLease, or an Acquire without a lease id,
//     applied while leading): Track. When one is revoked or expired: Forget.
//  3. Keepalive (after the quorum check of the keepalive request): resets the
//     deadline to now + ttl. When it returns clear, a checkpoint of this lease
//     may be in the log: the server commits CheckpointLeases{id, Remaining: 0}
//     before answering the client, or a next leader could use the old
//     remaining time and expire the lease before the deadline just promised.
//  4. Periodically: Expired(now, n) lists leases past their deadline; propose
//     ExpireLease for each. They are not reported again (nor kept alive)
//     unless Track or Reset brings them back.
//  5. Periodically (every checkpoint interval C): Checkpoints(now) and
//     propose them, CheckpointsPerCommandMax per command. Over repeated
//     elections a lease then lives at most about ttl/(1 - C/E) when elections
//     come every E > C, instead of for ever.
type LeaseClock struct {
	timers map[LeaseID]*leaseTimer
}

type leaseTimer struct {
	ttl      Duration
	deadline Duration
	// checkpointed: a checkpoint of this lease was handed out and not
	// cleared since, so a keepalive must clear it.
	checkpointed bool
	// expiring: reported by Expired; no longer kept alive or reported.
	expiring bool
}

// NewLeaseClock returns a clock that tracks no lease.
func NewLeaseClock() *LeaseClock {
	return &LeaseClock{timers: make(map[LeaseID]*leaseTimer)}
}

// Reset forgets every lease and tracks leases, each with a deadline of now +
// its checkpointed remaining time, or now + its ttl when it has none. A lease
// with a checkpoint starts marked so that its first keepalive clears it.
func (c *LeaseClock) Reset(now Duration, leases []LeaseTimer) {
	clear(c.timers)
	for _, lt := range leases {
		rem := lt.TTL
		if lt.Checkpointed > 0 && lt.Checkpointed < lt.TTL {
			rem = lt.Checkpointed
		}
		c.timers[lt.ID] = &leaseTimer{ttl: lt.TTL, deadline: now + rem, checkpointed: lt.Checkpointed > 0}
	}
}

// Track starts timing a new lease: deadline now + ttl. A lease tracked
// already is reset the same way.
func (c *LeaseClock) Track(id LeaseID, ttl Duration, now Duration) {
	c.timers[id] = &leaseTimer{ttl: ttl, deadline: now + ttl}
}

// Forget stops timing a lease (revoked or expired).
func (c *LeaseClock) Forget(id LeaseID) {
	delete(c.timers, id)
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

// Expired returns up to limit leases past their deadline at now, in id
// order, and marks them so they are not reported again.
func (c *LeaseClock) Expired(now Duration, limit int) []LeaseID {
	var out []LeaseID
	for id, lt := range c.timers {
		if !lt.expiring && now >= lt.deadline {
			out = append(out, id)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	if len(out) > limit {
		out = out[:max(limit, 0)]
	}
	for _, id := range out {
		c.timers[id].expiring = true
	}
	return out
}

// Checkpoints returns each live lease's remaining time at now, in id order,
// for CheckpointLeases commands, and marks each as checkpointed. A remaining
// time is at least 1ns (0 would mean "clear") and at most the ttl.
func (c *LeaseClock) Checkpoints(now Duration) []Checkpoint {
	out := make([]Checkpoint, 0, len(c.timers))
	for id, lt := range c.timers {
		if lt.expiring {
			continue
		}
		out = append(out, Checkpoint{LeaseID: id, Remaining: min(max(lt.deadline-now, Nanosecond), lt.ttl)})
		lt.checkpointed = true
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LeaseID < out[j].LeaseID })
	return out
}

// Len returns the number of leases tracked.
func (c *LeaseClock) Len() int {
	return len(c.timers)
}

package locks

import (
	"github.com/hashicorp/go-msgpack/v2/codec"
)

// Table is the replicated lock table: leases, locks with their queues of
// waiters, elections, and the request-id records of exactly-once apply. It
// changes only through Apply and Restore, never reads a clock, and is not safe
// for concurrent use: its owner serializes every call.
type Table struct {
	h   *codec.MsgpackHandle
	dec *commandDecoder
	// limits are the table-size bounds, LocksMax and friends; tests shrink
	// them to reach the refusals.
	limits tableLimits

	// applied is the index of the last entry applied.
	// Invariant: every Token and LeaseID in the table is <= applied.
	applied Index
	// now is the current entry's command time (unix nanoseconds).
	now int64
	// newestTime is the largest command time applied; dedup retention is
	// measured against it.
	newestTime int64

	leases    map[LeaseID]*lease
	locks     map[string]*lock
	elections map[string]*lock
	// waiters counts the waiters queued over all locks and elections.
	// Invariant: waiters == sum of len(l.waiters).
	waiters int
	// forgottenMax is the highest token of any lock or election whose
	// record was deleted (freed with no waiter): an upper bound of every
	// grant of an object not in the table, for Fence.
	forgottenMax Token
	// removedIndex is the index of the last entry that deleted a lock or
	// election record: the ModifyIndex reported for an absent one.
	removedIndex Index

	dedup dedupTable

	// aclTokens are the ACL tokens by accessor; aclByHash maps each
	// token's secret hash (as a string) to its accessor.
	// Invariant: the two hold the same tokens.
	aclTokens map[AccessorID]*ACLToken
	aclByHash map[string]AccessorID

	// changes lists the objects the last Apply changed.
	changes []Change
}

// tableLimits are the bounds on the whole table's size.
type tableLimits struct {
	locks, leases, waiters, aclTokens int
}

// lease is one lease. Invariant: every holding names an object whose holder
// (waiting false) or one of whose waiters (waiting true) is this lease.
type lease struct {
	id           LeaseID
	ttl          Duration
	grantedAt    int64
	checkpointed Duration // remaining time at the last checkpoint; 0 = none
	modifyIndex  Index
	// single: created by an acquire for that one object; freeing or
	// withdrawing it revokes the lease.
	single bool
	// creator is the ACL token the lease was created for (0: none).
	creator AccessorID
	objs    []holding
}

// holding is one object a lease holds or waits for.
type holding struct {
	name     string
	election bool
	waiting  bool
}

// lock is one lock or election. Invariant: a record exists only while held
// (holder.Token != 0): freeing it grants the first waiter or deletes it.
type lock struct {
	holder      Holder
	waiters     []waiter // FIFO; nil while empty
	modifyIndex Index
}

// waiter is one queued acquire.
type waiter struct {
	lease      LeaseID
	owner      string
	value      string
	enqueuedAt Index
}

// NewTable returns an empty table.
func NewTable() *Table {
	return &Table{
		h:         newHandle(),
		dec:       newCommandDecoder(),
		limits:    tableLimits{locks: LocksMax, leases: LeasesMax, waiters: WaitersMax, aclTokens: ACLTokensMax},
		leases:    make(map[LeaseID]*lease),
		locks:     make(map[string]*lock),
		elections: make(map[string]*lock),
		dedup:     newDedupTable(),
		aclTokens: make(map[AccessorID]*ACLToken),
		aclByHash: make(map[string]AccessorID),
	}
}

// Apply applies the command encoded in data at log index index and returns
// its result. Indexes must strictly increase from one call to the next (a
// programmer error otherwise). Apply is deterministic: same table, index and
// bytes, same result and same table after. It never panics on bad bytes: a
// malformed or invalid command is an ErrInvalidArgument result that changes
// nothing. A command with a request id applied before returns the first
// result (Duplicate set) and changes nothing.
func (t *Table) Apply(index Index, data []byte) Result {
	if index <= t.applied {
		assertf(false, "apply index %d not above applied %d", index, t.applied)
	}
	t.applied = index
	t.changes = t.changes[:0]
	c, err := t.dec.decode(data)
	if err != nil {
		return Result{Err: err}
	}
	r := t.applyCommand(index, &c)
	if invariantsEnabled {
		err := t.checkInvariants()
		assertf(err == nil, "after apply of %s at index %d: %v", c.Kind, index, err)
	}
	return r
}

// applyCommand applies a decoded and validated command.
func (t *Table) applyCommand(index Index, c *Command) Result {
	t.now = c.Time
	if c.Time > t.newestTime {
		t.newestTime = c.Time
	}
	t.dedup.prune(t.newestTime)
	if c.RequestID == "" {
		return t.dispatch(index, c)
	}
	fp := fingerprint(c)
	if rec, ok := t.dedup.get(c.RequestID); ok {
		if rec.fingerprint != fp {
			return Result{Err: errorf(ErrInvalidArgument, "request id %q was used at index %d for a different command", c.RequestID, rec.index)}
		}
		r := rec.result
		r.Duplicate = true
		return r
	}
	r := t.dispatch(index, c)
	t.dedup.add(c.RequestID, dedupRecord{index: index, time: c.Time, fingerprint: fp, result: r})
	return r
}

func (t *Table) dispatch(index Index, c *Command) Result {
	switch c.Kind {
	case KindCreateLease:
		return t.createLease(index, c.TTL, c.Creator)
	case KindRevokeLease, KindExpireLease:
		return t.revokeLease(index, c.LeaseID)
	case KindCheckpointLeases:
		return t.checkpointLeases(index, c.Checkpoints)
	case KindAcquire:
		return t.acquire(index, c)
	case KindRelease:
		return t.release(index, c.Name, c.Token)
	case KindCancelWait:
		return t.cancelWait(index, c)
	case KindProclaim:
		return t.proclaim(index, c.Name, c.Token, c.Value)
	case KindResign:
		return t.resign(index, c.Name, c.Token)
	case KindCreateACLToken:
		return t.createACLToken(index, c)
	case KindDeleteACLToken:
		return t.deleteACLToken(c.Accessor)
	}
	assertf(false, "command kind %d passed validation but has no apply", c.Kind)
	return Result{}
}

// Changes returns the objects the most recent Apply changed (created,
// modified or deleted), in the order they first changed, each once (an object
// deleted and created again in one entry may appear twice). A refused or
// duplicate command changes nothing. The slice is valid until the next Apply
// or Restore; copy what you keep.
func (t *Table) Changes() []Change {
	return t.changes
}

// Applied returns the index of the last entry applied (or restored).
func (t *Table) Applied() Index {
	return t.applied
}

// namespace returns the map of locks or of elections.
func (t *Table) namespace(election bool) map[string]*lock {
	if election {
		return t.elections
	}
	return t.locks
}

func objectKind(election bool) ObjectKind {
	if election {
		return ObjectElection
	}
	return ObjectLock
}

// touchLock records that lk changed at index.
func (t *Table) touchLock(index Index, name string, election bool, lk *lock) {
	if lk.modifyIndex != index {
		t.changes = append(t.changes, Change{Kind: objectKind(election), Name: name})
	}
	lk.modifyIndex = index
}

// touchLease records that ls changed at index.
func (t *Table) touchLease(index Index, ls *lease) {
	if ls.modifyIndex != index {
		t.changes = append(t.changes, Change{Kind: ObjectLease, LeaseID: ls.id})
	}
	ls.modifyIndex = index
}

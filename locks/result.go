package locks

// Holder is who holds a lock or leads an election.
type Holder struct {
	// LeaseID is the holder's lease.
	LeaseID LeaseID `codec:"l,omitempty"`
	// Owner is the free text the acquire carried.
	Owner string `codec:"o,omitempty"`
	// Value is the election value (empty for locks).
	Value string `codec:"v,omitempty"`
	// Token is the fencing token (an election's term): the index of the
	// granting entry. Zero means "no holder".
	Token Token `codec:"tk,omitempty"`
	// AcquiredAt is the granting entry's command time, unix nanoseconds.
	AcquiredAt int64 `codec:"a,omitempty"`
}

// Result is what Apply returns for one entry. Err is nil or wraps one of the
// sentinels (Code maps it); the other fields are the typed payload, set as
// each command's documentation says.
type Result struct {
	// Err is the command's refusal, or nil.
	Err error `codec:"-"`
	// LeaseID: create_lease: the new lease; acquire: the lease that holds
	// or waits (a new one when the acquire carried no lease id);
	// revoke_lease, expire_lease: the lease revoked.
	LeaseID LeaseID `codec:"l,omitempty"`
	// TTL: create_lease, and acquire that created a lease: its ttl.
	TTL Duration `codec:"d,omitempty"`
	// Token: acquire that was granted: the fencing token; cancel_wait
	// whose lease already holds the lock: that grant's token.
	Token Token `codec:"tk,omitempty"`
	// Holder: acquire granted or cancel_wait with Granted: the grant;
	// acquire refused with ErrLockHeld or Queued: the current holder.
	Holder Holder `codec:"h,omitempty"`
	// Queued: acquire enqueued the lease as a waiter; the grant (if any)
	// arrives in a later entry, visible as a Change of the lock.
	Queued bool `codec:"q,omitempty"`
	// Withdrawn: cancel_wait removed the waiter from the queue (and, for a
	// lease created by that acquire, revoked the lease).
	Withdrawn bool `codec:"w,omitempty"`
	// Granted: cancel_wait found the lease already holding the lock; the
	// grant is in Token and Holder and stays in force.
	Granted bool `codec:"g,omitempty"`
	// Released: the number of locks and elections a revoke, expire,
	// release or resign freed.
	Released int `codec:"rl,omitempty"`
	// Accessor: create_acl_token: the new token's accessor;
	// delete_acl_token: the token deleted.
	Accessor AccessorID `codec:"ac,omitempty"`
	// ExpiresAt: create_acl_token: the token's expiry (unix nanoseconds),
	// 0 for never.
	ExpiresAt int64 `codec:"xa,omitempty"`
	// Duplicate: the request id was applied before; this is the first
	// result again and nothing changed.
	Duplicate bool `codec:"-"`
}

// Change names one object an Apply changed (created, modified or deleted).
// The server wakes blocking queries and event streams from these.
type Change struct {
	// Kind is the object's kind.
	Kind ObjectKind
	// Name is the lock or election name (empty for a lease).
	Name string
	// LeaseID is the lease (zero for a lock or election).
	LeaseID LeaseID
}

// storedResult is the encodable form of a Result kept in a dedup record:
// the error as its code and message, rebuilt by result.
type storedResult struct {
	Code string `codec:"c,omitempty"`
	Msg  string `codec:"m,omitempty"`
	Res  Result `codec:"r"`
}

func storeResult(r Result) storedResult {
	s := storedResult{Res: r}
	s.Res.Err = nil
	s.Res.Duplicate = false
	if r.Err != nil {
		s.Code = Code(r.Err)
		s.Msg = r.Err.Error()
	}
	return s
}

// result rebuilds the Result; ok is false for a code locks does not know.
func (s storedResult) result() (r Result, ok bool) {
	r = s.Res
	if s.Code == "" {
		return r, s.Msg == ""
	}
	sentinel := sentinelFor(s.Code)
	if sentinel == nil {
		return r, false
	}
	r.Err = &codedError{sentinel: sentinel, msg: s.Msg}
	return r, true
}

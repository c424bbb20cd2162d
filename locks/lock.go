package locks

// acquire grants c.Name to a lease, enqueues the lease (Wait), or refuses.
func (t *Table) acquire(index Index, c *Command) Result {
	var ls *lease
	if c.LeaseID != 0 {
		ls = t.leases[c.LeaseID]
		if ls == nil {
			return Result{Err: errorf(ErrNotFound, "lease %d not found", c.LeaseID)}
		}
		if ls.single {
			o := ls.objs[0]
			return Result{Err: errorf(ErrInvalidArgument, "lease %d was created for %s %q alone", ls.id, objectKind(o.election), o.name)}
		}
		if n := len(ls.objs); n >= ObjectsPerLeaseMax {
			return Result{Err: errorf(ErrTooLarge, "lease %d holds or waits for %d locks and elections, max %d", ls.id, n, ObjectsPerLeaseMax)}
		}
	}
	lk := t.namespace(c.Election)[c.Name]
	if lk != nil {
		return t.enqueue(index, c, ls, lk)
	}
	if n := len(t.locks) + len(t.elections); n >= t.limits.locks {
		return Result{Err: errorf(ErrTooLarge, "table has %d locks and elections, max %d", n, t.limits.locks)}
	}
	if ls == nil {
		var err error
		if ls, err = t.newLease(index, c.TTL, true, c.Creator); err != nil {
			return Result{Err: err}
		}
	}
	lk = &lock{}
	t.namespace(c.Election)[c.Name] = lk
	t.grant(index, c.Name, c.Election, lk, ls, c.Owner, c.Value)
	return Result{LeaseID: ls.id, TTL: ls.ttl, Token: lk.holder.Token, Holder: lk.holder}
}

// enqueue handles an acquire of the held lk: refuse, or queue the lease.
func (t *Table) enqueue(index Index, c *Command, ls *lease, lk *lock) Result {
	kind := objectKind(c.Election)
	if c.LeaseID != 0 && lk.holder.LeaseID == c.LeaseID {
		return Result{Err: errorf(ErrLockHeld, "%s %q is already held by lease %d with token %d", kind, c.Name, c.LeaseID, lk.holder.Token), Holder: lk.holder}
	}
	if !c.Wait {
		return Result{Err: errorf(ErrLockHeld, "%s %q is held by lease %d", kind, c.Name, lk.holder.LeaseID), Holder: lk.holder}
	}
	if c.LeaseID != 0 && lk.waiterIndex(c.LeaseID) >= 0 {
		return Result{Err: errorf(ErrInvalidArgument, "lease %d already waits for %s %q", c.LeaseID, kind, c.Name)}
	}
	if n := len(lk.waiters); n >= WaitersPerLockMax {
		return Result{Err: errorf(ErrTooLarge, "%s %q has %d waiters, max %d", kind, c.Name, n, WaitersPerLockMax)}
	}
	if t.waiters >= t.limits.waiters {
		return Result{Err: errorf(ErrTooLarge, "table has %d waiters, max %d", t.waiters, t.limits.waiters)}
	}
	if ls == nil {
		var err error
		if ls, err = t.newLease(index, c.TTL, true, c.Creator); err != nil {
			return Result{Err: err}
		}
	}
	lk.waiters = append(lk.waiters, waiter{lease: ls.id, owner: c.Owner, value: c.Value, enqueuedAt: index})
	t.waiters++
	ls.objs = append(ls.objs, holding{name: c.Name, election: c.Election, waiting: true})
	t.touchLock(index, c.Name, c.Election, lk)
	t.touchLease(index, ls)
	return Result{LeaseID: ls.id, TTL: ls.ttl, Queued: true, Holder: lk.holder}
}

// grant makes ls the holder of the free lk with token = index.
func (t *Table) grant(index Index, name string, election bool, lk *lock, ls *lease, owner, value string) {
	if lk.holder.Token != 0 {
		assertf(false, "grant of %s %q held with token %d", objectKind(election), name, lk.holder.Token)
	}
	lk.holder = Holder{LeaseID: ls.id, Owner: owner, Value: value, Token: Token(index), AcquiredAt: t.now}
	ls.objs = append(ls.objs, holding{name: name, election: election})
	t.touchLock(index, name, election, lk)
	t.touchLease(index, ls)
}

// free frees lk and hands it to its first waiter whose lease is alive at
// this apply step (etcd-io/etcd#11456: liveness is decided at the grant, not
// at the enqueue). With no such waiter the record is deleted.
func (t *Table) free(index Index, name string, election bool, lk *lock) {
	t.touchLock(index, name, election, lk)
	last := lk.holder.Token
	lk.holder = Holder{}
	for len(lk.waiters) > 0 {
		w := lk.waiters[0]
		lk.waiters[0] = waiter{}
		lk.waiters = lk.waiters[1:]
		t.waiters--
		ls := t.leases[w.lease]
		if ls == nil {
			continue
		}
		ls.removeHolding(name, election, true)
		t.grant(index, name, election, lk, ls, w.owner, w.value)
		t.dedup.granted(w.enqueuedAt, w.lease, lk.holder)
		break
	}
	if len(lk.waiters) == 0 {
		lk.waiters = nil
	}
	if lk.holder.Token == 0 {
		t.forgottenMax = max(t.forgottenMax, last)
		delete(t.namespace(election), name)
		t.removedIndex = index
	}
}

// waiterIndex returns the queue position of lease id, or -1.
func (lk *lock) waiterIndex(id LeaseID) int {
	for i, w := range lk.waiters {
		if w.lease == id {
			return i
		}
	}
	return -1
}

// removeWaiter deletes lease id from lk's queue, keeping the order.
func (t *Table) removeWaiter(index Index, name string, election bool, lk *lock, id LeaseID) {
	i := lk.waiterIndex(id)
	assertf(i >= 0, "lease %d not queued on %s %q", id, objectKind(election), name)
	copy(lk.waiters[i:], lk.waiters[i+1:])
	lk.waiters[len(lk.waiters)-1] = waiter{}
	lk.waiters = lk.waiters[:len(lk.waiters)-1]
	if len(lk.waiters) == 0 {
		lk.waiters = nil
	}
	t.waiters--
	t.touchLock(index, name, election, lk)
}

// releaseHeld frees the object lk held by its holder's lease; a lease created
// for that object alone is revoked with it.
func (t *Table) releaseHeld(index Index, name string, election bool, lk *lock) Result {
	id := lk.holder.LeaseID
	ls := t.leases[id]
	if ls == nil {
		assertf(false, "%s %q held by absent lease %d", objectKind(election), name, id)
	}
	if ls.single {
		return Result{LeaseID: id, Released: t.dropLease(index, ls)}
	}
	ls.removeHolding(name, election, false)
	t.touchLease(index, ls)
	t.free(index, name, election, lk)
	return Result{LeaseID: id, Released: 1}
}

// release frees lock name held with token.
func (t *Table) release(index Index, name string, token Token) Result {
	lk := t.locks[name]
	if lk == nil {
		return Result{Err: errorf(ErrNotHolder, "lock %q is not held", name)}
	}
	if lk.holder.Token != token {
		return Result{Err: errorf(ErrNotHolder, "lock %q is held with token %d, not %d", name, lk.holder.Token, token)}
	}
	return t.releaseHeld(index, name, false, lk)
}

// resign gives up election name led with term token.
func (t *Table) resign(index Index, name string, token Token) Result {
	lk, err := t.ledElection(name, token)
	if err != nil {
		return Result{Err: err}
	}
	return t.releaseHeld(index, name, true, lk)
}

// proclaim sets the value of election name led with term token.
func (t *Table) proclaim(index Index, name string, token Token, value string) Result {
	lk, err := t.ledElection(name, token)
	if err != nil {
		return Result{Err: err}
	}
	lk.holder.Value = value
	t.touchLock(index, name, true, lk)
	return Result{LeaseID: lk.holder.LeaseID, Token: token, Holder: lk.holder}
}

func (t *Table) ledElection(name string, token Token) (*lock, error) {
	lk := t.elections[name]
	if lk == nil {
		return nil, errorf(ErrNotLeader, "election %q has no leader", name)
	}
	if lk.holder.Token != token {
		return nil, errorf(ErrNotLeader, "election %q is led with term %d, not %d", name, lk.holder.Token, token)
	}
	return lk, nil
}

// cancelWait withdraws c.LeaseID's wait on c.Name, or reports that the lease
// already holds it (the grant won the race).
func (t *Table) cancelWait(index Index, c *Command) Result {
	kind := objectKind(c.Election)
	lk := t.namespace(c.Election)[c.Name]
	if lk != nil && lk.holder.LeaseID == c.LeaseID {
		return Result{LeaseID: c.LeaseID, Granted: true, Token: lk.holder.Token, Holder: lk.holder}
	}
	if lk == nil || lk.waiterIndex(c.LeaseID) < 0 {
		return Result{Err: errorf(ErrNotFound, "lease %d does not wait for %s %q", c.LeaseID, kind, c.Name)}
	}
	ls := t.leases[c.LeaseID]
	assertf(ls != nil, "absent lease %d waits for %s %q", c.LeaseID, kind, c.Name)
	if ls.single {
		t.dropLease(index, ls)
		return Result{LeaseID: c.LeaseID, Withdrawn: true}
	}
	t.removeWaiter(index, c.Name, c.Election, lk, c.LeaseID)
	ls.removeHolding(c.Name, c.Election, true)
	t.touchLease(index, ls)
	return Result{LeaseID: c.LeaseID, Withdrawn: true}
}

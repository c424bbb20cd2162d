package locks

import "sort"

// createLease creates a lease of ttl (TTLDefault when 0) with id = index.
func (t *Table) createLease(index Index, ttl Duration, creator AccessorID) Result {
	ls, err := t.newLease(index, ttl, false, creator)
	if err != nil {
		return Result{Err: err}
	}
	return Result{LeaseID: ls.id, TTL: ls.ttl}
}

// newLease adds a lease with id = index, refusing past LeasesMax.
func (t *Table) newLease(index Index, ttl Duration, single bool, creator AccessorID) (*lease, error) {
	if n := len(t.leases); n >= t.limits.leases {
		return nil, errorf(ErrTooLarge, "table has %d leases, max %d", n, t.limits.leases)
	}
	if ttl == 0 {
		ttl = TTLDefault
	}
	id := LeaseID(index)
	if t.leases[id] != nil {
		assertf(false, "lease %d created twice", id)
	}
	ls := &lease{id: id, ttl: ttl, grantedAt: t.now, single: single, creator: creator}
	t.leases[id] = ls
	t.touchLease(index, ls)
	return ls, nil
}

// revokeLease revokes or expires lease id with everything it holds.
func (t *Table) revokeLease(index Index, id LeaseID) Result {
	ls := t.leases[id]
	if ls == nil {
		return Result{Err: errorf(ErrNotFound, "lease %d not found", id)}
	}
	n := t.dropLease(index, ls)
	return Result{LeaseID: id, Released: n}
}

// dropLease deletes ls in this one entry: it withdraws its waits, then frees
// what it holds in sorted order, handing each freed object to its first
// live waiter. It returns the number of objects freed.
func (t *Table) dropLease(index Index, ls *lease) int {
	objs := ls.objs
	ls.objs = nil
	sort.Slice(objs, func(i, j int) bool { return holdingLess(objs[i], objs[j]) })
	// Waits go first and the lease leaves the table before any handoff, so
	// the lease being revoked is never granted anything in this entry.
	for _, o := range objs {
		if o.waiting {
			lk := t.namespace(o.election)[o.name]
			assertf(lk != nil, "lease %d waits for absent %s %q", ls.id, objectKind(o.election), o.name)
			t.removeWaiter(index, o.name, o.election, lk, ls.id)
		}
	}
	delete(t.leases, ls.id)
	t.touchLease(index, ls)
	freed := 0
	for _, o := range objs {
		if o.waiting {
			continue
		}
		lk := t.namespace(o.election)[o.name]
		assertf(lk != nil, "lease %d holds absent %s %q", ls.id, objectKind(o.election), o.name)
		assertf(lk.holder.LeaseID == ls.id, "%s %q held by lease %d, not %d", objectKind(o.election), o.name, lk.holder.LeaseID, ls.id)
		t.free(index, o.name, o.election, lk)
		freed++
	}
	return freed
}

// holdingLess orders holdings: locks before elections, then by name.
func holdingLess(a, b holding) bool {
	if a.election != b.election {
		return !a.election
	}
	return a.name < b.name
}

// removeHolding deletes the holding of (name, election, waiting) from ls.
func (ls *lease) removeHolding(name string, election, waiting bool) {
	for i, o := range ls.objs {
		if o.name == name && o.election == election && o.waiting == waiting {
			last := len(ls.objs) - 1
			ls.objs[i] = ls.objs[last]
			ls.objs[last] = holding{}
			ls.objs = ls.objs[:last]
			return
		}
	}
	assertf(false, "lease %d has no holding of %s %q (waiting %t)", ls.id, objectKind(election), name, waiting)
}

// checkpointLeases records each lease's remaining time. Leases gone since
// the leader proposed are skipped; a remaining above the ttl counts as the
// ttl.
func (t *Table) checkpointLeases(index Index, cps []Checkpoint) Result {
	for _, cp := range cps {
		ls := t.leases[cp.LeaseID]
		if ls == nil {
			continue
		}
		ls.checkpointed = min(cp.Remaining, ls.ttl)
		t.touchLease(index, ls)
	}
	return Result{}
}

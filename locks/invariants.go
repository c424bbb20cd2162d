package locks

import "fmt"

// checkInvariants verifies the whole table in O(n) and returns the first
// broken invariant. Tests call it after every step; Apply calls it under the
// raftlock_invariants build tag.
func (t *Table) checkInvariants() error {
	type ref struct {
		lease    LeaseID
		name     string
		election bool
		waiting  bool
	}
	want := make(map[ref]int)
	waiters := 0
	for _, election := range [2]bool{false, true} {
		for name, lk := range t.namespace(election) {
			kind := objectKind(election)
			if err := t.checkLock(kind, name, lk); err != nil {
				return err
			}
			want[ref{lk.holder.LeaseID, name, election, false}]++
			for _, w := range lk.waiters {
				want[ref{w.lease, name, election, true}]++
			}
			waiters += len(lk.waiters)
		}
	}
	if waiters != t.waiters {
		return fmt.Errorf("%d waiters queued, counter says %d", waiters, t.waiters)
	}
	for id, ls := range t.leases {
		if err := t.checkLease(id, ls); err != nil {
			return err
		}
		for _, o := range ls.objs {
			r := ref{id, o.name, o.election, o.waiting}
			if want[r] != 1 {
				return fmt.Errorf("lease %d lists %s %q (waiting %t) %d times in the table", id, objectKind(o.election), o.name, o.waiting, want[r])
			}
			delete(want, r)
		}
	}
	for r := range want {
		return fmt.Errorf("%s %q names lease %d (waiting %t) which does not list it", objectKind(r.election), r.name, r.lease, r.waiting)
	}
	if err := t.checkACL(); err != nil {
		return err
	}
	if t.forgottenMax > Token(t.applied) {
		return fmt.Errorf("forgotten token %d above applied index %d", t.forgottenMax, t.applied)
	}
	return t.dedup.check(t.applied)
}

func (t *Table) checkLock(kind ObjectKind, name string, lk *lock) error {
	if err := ValidateName(name); err != nil {
		return fmt.Errorf("%s %q: %w", kind, name, err)
	}
	h := lk.holder
	if h.Token == 0 || h.Token > Token(t.applied) {
		return fmt.Errorf("%s %q held with token %d, applied %d", kind, name, h.Token, t.applied)
	}
	if lk.modifyIndex < Index(h.Token) || lk.modifyIndex > t.applied {
		return fmt.Errorf("%s %q modify index %d outside [%d, %d]", kind, name, lk.modifyIndex, h.Token, t.applied)
	}
	if t.leases[h.LeaseID] == nil {
		return fmt.Errorf("%s %q held by absent lease %d", kind, name, h.LeaseID)
	}
	if len(h.Owner) > OwnerBytesMax || len(h.Value) > ValueBytesMax {
		return fmt.Errorf("%s %q holder owner %d bytes, value %d bytes", kind, name, len(h.Owner), len(h.Value))
	}
	if kind == ObjectLock && h.Value != "" {
		return fmt.Errorf("lock %q holder has a value", name)
	}
	if n := len(lk.waiters); n > WaitersPerLockMax {
		return fmt.Errorf("%s %q has %d waiters, max %d", kind, name, n, WaitersPerLockMax)
	}
	for i, w := range lk.waiters {
		if t.leases[w.lease] == nil {
			return fmt.Errorf("%s %q waiter %d: absent lease %d", kind, name, i, w.lease)
		}
		if w.lease == h.LeaseID {
			return fmt.Errorf("%s %q waiter %d: lease %d is the holder", kind, name, i, w.lease)
		}
		if w.enqueuedAt == 0 || w.enqueuedAt > t.applied || (i > 0 && w.enqueuedAt <= lk.waiters[i-1].enqueuedAt) {
			return fmt.Errorf("%s %q waiter %d: enqueued at %d, out of order", kind, name, i, w.enqueuedAt)
		}
		if len(w.owner) > OwnerBytesMax || len(w.value) > ValueBytesMax || (kind == ObjectLock && w.value != "") {
			return fmt.Errorf("%s %q waiter %d: owner %d bytes, value %d bytes", kind, name, i, len(w.owner), len(w.value))
		}
	}
	return nil
}

func (t *Table) checkLease(id LeaseID, ls *lease) error {
	if ls.id != id || id == 0 || Index(id) > t.applied {
		return fmt.Errorf("lease %d: id %d, applied %d", id, ls.id, t.applied)
	}
	if ls.ttl < TTLMin || ls.ttl > TTLMax {
		return fmt.Errorf("lease %d: ttl %s outside [%s, %s]", id, ls.ttl, Duration(TTLMin), Duration(TTLMax))
	}
	if ls.checkpointed < 0 || ls.checkpointed > ls.ttl {
		return fmt.Errorf("lease %d: checkpointed %s outside [0s, %s]", id, ls.checkpointed, ls.ttl)
	}
	if ls.modifyIndex < Index(id) || ls.modifyIndex > t.applied {
		return fmt.Errorf("lease %d: modify index %d outside [%d, %d]", id, ls.modifyIndex, id, t.applied)
	}
	if ls.single && len(ls.objs) != 1 {
		return fmt.Errorf("lease %d: single lease with %d objects", id, len(ls.objs))
	}
	if n := len(ls.objs); n > ObjectsPerLeaseMax {
		return fmt.Errorf("lease %d: %d objects, max %d", id, n, ObjectsPerLeaseMax)
	}
	return nil
}

// check verifies the dedup records against their order.
func (d *dedupTable) check(applied Index) error {
	if n, m := len(d.order)-d.head, len(d.records); n != m {
		return fmt.Errorf("dedup: %d ids in order, %d records", n, m)
	}
	if n := len(d.records); n > d.max {
		return fmt.Errorf("dedup: %d records, max %d", n, d.max)
	}
	var prev Index
	for _, e := range d.order[d.head:] {
		r, ok := d.records[e.id]
		if !ok {
			return fmt.Errorf("dedup: id %q in order has no record", e.id)
		}
		if r.index <= prev || r.index > applied || r.time != e.time || r.index != e.index {
			return fmt.Errorf("dedup: id %q at index %d after %d (applied %d)", e.id, r.index, prev, applied)
		}
		prev = r.index
	}
	return nil
}

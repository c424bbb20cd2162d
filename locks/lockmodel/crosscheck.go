package lockmodel

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/anishathalye/porcupine"
)

// The checks in this file see the whole history at once, where the model
// sees one partition. Each is linear or n log n and sound: it flags only what
// no linearization of a correct server can produce.

// violations collects cross-partition problems up to ViolationsMax.
type violations struct {
	list    []Violation
	dropped int
}

// Violation is one cross-partition problem found by Check: a message and the
// positions in the history of the operations that show it.
type Violation struct {
	Message    string
	Operations []int
}

func (v *violations) add(ops []int, format string, args ...any) {
	if len(v.list) >= ViolationsMax {
		v.dropped++
		return
	}
	v.list = append(v.list, Violation{Message: fmt.Sprintf(format, args...), Operations: ops})
}

// indexSeen is what the history shows of one log index.
type indexSeen struct {
	value uint64
	// firstReturn is the earliest return of an operation that reported the
	// index: the index existed by then. firstOp is that operation.
	firstReturn int64
	firstOp     int
	// lb is a lower bound of the invocation of the operation that created the
	// index, when the history shows its creator (hasLB); lbOp is that one.
	lb    int64
	lbOp  int
	hasLB bool
	// keys are the objects whose token the index is (one entry may grant
	// several: an expiry hands each freed lock to its waiter in one entry);
	// keyOp showed the first.
	keys  []objectKey
	keyOp int
	// leaseOp is a create lease operation that returned the index, or -1.
	leaseOp int
}

// indexTable gathers the indices of a history.
type indexTable struct {
	seen map[uint64]*indexSeen
	v    *violations
}

func (t *indexTable) get(v uint64, op int, ret int64) *indexSeen {
	s := t.seen[v]
	if s == nil {
		s = &indexSeen{value: v, firstReturn: math.MaxInt64, leaseOp: -1}
		t.seen[v] = s
	}
	if ret < s.firstReturn {
		s.firstReturn, s.firstOp = ret, op
	}
	return s
}

func (t *indexTable) created(v uint64, op int, call, ret int64) *indexSeen {
	s := t.get(v, op, ret)
	if !s.hasLB || call < s.lb {
		s.lb, s.lbOp, s.hasLB = call, op, true
	}
	return s
}

func (t *indexTable) token(v Token, k objectKey, op int, ret int64) *indexSeen {
	s := t.get(uint64(v), op, ret)
	t.setKey(s, k, op)
	return s
}

// setKey records that index s is a token of k.
func (t *indexTable) setKey(s *indexSeen, k objectKey, op int) {
	if len(s.keys) == 0 {
		s.keyOp = op
	}
	if !slices.Contains(s.keys, k) {
		s.keys = append(s.keys, k)
	}
}

// checkIndices checks that no index is both a created lease's id and a
// grant's token, and that indices follow real time: an index reported before
// an operation was invoked is smaller than any index that operation created.
func checkIndices(opts Options, history []porcupine.Operation, v *violations) {
	t := &indexTable{seen: map[uint64]*indexSeen{}, v: v}
	unobserved := map[objectKey]int64{} // earliest grant whose token the history does not show
	for i, op := range history {
		in, out := op.Input.(Input), op.Output.(Output)
		grantLike := in.Kind == KindAcquire || in.Kind == KindCampaign
		if grantLike && (out.Status == StatusUnknown || (out.Status == StatusOK && out.Token == 0)) {
			if c, ok := unobserved[keyOf(in)]; !ok || op.Call < c {
				unobserved[keyOf(in)] = op.Call
			}
		}
		if out.Status == StatusUnknown || out.Status == StatusRejected {
			continue
		}
		if in.Kind == KindFence && opts.Fence == FenceHolderOrNewer {
			continue // a valid fence may name a token the lock never had
		}
		recordIndices(t, i, op, in, out)
	}
	for _, s := range t.seen {
		if s.leaseOp >= 0 && len(s.keys) > 0 {
			v.add([]int{s.leaseOp, s.keyOp}, "index %d is a lease id (operation %d) and a token of %s (operation %d)", s.value, s.leaseOp, s.keys[0], s.keyOp)
		}
		for _, k := range s.keys {
			if c, ok := unobserved[k]; ok && s.hasLB && c < s.lb {
				s.lb = c // that grant may have created it, and a later one only repeated it
			}
		}
	}
	checkIndexOrder(t, v)
}

// recordIndices adds what one answered operation shows of indices.
func recordIndices(t *indexTable, i int, op porcupine.Operation, in Input, out Output) {
	k := keyOf(in)
	switch {
	case in.Kind == KindCreateLease && out.Status == StatusOK && out.Lease != 0:
		s := t.created(uint64(out.Lease), i, op.Call, op.Return)
		s.leaseOp = i
	case (in.Kind == KindAcquire || in.Kind == KindCampaign) && out.Status == StatusOK:
		if out.Token != 0 {
			t.setKey(t.created(uint64(out.Token), i, op.Call, op.Return), k, i)
		}
		if in.Lease == 0 && out.Lease != 0 {
			t.created(uint64(out.Lease), i, op.Call, op.Return)
		}
	case out.Status == StatusLockHeld && out.Token != 0:
		t.token(out.Token, k, i, op.Return)
	case (in.Kind == KindRead || in.Kind == KindLeader) && out.Status == StatusOK && out.Held:
		if out.Token != 0 {
			t.token(out.Token, k, i, op.Return)
		}
		if out.Lease != 0 {
			t.get(uint64(out.Lease), i, op.Return)
		}
	case (in.Kind == KindRelease || in.Kind == KindFence || in.Kind == KindProclaim) && out.Status == StatusOK && in.Token != 0:
		t.token(in.Token, k, i, op.Return)
	}
}

// checkIndexOrder sweeps the indices by creation lower bound, keeping the
// greatest index already reported strictly before it.
func checkIndexOrder(t *indexTable, v *violations) {
	byReturn := make([]*indexSeen, 0, len(t.seen))
	var byLB []*indexSeen
	for _, s := range t.seen {
		byReturn = append(byReturn, s)
		if s.hasLB {
			byLB = append(byLB, s)
		}
	}
	slices.SortFunc(byReturn, func(a, b *indexSeen) int {
		return cmp.Or(cmp.Compare(a.firstReturn, b.firstReturn), cmp.Compare(a.value, b.value))
	})
	slices.SortFunc(byLB, func(a, b *indexSeen) int { return cmp.Or(cmp.Compare(a.lb, b.lb), cmp.Compare(a.value, b.value)) })
	var top *indexSeen
	j := 0
	for _, s := range byLB {
		for ; j < len(byReturn) && byReturn[j].firstReturn < s.lb; j++ {
			if top == nil || byReturn[j].value > top.value {
				top = byReturn[j]
			}
		}
		if top != nil && top.value > s.value {
			v.add([]int{top.firstOp, s.lbOp}, "index %d was reported (operation %d) before operation %d was invoked, which created the smaller index %d", top.value, top.firstOp, s.lbOp, s.value)
		}
	}
}

// checkLeaseLives checks that a lease proven gone is never proven alive by an
// operation invoked after that proof returned.
func checkLeaseLives(history []porcupine.Operation, v *violations) {
	type death struct {
		at int64
		op int
	}
	dead := map[LeaseID]death{}
	for i, op := range history {
		in, out := op.Input.(Input), op.Output.(Output)
		if id, ok := provesGone(in, out); ok {
			if d, seen := dead[id]; !seen || op.Return < d.at {
				dead[id] = death{at: op.Return, op: i}
			}
		}
	}
	for i, op := range history {
		in, out := op.Input.(Input), op.Output.(Output)
		for _, id := range provesAlive(in, out) {
			if d, seen := dead[id]; seen && op.Call > d.at {
				v.add([]int{d.op, i}, "lease %d was gone (operation %d) before operation %d was invoked, which found it alive", id, d.op, i)
			}
		}
	}
}

// provesGone returns the lease an answer shows gone at its linearization point.
func provesGone(in Input, out Output) (LeaseID, bool) {
	switch {
	case in.Lease == 0:
		return 0, false
	case in.Kind == KindRevoke:
		return in.Lease, out.Status == StatusOK || out.Status == StatusNotFound
	case in.Kind == KindKeepAlive || in.Kind == KindAcquire || in.Kind == KindCampaign:
		return in.Lease, out.Status == StatusNotFound
	}
	return 0, false
}

// provesAlive returns the leases an answer shows alive at its linearization
// point.
func provesAlive(in Input, out Output) []LeaseID {
	var ids []LeaseID
	switch in.Kind {
	case KindKeepAlive, KindRevoke, KindAcquire, KindCampaign:
		// lock_held too: the lock table looks the lease up first.
		if in.Lease != 0 && (out.Status == StatusOK || (out.Status == StatusLockHeld && in.Kind != KindKeepAlive && in.Kind != KindRevoke)) {
			ids = append(ids, in.Lease)
		}
	}
	held := (in.Kind == KindRead || in.Kind == KindLeader) && out.Status == StatusOK && out.Held
	if (held || out.Status == StatusLockHeld) && out.Lease != 0 {
		ids = append(ids, out.Lease)
	}
	return ids
}

package lockmodel

import (
	"cmp"
	"slices"

	"github.com/anishathalye/porcupine"
)

// partitionOf assigns operations (by position) to partitions: one per lock or
// election name holding its operations and a copy of every operation on a
// lease they mention, then one per lease no object mentions. Operations of
// unknown outcome that change nothing the model sees (reads, fences,
// keepalives, creates) are left out: each could be linearized last, so they
// constrain nothing, and every one left in doubles the checker's search.
// Partitions come in a deterministic order.
func partitionOf(ins []Input, outs []Output) [][]int {
	objects := map[objectKey][]int{}
	mentions := map[objectKey]map[LeaseID]bool{}
	leaseOps := map[LeaseID][]int{}
	for i, in := range ins {
		out := outs[i]
		if out.Status == StatusUnknown && !mayChange(in.Kind) {
			continue // linearized last, it constrains nothing: leave it out
		}
		if in.Kind.isLeaseOp() {
			id := in.Lease
			if in.Kind == KindCreateLease {
				id = out.Lease
			}
			if id != 0 {
				leaseOps[id] = append(leaseOps[id], i)
			}
			continue
		}
		k := keyOf(in)
		objects[k] = append(objects[k], i)
		if mentions[k] == nil {
			mentions[k] = map[LeaseID]bool{}
		}
		for _, id := range []LeaseID{in.Lease, out.Lease} {
			if id != 0 {
				mentions[k][id] = true
			}
		}
	}
	keys := make([]objectKey, 0, len(objects))
	for k := range objects {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, compareKeys)
	mentioned := map[LeaseID]bool{}
	var parts [][]int
	for _, k := range keys {
		part := slices.Clone(objects[k])
		for id := range mentions[k] {
			part = append(part, leaseOps[id]...)
			mentioned[id] = true
		}
		slices.Sort(part)
		parts = append(parts, part)
	}
	ids := make([]LeaseID, 0, len(leaseOps))
	for id := range leaseOps {
		if !mentioned[id] {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, cmp.Compare)
	for _, id := range ids {
		parts = append(parts, leaseOps[id])
	}
	return parts
}

// mayChange reports whether an operation of kind k can change the model's
// state when it takes effect unseen.
func mayChange(k Kind) bool {
	switch k {
	case KindRevoke, KindAcquire, KindRelease, KindCampaign, KindProclaim, KindResign:
		return true
	}
	return false
}

func partitionOperations(history []porcupine.Operation) [][]porcupine.Operation {
	ins := make([]Input, len(history))
	outs := make([]Output, len(history))
	for i, op := range history {
		ins[i], outs[i] = op.Input.(Input), op.Output.(Output)
	}
	parts := partitionOf(ins, outs)
	res := make([][]porcupine.Operation, len(parts))
	for p, part := range parts {
		res[p] = make([]porcupine.Operation, len(part))
		for j, i := range part {
			res[p][j] = history[i]
		}
	}
	return res
}

// partitionEvents partitions an event history the same way, keeping each
// partition's events in their original order. Every call must have its
// return (give a pending call a StatusUnknown return at the end).
func partitionEvents(history []porcupine.Event) [][]porcupine.Event {
	var ins []Input
	var outs []Output
	opOf := map[int]int{} // event id -> operation position
	for _, e := range history {
		if e.Kind == porcupine.CallEvent {
			opOf[e.Id] = len(ins)
			ins = append(ins, e.Value.(Input))
			outs = append(outs, Output{Status: StatusUnknown})
		}
	}
	for _, e := range history {
		if e.Kind == porcupine.ReturnEvent {
			i, ok := opOf[e.Id]
			assertf(ok, "return event %d without its call", e.Id)
			outs[i] = e.Value.(Output)
		}
	}
	parts := partitionOf(ins, outs)
	res := make([][]porcupine.Event, len(parts))
	for p, part := range parts {
		in := make(map[int]bool, len(part))
		for _, i := range part {
			in[i] = true
		}
		for _, e := range history {
			if in[opOf[e.Id]] {
				res[p] = append(res[p], e)
			}
		}
	}
	return res
}

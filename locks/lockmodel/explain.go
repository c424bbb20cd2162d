package lockmodel

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/anishathalye/porcupine"
)

// IllegalPart is one partition Porcupine rejected, narrowed to where it
// first goes wrong: a 37,000-operation history has one answer to look at,
// not a visualization of all of it.
type IllegalPart struct {
	// Object names the partition: "lock x", "election y" or "lease 7".
	Object string
	// Operations is the partition's length.
	Operations int
	// Op is the history position of the last operation of the shortest
	// illegal prefix of the partition (by call time, taken with every
	// operation called before one of its answers arrived, so no answer
	// lacks the operation it shows). The violation involves Op or an
	// operation concurrent with it; Op is -1 when the narrowing ran out of
	// time.
	Op int
}

// explain checks each partition of h alone and narrows the illegal ones,
// within timeout (0: no limit). Call it only for a history Porcupine
// rejected: it costs a few dozen checks per illegal partition. It also
// returns the positions of the narrowed prefixes, in order, for the
// visualization (none when a narrowing ran out of time).
func (o Options) explain(h []porcupine.Operation, timeout time.Duration) ([]IllegalPart, []int) {
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	left := func() (time.Duration, bool) {
		if deadline.IsZero() {
			return 0, true
		}
		d := time.Until(deadline)
		return d, d > 0
	}
	model := o.Model()
	ins := make([]Input, len(h))
	outs := make([]Output, len(h))
	for i, op := range h {
		ins[i], outs[i] = op.Input.(Input), op.Output.(Output)
	}
	var res []IllegalPart
	var shown []int
	narrowed := true
	for _, part := range partitionOf(ins, outs) {
		d, ok := left()
		if !ok {
			break
		}
		slices.SortStableFunc(part, func(a, b int) int { return cmp.Compare(h[a].Call, h[b].Call) })
		ops := make([]porcupine.Operation, len(part))
		for j, i := range part {
			ops[j] = h[i]
		}
		if porcupine.CheckOperationsTimeout(model, ops, d) != porcupine.Illegal {
			continue
		}
		ip := IllegalPart{Object: partName(ins, outs, part), Operations: len(part), Op: -1}
		if n := shortestIllegal(model, ops, left); n > 0 {
			ip.Op = part[n-1]
			shown = append(shown, part[:closePrefix(ops, n)]...)
		} else {
			narrowed = false
		}
		res = append(res, ip)
	}
	if !narrowed {
		return res, nil
	}
	slices.Sort(shown)
	return res, slices.Compact(shown)
}

// shortestIllegal bisects for the shortest n such that ops[:n], closed, is
// illegal; 0 when time ran out. ops are sorted by call.
func shortestIllegal(model porcupine.Model, ops []porcupine.Operation, left func() (time.Duration, bool)) int {
	lo, hi := 1, len(ops)
	for lo < hi {
		d, ok := left()
		if !ok {
			return 0
		}
		mid := (lo + hi) / 2
		switch porcupine.CheckOperationsTimeout(model, ops[:closePrefix(ops, mid)], d) {
		case porcupine.Ok:
			lo = mid + 1
		case porcupine.Illegal:
			hi = mid
		default:
			return 0
		}
	}
	return lo
}

// closePrefix extends the prefix ops[:n] (sorted by call) with every
// operation called before one of the prefix's answers arrived, until none
// is left: otherwise a read in the prefix could show the effect of a write
// the prefix cuts off, and the cut itself would look illegal.
func closePrefix(ops []porcupine.Operation, n int) int {
	for {
		var last int64
		for _, op := range ops[:n] {
			if op.Return != math.MaxInt64 && op.Return > last {
				last = op.Return
			}
		}
		m := n
		for m < len(ops) && ops[m].Call < last {
			m++
		}
		if m == n {
			return n
		}
		n = m
	}
}

// partName names the partition of positions part: its lock or election,
// else its lease.
func partName(ins []Input, outs []Output, part []int) string {
	for _, i := range part {
		if !ins[i].Kind.isLeaseOp() {
			return keyOf(ins[i]).String()
		}
	}
	i := part[0]
	id := ins[i].Lease
	if ins[i].Kind == KindCreateLease {
		id = outs[i].Lease
	}
	return fmt.Sprintf("lease %d", id)
}

package lockmodel

// These tests prove the partitioning: one part per lock and per election,
// lease operations copied into every part that mentions the lease, leases no
// object mentions in parts of their own, and the event form agreeing with the
// operation form on accepted and rejected histories.

import (
	"cmp"
	"slices"
	"testing"

	"github.com/anishathalye/porcupine"
)

func describeParts(parts [][]porcupine.Operation) []string {
	var res []string
	for _, p := range parts {
		s := ""
		for _, op := range p {
			s += op.Input.(Input).String() + ";"
		}
		res = append(res, s)
	}
	return res
}

func TestPartition(t *testing.T) {
	h := []porcupine.Operation{
		op(0, 1, 2, createLease(), created(1)),            // 0: mentioned by a and e
		op(0, 3, 4, acquire("a", 1, "x"), granted(3, 1)),  // 1
		op(1, 3, 4, createLease(), created(2)),            // 2: mentioned by nothing
		op(1, 5, 6, keepAlive(2), ok()),                   // 3
		op(0, 5, 6, campaign("a", "v", 1), granted(4, 1)), // 4: election a
		op(2, 7, 8, read("b"), held(9, 7, "z")),           // 5: mentions lease 7
		op(2, 9, 10, keepAlive(7), ok()),                  // 6
		op(0, 9, 10, keepAlive(1), ok()),                  // 7
		op(3, 9, never, createLease(), unknown()),         // 8: names nothing
		op(3, 11, 12, release("a", 3), ok()),              // 9
	}
	want := []string{
		describeParts([][]porcupine.Operation{{h[0], h[1], h[7], h[9]}})[0],
		describeParts([][]porcupine.Operation{{h[5], h[6]}})[0],
		describeParts([][]porcupine.Operation{{h[0], h[4], h[7]}})[0],
		describeParts([][]porcupine.Operation{{h[2], h[3]}})[0],
	}
	got := describeParts(partitionOperations(h))
	if !slices.Equal(got, want) {
		t.Errorf("partitionOperations() =\n%q\nwant\n%q", got, want)
	}
}

// eventsOf turns a history into events ordered like Porcupine orders
// operations: by time, calls before returns at equal times.
func eventsOf(h []porcupine.Operation) []porcupine.Event {
	type ev struct {
		t   int64
		ret bool
		e   porcupine.Event
		seq int
	}
	var evs []ev
	for i, op := range h {
		evs = append(evs,
			ev{t: op.Call, e: porcupine.Event{ClientId: op.ClientId, Kind: porcupine.CallEvent, Value: op.Input, Id: i}, seq: i},
			ev{t: op.Return, ret: true, e: porcupine.Event{ClientId: op.ClientId, Kind: porcupine.ReturnEvent, Value: op.Output, Id: i}, seq: i})
	}
	slices.SortStableFunc(evs, func(a, b ev) int {
		if a.t != b.t {
			return cmp.Compare(a.t, b.t)
		}
		if a.ret != b.ret {
			if a.ret {
				return 1
			}
			return -1
		}
		return cmp.Compare(a.seq, b.seq)
	})
	res := make([]porcupine.Event, len(evs))
	for i, e := range evs {
		res[i] = e.e
	}
	return res
}

func TestPartitionEventsAgree(t *testing.T) {
	cases := []struct {
		name string
		h    []porcupine.Operation
		want bool
	}{
		{"accepted", []porcupine.Operation{
			op(0, 1, 2, createLease(), created(1)),
			op(1, 1, 2, createLease(), created(2)),
			op(0, 3, 6, acquire("a", 1, "x"), granted(3, 1)),
			op(1, 4, 5, read("a"), free()),
			op(1, 7, 8, acquire("a", 2, "y"), lockHeld(3)),
			op(1, 7, never, release("b", 9), unknown()),
			op(0, 9, 10, keepAlive(1), ok()),
		}, true},
		{"rejected", []porcupine.Operation{
			op(0, 1, 2, createLease(), created(1)),
			op(0, 3, 4, acquire("a", 1, "x"), granted(2, 1)),
			op(1, 5, 6, read("a"), free()),
			op(0, 7, 8, release("a", 2), ok()),
		}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := Normalize(c.h)
			evs := eventsOf(h)
			if got := porcupine.CheckEvents(Model(), evs); got != c.want {
				t.Errorf("CheckEvents(Model()) = %t; want %t", got, c.want)
			}
			if got := porcupine.CheckOperations(Model(), h); got != c.want {
				t.Errorf("CheckOperations(Model()) = %t; want %t", got, c.want)
			}
			parts := partitionEvents(evs)
			n := 0
			for _, p := range parts {
				n += len(p)
			}
			opParts := partitionOperations(h)
			m := 0
			for _, p := range opParts {
				m += 2 * len(p)
			}
			if len(parts) != len(opParts) || n != m {
				t.Errorf("partitionEvents() = %d parts, %d events; want %d parts, %d events (as partitionOperations)", len(parts), n, len(opParts), m)
			}
		})
	}
}

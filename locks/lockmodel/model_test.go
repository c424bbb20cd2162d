package lockmodel

// These tests prove the model both ways on hand-built histories: it accepts
// correct concurrent histories (overlapping operations, unknown outcomes,
// lease expiry freeing a lock, waiting acquires, elections) and rejects each
// crafted wrong one: a double grant, a token going backwards, a stale release
// that succeeds, a read missing an acknowledged grant, and more. Each history
// is checked by Check, so the cross-partition rules run too; the rejection
// tests say which part must catch them.

import (
	"errors"
	"testing"

	"github.com/anishathalye/porcupine"
)

func TestModelAccepts(t *testing.T) {
	cases := []struct {
		name string
		h    []porcupine.Operation
	}{
		{"sequential lock life", []porcupine.Operation{
			op(0, 1, 2, createLease(), created(1)),
			op(0, 3, 4, acquire("a", 1, "x"), granted(2, 1)),
			op(0, 5, 6, read("a"), held(2, 1, "x")),
			op(0, 7, 8, fence("a", 2), ok()),
			op(0, 9, 10, keepAlive(1), ok()),
			op(0, 11, 12, release("a", 2), ok()),
			op(0, 13, 14, read("a"), free()),
			op(0, 15, 16, fence("a", 2), stale()),
			op(0, 17, 18, release("a", 2), notHolder()),
		}},
		{"overlapping acquires, one wins", []porcupine.Operation{
			op(0, 1, 2, createLease(), created(1)),
			op(1, 1, 3, createLease(), created(2)),
			op(0, 4, 8, acquire("a", 1, "x"), lockHeld(3)),
			op(1, 5, 7, acquire("a", 2, "y"), granted(3, 2)),
			op(0, 9, 10, read("a"), held(3, 2, "y")),
		}},
		{"read overlapping a grant sees free", []porcupine.Operation{
			op(0, 1, 2, createLease(), created(1)),
			op(0, 3, 6, acquire("a", 1, "x"), granted(2, 1)),
			op(1, 4, 7, read("a"), free()),
			op(1, 8, 9, read("a"), held(2, 1, "x")),
		}},
		{"lease expiry frees the lock", []porcupine.Operation{
			op(0, 1, 2, createLease(), created(1)),
			op(0, 3, 4, acquire("a", 1, "x"), granted(2, 1)),
			op(1, 5, 6, read("a"), free()),
			op(1, 7, 8, createLease(), created(3)),
			op(1, 9, 10, acquire("a", 3, "y"), granted(4, 3)),
			op(0, 11, 12, keepAlive(1), notFound()),
			op(0, 13, 14, release("a", 2), notHolder()),
		}},
		{"lease expiry between two grants of another client", []porcupine.Operation{
			op(0, 1, 2, createLease(), created(1)),
			op(1, 1, 2, createLease(), created(2)),
			op(0, 3, 4, acquire("a", 1, "x"), granted(3, 1)),
			op(1, 5, 6, acquire("a", 2, "y"), granted(4, 2)),
			op(0, 7, 8, fence("a", 3), stale()),
		}},
		{"revoke releases locks and elections", []porcupine.Operation{
			op(0, 1, 2, createLease(), created(1)),
			op(0, 3, 4, acquire("a", 1, "x"), granted(2, 1)),
			op(0, 5, 6, campaign("e", "h1", 1), granted(3, 1)),
			op(0, 7, 8, revoke(1), ok()),
			op(1, 9, 10, read("a"), free()),
			op(1, 11, 12, leader("e"), free()),
			op(0, 13, 14, revoke(1), notFound()),
		}},
		{"unknown acquire pinned by a read", []porcupine.Operation{
			op(0, 1, 2, createLease(), created(1)),
			op(0, 3, never, acquire("a", 1, "x"), unknown()),
			op(1, 5, 6, read("a"), held(7, 1, "x")),
			op(1, 7, 8, fence("a", 7), ok()),
			op(1, 9, 10, release("a", 7), ok()),
		}},
		{"unknown acquire that never took effect", []porcupine.Operation{
			op(0, 1, 2, createLease(), created(1)),
			op(1, 1, 2, createLease(), created(2)),
			op(0, 3, 4, acquire("a", 1, "x"), unknown()),
			op(1, 5, 6, acquire("a", 2, "y"), granted(3, 2)),
			op(1, 7, 8, release("a", 3), ok()),
			op(1, 9, 10, read("a"), free()),
		}},
		{"unknown release that took effect late", []porcupine.Operation{
			op(0, 1, 2, createLease(), created(1)),
			op(0, 3, 4, acquire("a", 1, "x"), granted(2, 1)),
			op(0, 5, 6, release("a", 2), unknown()),
			op(1, 7, 8, read("a"), held(2, 1, "x")),
			op(1, 9, 10, read("a"), free()),
			op(0, 11, 12, keepAlive(1), ok()),
		}},
		{"unknown create whose lease is used", []porcupine.Operation{
			op(0, 1, 2, createLease(), unknown()),
			op(0, 3, 4, acquire("a", 1, "x"), granted(2, 1)),
		}},
		{"waiting acquire granted on release", []porcupine.Operation{
			op(0, 1, 2, createLease(), created(1)),
			op(1, 1, 2, createLease(), created(2)),
			op(0, 3, 4, acquire("a", 1, "x"), granted(3, 1)),
			op(1, 5, 12, acquireWait("a", 2, "y"), granted(8, 2)),
			op(2, 6, 7, read("a"), held(3, 1, "x")),
			op(0, 8, 9, release("a", 3), ok()),
			op(2, 13, 14, read("a"), held(8, 2, "y")),
		}},
		{"waiting acquire times out with lock_held", []porcupine.Operation{
			op(0, 1, 2, createLease(), created(1)),
			op(1, 1, 2, createLease(), created(2)),
			op(0, 3, 4, acquire("a", 1, "x"), granted(3, 1)),
			op(1, 5, 12, acquireWait("a", 2, "y"), lockHeld(3)),
			op(0, 13, 14, release("a", 3), ok()),
		}},
		{"acquire without lease creates its own", []porcupine.Operation{
			op(0, 1, 2, acquire("a", 0, "x"), granted(1, 1)),
			op(0, 3, 4, keepAlive(1), ok()),
			op(0, 5, 6, read("a"), held(1, 1, "x")),
			op(0, 7, 8, release("a", 1), ok()),
			op(0, 9, 10, keepAlive(1), notFound()),
		}},
		{"retry by the holding lease", []porcupine.Operation{
			op(0, 1, 2, createLease(), created(1)),
			op(0, 3, 4, acquire("a", 1, "x"), granted(2, 1)),
			op(0, 5, 6, acquire("a", 1, "x"), granted(2, 1)),
			op(0, 7, 8, release("a", 2), ok()),
		}},
		{"election life", []porcupine.Operation{
			op(0, 1, 2, createLease(), created(1)),
			op(1, 1, 2, createLease(), created(2)),
			op(0, 3, 4, campaign("e", "h1", 1), granted(3, 1)),
			op(1, 3, 8, campaign("e", "h2", 2), granted(6, 2)),
			op(2, 5, 6, leader("e"), leading(3, 1, "h1")),
			op(0, 5, 6, proclaim("e", 3, "h1b"), ok()),
			op(0, 7, 7, resign("e", 3), ok()),
			op(0, 9, 10, proclaim("e", 3, "h1c"), notLeader()),
			op(0, 11, 12, resign("e", 3), notLeader()),
			op(2, 13, 14, leader("e"), leading(6, 2, "h2")),
		}},
		{"one revoke hands two locks to their waiters with one token", []porcupine.Operation{
			op(0, 1, 2, createLease(), created(1)),
			op(1, 1, 2, createLease(), created(2)),
			op(2, 1, 2, createLease(), created(3)),
			op(0, 3, 4, acquire("a", 1, "x"), granted(4, 1)),
			op(0, 5, 6, acquire("b", 1, "x"), granted(5, 1)),
			op(1, 7, 20, acquireWait("a", 2, "y"), granted(9, 2)),
			op(2, 7, 20, acquireWait("b", 3, "z"), granted(9, 3)),
			op(0, 10, 11, revoke(1), ok()),
		}},
		{"locks and elections are separate names", []porcupine.Operation{
			op(0, 1, 2, createLease(), created(1)),
			op(1, 1, 2, createLease(), created(2)),
			op(0, 3, 4, acquire("n", 1, "x"), granted(3, 1)),
			op(1, 5, 6, campaign("n", "v", 2), granted(4, 2)),
		}},
		{"rejected operations change nothing", []porcupine.Operation{
			op(0, 1, 2, createLease(), created(1)),
			op(0, 3, 4, acquire("a", 1, "x"), Output{Status: StatusRejected}),
			op(0, 5, 6, read("a"), free()),
		}},
		{"pending operations at the end", []porcupine.Operation{
			op(0, 1, 2, createLease(), created(1)),
			op(0, 3, 4, acquire("a", 1, "x"), granted(2, 1)),
			op(1, 5, never, release("a", 2), unknown()),
			op(2, 5, never, acquire("a", 0, "z"), unknown()),
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			check(t, c.h, true)
		})
	}
}

func TestModelRejects(t *testing.T) {
	cases := []struct {
		name string
		h    []porcupine.Operation
		// crossOnly: only the cross-partition checks can see it, so Porcupine
		// alone says Ok.
		crossOnly bool
	}{
		{name: "double grant: the first holder still holds", h: []porcupine.Operation{
			op(0, 1, 2, createLease(), created(1)),
			op(1, 1, 2, createLease(), created(2)),
			op(0, 3, 4, acquire("a", 1, "x"), granted(3, 1)),
			op(1, 5, 6, acquire("a", 2, "y"), granted(4, 2)),
			op(0, 7, 8, release("a", 3), ok()),
		}},
		{name: "double grant: overlapping grants both released", h: []porcupine.Operation{
			op(0, 1, 2, createLease(), created(1)),
			op(1, 1, 2, createLease(), created(2)),
			op(0, 3, 6, acquire("a", 1, "x"), granted(3, 1)),
			op(1, 4, 5, acquire("a", 2, "y"), granted(4, 2)),
			op(0, 7, 8, release("a", 3), ok()),
			op(1, 7, 8, release("a", 4), ok()),
		}},
		{name: "token goes backwards", h: []porcupine.Operation{
			op(0, 1, 2, createLease(), created(1)),
			op(0, 3, 4, acquire("a", 1, "x"), granted(5, 1)),
			op(0, 5, 6, release("a", 5), ok()),
			op(0, 7, 8, acquire("a", 1, "x"), granted(4, 1)),
		}},
		{name: "token reused by the same lock", h: []porcupine.Operation{
			op(0, 1, 2, createLease(), created(1)),
			op(0, 3, 4, acquire("a", 1, "x"), granted(5, 1)),
			op(0, 5, 6, release("a", 5), ok()),
			op(0, 7, 8, acquire("a", 1, "x"), granted(5, 1)),
		}},
		{name: "grant token not above an earlier lease id", h: []porcupine.Operation{
			op(0, 1, 2, createLease(), created(7)),
			op(0, 3, 4, acquire("a", 7, "x"), granted(6, 7)),
		}},
		{name: "release by a stale token succeeds", h: []porcupine.Operation{
			op(0, 1, 2, createLease(), created(1)),
			op(1, 1, 2, createLease(), created(2)),
			op(0, 3, 4, acquire("a", 1, "x"), granted(3, 1)),
			op(0, 5, 6, release("a", 3), ok()),
			op(1, 7, 8, acquire("a", 2, "y"), granted(4, 2)),
			op(0, 9, 10, release("a", 3), ok()),
		}},
		{name: "read misses an acknowledged grant", h: []porcupine.Operation{
			op(0, 1, 2, createLease(), created(1)),
			op(0, 3, 4, acquire("a", 1, "x"), granted(2, 1)),
			op(1, 5, 6, read("a"), free()),
			op(0, 7, 8, release("a", 2), ok()),
		}},
		{name: "read shows a released holder", h: []porcupine.Operation{
			op(0, 1, 2, createLease(), created(1)),
			op(0, 3, 4, acquire("a", 1, "x"), granted(2, 1)),
			op(0, 5, 6, release("a", 2), ok()),
			op(1, 7, 8, read("a"), held(2, 1, "x")),
		}},
		{name: "read shows the wrong owner", h: []porcupine.Operation{
			op(0, 1, 2, createLease(), created(1)),
			op(0, 3, 4, acquire("a", 1, "x"), granted(2, 1)),
			op(1, 5, 6, read("a"), held(2, 1, "y")),
		}},
		{name: "fence accepts a stale token", h: []porcupine.Operation{
			op(0, 1, 2, createLease(), created(1)),
			op(0, 3, 4, acquire("a", 1, "x"), granted(2, 1)),
			op(0, 5, 6, release("a", 2), ok()),
			op(0, 7, 8, acquire("a", 1, "x"), granted(3, 1)),
			op(1, 9, 10, fence("a", 2), ok()),
		}},
		{name: "fence refuses the holder's token", h: []porcupine.Operation{
			op(0, 1, 2, createLease(), created(1)),
			op(0, 3, 4, acquire("a", 1, "x"), granted(2, 1)),
			op(1, 5, 6, fence("a", 2), stale()),
			op(0, 7, 8, release("a", 2), ok()),
		}},
		{name: "lock_held on a free lock", h: []porcupine.Operation{
			op(0, 1, 2, createLease(), created(1)),
			op(0, 3, 4, acquire("a", 1, "x"), lockHeld(9)),
		}},
		{name: "lease comes back after expiry", h: []porcupine.Operation{
			op(0, 1, 2, createLease(), created(1)),
			op(0, 3, 4, keepAlive(1), notFound()),
			op(0, 5, 6, keepAlive(1), ok()),
		}},
		{name: "grant to a revoked lease", h: []porcupine.Operation{
			op(0, 1, 2, createLease(), created(1)),
			op(0, 3, 4, revoke(1), ok()),
			op(0, 5, 6, acquire("a", 1, "x"), granted(3, 1)),
		}},
		{name: "two leaders proclaim", h: []porcupine.Operation{
			op(0, 1, 2, createLease(), created(1)),
			op(1, 1, 2, createLease(), created(2)),
			op(0, 3, 4, campaign("e", "h1", 1), granted(3, 1)),
			op(1, 3, 4, campaign("e", "h2", 2), granted(4, 2)),
			op(0, 5, 6, proclaim("e", 3, "h1b"), ok()),
			op(1, 5, 6, proclaim("e", 4, "h2b"), ok()),
		}},
		{name: "resign with a stale term succeeds", h: []porcupine.Operation{
			op(0, 1, 2, createLease(), created(1)),
			op(0, 3, 4, campaign("e", "h1", 1), granted(3, 1)),
			op(0, 5, 6, resign("e", 2), ok()),
			op(0, 7, 8, proclaim("e", 3, "h1b"), ok()),
		}},
		{name: "leader shows a value never proclaimed", h: []porcupine.Operation{
			op(0, 1, 2, createLease(), created(1)),
			op(0, 3, 4, campaign("e", "h1", 1), granted(3, 1)),
			op(1, 5, 6, leader("e"), leading(3, 1, "h9")),
		}},
		{name: "unknown acquire pinned to a token older than a later lease", h: []porcupine.Operation{
			op(0, 1, 2, createLease(), created(1)),
			op(0, 3, 4, acquire("a", 1, "x"), unknown()),
			op(1, 5, 6, read("a"), held(2, 1, "x")),
			op(1, 7, 8, keepAlive(1), ok()),
			op(1, 9, 10, read("a"), held(3, 1, "x")),
		}},
		{name: "lease id reused as a token", crossOnly: true, h: []porcupine.Operation{
			op(0, 1, 2, createLease(), created(1)),
			op(0, 3, 6, acquire("a", 1, "x"), granted(2, 1)),
			op(1, 3, 6, createLease(), created(2)),
		}},
		{name: "token goes backwards across locks", crossOnly: true, h: []porcupine.Operation{
			op(0, 1, 2, acquire("a", 0, "x"), granted(10, 10)),
			op(1, 3, 4, acquire("b", 0, "y"), granted(7, 7)),
		}},
		{name: "lease gone for one lock, alive for another", crossOnly: true, h: []porcupine.Operation{
			op(0, 1, 2, createLease(), created(1)),
			op(0, 3, 4, acquire("a", 1, "x"), granted(2, 1)),
			op(1, 5, 6, acquire("a", 1, "x"), notFound()),
			op(0, 7, 8, acquire("b", 1, "x"), granted(3, 1)),
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := check(t, c.h, false)
			lin := porcupine.CheckOperations(Model(), Normalize(c.h))
			if c.crossOnly != lin {
				t.Errorf("CheckOperations(Model()) = %t; want %t (crossOnly)", lin, c.crossOnly)
			}
			if !errors.Is(res.Err(), ErrNotLinearizable) {
				t.Errorf("Check().Err() = %v; want %v", res.Err(), ErrNotLinearizable)
			}
		})
	}
}

func TestFenceRules(t *testing.T) {
	prefix := []porcupine.Operation{
		op(0, 1, 2, createLease(), created(1)),
		op(0, 3, 4, acquire("a", 1, "x"), granted(2, 1)),
		op(0, 5, 6, release("a", 2), ok()),
	}
	then := func(ops ...porcupine.Operation) []porcupine.Operation {
		return append(prefix[:len(prefix):len(prefix)], ops...)
	}
	cases := []struct {
		name                string
		h                   []porcupine.Operation
		holderOnly, orNewer bool // want accepted
	}{
		{"released token is stale", then(op(1, 7, 8, fence("a", 2), stale())), true, true},
		// The lock table's Fence answered valid here (token == newest forgotten).
		{"released token is valid", then(op(1, 7, 8, fence("a", 2), ok())), false, false},
		{"newer token on the free lock is valid", then(op(1, 7, 8, fence("a", 3), ok())), false, true},
		{"newer token on the free lock is stale", then(op(1, 7, 8, fence("a", 3), stale())), true, true},
		{"any token on a never held lock is valid", then(op(1, 7, 8, fence("b", 1), ok())), false, true},
		{"newer token on a held lock is valid", then(
			op(0, 7, 8, acquire("a", 1, "x"), granted(4, 1)),
			op(1, 9, 10, fence("a", 5), ok()),
			op(0, 11, 12, release("a", 4), ok())), false, false},
		{"older token on a free lock after an unknown grant is valid", then(
			op(0, 7, never, acquire("a", 1, "x"), unknown()),
			op(0, 9, 10, release("a", 4), ok()),
			op(1, 11, 12, fence("a", 3), ok())), false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, r := range []struct {
				opts Options
				want bool
			}{{Options{Fence: FenceHolderOnly}, c.holderOnly}, {Options{Fence: FenceHolderOrNewer}, c.orNewer}} {
				if res, _ := r.opts.Check(c.h, checkTimeout); res.OK() != r.want {
					t.Errorf("Options{Fence: %d}.Check().OK() = %t (%v); want %t", r.opts.Fence, res.OK(), res.Err(), r.want)
				}
			}
		})
	}
}

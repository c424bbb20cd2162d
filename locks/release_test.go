package locks

import (
	"strings"
	"testing"
	"time"
)

// Table tests of release, cancel_wait, proclaim and resign: each success,
// each refusal, and the handoff to the first live waiter.

func TestRelease(t *testing.T) {
	cases := []cmdCase{
		{name: "holder releases", setup: twoLeases, cmd: Command{Kind: KindRelease, Name: "a", Token: 3},
			check: func(t *testing.T, h *harness, r Result) {
				if r.Released != 1 || h.tbl.Lock("a").Held {
					t.Errorf("Release(%q) = %+v; want released and free", "a", r)
				}
				if ls, _ := h.tbl.Lease(2); len(ls.Locks) != 0 {
					t.Errorf("Lease(2).Locks = %v; want none", ls.Locks)
				}
			}},
		{name: "handoff to first waiter", setup: func(h *harness) {
			twoLeases(h)
			h.wait("a", 1)
			h.ok(Command{Kind: KindAcquire, Name: "a", Wait: true})
		},
			cmd: Command{Kind: KindRelease, Name: "a", Token: 3},
			check: func(t *testing.T, h *harness, r Result) {
				li := h.tbl.Lock("a")
				if li.Holder.LeaseID != 1 || li.Holder.Token != 6 || len(li.Waiters) != 1 || li.Waiters[0].LeaseID != 5 {
					t.Errorf("Lock(%q) = %+v; want held by lease 1 with token 6, lease 5 waiting", "a", li)
				}
			}},
		{name: "single lease revoked with its lock", setup: func(h *harness) { h.ok(Command{Kind: KindAcquire, Name: "a"}) },
			cmd: Command{Kind: KindRelease, Name: "a", Token: 1},
			check: func(t *testing.T, h *harness, r Result) {
				if _, ok := h.tbl.Lease(1); ok {
					t.Errorf("Lease(1) exists after releasing its lock")
				}
			}},
		{name: "free lock", cmd: Command{Kind: KindRelease, Name: "a", Token: 3}, code: "not_holder"},
		{name: "wrong token", setup: twoLeases, cmd: Command{Kind: KindRelease, Name: "a", Token: 2}, code: "not_holder"},
		{name: "election namespace", setup: twoLeases, cmd: Command{Kind: KindRelease, Name: "b", Token: 3}, code: "not_holder"},
		{name: "token zero", setup: twoLeases, cmd: Command{Kind: KindRelease, Name: "a"}, code: "invalid_argument"},
		{name: "lease field", setup: twoLeases, cmd: Command{Kind: KindRelease, Name: "a", Token: 3, LeaseID: 2}, code: "invalid_argument"},
		{name: "bad name", cmd: Command{Kind: KindRelease, Name: "a*", Token: 3}, code: "invalid_argument"},
	}
	runCases(t, cases)
}

func TestCancelWait(t *testing.T) {
	cases := []cmdCase{
		{name: "withdrawn", setup: func(h *harness) { twoLeases(h); h.wait("a", 1) },
			cmd: Command{Kind: KindCancelWait, Name: "a", LeaseID: 1},
			check: func(t *testing.T, h *harness, r Result) {
				if !r.Withdrawn || r.Granted || len(h.tbl.Lock("a").Waiters) != 0 {
					t.Errorf("CancelWait(%q) = %+v; want withdrawn, queue empty", "a", r)
				}
				if ls, ok := h.tbl.Lease(1); !ok || len(ls.Waits) != 0 {
					t.Errorf("Lease(1) = %+v, %t; want alive, no waits", ls, ok)
				}
			}},
		{name: "withdrawn keeps order", setup: func(h *harness) {
			twoLeases(h)
			h.wait("a", 1)
			h.ok(Command{Kind: KindAcquire, Name: "a", Wait: true})
			h.ok(Command{Kind: KindAcquire, Name: "a", Wait: true})
		}, cmd: Command{Kind: KindCancelWait, Name: "a", LeaseID: 5},
			check: func(t *testing.T, h *harness, r Result) {
				w := h.tbl.Lock("a").Waiters
				if len(w) != 2 || w[0].LeaseID != 1 || w[1].LeaseID != 6 {
					t.Errorf("Lock(%q).Waiters = %+v; want leases 1, 6", "a", w)
				}
				if _, ok := h.tbl.Lease(5); ok {
					t.Errorf("Lease(5) alive; a single lease goes with its wait")
				}
			}},
		{name: "grant won the race", setup: func(h *harness) { twoLeases(h); h.wait("a", 1); h.ok(Command{Kind: KindRelease, Name: "a", Token: 3}) },
			cmd: Command{Kind: KindCancelWait, Name: "a", LeaseID: 1},
			check: func(t *testing.T, h *harness, r Result) {
				if !r.Granted || r.Withdrawn || r.Token != 5 || r.Holder.LeaseID != 1 || h.tbl.Lock("a").Holder.Token != 5 {
					t.Errorf("CancelWait(%q) = %+v; want granted with token 5, still held", "a", r)
				}
				if len(h.tbl.Changes()) != 0 {
					t.Errorf("CancelWait(%q) of a granted lease changed %v", "a", h.tbl.Changes())
				}
			}},
		{name: "not waiting", setup: twoLeases, cmd: Command{Kind: KindCancelWait, Name: "a", LeaseID: 1}, code: "not_found"},
		{name: "no lock", cmd: Command{Kind: KindCancelWait, Name: "a", LeaseID: 1}, code: "not_found"},
		{name: "wrong namespace", setup: func(h *harness) { twoLeases(h); h.wait("a", 1) },
			cmd: Command{Kind: KindCancelWait, Name: "a", LeaseID: 1, Election: true}, code: "not_found"},
		{name: "no lease id", cmd: Command{Kind: KindCancelWait, Name: "a"}, code: "invalid_argument"},
		{name: "wait field", cmd: Command{Kind: KindCancelWait, Name: "a", LeaseID: 1, Wait: true}, code: "invalid_argument"},
	}
	runCases(t, cases)
}

// campaign: leases 1 and 2, lease 1 leads election "e" with term 3.
func campaign(h *harness) {
	h.lease(10 * time.Second)
	h.lease(10 * time.Second)
	h.ok(Command{Kind: KindAcquire, Name: "e", LeaseID: 1, Election: true, Value: "v1"})
}

func TestProclaimResign(t *testing.T) {
	cases := []cmdCase{
		{name: "proclaim", setup: campaign, cmd: Command{Kind: KindProclaim, Name: "e", Token: 3, Value: "v2"},
			check: func(t *testing.T, h *harness, r Result) {
				if e := h.tbl.Election("e"); e.Holder.Value != "v2" || e.Holder.Token != 3 || e.ModifyIndex != 4 {
					t.Errorf("Election(%q) = %+v; want value v2, term 3, index 4", "e", e)
				}
			}},
		{name: "proclaim empty value", setup: campaign, cmd: Command{Kind: KindProclaim, Name: "e", Token: 3}},
		{name: "proclaim wrong term", setup: campaign, cmd: Command{Kind: KindProclaim, Name: "e", Token: 2, Value: "x"}, code: "not_leader"},
		{name: "proclaim no leader", cmd: Command{Kind: KindProclaim, Name: "e", Token: 2, Value: "x"}, code: "not_leader"},
		{name: "proclaim on a lock", setup: twoLeases, cmd: Command{Kind: KindProclaim, Name: "a", Token: 3, Value: "x"}, code: "not_leader"},
		{name: "proclaim value too long", setup: campaign, cmd: Command{Kind: KindProclaim, Name: "e", Token: 3, Value: strings.Repeat("v", ValueBytesMax+1)}, code: "invalid_argument"},
		{name: "proclaim no term", setup: campaign, cmd: Command{Kind: KindProclaim, Name: "e", Value: "x"}, code: "invalid_argument"},
		{name: "resign hands to next candidate", setup: func(h *harness) {
			campaign(h)
			h.ok(Command{Kind: KindAcquire, Name: "e", LeaseID: 2, Election: true, Value: "v2", Wait: true})
		}, cmd: Command{Kind: KindResign, Name: "e", Token: 3},
			check: func(t *testing.T, h *harness, r Result) {
				if e := h.tbl.Election("e"); e.Holder.LeaseID != 2 || e.Holder.Value != "v2" || e.Holder.Token != 5 {
					t.Errorf("Election(%q) = %+v; want lease 2 leading with v2, term 5", "e", e)
				}
			}},
		{name: "resign wrong term", setup: campaign, cmd: Command{Kind: KindResign, Name: "e", Token: 4}, code: "not_leader"},
		{name: "resign no leader", cmd: Command{Kind: KindResign, Name: "e", Token: 4}, code: "not_leader"},
		{name: "resign with value", setup: campaign, cmd: Command{Kind: KindResign, Name: "e", Token: 3, Value: "x"}, code: "invalid_argument"},
	}
	runCases(t, cases)
}

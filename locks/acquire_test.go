package locks

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// These table tests apply each command to a table prepared by a few earlier
// commands and check the result's code, payload and the table after. Every
// refusal of acquire, release, cancel_wait, proclaim and resign has a case.

type cmdCase struct {
	name  string
	setup func(h *harness)
	cmd   Command
	code  string
	check func(t *testing.T, h *harness, r Result)
}

func runCases(t *testing.T, cases []cmdCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			if tc.setup != nil {
				tc.setup(h)
			}
			r := h.do(tc.cmd)
			h.check()
			checkCode(t, tc.cmd.Kind.String()+"("+tc.cmd.Name+")", r, tc.code)
			if tc.code != "" && len(h.tbl.Changes()) != 0 {
				t.Errorf("%s(%q) refused but changed %v", tc.cmd.Kind, tc.cmd.Name, h.tbl.Changes())
			}
			if tc.check != nil {
				tc.check(t, h, r)
			}
		})
	}
}

// twoLeases creates leases 1 and 2 (10s), and lease 2 holds "a" with token 3.
func twoLeases(h *harness) {
	h.lease(10 * time.Second)
	h.lease(10 * time.Second)
	h.acquire("a", 2)
}

func TestAcquire(t *testing.T) {
	cases := []cmdCase{
		{name: "free lock granted", setup: func(h *harness) { h.lease(10 * time.Second) },
			cmd: Command{Kind: KindAcquire, Name: "a", LeaseID: 1, Owner: "w1"},
			check: func(t *testing.T, h *harness, r Result) {
				want := Holder{LeaseID: 1, Owner: "w1", Token: 2, AcquiredAt: h.now}
				if r.Token != 2 || r.Holder != want || r.LeaseID != 1 || r.TTL != dur(10*time.Second) {
					t.Errorf("Acquire(%q) = %+v; want token 2, holder %+v", "a", r, want)
				}
				if li := h.tbl.Lock("a"); !li.Held || li.Holder != want || li.ModifyIndex != 2 {
					t.Errorf("Lock(%q) = %+v; want held by %+v at 2", "a", li, want)
				}
				if ls, _ := h.tbl.Lease(1); len(ls.Locks) != 1 || ls.Locks[0] != "a" {
					t.Errorf("Lease(1).Locks = %v; want [a]", ls.Locks)
				}
			}},
		{name: "without lease creates one", cmd: Command{Kind: KindAcquire, Name: "a", TTL: dur(5 * time.Second)},
			check: func(t *testing.T, h *harness, r Result) {
				ls, ok := h.tbl.Lease(1)
				if r.LeaseID != 1 || r.Token != 1 || !ok || !ls.Single || ls.TTL != dur(5*time.Second) {
					t.Errorf("Acquire(%q) = %+v, lease %+v; want lease 1 single of 5s, token 1", "a", r, ls)
				}
			}},
		{name: "without lease or ttl uses default", cmd: Command{Kind: KindAcquire, Name: "a"},
			check: func(t *testing.T, h *harness, r Result) {
				if r.TTL != TTLDefault {
					t.Errorf("Acquire(%q).TTL = %s; want %s", "a", r.TTL, Duration(TTLDefault))
				}
			}},
		{name: "election campaign", setup: func(h *harness) { h.lease(10 * time.Second) },
			cmd: Command{Kind: KindAcquire, Name: "a", LeaseID: 1, Value: "host:1", Election: true},
			check: func(t *testing.T, h *harness, r Result) {
				if e := h.tbl.Election("a"); !e.Held || e.Holder.Value != "host:1" || e.Holder.Token != 2 {
					t.Errorf("Election(%q) = %+v; want led by host:1 with term 2", "a", e)
				}
				if h.tbl.Lock("a").Held {
					t.Errorf("Lock(%q) held; elections are a separate namespace", "a")
				}
			}},
		{name: "held refused", setup: twoLeases, cmd: Command{Kind: KindAcquire, Name: "a", LeaseID: 1}, code: "lock_held",
			check: func(t *testing.T, h *harness, r Result) {
				if r.Holder.LeaseID != 2 || r.Holder.Token != 3 {
					t.Errorf("Acquire(%q).Holder = %+v; want lease 2 token 3", "a", r.Holder)
				}
			}},
		{name: "held without lease creates none", setup: twoLeases, cmd: Command{Kind: KindAcquire, Name: "a"}, code: "lock_held",
			check: func(t *testing.T, h *harness, r Result) {
				if _, ok := h.tbl.Lease(4); ok {
					t.Errorf("Lease(4) exists after a refused acquire")
				}
			}},
		{name: "held by same lease", setup: twoLeases, cmd: Command{Kind: KindAcquire, Name: "a", LeaseID: 2, Wait: true}, code: "lock_held"},
		{name: "held wait queued", setup: twoLeases, cmd: Command{Kind: KindAcquire, Name: "a", LeaseID: 1, Wait: true, Owner: "w"},
			check: func(t *testing.T, h *harness, r Result) {
				li := h.tbl.Lock("a")
				if !r.Queued || r.Token != 0 || len(li.Waiters) != 1 || li.Waiters[0] != (Waiter{LeaseID: 1, Owner: "w", EnqueuedAt: 4}) {
					t.Errorf("Acquire(%q) = %+v, waiters %+v; want queued lease 1", "a", r, li.Waiters)
				}
			}},
		{name: "held wait without lease creates single", setup: twoLeases, cmd: Command{Kind: KindAcquire, Name: "a", Wait: true},
			check: func(t *testing.T, h *harness, r Result) {
				ls, ok := h.tbl.Lease(4)
				if !r.Queued || r.LeaseID != 4 || !ok || !ls.Single || len(ls.Waits) != 1 {
					t.Errorf("Acquire(%q) = %+v, lease %+v; want queued single lease 4", "a", r, ls)
				}
			}},
		{name: "already waiting", setup: func(h *harness) { twoLeases(h); h.wait("a", 1) },
			cmd: Command{Kind: KindAcquire, Name: "a", LeaseID: 1, Wait: true}, code: "invalid_argument"},
		{name: "lease not found", cmd: Command{Kind: KindAcquire, Name: "a", LeaseID: 9}, code: "not_found"},
		{name: "single lease reused", setup: func(h *harness) { h.ok(Command{Kind: KindAcquire, Name: "a"}) },
			cmd: Command{Kind: KindAcquire, Name: "b", LeaseID: 1}, code: "invalid_argument"},
		{name: "lock with value", setup: func(h *harness) { h.lease(10 * time.Second) },
			cmd: Command{Kind: KindAcquire, Name: "a", LeaseID: 1, Value: "v"}, code: "invalid_argument"},
		{name: "lease and ttl", setup: func(h *harness) { h.lease(10 * time.Second) },
			cmd: Command{Kind: KindAcquire, Name: "a", LeaseID: 1, TTL: dur(time.Second)}, code: "invalid_argument"},
		{name: "token field", cmd: Command{Kind: KindAcquire, Name: "a", Token: 3}, code: "invalid_argument"},
		{name: "empty name", cmd: Command{Kind: KindAcquire}, code: "invalid_argument"},
		{name: "name too long", cmd: Command{Kind: KindAcquire, Name: strings.Repeat("a", NameBytesMax+1)}, code: "invalid_argument"},
		{name: "name longest", cmd: Command{Kind: KindAcquire, Name: strings.Repeat("a", NameBytesMax)}},
		{name: "name bad byte", cmd: Command{Kind: KindAcquire, Name: "a b"}, code: "invalid_argument"},
		{name: "owner too long", cmd: Command{Kind: KindAcquire, Name: "a", Owner: strings.Repeat("o", OwnerBytesMax+1)}, code: "invalid_argument"},
		{name: "value too long", cmd: Command{Kind: KindAcquire, Name: "a", Election: true, Value: strings.Repeat("v", ValueBytesMax+1)}, code: "invalid_argument"},
		{name: "ttl below min", cmd: Command{Kind: KindAcquire, Name: "a", TTL: TTLMin - 1}, code: "invalid_argument"},
		{name: "ttl above max", cmd: Command{Kind: KindAcquire, Name: "a", TTL: TTLMax + 1}, code: "invalid_argument"},
		{name: "waiters per lock max", setup: func(h *harness) {
			h.acquire("a", h.lease(time.Minute))
			for i := 0; i < WaitersPerLockMax; i++ {
				h.ok(Command{Kind: KindAcquire, Name: "a", Wait: true})
			}
		}, cmd: Command{Kind: KindAcquire, Name: "a", Wait: true}, code: "too_large"},
		{name: "objects per lease max", setup: func(h *harness) {
			id := h.lease(time.Minute)
			for i := 0; i < ObjectsPerLeaseMax; i++ {
				h.acquire("l"+strconv.Itoa(i), id)
			}
		}, cmd: Command{Kind: KindAcquire, Name: "a", LeaseID: 1}, code: "too_large"},
		{name: "table waiters max", setup: func(h *harness) {
			h.tbl.limits.waiters = 1
			twoLeases(h)
			h.wait("a", 1)
		}, cmd: Command{Kind: KindAcquire, Name: "a", Wait: true}, code: "too_large"},
		{name: "table locks max", setup: func(h *harness) { h.tbl.limits.locks = 1; twoLeases(h) },
			cmd: Command{Kind: KindAcquire, Name: "b", Election: true, LeaseID: 1}, code: "too_large"},
		{name: "table leases max", setup: func(h *harness) { h.tbl.limits.leases = 2; twoLeases(h) },
			cmd: Command{Kind: KindAcquire, Name: "b"}, code: "too_large"},
	}
	runCases(t, cases)
}

package locks

import (
	"testing"
	"time"
)

// Table tests of create_lease, revoke_lease, expire_lease and
// checkpoint_leases, and the rule of etcd-io/etcd#11456: a waiter whose lease
// ends while it is queued is never granted the lock.

func TestLeaseCommands(t *testing.T) {
	cases := []cmdCase{
		{name: "create", cmd: Command{Kind: KindCreateLease, TTL: dur(10 * time.Second)},
			check: func(t *testing.T, h *harness, r Result) {
				ls, ok := h.tbl.Lease(1)
				if r.LeaseID != 1 || r.TTL != dur(10*time.Second) || !ok || ls.GrantedAt != h.now || ls.Single {
					t.Errorf("CreateLease = %+v, lease %+v; want lease 1 of 10s", r, ls)
				}
			}},
		{name: "create default ttl", cmd: Command{Kind: KindCreateLease},
			check: func(t *testing.T, h *harness, r Result) {
				if r.TTL != TTLDefault {
					t.Errorf("CreateLease.TTL = %s; want %s", r.TTL, Duration(TTLDefault))
				}
			}},
		{name: "create ttl min", cmd: Command{Kind: KindCreateLease, TTL: TTLMin}},
		{name: "create ttl max", cmd: Command{Kind: KindCreateLease, TTL: TTLMax}},
		{name: "create ttl below min", cmd: Command{Kind: KindCreateLease, TTL: TTLMin - 1}, code: "invalid_argument"},
		{name: "create ttl above max", cmd: Command{Kind: KindCreateLease, TTL: TTLMax + 1}, code: "invalid_argument"},
		{name: "create with name", cmd: Command{Kind: KindCreateLease, Name: "a"}, code: "invalid_argument"},
		{name: "create leases max", setup: func(h *harness) { h.tbl.limits.leases = 1; h.lease(time.Minute) },
			cmd: Command{Kind: KindCreateLease}, code: "too_large"},
		{name: "revoke frees sorted and hands off", setup: func(h *harness) {
			twoLeases(h)                                                                        // 1, 2; lease 2 holds a (3)
			h.acquire("b", 2)                                                                   // 4
			h.ok(Command{Kind: KindAcquire, Name: "e", LeaseID: 2, Election: true, Value: "x"}) // 5
			h.wait("b", 1)                                                                      // 6
			h.wait("a", 1)                                                                      // 7
		}, cmd: Command{Kind: KindRevokeLease, LeaseID: 2},
			check: func(t *testing.T, h *harness, r Result) {
				if r.Released != 3 || r.LeaseID != 2 {
					t.Errorf("RevokeLease(2) = %+v; want 3 released", r)
				}
				for _, name := range []string{"a", "b"} {
					if li := h.tbl.Lock(name); li.Holder.LeaseID != 1 || li.Holder.Token != 8 {
						t.Errorf("Lock(%q) = %+v; want held by lease 1 with token 8", name, li)
					}
				}
				if h.tbl.Election("e").Held {
					t.Errorf("Election(%q) still led after its lease was revoked", "e")
				}
				want := []Change{{Kind: ObjectLease, LeaseID: 2}, {Kind: ObjectLock, Name: "a"}, {Kind: ObjectLease, LeaseID: 1}, {Kind: ObjectLock, Name: "b"}, {Kind: ObjectElection, Name: "e"}}
				if got := h.tbl.Changes(); !equalChanges(got, want) {
					t.Errorf("Changes() = %v; want %v", got, want)
				}
			}},
		{name: "revoke withdraws waits", setup: func(h *harness) { twoLeases(h); h.wait("a", 1) },
			cmd: Command{Kind: KindRevokeLease, LeaseID: 1},
			check: func(t *testing.T, h *harness, r Result) {
				if li := h.tbl.Lock("a"); len(li.Waiters) != 0 || li.Holder.LeaseID != 2 {
					t.Errorf("Lock(%q) = %+v; want held by 2, no waiters", "a", li)
				}
			}},
		{name: "expire", setup: twoLeases, cmd: Command{Kind: KindExpireLease, LeaseID: 2},
			check: func(t *testing.T, h *harness, r Result) {
				if _, ok := h.tbl.Lease(2); ok || h.tbl.Lock("a").Held {
					t.Errorf("after ExpireLease(2): lease alive %t, lock held %t; want neither", ok, h.tbl.Lock("a").Held)
				}
			}},
		{name: "revoke absent", cmd: Command{Kind: KindRevokeLease, LeaseID: 3}, code: "not_found"},
		{name: "expire absent", cmd: Command{Kind: KindExpireLease, LeaseID: 3}, code: "not_found"},
		{name: "revoke no id", cmd: Command{Kind: KindRevokeLease}, code: "invalid_argument"},
		{name: "expire with ttl", cmd: Command{Kind: KindExpireLease, LeaseID: 1, TTL: TTLMin}, code: "invalid_argument"},
		{name: "checkpoint", setup: twoLeases, cmd: Command{Kind: KindCheckpointLeases, Checkpoints: []Checkpoint{{1, dur(4 * time.Second)}, {2, dur(time.Hour)}, {7, 1}}},
			check: func(t *testing.T, h *harness, r Result) {
				l1, _ := h.tbl.Lease(1)
				l2, _ := h.tbl.Lease(2)
				if l1.Checkpointed != dur(4*time.Second) || l2.Checkpointed != dur(10*time.Second) {
					t.Errorf("checkpointed = %s, %s; want 4s, 10s (clamped to the ttl)", l1.Checkpointed, l2.Checkpointed)
				}
			}},
		{name: "checkpoint clear", setup: func(h *harness) {
			twoLeases(h)
			h.ok(Command{Kind: KindCheckpointLeases, Checkpoints: []Checkpoint{{1, dur(time.Second)}}})
		}, cmd: Command{Kind: KindCheckpointLeases, Checkpoints: []Checkpoint{{1, 0}}},
			check: func(t *testing.T, h *harness, r Result) {
				if l1, _ := h.tbl.Lease(1); l1.Checkpointed != 0 {
					t.Errorf("Lease(1).Checkpointed = %s; want 0s (cleared)", l1.Checkpointed)
				}
			}},
		{name: "checkpoint unsorted", cmd: Command{Kind: KindCheckpointLeases, Checkpoints: []Checkpoint{{2, 1}, {1, 1}}}, code: "invalid_argument"},
		{name: "checkpoint duplicate", cmd: Command{Kind: KindCheckpointLeases, Checkpoints: []Checkpoint{{2, 1}, {2, 1}}}, code: "invalid_argument"},
		{name: "checkpoint negative", cmd: Command{Kind: KindCheckpointLeases, Checkpoints: []Checkpoint{{2, -1}}}, code: "invalid_argument"},
		{name: "checkpoint too many", cmd: Command{Kind: KindCheckpointLeases, Checkpoints: make([]Checkpoint, CheckpointsPerCommandMax+1)}, code: "too_large"},
	}
	runCases(t, cases)
}

func equalChanges(a, b []Change) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestExpiredWaiterNeverGranted: etcd-io/etcd#11456. A waiter whose lease
// expires while queued must not be granted when the lock frees later; the
// lock goes to the next live waiter, or is free.
func TestExpiredWaiterNeverGranted(t *testing.T) {
	cases := []struct {
		name   string
		end    Kind
		nextOK bool // a live waiter queued behind the expired one
	}{
		{"expire, live waiter behind", KindExpireLease, true},
		{"expire, nobody behind", KindExpireLease, false},
		{"revoke, live waiter behind", KindRevokeLease, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			holder := h.lease(10 * time.Second)
			doomed := h.lease(10 * time.Second)
			live := h.lease(10 * time.Second)
			tok := h.acquire("a", holder)
			h.wait("a", doomed)
			if tc.nextOK {
				h.wait("a", live)
			}
			h.ok(Command{Kind: tc.end, LeaseID: doomed})
			h.ok(Command{Kind: KindRelease, Name: "a", Token: tok})
			li := h.tbl.Lock("a")
			if li.Holder.LeaseID == doomed {
				t.Fatalf("Lock(%q) granted to ended lease %d", "a", doomed)
			}
			if tc.nextOK && li.Holder.LeaseID != live {
				t.Errorf("Lock(%q).Holder = %+v; want lease %d", "a", li.Holder, live)
			}
			if !tc.nextOK && li.Held {
				t.Errorf("Lock(%q) = %+v; want free", "a", li)
			}
		})
	}
}

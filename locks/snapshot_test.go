package locks

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-msgpack/v2/codec"
)

// Snapshot tests: the bytes are deterministic, restore is exact (same
// answers, same next results, same bytes again), and every kind of corrupt
// snapshot is an ErrCorruptSnapshot error that leaves the table unchanged.

// busyTable builds a table with every kind of state: leases (one
// checkpointed, one single, two created for ACL tokens), held locks with
// queues, an election with a candidate waiting, dedup records including a
// refusal, and ACL tokens (one expiring, one deleted).
func busyTable(t testing.TB) *harness {
	h := busyTableV1(t)
	admin := h.ok(Command{Kind: KindCreateACLToken, ACLName: "ops", SecretHash: testHash(1), ACLRules: []ACLRule{{Prefix: "", Allow: CapAdmin}}}).Accessor
	jobs := h.ok(Command{Kind: KindCreateACLToken, ACLName: "jobs runner", SecretHash: testHash(2), TTL: dur(time.Hour), RequestID: "tok-2",
		ACLRules: []ACLRule{{Prefix: "jobs/", Allow: CapRead | CapLock}, {Prefix: "jobs/leader", Allow: CapElect}}}).Accessor
	gone := h.ok(Command{Kind: KindCreateACLToken, ACLName: "gone", SecretHash: testHash(3), ACLRules: []ACLRule{{Prefix: "x", Allow: CapRead}}}).Accessor
	h.ok(Command{Kind: KindDeleteACLToken, Accessor: gone})
	h.ok(Command{Kind: KindCreateLease, Creator: admin})
	h.ok(Command{Kind: KindAcquire, Name: "jobs/1", Creator: jobs, Owner: "runner"})
	return h
}

// busyTableV1 is the table of testdata/snapshot-v1.msgpack: the state a
// version 1 snapshot could hold (no ACL tokens, no lease creators).
func busyTableV1(t testing.TB) *harness {
	h := newHarness(t)
	l1 := h.lease(10 * time.Second)
	l2 := h.lease(20 * time.Second)
	h.acquire("a", l1)
	h.acquire("b/c", l2)
	h.wait("a", l2)
	h.ok(Command{Kind: KindAcquire, Name: "a", Wait: true, Owner: "single", RequestID: "q1"})
	h.ok(Command{Kind: KindAcquire, Name: "e", LeaseID: l1, Election: true, Value: "host:1"})
	h.ok(Command{Kind: KindAcquire, Name: "e", LeaseID: l2, Election: true, Value: "host:2", Wait: true})
	h.ok(Command{Kind: KindCheckpointLeases, Checkpoints: []Checkpoint{{l1, dur(3 * time.Second)}}})
	h.do(Command{Kind: KindRelease, Name: "a", Token: 99, RequestID: "bad-release"})
	h.ok(Command{Kind: KindCreateLease, RequestID: "lease-3"})
	h.ok(Command{Kind: KindAcquire, Name: "gone"})
	h.ok(Command{Kind: KindRelease, Name: "gone", Token: Token(h.next)})
	return h
}

func snap(t testing.TB, tbl *Table) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := tbl.Snapshot(&buf); err != nil {
		t.Fatalf("Snapshot() = %v", err)
	}
	return buf.Bytes()
}

func TestSnapshotRoundTrip(t *testing.T) {
	h := busyTable(t)
	data := snap(t, h.tbl)
	if again := snap(t, h.tbl); !bytes.Equal(data, again) {
		t.Fatalf("two snapshots of one table differ")
	}
	b := NewTable()
	if err := b.Restore(bytes.NewReader(data)); err != nil {
		t.Fatalf("Restore(Snapshot()) = %v", err)
	}
	if err := b.checkInvariants(); err != nil {
		t.Fatalf("restored table: %v", err)
	}
	if got := snap(t, b); !bytes.Equal(got, data) {
		t.Fatalf("Snapshot(Restore(s)) differs from s")
	}
	for _, name := range []string{"a", "b/c", "e", "gone", "x"} {
		for _, election := range []bool{false, true} {
			x, y := h.tbl.info(name, election), b.info(name, election)
			if !sameInfo(x, y) {
				t.Errorf("restored info(%q, %t) = %+v; want %+v", name, election, y, x)
			}
			if ex, ey := h.tbl.Fence(name, 5), b.Fence(name, 5); Code(ex) != Code(ey) {
				t.Errorf("restored Fence(%q) = %v; want %v", name, ey, ex)
			}
		}
	}
	if x, y := fmt.Sprintf("%+v", h.tbl.ACLTokens()), fmt.Sprintf("%+v", b.ACLTokens()); x != y || len(h.tbl.ACLTokens()) != 2 {
		t.Errorf("restored ACLTokens() = %s; want %s (2 tokens)", y, x)
	}
	for id := LeaseID(0); id < 30; id++ {
		x, okx := h.tbl.Lease(id)
		y, oky := b.Lease(id)
		if okx != oky || !sameLease(x, y) {
			t.Errorf("restored Lease(%d) = %+v, %t; want %+v, %t", id, y, oky, x, okx)
		}
	}
	if h.tbl.Stats() != b.Stats() || h.tbl.Applied() != b.Applied() {
		t.Errorf("restored Stats() = %+v at %d; want %+v at %d", b.Stats(), b.Applied(), h.tbl.Stats(), h.tbl.Applied())
	}
	// The same next commands give the same results, including dedup hits.
	next := []Command{
		{Kind: KindRelease, Name: "a", Token: 99, RequestID: "bad-release"},
		{Kind: KindAcquire, Name: "a", Wait: true, Owner: "single", RequestID: "q1"},
		{Kind: KindRevokeLease, LeaseID: 1},
		{Kind: KindCreateLease, RequestID: "lease-3"},
	}
	for i, c := range next {
		c.Time = h.now
		data := raw(t, c)
		idx := h.tbl.Applied() + 1
		x, y := h.tbl.Apply(idx, data), b.Apply(idx, data)
		if !sameResult(x, y) {
			t.Errorf("next command %d (%s) on restored = %+v (%v); want %+v (%v)", i, c.Kind, y, y.Err, x, x.Err)
		}
	}
}

func sameInfo(x, y LockInfo) bool {
	if x.Kind != y.Kind || x.Name != y.Name || x.Held != y.Held || x.Holder != y.Holder || x.ModifyIndex != y.ModifyIndex || len(x.Waiters) != len(y.Waiters) {
		return false
	}
	for i := range x.Waiters {
		if x.Waiters[i] != y.Waiters[i] {
			return false
		}
	}
	return true
}

func sameLease(x, y LeaseInfo) bool {
	return x.ID == y.ID && x.TTL == y.TTL && x.GrantedAt == y.GrantedAt && x.Checkpointed == y.Checkpointed &&
		x.Single == y.Single && x.Creator == y.Creator && x.ModifyIndex == y.ModifyIndex &&
		strings.Join(x.Locks, ",") == strings.Join(y.Locks, ",") &&
		strings.Join(x.Elections, ",") == strings.Join(y.Elections, ",") && len(x.Waits) == len(y.Waits)
}

// TestRestoreTruncated: every proper prefix of a snapshot is refused and
// leaves the table as it was.
func TestRestoreTruncated(t *testing.T) {
	data := snap(t, busyTable(t).tbl)
	keep := busyTable(t)
	want := snap(t, keep.tbl)
	for n := 0; n < len(data); n++ {
		err := keep.tbl.Restore(bytes.NewReader(data[:n]))
		if !errors.Is(err, ErrCorruptSnapshot) {
			t.Fatalf("Restore(first %d of %d bytes) = %v; want %v", n, len(data), err, ErrCorruptSnapshot)
		}
	}
	if got := snap(t, keep.tbl); !bytes.Equal(got, want) {
		t.Fatalf("failed Restore changed the table")
	}
	if err := keep.tbl.Restore(bytes.NewReader(append(append([]byte{}, data...), 0xc0))); !errors.Is(err, ErrCorruptSnapshot) {
		t.Errorf("Restore(snapshot + 1 byte) = %v; want %v", err, ErrCorruptSnapshot)
	}
}

// encodeStream encodes values one after another, as Snapshot does.
func encodeStream(t *testing.T, vals ...any) []byte {
	t.Helper()
	var b []byte
	enc := codec.NewEncoderBytes(&b, newHandle())
	for _, v := range vals {
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

func TestRestoreCorrupt(t *testing.T) {
	hdr := func(mod func(*snapHeader)) *snapHeader {
		h := &snapHeader{Magic: snapshotMagic, Version: snapshotVersion, Applied: 10, Leases: 1, Locks: 1}
		if mod != nil {
			mod(h)
		}
		return h
	}
	okLease := &snapLease{ID: 1, TTL: TTLDefault, ModifyIndex: 2}
	okLock := &snapLock{Name: "a", LeaseID: 1, Token: 2, ModifyIndex: 2}
	okToken := &snapACLToken{Accessor: 3, Name: "t", SecretHash: testHash(1), Rules: []ACLRule{{Prefix: "a", Allow: CapRead}}}
	end := &snapTrailer{Magic: snapshotMagic}
	cases := []struct {
		name string
		vals []any
	}{
		{"bad magic", []any{hdr(func(h *snapHeader) { h.Magic = "x" }), okLease, okLock, end}},
		{"bad version", []any{hdr(func(h *snapHeader) { h.Version = snapshotVersion + 1 }), okLease, okLock, end}},
		{"version 0", []any{hdr(func(h *snapHeader) { h.Version = 0 }), okLease, okLock, end}},
		{"v1 with tokens", []any{hdr(func(h *snapHeader) { h.Version, h.ACLTokens = 1, 1 }), okLease, okLock, okToken, end}},
		{"too many tokens", []any{hdr(func(h *snapHeader) { h.ACLTokens = ACLTokensMax + 1 }), okLease, okLock, okToken, end}},
		{"token above applied", []any{hdr(func(h *snapHeader) { h.ACLTokens = 1 }), okLease, okLock, &snapACLToken{Accessor: 11, Name: "t", SecretHash: testHash(1), Rules: okToken.Rules}, end}},
		{"token short hash", []any{hdr(func(h *snapHeader) { h.ACLTokens = 1 }), okLease, okLock, &snapACLToken{Accessor: 3, Name: "t", SecretHash: []byte{1}, Rules: okToken.Rules}, end}},
		{"token no rules", []any{hdr(func(h *snapHeader) { h.ACLTokens = 1 }), okLease, okLock, &snapACLToken{Accessor: 3, Name: "t", SecretHash: testHash(1)}, end}},
		{"token admin prefix", []any{hdr(func(h *snapHeader) { h.ACLTokens = 1 }), okLease, okLock, &snapACLToken{Accessor: 3, Name: "t", SecretHash: testHash(1), Rules: []ACLRule{{Prefix: "a", Allow: CapAdmin}}}, end}},
		{"tokens unsorted", []any{hdr(func(h *snapHeader) { h.ACLTokens = 2 }), okLease, okLock, okToken, okToken, end}},
		{"tokens same hash", []any{hdr(func(h *snapHeader) { h.ACLTokens = 2 }), okLease, okLock, okToken, &snapACLToken{Accessor: 4, Name: "t", SecretHash: testHash(1), Rules: okToken.Rules}, end}},
		{"token negative expiry", []any{hdr(func(h *snapHeader) { h.ACLTokens = 1 }), okLease, okLock, &snapACLToken{Accessor: 3, Name: "t", SecretHash: testHash(1), Rules: okToken.Rules, ExpiresAt: -1}, end}},
		{"lease creator above applied", []any{hdr(nil), &snapLease{ID: 1, TTL: TTLDefault, ModifyIndex: 2, Creator: 11}, okLock, end}},
		{"too many leases", []any{hdr(func(h *snapHeader) { h.Leases = LeasesMax + 1 }), okLease, okLock, end}},
		{"negative count", []any{hdr(func(h *snapHeader) { h.Locks = -1 }), okLease, end}},
		{"lease above applied", []any{hdr(nil), &snapLease{ID: 11, TTL: TTLDefault, ModifyIndex: 11}, okLock, end}},
		{"lease ttl zero", []any{hdr(nil), &snapLease{ID: 1, ModifyIndex: 1}, okLock, end}},
		{"checkpoint above ttl", []any{hdr(nil), &snapLease{ID: 1, TTL: TTLMin, Checkpointed: TTLMin + 1, ModifyIndex: 1}, okLock, end}},
		{"lock bad name", []any{hdr(nil), okLease, &snapLock{Name: "a b", LeaseID: 1, Token: 2, ModifyIndex: 2}, end}},
		{"lock free", []any{hdr(nil), okLease, &snapLock{Name: "a", LeaseID: 1, ModifyIndex: 2}, end}},
		{"lock absent lease", []any{hdr(nil), okLease, &snapLock{Name: "a", LeaseID: 3, Token: 2, ModifyIndex: 2}, end}},
		{"lock with value", []any{hdr(nil), okLease, &snapLock{Name: "a", LeaseID: 1, Token: 2, Value: "v", ModifyIndex: 2}, end}},
		{"waiter is holder", []any{hdr(nil), okLease, &snapLock{Name: "a", LeaseID: 1, Token: 2, ModifyIndex: 3, Waiters: []snapWaiter{{LeaseID: 1, EnqueuedAt: 3}}}, end}},
		{"unsorted locks", []any{hdr(func(h *snapHeader) { h.Locks = 2 }), okLease, okLock, okLock, end}},
		{"single lease twice", []any{hdr(func(h *snapHeader) { h.Locks = 2 }), &snapLease{ID: 1, TTL: TTLDefault, ModifyIndex: 2, Single: true}, okLock,
			&snapLock{Name: "b", LeaseID: 1, Token: 3, ModifyIndex: 3}, end}},
		{"single lease idle", []any{hdr(func(h *snapHeader) { h.Locks = 0 }), &snapLease{ID: 1, TTL: TTLDefault, ModifyIndex: 2, Single: true}, end}},
		{"dedup unknown code", []any{hdr(func(h *snapHeader) { h.Dedup = 1 }), okLease, okLock, &snapDedup{ID: "r", Index: 3, Result: storedResult{Code: "nope"}}, end}},
		{"dedup empty id", []any{hdr(func(h *snapHeader) { h.Dedup = 1 }), okLease, okLock, &snapDedup{Index: 3}, end}},
		{"dedup twice", []any{hdr(func(h *snapHeader) { h.Dedup = 2 }), okLease, okLock, &snapDedup{ID: "r", Index: 3}, &snapDedup{ID: "r", Index: 4}, end}},
		{"bad trailer", []any{hdr(nil), okLease, okLock, &snapTrailer{Magic: "x"}}},
		{"wrong record type", []any{hdr(nil), okLock, okLock, end}},
	}
	// The valid base restores, so each case fails for its own reason.
	if err := NewTable().Restore(bytes.NewReader(encodeStream(t, hdr(nil), okLease, okLock, end))); err != nil {
		t.Fatalf("Restore(valid base) = %v", err)
	}
	if err := NewTable().Restore(bytes.NewReader(encodeStream(t, hdr(func(h *snapHeader) { h.ACLTokens = 1 }), okLease, okLock, okToken, end))); err != nil {
		t.Fatalf("Restore(valid base with a token) = %v", err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := NewTable().Restore(bytes.NewReader(encodeStream(t, tc.vals...)))
			if !errors.Is(err, ErrCorruptSnapshot) {
				t.Errorf("Restore(%s) = %v; want %v", tc.name, err, ErrCorruptSnapshot)
			}
		})
	}
}

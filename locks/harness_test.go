package locks

import (
	"errors"
	"testing"
	"time"

	"github.com/hashicorp/go-msgpack/v2/codec"
)

// This file holds the helpers of the table tests: a harness that applies
// commands at increasing indexes and re-verifies every invariant after each.

// sec converts a time.Duration for commands.
func dur(d time.Duration) Duration { return Duration(d) }

// raw encodes c without validation, so tests can apply invalid commands.
func raw(t testing.TB, c Command) []byte {
	t.Helper()
	var b []byte
	if err := codec.NewEncoderBytes(&b, newHandle()).Encode(&c); err != nil {
		t.Fatalf("encode %+v: %v", c, err)
	}
	return b
}

type harness struct {
	t    testing.TB
	tbl  *Table
	next Index
	now  int64
}

func newHarness(t testing.TB) *harness {
	return &harness{t: t, tbl: NewTable(), now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()}
}

// do applies c at the next index (command time advancing 1ms per entry
// unless c.Time is set) and checks the table's invariants.
func (h *harness) do(c Command) Result {
	h.t.Helper()
	h.next++
	h.now += int64(time.Millisecond)
	if c.Time == 0 {
		c.Time = h.now
	}
	r := h.tbl.Apply(h.next, raw(h.t, c))
	// Verify every step of small tables, every 256th of big ones (O(n) each).
	if h.next < 256 || h.next%256 == 0 {
		h.check()
	}
	return r
}

// check verifies the table's invariants.
func (h *harness) check() {
	h.t.Helper()
	if err := h.tbl.checkInvariants(); err != nil {
		h.t.Fatalf("after index %d: %v", h.next, err)
	}
}

// ok applies c and fails the test on an error result.
func (h *harness) ok(c Command) Result {
	h.t.Helper()
	r := h.do(c)
	if r.Err != nil {
		h.t.Fatalf("%s(%q) at %d = %v; want no error", c.Kind, c.Name, h.next, r.Err)
	}
	return r
}

func (h *harness) lease(ttl time.Duration) LeaseID {
	h.t.Helper()
	return h.ok(Command{Kind: KindCreateLease, TTL: dur(ttl)}).LeaseID
}

func (h *harness) acquire(name string, id LeaseID) Token {
	h.t.Helper()
	r := h.ok(Command{Kind: KindAcquire, Name: name, LeaseID: id})
	if r.Token == 0 {
		h.t.Fatalf("acquire(%q) = %+v; want a grant", name, r)
	}
	return r.Token
}

func (h *harness) wait(name string, id LeaseID) {
	h.t.Helper()
	if r := h.ok(Command{Kind: KindAcquire, Name: name, LeaseID: id, Wait: true}); !r.Queued {
		h.t.Fatalf("acquire(%q, wait) = %+v; want queued", name, r)
	}
}

// checkCode compares a result's code with want ("" = success) and that the
// error wraps the sentinel of the code.
func checkCode(t testing.TB, what string, r Result, want string) {
	t.Helper()
	if got := Code(r.Err); got != want {
		t.Fatalf("%s = %v (code %q); want code %q", what, r.Err, got, want)
	}
	if want != "" && !errors.Is(r.Err, sentinelFor(want)) {
		t.Fatalf("%s = %v; want errors.Is %q", what, r.Err, want)
	}
}

package locks

import (
	"strconv"
	"testing"
	"time"
)

// Tests of exactly-once apply: a repeated request id returns the first
// result and changes nothing; a reused id with another command is refused;
// records go after DedupRetention of command time, or oldest-first past
// DedupRecordsMax.

func TestDedup(t *testing.T) {
	cases := []struct {
		name  string
		first Command
		retry Command
		code  string // of the retry
		dup   bool
	}{
		{"create lease", Command{Kind: KindCreateLease, RequestID: "r"}, Command{Kind: KindCreateLease, RequestID: "r"}, "", true},
		{"acquire", Command{Kind: KindAcquire, Name: "a", RequestID: "r"}, Command{Kind: KindAcquire, Name: "a", RequestID: "r"}, "", true},
		{"refusal repeats", Command{Kind: KindRevokeLease, LeaseID: 99, RequestID: "r"}, Command{Kind: KindRevokeLease, LeaseID: 99, RequestID: "r"}, "not_found", true},
		{"different command", Command{Kind: KindAcquire, Name: "a", RequestID: "r"}, Command{Kind: KindAcquire, Name: "b", RequestID: "r"}, "invalid_argument", false},
		{"different kind", Command{Kind: KindCreateLease, RequestID: "r"}, Command{Kind: KindAcquire, RequestID: "r", Name: "a"}, "invalid_argument", false},
		{"other id", Command{Kind: KindCreateLease, RequestID: "r"}, Command{Kind: KindCreateLease, RequestID: "s"}, "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			first := h.do(tc.first)
			before := h.tbl.Stats()
			r := h.do(tc.retry)
			checkCode(t, "retry "+tc.retry.Kind.String(), r, tc.code)
			if r.Duplicate != tc.dup {
				t.Fatalf("retry %s = %+v; want Duplicate %t", tc.retry.Kind, r, tc.dup)
			}
			if !tc.dup {
				return
			}
			if r.Err != nil && r.Err.Error() != first.Err.Error() {
				t.Errorf("retry error = %q; want the first %q", r.Err, first.Err)
			}
			first.Duplicate = true
			r.Err, first.Err = nil, nil
			if r != first {
				t.Errorf("retry = %+v; want the first %+v", r, first)
			}
			if after := h.tbl.Stats(); after != before || len(h.tbl.Changes()) != 0 {
				t.Errorf("retry changed the table: %+v -> %+v, changes %v", before, after, h.tbl.Changes())
			}
		})
	}
}

func TestDedupRetention(t *testing.T) {
	h := newHarness(t)
	start := h.now
	first := h.ok(Command{Kind: KindCreateLease, RequestID: "r", Time: start})
	// Just inside the window: still a duplicate.
	in := h.ok(Command{Kind: KindCreateLease, RequestID: "r", Time: start + int64(DedupRetention)})
	if !in.Duplicate || in.LeaseID != first.LeaseID {
		t.Fatalf("retry at the retention edge = %+v; want duplicate of lease %d", in, first.LeaseID)
	}
	// A later command moves the newest time past the window.
	h.ok(Command{Kind: KindCreateLease, Time: start + int64(DedupRetention) + 1})
	out := h.ok(Command{Kind: KindCreateLease, RequestID: "r", Time: start + int64(DedupRetention) + 2})
	if out.Duplicate || out.LeaseID == first.LeaseID {
		t.Errorf("retry after retention = %+v; want a new lease", out)
	}
}

// TestDedupPruneByIndex: pruning walks records in index order and stops at
// the first young one, so an older-timed record behind it waits (and the
// outcome never depends on map order).
func TestDedupPruneByIndex(t *testing.T) {
	h := newHarness(t)
	base := h.now
	h.ok(Command{Kind: KindCreateLease, RequestID: "young", Time: base + int64(time.Hour)})
	h.ok(Command{Kind: KindCreateLease, RequestID: "old", Time: base})
	h.ok(Command{Kind: KindCreateLease, Time: base + int64(time.Hour) + int64(DedupRetention)})
	if r := h.ok(Command{Kind: KindCreateLease, RequestID: "old", Time: base}); !r.Duplicate {
		t.Errorf("retry of %q = %+v; want duplicate (kept behind a younger record)", "old", r)
	}
	h.ok(Command{Kind: KindCreateLease, Time: base + 2*int64(time.Hour) + int64(DedupRetention)})
	if n := h.tbl.Stats().DedupRecords; n != 0 {
		t.Errorf("Stats().DedupRecords = %d; want 0 after both expired", n)
	}
}

func TestDedupRecordsMax(t *testing.T) {
	tbl := NewTable()
	if tbl.dedup.max != DedupRecordsMax {
		t.Fatalf("NewTable().dedup.max = %d; want DedupRecordsMax %d", tbl.dedup.max, DedupRecordsMax)
	}
	const max = 1000 // DedupRecordsMax itself takes long under -race
	tbl.dedup.max = max
	h := newHandle()
	var idx Index
	apply := func(id string) Result {
		idx++
		b, err := encodeCommand(h, &Command{Kind: KindCreateLease, RequestID: id, Time: 1})
		if err != nil {
			t.Fatal(err)
		}
		return tbl.Apply(idx, b)
	}
	for i := 0; i <= 3*max; i++ { // past 1024 evictions: the order slice compacts

		apply("r" + strconv.Itoa(i))
	}
	if n := tbl.Stats().DedupRecords; n != max {
		t.Fatalf("Stats().DedupRecords = %d; want %d", n, max)
	}
	if err := tbl.checkInvariants(); err != nil {
		t.Fatal(err)
	}
	oldest, evicted := "r"+strconv.Itoa(2*max+1), "r"+strconv.Itoa(2*max)
	if r := apply(oldest); !r.Duplicate {
		t.Errorf("retry of %s = %+v; want duplicate", oldest, r)
	}
	if r := apply(evicted); r.Duplicate {
		t.Errorf("retry of evicted %s = %+v; want applied anew", evicted, r)
	}
}

// TestDedupQueuedThenGranted: a retry of a queued acquire answers the grant
// that came later, even once the lease has expired since (the chaos run of
// seed 1154 caught the old answer, not_found, for an acquire that had
// been granted: not linearizable). Waits that were withdrawn, or not
// granted yet, keep answering "queued".
func TestDedupQueuedThenGranted(t *testing.T) {
	for _, election := range []bool{false, true} {
		t.Run("election="+strconv.FormatBool(election), func(t *testing.T) {
			h := newHarness(t)
			holder := h.lease(10 * time.Second)
			waiter := h.lease(10 * time.Second)
			other := h.lease(10 * time.Second)
			acq := func(lease LeaseID, id string) Command {
				return Command{Kind: KindAcquire, Name: "a", LeaseID: lease, Wait: true, Election: election, RequestID: id}
			}
			h.ok(acq(holder, "h"))
			queued := h.ok(acq(waiter, "w"))
			h.ok(acq(other, "o"))
			if !queued.Queued {
				t.Fatalf("acquire of a held %s = %+v; want queued", objectKind(election), queued)
			}
			if r, ok := h.tbl.RequestResult("w"); !ok || !r.Queued || !r.Duplicate {
				t.Fatalf("RequestResult(w) before the grant = %+v, %t; want queued", r, ok)
			}
			h.ok(Command{Kind: KindRevokeLease, LeaseID: holder})
			grantIndex, grantTime := h.next, h.now
			h.ok(Command{Kind: KindExpireLease, LeaseID: waiter}) // frees it again: other is granted
			want := Holder{LeaseID: waiter, Token: Token(grantIndex), AcquiredAt: grantTime}
			for _, r := range []Result{h.ok(acq(waiter, "w")), mustRequest(t, h, "w")} {
				if r.Queued || !r.Duplicate || r.Token != want.Token || r.Holder != want || r.LeaseID != waiter {
					t.Errorf("retry of the granted acquire = %+v; want the grant %+v", r, want)
				}
			}
			if r := mustRequest(t, h, "o"); r.Queued || r.Holder.LeaseID != other || r.Token != Token(grantIndex+1) {
				t.Errorf("RequestResult(o) = %+v; want granted to lease %d at %d", r, other, grantIndex+1)
			}
			if r := mustRequest(t, h, "h"); r.Queued || r.Holder.LeaseID != holder {
				t.Errorf("RequestResult(h) = %+v; want its first grant", r)
			}
			// A withdrawn wait stays queued in its record: its retry finds
			// the lease no longer waiting and cancels (the server's path).
			late := h.lease(10 * time.Second)
			h.ok(acq(late, "late"))
			h.ok(Command{Kind: KindCancelWait, Name: "a", LeaseID: late, Election: election})
			if r := mustRequest(t, h, "late"); !r.Queued || r.Token != 0 {
				t.Errorf("RequestResult(late) after its wait was withdrawn = %+v; want still queued", r)
			}
		})
	}
}

func mustRequest(t *testing.T, h *harness, id string) Result {
	t.Helper()
	r, ok := h.tbl.RequestResult(id)
	if !ok {
		t.Fatalf("RequestResult(%q): no record", id)
	}
	return r
}

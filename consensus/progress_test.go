package consensus

// These tests prove the leader's per-follower bookkeeping: the in-flight
// window (bounded, freed by acknowledgements up to an index, wrapping
// around), and that stale acknowledgements and rejections change nothing.

import "testing"

func TestInflightsWindow(t *testing.T) {
	in := newInflights(3)
	for _, i := range []Index{5, 8, 10} {
		in.add(i)
	}
	if !in.full() {
		t.Fatalf("full() after 3 adds to a window of 3 = false; want true")
	}
	in.freeLE(7)
	if in.full() || in.count != 2 {
		t.Fatalf("after freeLE(7): full %v count %d; want false, 2", in.full(), in.count)
	}
	in.add(12) // wraps around the ring
	in.freeLE(11)
	if in.count != 1 || in.ring[in.start] != 12 {
		t.Fatalf("after freeLE(11): count %d oldest %d; want 1, 12", in.count, in.ring[in.start])
	}
	in.freeFirst()
	if in.count != 0 {
		t.Fatalf("after freeFirst: count %d; want 0", in.count)
	}
	in.freeFirst() // no-op on an empty window
	if in.count != 0 || in.full() {
		t.Fatalf("freeFirst on an empty window: count %d; want 0", in.count)
	}
}

func TestProgressStaleResponses(t *testing.T) {
	cases := []struct {
		name     string
		state    progressState
		match    Index
		next     Index
		ack      Index // 0: a rejection of reject instead
		reject   Index
		hint     Index
		changed  bool
		wantNext Index
	}{
		{"ack below match", stateReplicate, 5, 9, 4, 0, 0, false, 9},
		{"ack at match", stateProbe, 5, 6, 5, 0, 0, false, 6},
		{"new ack", stateReplicate, 5, 9, 7, 0, 0, true, 9},
		{"ack past next", stateProbe, 5, 6, 8, 0, 0, true, 9},
		{"replicate reject at match", stateReplicate, 5, 9, 0, 5, 3, false, 9},
		{"replicate reject above match", stateReplicate, 5, 9, 0, 7, 6, true, 7},
		{"probe reject not next-1", stateProbe, 2, 8, 0, 5, 3, false, 8},
		{"probe reject next-1", stateProbe, 2, 8, 0, 7, 4, true, 5},
		{"probe reject hint below match", stateProbe, 2, 8, 0, 7, 0, true, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pr := &progress{match: tc.match, next: tc.next, state: tc.state, inflights: newInflights(4)}
			var changed bool
			if tc.ack != 0 {
				changed = pr.maybeUpdate(tc.ack)
			} else {
				changed = pr.maybeDecrTo(tc.reject, tc.hint)
			}
			if changed != tc.changed || pr.next != tc.wantNext {
				t.Fatalf("changed %v next %d; want %v, %d", changed, pr.next, tc.changed, tc.wantNext)
			}
			if tc.ack == 0 && changed && pr.state != stateProbe {
				t.Fatalf("state after a rejection = %s; want probe", pr.state)
			}
		})
	}
}

func TestProgressPaused(t *testing.T) {
	pr := &progress{match: 0, next: 1, inflights: newInflights(2)}
	if pr.paused() {
		t.Fatalf("fresh probe: paused() = true; want false")
	}
	pr.sentEntries(3)
	if !pr.paused() {
		t.Fatalf("probe after a send: paused() = false; want true")
	}
	pr.maybeUpdate(3)
	pr.becomeReplicate()
	pr.sentEntries(5)
	pr.sentEntries(7)
	if !pr.paused() || pr.next != 8 {
		t.Fatalf("replicate with a full window: paused %v next %d; want true, 8", pr.paused(), pr.next)
	}
	pr.inflights.freeLE(5)
	if pr.paused() {
		t.Fatalf("replicate after an ack: paused() = true; want false")
	}
}

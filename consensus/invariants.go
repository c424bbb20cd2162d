package consensus

// checkInvariants re-verifies the core's O(1) invariants after an input.
func (r *Raft) checkInvariants() {
	l := r.log
	assertf(l.applied <= l.committed, "applied %d > commit %d", l.applied, l.committed)
	assertf(l.committed <= l.lastIndex(), "commit %d > last index %d", l.committed, l.lastIndex())
	if r.role == RoleLeader {
		assertf(r.lead == r.id, "leader %d names %d as leader", r.id, r.lead)
		assertf(r.vote == r.id, "leader %d voted for %d in its term %d", r.id, r.vote, r.term)
	}
}

// checkLogInvariantsIfEnabled walks the whole log, only with the raftlock_invariants
// build tag. It runs once per Advance (not per message) to stay linear in
// the log per Ready rather than per input.
func (r *Raft) checkLogInvariantsIfEnabled() {
	if invariantsEnabled {
		r.checkLogInvariants()
	}
}

// checkLogInvariants walks the whole log: terms never fall, none exceeds the
// current term, and a leader's progress never claims more than the log holds.
func (r *Raft) checkLogInvariants() {
	l := r.log
	var prev Term
	first, err := l.firstIndex()
	if err != nil {
		first = 1
	}
	for i := max(first, 2) - 1; i <= l.lastIndex(); i++ {
		t, err := l.term(i)
		if err != nil {
			// Compacted prefixes and storage failures are not invariant breaks.
			prev = 0
			continue
		}
		assertf(t >= prev, "term %d at index %d after term %d", t, i, prev)
		assertf(t <= r.term, "term %d at index %d above current term %d", t, i, r.term)
		prev = t
	}
	if r.role == RoleLeader {
		for id, pr := range r.prs {
			assertf(pr.match <= l.lastIndex(), "peer %d match %d > last index %d", id, pr.match, l.lastIndex())
			assertf(pr.match < pr.next, "peer %d match %d >= next %d", id, pr.match, pr.next)
		}
	}
}

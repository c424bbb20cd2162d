package consensus

import "go.uber.org/zap"

// softState is the current SoftState.
func (r *Raft) softState() SoftState { return SoftState{Lead: r.lead, Role: r.role} }

// hardState is the current HardState.
func (r *Raft) hardState() HardState {
	return HardState{Term: r.term, Vote: r.vote, Commit: r.log.committed}
}

// HasReady reports whether Ready would return any work. Between a Ready and
// its Advance it may report the same work again; after Advance it is exact.
func (r *Raft) HasReady() bool {
	return r.appendPending || r.commitPending || r.reads.roundOpen ||
		(r.log.snapshot != nil && !r.log.snapshotSent) ||
		r.softState() != r.prevSoft ||
		r.hardState() != r.prevHard ||
		len(r.log.unstable.entries) > 0 ||
		len(r.msgs) > 0 ||
		len(r.readStates) > 0 ||
		r.log.hasNextCommitted()
}

// Ready returns the pending work; the driver must Advance with it before the
// next Ready. Entries are every unstable entry; CommittedEntries are at most
// CommittedBytesMax bytes (at least one entry) of committed, unapplied ones.
func (r *Raft) Ready() Ready {
	r.flushAppends()
	r.flushReadRound()
	ents := r.log.unstable.entries
	rd := Ready{
		Entries:    ents[:len(ents):len(ents)],
		Messages:   r.msgs,
		ReadStates: r.readStates,
	}
	committed, err := r.log.nextCommitted(CommittedBytesMax)
	if err != nil {
		r.logger.Error("ready: reading committed entries failed",
			zap.Uint64("index", uint64(r.log.applied+1)), zap.Error(err))
	}
	rd.CommittedEntries = committed
	if s := r.log.snapshot; s != nil && !r.log.snapshotSent {
		snap := cloneSnapshotMeta(*s)
		rd.Snapshot = &snap
		r.log.snapshotSent = true
	}
	if ss := r.softState(); ss != r.prevSoft {
		rd.SoftState = &ss
		r.prevSoft = ss
	}
	if hs := r.hardState(); hs != r.prevHard {
		rd.HardState = hs
		r.prevHard = hs
	}
	r.msgs = nil
	r.readStates = nil
	return rd
}

// Advance tells the core that rd was persisted, sent and applied: rd.Snapshot
// is installed (the state machine holds its state, the storage starts after
// it), rd.Entries
// that are still in the log become stable (and, on a leader, count towards
// its own match index, which may commit them), and rd.CommittedEntries are
// applied.
func (r *Raft) Advance(rd Ready) {
	if rd.Snapshot != nil {
		r.log.snapshotInstalled(rd.Snapshot)
	}
	if n := len(rd.Entries); n > 0 {
		last := rd.Entries[n-1]
		// Entries replaced since Ready stay unstable and go out again.
		still, err := r.log.matchTerm(last.Index, last.Term)
		if err != nil {
			r.logger.Error("advance: reading the term failed", zap.Uint64("index", uint64(last.Index)), zap.Error(err))
		}
		r.log.unstable.stableTo(last.Index, last.Term)
		if still && r.role == RoleLeader && r.prs[r.id].maybeUpdate(last.Index) {
			r.maybeCommit()
		}
	}
	if n := len(rd.CommittedEntries); n > 0 {
		first, last := rd.CommittedEntries[0].Index, rd.CommittedEntries[n-1].Index
		assertf(first <= r.log.applied+1, "advancing applied from %d with entries from %d", r.log.applied, first)
		r.log.appliedTo(last)
		if r.role == RoleLeader {
			size := entsSize(rd.CommittedEntries)
			r.uncommittedBytes -= min(size, r.uncommittedBytes)
		}
	}
	r.checkInvariants()
	r.checkLogInvariantsIfEnabled()
}

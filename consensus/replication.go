package consensus

import (
	"errors"

	"go.uber.org/zap"
)

// appendEntry appends one entry the leader created (a proposal or its no-op).
// A leader only ever appends to its own log (Leader Append-Only).
func (r *Raft) appendEntry(e Entry) {
	assertf(r.role == RoleLeader, "%s appending its own entry at term %d", r.role, r.term)
	assertf(e.Index == r.log.lastIndex()+1, "leader appending at %d, last index %d", e.Index, r.log.lastIndex())
	r.appendLog([]Entry{e})
}

// maybeSendAppend sends a MsgApp to follower to unless its progress is paused,
// or unless there are no entries to send and sendIfEmpty is false. It reports
// whether a message was sent.
func (r *Raft) maybeSendAppend(to NodeID, sendIfEmpty bool) bool {
	pr := r.prs[to]
	if pr.paused() {
		return false
	}
	prev := pr.next - 1
	prevTerm, err := r.log.term(prev)
	if errors.Is(err, ErrCompacted) {
		return r.sendSnapshot(to, pr)
	}
	if err != nil {
		r.logger.Error("append: reading the previous term failed", zap.Uint64("peer", uint64(to)),
			zap.Uint64("index", uint64(prev)), zap.Error(err))
		return false
	}
	ents, err := r.log.entriesFrom(pr.next, r.maxMsgBytes)
	if errors.Is(err, ErrCompacted) {
		return r.sendSnapshot(to, pr)
	}
	if err != nil {
		r.logger.Error("append: reading entries failed", zap.Uint64("peer", uint64(to)),
			zap.Uint64("index", uint64(pr.next)), zap.Error(err))
		return false
	}
	if len(ents) == 0 && !sendIfEmpty {
		return false
	}
	r.send(Message{Type: MsgApp, To: to, Index: prev, LogTerm: prevTerm, Entries: ents, Commit: r.log.committed})
	var last Index
	if n := len(ents); n > 0 {
		last = ents[n-1].Index
	}
	pr.sentEntries(last)
	return true
}

// sendSnapshot sends follower to the latest snapshot (§7) because the
// entries it needs are compacted, and pauses it until the snapshot's outcome
// is known. It reports whether a MsgSnap was sent.
func (r *Raft) sendSnapshot(to NodeID, pr *progress) bool {
	if r.log.snapshot != nil {
		// Our own received snapshot is not installed yet: the storage's
		// metadata is stale until the next Advance.
		return false
	}
	snap, err := r.log.storage.Snapshot()
	if err != nil {
		r.logger.Error("snapshot: reading the snapshot metadata failed", zap.Uint64("peer", uint64(to)), zap.Error(err))
		return false
	}
	if snap.IsEmpty() || snap.Index < pr.next-1 {
		// The driver compacts only what a snapshot covers.
		r.logger.Error("snapshot: entries compacted past the stored snapshot", zap.Uint64("peer", uint64(to)),
			zap.Uint64("index", uint64(pr.next-1)), zap.Uint64("snapshot_index", uint64(snap.Index)))
		return false
	}
	snap = cloneSnapshotMeta(snap)
	r.send(Message{Type: MsgSnap, To: to, Snapshot: &snap})
	pr.becomeSnapshot(snap.Index)
	r.logger.Info("sending snapshot", zap.Uint64("peer", uint64(to)), zap.Uint64("snapshot_index", uint64(snap.Index)),
		zap.Uint64("snapshot_term", uint64(snap.Term)), zap.Uint64("match", uint64(pr.match)))
	return true
}

// sendAppends sends follower to as many MsgApps as its progress allows
// (one while probing, up to the in-flight window while pipelining), or with
// sendIfEmpty at least one carrying the commit index.
func (r *Raft) sendAppends(to NodeID, sendIfEmpty bool) {
	if !r.maybeSendAppend(to, sendIfEmpty) {
		return
	}
	for r.maybeSendAppend(to, false) {
	}
}

// bcastAppend sends every follower what it lacks (or, with sendIfEmpty, at
// least the commit index).
func (r *Raft) bcastAppend(sendIfEmpty bool) {
	for _, id := range r.members {
		if id != r.id {
			r.sendAppends(id, sendIfEmpty)
		}
	}
}

// flushAppends sends the MsgApps that Propose and commit changes deferred:
// one per follower carrying the new entries and commit index.
func (r *Raft) flushAppends() {
	if r.role != RoleLeader || (!r.appendPending && !r.commitPending) {
		return
	}
	r.bcastAppend(r.commitPending)
	r.appendPending = false
	r.commitPending = false
}

// bcastHeartbeat sends every follower a heartbeat carrying the commit index
// it can safely learn and the context of the newest pending read.
func (r *Raft) bcastHeartbeat() {
	ctx := r.reads.heartbeatContext()
	r.reads.roundOpen = false // these heartbeats carry the open round
	for _, id := range r.members {
		if id == r.id {
			continue
		}
		// The follower can learn the commit only up to what it is known to
		// match: beyond match its log may still diverge.
		commit := min(r.prs[id].match, r.log.committed)
		r.send(Message{Type: MsgHeartbeat, To: id, Commit: commit, Context: ctx})
	}
}

// handleAppend is a follower's AppendEntries (§5.3): the consistency check,
// then truncating only at the first entry whose term differs.
func (r *Raft) handleAppend(m Message) error {
	if m.Index < r.log.committed {
		// Everything up to our commit index matches the leader already.
		r.send(Message{Type: MsgAppResp, To: m.From, Index: r.log.committed})
		return nil
	}
	ok, err := r.log.matchTerm(m.Index, m.LogTerm)
	if err != nil {
		return err
	}
	if !ok {
		return r.rejectAppend(m)
	}
	lastNew := m.Index + Index(len(m.Entries))
	conflict, err := r.log.findConflict(m.Entries)
	if err != nil {
		return err
	}
	if conflict != 0 {
		// m.Index >= committed was checked above, so a conflict (the first
		// differing entry, after m.Index) is never at or below the commit.
		assertf(conflict > r.log.committed, "conflict at %d at or below commit %d", conflict, r.log.committed)
		r.appendLog(m.Entries[conflict-(m.Index+1):])
	}
	if r.log.commitTo(min(m.Commit, lastNew)) {
		r.conf.fold(r.log.committed)
	}
	r.send(Message{Type: MsgAppResp, To: m.From, Index: lastNew})
	return nil
}

// handleSnapshot is a follower's InstallSnapshot (§7). A snapshot at or below
// the commit index tells nothing new; one whose last entry the log already
// holds only moves the commit index (the entries after it stay); any other
// replaces the log, and the next Ready hands it to the driver to install.
// The answer is a MsgAppResp with the index the logs now agree up to; it
// leaves only after the snapshot is persisted (step 1 precedes step 2).
func (r *Raft) handleSnapshot(m Message) error {
	s := *m.Snapshot
	if s.Index <= r.log.committed {
		r.send(Message{Type: MsgAppResp, To: m.From, Index: r.log.committed})
		return nil
	}
	ok, err := r.log.matchTerm(s.Index, s.Term)
	if err != nil {
		return err
	}
	if ok {
		r.log.commitTo(s.Index)
		r.send(Message{Type: MsgAppResp, To: m.From, Index: r.log.committed})
		return nil
	}
	r.logger.Info("restoring snapshot", zap.Uint64("snapshot_index", uint64(s.Index)),
		zap.Uint64("snapshot_term", uint64(s.Term)), zap.Uint64("commit", uint64(r.log.committed)),
		zap.Uint64("last_index", uint64(r.log.lastIndex())))
	r.log.restore(s)
	r.restoreMembership(&s)
	r.send(Message{Type: MsgAppResp, To: m.From, Index: s.Index})
	return nil
}

// rejectAppend answers a MsgApp whose (prevLogIndex, prevLogTerm) we lack,
// with the fast-backtracking hint: our last index whose term is at most the
// leader's prevLogTerm, and that term.
func (r *Raft) rejectAppend(m Message) error {
	hint := min(m.Index, r.log.lastIndex())
	hint, hintTerm, err := r.log.findConflictByTerm(hint, m.LogTerm)
	if err != nil {
		return err
	}
	r.send(Message{Type: MsgAppResp, To: m.From, Index: m.Index, Reject: true, RejectHint: hint, LogTerm: hintTerm})
	return nil
}

// handleHeartbeat learns the commit index (the leader sends at most what we
// are known to match) and answers, echoing the read context.
func (r *Raft) handleHeartbeat(m Message) {
	if m.Commit <= r.log.lastIndex() {
		r.log.commitTo(m.Commit)
	}
	r.send(Message{Type: MsgHeartbeatResp, To: m.From, Context: m.Context})
}

// handleAppendResponse is the leader's side of AppendEntries: it advances or
// backs off the follower's progress and commits what a quorum holds.
func (r *Raft) handleAppendResponse(m Message, pr *progress) error {
	if m.Reject {
		hint := m.RejectHint
		if m.LogTerm > 0 {
			var err error
			if hint, _, err = r.log.findConflictByTerm(m.RejectHint, m.LogTerm); err != nil {
				return err
			}
		}
		if pr.maybeDecrTo(m.Index, min(hint, m.Index)) {
			r.maybeSendAppend(m.From, true)
		}
		return nil
	}
	if !pr.maybeUpdate(m.Index) {
		return nil
	}
	defer func() {
		if m.From == r.leadTransferee && r.role == RoleLeader {
			r.maybeSendTimeoutNow(m.From)
		}
	}()
	switch pr.state {
	case stateProbe:
		pr.becomeReplicate()
	case stateSnapshot:
		// The answer to the snapshot, or to an append sent before it: the
		// logs agree up to match. Replicating from there is possible only
		// if the entries after match are still held.
		first, err := r.log.firstIndex()
		if err != nil {
			return err
		}
		if pr.match < pr.pendingSnapshot && pr.match+1 < first {
			return nil
		}
		pr.becomeReplicate()
	case stateReplicate:
		pr.inflights.freeLE(m.Index)
	}
	if r.maybeCommit() {
		if r.role != RoleLeader {
			return nil // removed from the membership: stepped down
		}
		if _, ok := r.prs[m.From]; !ok {
			// This acknowledgement committed the joint configuration and
			// the C_new appended at once no longer lists the sender.
			return nil
		}
	}
	r.sendAppends(m.From, false)
	return nil
}

// handleHeartbeatResponse unpauses a probing follower, frees a slot of a full
// window whose acknowledgements may be lost, resumes sending to a follower
// that lags, and counts the response towards pending reads.
func (r *Raft) handleHeartbeatResponse(m Message, pr *progress) {
	pr.probeSent = false
	if pr.state == stateReplicate && pr.inflights.full() {
		pr.inflights.freeFirst()
	}
	if pr.match < r.log.lastIndex() {
		// Even with nothing new to send: a pipelined MsgApp may have been
		// lost, and an empty MsgApp at next-1 then draws the rejection that
		// moves the follower to probe. Without it a lagging follower waits
		// for the next proposal, which may never come.
		r.sendAppends(m.From, true)
	}
	r.ackRead(pr, m.Context)
}

// maybeCommit raises the commit index to the highest index a quorum holds,
// if that entry is of the current term (§5.4.2, Figure 8: replicas are
// counted only for current-term entries). It reports whether commit moved.
func (r *Raft) maybeCommit() bool {
	mci := Index(r.quorumIndex(func(id NodeID) uint64 { return uint64(r.prs[id].match) }))
	if mci <= r.log.committed {
		return false
	}
	t, err := r.log.term(mci)
	if err != nil {
		r.logger.Error("commit: reading the term failed", zap.Uint64("index", uint64(mci)), zap.Error(err))
		return false
	}
	if t != r.term && !r.skipCurrentTermCommit {
		return false
	}
	r.log.commitTo(mci)
	r.commitPending = true
	if t == r.term && !r.committedInTerm {
		r.committedInTerm = true
		r.startWaitingReads()
	}
	r.afterCommit()
	return true
}

// sortIndexes sorts a handful of indexes (one per voter) in place, ascending.
func sortIndexes(xs []Index) {
	for i := 1; i < len(xs); i++ {
		for j := i; j > 0 && xs[j] < xs[j-1]; j-- {
			xs[j], xs[j-1] = xs[j-1], xs[j]
		}
	}
}

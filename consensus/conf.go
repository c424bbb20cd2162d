package consensus

import (
	"fmt"
	"slices"

	"go.uber.org/zap"
)

// loadMembership finds the membership in effect at start: the newest
// membership entry in the stored log, else the stored snapshot's, else the
// initial voters.
func (r *Raft) loadMembership(initial []NodeID) error {
	snap, err := r.log.storage.Snapshot()
	if err != nil {
		return fmt.Errorf("consensus: storage snapshot: %w", err)
	}
	if snap.IsEmpty() {
		r.conf.reset(Membership{Voters: slices.Sorted(slices.Values(initial))}, 0)
	} else {
		m := snap.Membership().Clone()
		slices.Sort(m.Voters)
		slices.Sort(m.Outgoing)
		slices.Sort(m.Learners)
		r.conf.reset(m, snap.Index)
	}
	first, err := r.log.firstIndex()
	if err != nil {
		return err
	}
	for lo, last := first, r.log.lastIndex(); lo <= last; {
		ents, err := r.log.slice(lo, last+1, CommittedBytesMax)
		if err != nil {
			return fmt.Errorf("consensus: reading the log for membership entries: %w", err)
		}
		for i := range ents {
			if ents[i].Type != EntryConfChange {
				continue
			}
			m, err := DecodeMembership(ents[i].Data)
			if err != nil {
				return fmt.Errorf("consensus: stored entry %d: %w", ents[i].Index, err)
			}
			r.conf.add(ents[i].Index, m, r.log.committed)
		}
		lo = ents[len(ents)-1].Index + 1
	}
	r.membershipChanged()
	return nil
}

// membership is the membership in effect.
func (r *Raft) membership() *Membership {
	m, _ := r.conf.current()
	return m
}

// Membership returns a copy of the membership in effect (the newest in the
// log, committed or not) and the index of its entry.
func (r *Raft) Membership() (Membership, Index) {
	m, i := r.conf.current()
	return m.Clone(), i
}

// promotable reports whether this node may campaign: it votes in the
// membership in effect, or in the newest committed one. The second keeps a
// leader that removed itself from deadlocking the cluster when it loses the
// leadership after appending C_new and before C_new commits: it no longer
// votes in C_new, while the other voters, still in C_old,new, need its
// vote, which it refuses them as long as its log (holding C_new) is
// longer. It campaigns instead, commits C_new and hands over (§6).
func (r *Raft) promotable() bool {
	return r.membership().IsVoter(r.id) || r.conf.committed(r.log.committed).IsVoter(r.id)
}

// soleVoter reports whether this node alone makes every majority.
func (r *Raft) soleVoter() bool {
	m := r.membership()
	return !m.Joint() && len(m.Voters) == 1 && m.Voters[0] == r.id
}

// hasQuorum reports whether yes holds for a majority of the voters (of each
// half of a joint configuration).
func (r *Raft) hasQuorum(yes func(NodeID) bool) bool {
	m := r.membership()
	return majority(m.Voters, yes) && majority(m.Outgoing, yes)
}

// quorumIndex returns the highest value a quorum has reached (in each half
// of a joint configuration).
func (r *Raft) quorumIndex(value func(NodeID) uint64) uint64 {
	m := r.membership()
	var a, b uint64
	a, r.matchBuf = quorumValue(m.Voters, value, r.matchBuf)
	b, r.matchBuf = quorumValue(m.Outgoing, value, r.matchBuf)
	return min(a, b)
}

// appendLog appends entries received from the leader (or created by this
// leader) to the log, replacing everything from ents[0].Index on, and
// switches to the newest membership they leave in the log (§6: a node uses
// the newest membership in its log, committed or not; one truncated away
// no longer counts). Membership entries were validated with the message.
func (r *Raft) appendLog(ents []Entry) {
	if len(ents) == 0 {
		return
	}
	r.log.append(ents)
	_, before := r.conf.current()
	r.conf.truncateFrom(ents[0].Index)
	changed := before >= ents[0].Index
	for i := range ents {
		if ents[i].Type != EntryConfChange {
			continue
		}
		m, err := DecodeMembership(ents[i].Data)
		assertf(err == nil, "membership entry %d passed validation but does not decode: %v", ents[i].Index, err)
		r.conf.add(ents[i].Index, m, r.log.committed)
		changed = true
	}
	if changed {
		r.membershipChanged()
	}
}

// restoreMembership makes the snapshot's membership the one in effect.
func (r *Raft) restoreMembership(s *SnapshotMeta) {
	r.conf.reset(s.Membership().Clone(), s.Index)
	r.membershipChanged()
}

// membershipChanged follows a new membership: the member list, and on a
// leader the progress of members that joined or left.
func (r *Raft) membershipChanged() {
	m := r.membership()
	r.members = m.Members()
	if r.logger != nil {
		_, i := r.conf.current()
		r.logger.Info("membership", zap.Stringer("membership", m), zap.Uint64("conf_index", uint64(i)))
	}
	if r.role != RoleLeader {
		return
	}
	last := r.log.lastIndex()
	for _, id := range r.members {
		if _, ok := r.prs[id]; !ok {
			r.prs[id] = &progress{next: last + 1, inflights: newInflights(r.maxInflight), ticksSinceHeard: r.electionTicks}
		}
	}
	for id := range r.prs {
		if id != r.id && !m.IsMember(id) {
			delete(r.prs, id)
		}
	}
	if r.leadTransferee != None && !m.IsVoter(r.leadTransferee) {
		r.abortTransfer("target is no longer a voter")
	}
}

// ProposeConfChange starts membership change cc on the leader and returns
// the index and term of its first entry. A learner is added or removed in
// one entry; a voter is promoted or removed through the joint configuration:
// the leader appends C_old,new and, once that is committed, C_new on its
// own. The change is finished when Status().ConfPending is false. A second
// change before then returns ErrConfChangePending.
func (r *Raft) ProposeConfChange(cc ConfChange) (Index, Term, error) {
	if r.role != RoleLeader {
		return 0, 0, ErrNotLeader
	}
	if r.leadTransferee != None {
		return 0, 0, fmt.Errorf("%w: leadership transfer to %d in progress", ErrProposalDropped, r.leadTransferee)
	}
	cur, confIndex := r.conf.current()
	if confIndex > r.log.committed || cur.Joint() {
		return 0, 0, fmt.Errorf("%w: the entry at %d (%s) is not finished (commit %d)", ErrConfChangePending, confIndex, cur, r.log.committed)
	}
	if !r.committedInTerm {
		// An earlier leader's membership entry may still be uncommitted in
		// the log behind our no-op: one change at a time covers it too.
		return 0, 0, fmt.Errorf("%w: this leader has not committed an entry of its term yet", ErrConfChangePending)
	}
	next, err := cc.next(cur, r.caughtUp)
	if err != nil {
		return 0, 0, err
	}
	e := r.appendConf(next)
	r.logger.Info("membership change proposed", zap.Stringer("op", cc.Op), zap.Uint64("node", uint64(cc.Node)),
		zap.Uint64("index", uint64(e.Index)), zap.Stringer("membership", &next))
	r.checkInvariants()
	return e.Index, e.Term, nil
}

// caughtUp says whether learner id is close enough to the leader's log to
// become a voter.
func (r *Raft) caughtUp(id NodeID) error {
	pr := r.prs[id]
	if lag := r.log.lastIndex() - pr.match; lag > PromoteLagEntriesMax || pr.state != stateReplicate {
		return fmt.Errorf("%w: learner %d is %d entries behind (%s), max %d", ErrInvalidConfChange, id, lag, pr.state, PromoteLagEntriesMax)
	}
	return nil
}

// appendConf appends a membership entry on the leader.
func (r *Raft) appendConf(m Membership) Entry {
	e := Entry{Index: r.log.lastIndex() + 1, Term: r.term, Type: EntryConfChange, Data: EncodeMembership(m)}
	r.appendEntry(e)
	r.appendPending = true
	return e
}

// afterCommit finishes a membership change on the leader once its entry is
// committed: a committed joint configuration is left by appending C_new; a
// committed C_new that no longer has this node as a voter makes it hand over
// to the most up-to-date voter and step down (§6).
func (r *Raft) afterCommit() {
	m, confIndex := r.conf.current()
	r.conf.fold(r.log.committed)
	if r.role != RoleLeader || confIndex > r.log.committed {
		return
	}
	if m.Joint() {
		next := Membership{Voters: m.Voters, Learners: m.Learners, Context: m.Context}.Clone()
		e := r.appendConf(next)
		r.logger.Info("leaving the joint membership", zap.Uint64("index", uint64(e.Index)), zap.Stringer("membership", &next))
		return
	}
	if m.IsVoter(r.id) {
		return
	}
	r.logger.Info("stepping down: removed from the membership", zap.Uint64("term", uint64(r.term)),
		zap.Uint64("conf_index", uint64(confIndex)))
	if to := r.bestTransferee(); to != None && r.prs[to].match == r.log.lastIndex() {
		r.send(Message{Type: MsgTimeoutNow, To: to})
	}
	r.becomeFollower(r.term, None)
}

// PeerProgress is a leader's view of how far a member's log matches its own.
type PeerProgress struct {
	Match   Index
	Learner bool
	// Replicating is false while the leader probes for where the logs
	// agree or sends a snapshot.
	Replicating bool
}

// Progress returns the leader's view of every member (itself included), or
// nil on a node that does not lead.
func (r *Raft) Progress() map[NodeID]PeerProgress {
	if r.role != RoleLeader {
		return nil
	}
	m := r.membership()
	out := make(map[NodeID]PeerProgress, len(r.prs))
	for id, pr := range r.prs {
		out[id] = PeerProgress{Match: pr.match, Learner: m.IsLearner(id), Replicating: pr.state == stateReplicate}
	}
	return out
}

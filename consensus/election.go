package consensus

import (
	"slices"

	"go.uber.org/zap"
)

// inLease reports whether this node heard from a live leader within the
// minimum election timeout (a leader always is, until CheckQuorum deposes it):
// such a node ignores vote requests.
func (r *Raft) inLease() bool {
	return r.lead != None && r.electionElapsed < r.electionTicks
}

// tickElection runs a follower's or candidate's election timer: when it
// fires, the node starts a pre-vote campaign.
func (r *Raft) tickElection() {
	r.electionElapsed++
	if r.electionElapsed >= r.randomizedElectionTimeout {
		r.electionElapsed = 0
		if r.promotable() {
			r.timeoutCampaigns++
			r.campaign(true)
			if r.leaderLost && r.role != RoleLeader {
				// The leader is known to be gone: a split or refused
				// campaign is retried as soon as the first one was.
				r.campaignSoon()
			}
			return
		}
		// Silent for a whole election timeout: the leader's lease is over
		// here too, though this node (a learner, or a voter promoted by an
		// entry it lacks) may not campaign. Remembering the leader would
		// restart the lease every timeout and keep this node ignoring the
		// vote requests that a candidate may need from it.
		r.lead = None
	}
}

// tickLeader runs the leader's heartbeat timer and its CheckQuorum window.
func (r *Raft) tickLeader() {
	r.heartbeatElapsed++
	r.electionElapsed++
	r.tickTransfer()
	for _, id := range r.members {
		if pr := r.prs[id]; id != r.id && pr.ticksSinceHeard < r.electionTicks {
			pr.ticksSinceHeard++
		}
	}
	if r.electionElapsed >= r.electionTicks {
		r.electionElapsed = 0
		if !r.checkQuorum() {
			r.logger.Info("stepping down: no quorum heard within the election timeout",
				zap.Uint64("term", uint64(r.term)))
			r.becomeFollower(r.term, None)
			return
		}
	}
	if r.heartbeatElapsed >= r.heartbeatTicks {
		r.heartbeatElapsed = 0
		r.bcastHeartbeat()
	}
}

// checkQuorum closes a CheckQuorum window: it reports whether a quorum
// (counting the leader) was heard from in it, and opens the next one.
func (r *Raft) checkQuorum() bool {
	ok := r.hasQuorum(func(id NodeID) bool { return id == r.id || r.prs[id].recentActive })
	for _, pr := range r.prs {
		pr.recentActive = false
	}
	return ok
}

// quorumActive reports whether this node leads and heard from a quorum
// (itself included) within the last election timeout.
func (r *Raft) quorumActive() bool {
	if r.role != RoleLeader {
		return false
	}
	return r.hasQuorum(func(id NodeID) bool { return id == r.id || r.prs[id].ticksSinceHeard < r.electionTicks })
}

// reset moves to term (clearing the vote only if the term rises) and clears
// the volatile state of the previous role.
func (r *Raft) reset(term Term) {
	assertf(term >= r.term, "term decreasing from %d to %d", r.term, term)
	if term != r.term {
		r.term = term
		r.vote = None
	}
	r.lead = None
	r.electionElapsed = 0
	r.heartbeatElapsed = 0
	r.randomizedElectionTimeout = r.electionTicks + r.rand.IntN(r.electionTicks)
	clear(r.votes)
	r.prs = nil
	r.reads.reset()
	r.uncommittedBytes = 0
	r.committedInTerm = false
	r.appendPending = false
	r.commitPending = false
	r.leadTransferee = None
	r.transferElapsed = 0
}

// becomeFollower follows lead (None when unknown) in term.
func (r *Raft) becomeFollower(term Term, lead NodeID) {
	from := r.role
	r.reset(term)
	r.role = RoleFollower
	r.lead = lead
	if lead != None {
		r.leaderLost = false
	}
	if from != RoleFollower {
		r.logger.Info("became follower", zap.Uint64("term", uint64(term)),
			zap.Uint64("lead", uint64(lead)), zap.Stringer("from_role", from))
	}
}

// becomePreCandidate starts polling for a pre-vote; term and vote stay put.
func (r *Raft) becomePreCandidate() {
	assertf(r.role != RoleLeader, "leader becoming pre-candidate at term %d", r.term)
	r.reset(r.term)
	r.role = RolePreCandidate
	r.logger.Info("became pre-candidate", zap.Uint64("term", uint64(r.term)))
}

// becomeCandidate raises the term and votes for itself.
func (r *Raft) becomeCandidate() {
	assertf(r.role != RoleLeader, "leader becoming candidate at term %d", r.term)
	r.reset(r.term + 1)
	r.vote = r.id
	r.role = RoleCandidate
	r.logger.Info("became candidate", zap.Uint64("term", uint64(r.term)))
}

// becomeLeader takes the lead in the current term and appends the no-op entry
// that lets it commit entries of earlier terms (§5.4.2).
func (r *Raft) becomeLeader() {
	assertf(r.role == RoleCandidate, "becoming leader from %s at term %d", r.role, r.term)
	// Voters that granted their vote were just heard from.
	heard := make(map[NodeID]bool, len(r.votes))
	for id, granted := range r.votes {
		heard[id] = granted
	}
	r.reset(r.term)
	r.role = RoleLeader
	r.lead = r.id
	r.leaderLost = false
	last := r.log.lastIndex()
	r.prs = make(map[NodeID]*progress, len(r.members)+1)
	for _, id := range r.membersAndSelf() {
		pr := &progress{next: last + 1, inflights: newInflights(r.maxInflight), ticksSinceHeard: r.electionTicks}
		if heard[id] {
			pr.ticksSinceHeard = 0
		}
		if id == r.id {
			// Only what is on disk counts towards our own match (see Advance).
			pr.match = r.log.stableLastIndex()
			pr.state = stateReplicate
		}
		r.prs[id] = pr
	}
	r.logger.Info("became leader", zap.Uint64("term", uint64(r.term)), zap.Uint64("last_index", uint64(last)))
	r.appendEntry(Entry{Index: last + 1, Term: r.term, Type: EntryNoop})
	r.bcastAppend(false)
}

// campaign starts a pre-vote (pre) or a real election.
func (r *Raft) campaign(pre bool) {
	if pre {
		r.becomePreCandidate()
		r.requestVotes(MsgPreVote, r.term+1, nil)
		return
	}
	r.campaignNow(false)
}

// campaignNow starts a real election; transfer marks the vote requests as a
// leadership transfer's.
func (r *Raft) campaignNow(transfer bool) {
	r.becomeCandidate()
	var ctx []byte
	if transfer {
		ctx = transferContext
	}
	r.requestVotes(MsgVote, r.term, ctx)
}

// requestVotes votes for ourselves and asks every other voter of the
// membership (both halves of a joint one) for its (pre-)vote at term.
func (r *Raft) requestVotes(typ MessageType, term Term, ctx []byte) {
	if r.poll(r.id, true) {
		return
	}
	lastTerm, err := r.log.lastTerm()
	if err != nil {
		r.logger.Error("campaign: reading the last term failed", zap.Error(err))
		return
	}
	last := r.log.lastIndex()
	m := r.membership()
	for _, id := range r.members {
		if id != r.id && m.IsVoter(id) {
			r.send(Message{Type: typ, To: id, Term: term, Index: last, LogTerm: lastTerm, Context: ctx})
		}
	}
}

// membersAndSelf is the members plus this node (a leader leaving the
// cluster keeps its own progress), sorted.
func (r *Raft) membersAndSelf() []NodeID {
	if _, ok := slices.BinarySearch(r.members, r.id); ok {
		return r.members
	}
	return sortedWith(r.members, r.id)
}

// poll records id's answer in the current campaign and acts on the outcome:
// a won pre-vote starts the election, a won election makes us leader, a lost
// one makes us follower. It reports whether the campaign ended.
func (r *Raft) poll(id NodeID, granted bool) bool {
	if _, ok := r.votes[id]; !ok {
		r.votes[id] = granted
	}
	switch {
	case r.hasQuorum(func(id NodeID) bool { v, ok := r.votes[id]; return ok && v }):
		if r.role == RolePreCandidate {
			r.campaign(false)
		} else {
			r.becomeLeader()
		}
		return true
	case !r.hasQuorum(func(id NodeID) bool { v, ok := r.votes[id]; return !ok || v }):
		// A majority of one half said no: the election is lost.
		r.becomeFollower(r.term, None)
		return true
	}
	return false
}

// stepCandidate handles a current-term message on a (pre-)candidate.
func (r *Raft) stepCandidate(m Message) error {
	switch m.Type {
	case MsgApp:
		// A leader of our term (or, for a pre-candidate, of the term we hold).
		r.becomeFollower(m.Term, m.From)
		return r.handleAppend(m)
	case MsgHeartbeat:
		r.becomeFollower(m.Term, m.From)
		r.handleHeartbeat(m)
	case MsgSnap:
		r.becomeFollower(m.Term, m.From)
		return r.handleSnapshot(m)
	case MsgVoteResp:
		if r.role == RoleCandidate {
			r.poll(m.From, !m.Reject)
		}
	case MsgPreVoteResp:
		// A grant carries the term we asked for; a rejection, the voter's
		// term, which is ours here (higher ones made us follower).
		if r.role == RolePreCandidate && (m.Reject || m.Term == r.term+1) {
			r.poll(m.From, !m.Reject)
		}
	}
	return nil
}

// handleVoteRequest answers MsgVote and MsgPreVote (§5.2, §5.4.1, pre-vote).
func (r *Raft) handleVoteRequest(m Message) error {
	canVote := r.vote == m.From ||
		(r.vote == None && r.lead == None) ||
		(m.Type == MsgPreVote && m.Term > r.term)
	upToDate := r.skipUpToDateCheck
	if !upToDate {
		var err error
		if upToDate, err = r.log.isUpToDate(m.Index, m.LogTerm); err != nil {
			return err
		}
	}
	respType := MsgVoteResp
	if m.Type == MsgPreVote {
		respType = MsgPreVoteResp
	}
	if !canVote || !upToDate {
		r.send(Message{Type: respType, To: m.From, Term: r.term, Reject: true})
		return nil
	}
	if m.Type == MsgVote {
		assertf(r.vote == None || r.vote == m.From, "voting for %d in term %d after voting for %d", m.From, r.term, r.vote)
		// Granting a vote resets the timer; a pre-vote changes nothing here
		// (hashicorp/raft#609).
		r.electionElapsed = 0
		r.vote = m.From
	}
	r.send(Message{Type: respType, To: m.From, Term: m.Term})
	return nil
}

// ForgetLeader tells a follower that its leader is gone: the transport saw
// the leader's connection reset and reconnecting refused (DESIGN §3.2, fast
// failover). The follower stops honouring the leader's lease, so it grants
// pre-votes again, and it campaigns after a short randomized delay of
// [HeartbeatTicks, HeartbeatTicks+ElectionTicks/2) ticks instead of a full
// election timeout of [ElectionTicks, 2*ElectionTicks). The spread keeps the
// followers that all saw the crash from campaigning in the same tick.
// A live leader's next MsgApp or heartbeat undoes it, and pre-vote still keeps
// a mistaken call from deposing a healthy leader: timing never decides
// safety. It does nothing on a node that is not a follower or knows no leader.
func (r *Raft) ForgetLeader() {
	if r.role != RoleFollower || r.lead == None {
		return
	}
	r.logger.Info("forgetting the leader", zap.Uint64("term", uint64(r.term)), zap.Uint64("lead", uint64(r.lead)))
	r.lead = None
	r.leaderLost = true
	r.campaignSoon()
}

// campaignSoon brings the next campaign forward to a short randomized delay
// of [HeartbeatTicks, HeartbeatTicks+ElectionTicks/2) ticks, never later
// than the one already due.
func (r *Raft) campaignSoon() {
	delay := r.heartbeatTicks + r.rand.IntN(max(1, r.electionTicks/2))
	r.electionElapsed = max(r.electionElapsed, r.randomizedElectionTimeout-delay)
}

package consensus

import (
	"bytes"
	"errors"
	"fmt"

	"go.uber.org/zap"
)

// ErrInvalidTransfer is returned by TransferLeadership for a target that
// cannot take over: not a voter, this node itself, or no voter at all.
var ErrInvalidTransfer = errors.New("consensus: invalid leadership transfer")

// transferContext marks the vote requests of a campaign that a MsgTimeoutNow
// started: voters answer them even while they hear from the old leader.
var transferContext = []byte("transfer")

// isTransferVote reports whether m is a vote request of a leadership transfer.
func isTransferVote(m Message) bool {
	return m.Type == MsgVote && bytes.Equal(m.Context, transferContext)
}

// TransferLeadership hands the leadership to voter to, or with None to the
// voter whose log matches the leader's furthest. The leader refuses new
// proposals, brings the target's log up to date, then sends it MsgTimeoutNow
// so it campaigns at once; the target's higher term deposes this leader. If
// the target has not taken over within an election timeout the transfer is
// abandoned and proposals are accepted again. A transfer already under way
// to the same target is left running; one to another target replaces it.
func (r *Raft) TransferLeadership(to NodeID) error {
	if r.role != RoleLeader {
		return ErrNotLeader
	}
	if to == None {
		if to = r.bestTransferee(); to == None {
			return fmt.Errorf("%w: no other voter", ErrInvalidTransfer)
		}
	}
	switch {
	case to == r.id:
		return fmt.Errorf("%w: node %d already leads", ErrInvalidTransfer, to)
	case !r.membership().IsVoter(to):
		return fmt.Errorf("%w: node %d is not a voter (%s)", ErrInvalidTransfer, to, r.membership())
	}
	if r.leadTransferee == to {
		return nil
	}
	r.leadTransferee = to
	r.transferElapsed = 0
	r.logger.Info("transferring leadership", zap.Uint64("term", uint64(r.term)), zap.Uint64("to", uint64(to)))
	r.maybeSendTimeoutNow(to)
	r.checkInvariants()
	return nil
}

// bestTransferee is the voter other than this node whose log matches the
// leader's furthest (the lowest id among equals), or None.
func (r *Raft) bestTransferee() NodeID {
	best, bestMatch := None, Index(0)
	m := r.membership()
	for _, id := range r.members {
		if id == r.id || !m.IsVoter(id) {
			continue
		}
		if pr := r.prs[id]; best == None || pr.match > bestMatch {
			best, bestMatch = id, pr.match
		}
	}
	return best
}

// maybeSendTimeoutNow sends the transfer target MsgTimeoutNow once its log
// matches the leader's, and otherwise sends it what it lacks.
func (r *Raft) maybeSendTimeoutNow(to NodeID) {
	pr := r.prs[to]
	if pr.match == r.log.lastIndex() {
		r.send(Message{Type: MsgTimeoutNow, To: to})
		return
	}
	r.sendAppends(to, true)
}

// abortTransfer gives up the transfer under way.
func (r *Raft) abortTransfer(why string) {
	r.logger.Info("leadership transfer abandoned", zap.Uint64("term", uint64(r.term)),
		zap.Uint64("to", uint64(r.leadTransferee)), zap.String("reason", why))
	r.leadTransferee = None
	r.transferElapsed = 0
}

// tickTransfer abandons a transfer that took longer than an election timeout.
func (r *Raft) tickTransfer() {
	if r.leadTransferee == None {
		return
	}
	r.transferElapsed++
	if r.transferElapsed >= r.electionTicks {
		r.abortTransfer("the target did not take over within an election timeout")
	}
}

// handleTimeoutNow starts the campaign a leadership transfer asked for: at
// once, without pre-vote (the leader vouched for our log), and with vote
// requests that voters answer despite leader stickiness. A node that is not
// a voter ignores it.
func (r *Raft) handleTimeoutNow(m Message) {
	if !r.promotable() {
		r.logger.Info("ignoring MsgTimeoutNow: not a voter", zap.Uint64("from", uint64(m.From)))
		return
	}
	r.logger.Info("campaigning at the leader's request", zap.Uint64("term", uint64(r.term)), zap.Uint64("from", uint64(m.From)))
	r.transferCampaigns++
	r.campaignNow(true)
}

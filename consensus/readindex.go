package consensus

import (
	"encoding/binary"
	"fmt"
)

// readRequest is a ReadIndex request a leader holds until a quorum confirmed
// its leadership after the request arrived.
type readRequest struct {
	// from is the node that asked: the leader itself or a follower.
	from NodeID
	ctx  []byte
	// index is the commit index when confirmation started; seq numbers the
	// confirmation round (heartbeat context) that covers the request.
	index Index
	seq   uint64
}

// readQueue holds a leader's pending reads. Reads arrive in waiting until the
// leader has committed an entry of its term (before that its commit index may
// trail what earlier leaders committed), then move to pending, where a
// heartbeat round numbered seq confirms them.
type readQueue struct {
	waiting []readRequest
	// pending is ordered by seq. Invariant: seqs in pending increase.
	pending []readRequest
	// lastSeq is the newest confirmation round; it only grows, over every
	// term, so a context can never be mistaken for an older one.
	lastSeq uint64
	// roundOpen says round lastSeq has reads but its heartbeats have not
	// gone out: reads arriving before the next Ready join it, so a burst of
	// reads costs one heartbeat round.
	roundOpen bool
}

// len is the number of reads held.
func (q *readQueue) len() int { return len(q.waiting) + len(q.pending) }

// reset drops every held read (leadership lost: the driver times them out).
func (q *readQueue) reset() {
	q.waiting = nil
	q.pending = nil
	q.roundOpen = false
}

// sentSeq is the newest round whose heartbeats went out.
func (q *readQueue) sentSeq() uint64 {
	if q.roundOpen {
		return q.lastSeq - 1
	}
	return q.lastSeq
}

// heartbeatContext is the context of the newest pending round, or nil.
// Heartbeats sent for any reason carry it, so a lost round is retried.
func (q *readQueue) heartbeatContext() []byte {
	if len(q.pending) == 0 {
		return nil
	}
	return encodeReadSeq(q.pending[len(q.pending)-1].seq)
}

func encodeReadSeq(seq uint64) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, readContextBytes), seq)
}

// ReadIndex requests a linearizable read; a ReadState with the same rctx
// appears in a later Ready once leadership is confirmed by a quorum. On a
// follower the request goes to the leader (ErrNoLeader when none is known).
// A leader that has not yet committed an entry of its term queues the
// request until it has. Requests beyond PendingReadsMax are refused with
// ErrProposalDropped; requests held when leadership is lost are dropped
// silently, so the caller must time out.
func (r *Raft) ReadIndex(rctx []byte) error {
	if r.role == RoleLeader {
		err := r.leaderRead(r.id, rctx)
		r.checkInvariants()
		return err
	}
	if r.lead == None {
		return ErrNoLeader
	}
	r.send(Message{Type: MsgReadIndex, To: r.lead, Context: rctx})
	return nil
}

// leaderRead queues a read for from (the leader itself or a follower).
func (r *Raft) leaderRead(from NodeID, rctx []byte) error {
	if n := r.reads.len(); n >= PendingReadsMax {
		return fmt.Errorf("%w: %d reads pending, max %d", ErrProposalDropped, n, PendingReadsMax)
	}
	req := readRequest{from: from, ctx: rctx}
	if !r.committedInTerm {
		r.reads.waiting = append(r.reads.waiting, req)
		return nil
	}
	r.startReads(req)
	return nil
}

// startWaitingReads starts confirming the reads that waited for the first
// commit of the leader's term.
func (r *Raft) startWaitingReads() {
	if len(r.reads.waiting) == 0 {
		return
	}
	waiting := r.reads.waiting
	r.reads.waiting = nil
	r.startReads(waiting...)
}

// startReads fixes the read index of reqs at the current commit index and
// puts them in the open confirmation round, whose heartbeats the next Ready
// sends (a one-node cluster answers at once).
func (r *Raft) startReads(reqs ...readRequest) {
	assertf(r.committedInTerm, "starting reads before committing in term %d", r.term)
	if r.soleVoter() {
		for _, req := range reqs {
			req.index = r.log.committed
			r.answerRead(req)
		}
		return
	}
	if !r.reads.roundOpen {
		r.reads.lastSeq++
		r.reads.roundOpen = true
	}
	for _, req := range reqs {
		req.index = r.log.committed
		req.seq = r.reads.lastSeq
		r.reads.pending = append(r.reads.pending, req)
	}
}

// flushReadRound sends the heartbeats of the open confirmation round.
func (r *Raft) flushReadRound() {
	if r.role != RoleLeader || !r.reads.roundOpen {
		return
	}
	r.bcastHeartbeat()
}

// ackRead counts a heartbeat response echoing ctx towards the pending reads
// and answers every read a quorum has now confirmed.
func (r *Raft) ackRead(pr *progress, ctx []byte) {
	if len(ctx) != readContextBytes || len(r.reads.pending) == 0 {
		return
	}
	seq := binary.BigEndian.Uint64(ctx)
	if seq <= pr.readSeqAcked || seq > r.reads.sentSeq() {
		return
	}
	pr.readSeqAcked = seq
	// The quorum-th highest acknowledged round, counting the leader as
	// having acknowledged every round: all rounds up to it are confirmed.
	// (matchBuf is only scratch space here: the values are round numbers.)
	confirmed := r.quorumIndex(func(id NodeID) uint64 {
		if id == r.id {
			return r.reads.lastSeq
		}
		return r.prs[id].readSeqAcked
	})
	n := 0
	for n < len(r.reads.pending) && r.reads.pending[n].seq <= confirmed {
		r.answerRead(r.reads.pending[n])
		n++
	}
	if n > 0 {
		r.reads.pending = append(r.reads.pending[:0:0], r.reads.pending[n:]...)
	}
}

// answerRead hands a confirmed read to its requester.
func (r *Raft) answerRead(req readRequest) {
	if req.from == r.id {
		r.readStates = append(r.readStates, ReadState{Index: req.index, RequestCtx: req.ctx})
		return
	}
	r.send(Message{Type: MsgReadIndexResp, To: req.from, Index: req.index, Context: req.ctx})
}

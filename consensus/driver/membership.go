package driver

import (
	"context"
	"errors"
	"fmt"

	"go.uber.org/zap"

	"github.com/raftlock/raftlock/consensus"
)

// ErrTransferFailed is returned by TransferLeadership when the leadership
// did not move: the target did not take over within an election timeout, or
// this node lost the leadership to another node than the target.
var ErrTransferFailed = errors.New("driver: leadership transfer failed")

// ErrRemoved is returned to the proposals a node had made when it applies a
// membership that no longer lists it: they may or may not have committed,
// and this node will not apply any entry after its removal to tell. A retry
// on a member, with the same request id, is safe.
var ErrRemoved = errors.New("driver: this node was removed from the membership")

// AppliedMembership is the membership the node has applied: the newest
// membership entry at or below the applied index (or the snapshot's, or the
// initial voters).
type AppliedMembership struct {
	consensus.Membership
	// Index is the index of its entry (0 for the initial voters).
	Index consensus.Index
}

// loopOp is work that must run on the node loop, with the core.
type loopOp func(r *consensus.Raft)

// do runs op on the loop and waits until it ran.
func (n *Node) do(ctx context.Context, op loopOp) error {
	done := make(chan struct{})
	wrapped := func(r *consensus.Raft) {
		defer close(done)
		op(r)
	}
	select {
	case n.ops <- wrapped:
	case <-ctx.Done():
		return ctx.Err()
	case <-n.stopped:
		return ErrStopped
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-n.stopped:
		select {
		case <-done:
			return nil
		default:
			return ErrStopped
		}
	}
}

// Membership returns the membership the node has applied.
func (n *Node) Membership() AppliedMembership {
	return *n.membership.Load()
}

// setMembership records m, applied at index, and tells the application.
func (n *Node) setMembership(m consensus.Membership, index consensus.Index) {
	n.membership.Store(&AppliedMembership{Membership: m.Clone(), Index: index})
	n.log.Info("membership applied", zap.Uint64("index", uint64(index)), zap.Stringer("membership", m))
	n.failPendingIfRemoved(m, index)
	if n.cfg.OnMembership != nil {
		n.cfg.OnMembership(index, m)
	}
	n.mu.Lock()
	close(n.membershipCh)
	n.membershipCh = make(chan struct{})
	n.mu.Unlock()
}

// applyMembership applies a committed membership entry. Its data passed
// validation when it entered the log.
func (n *Node) applyMembership(e *consensus.Entry) {
	m, err := consensus.DecodeMembership(e.Data)
	if err != nil {
		// The core refuses such entries from peers and at start: a bug.
		assertf(false, "applying membership entry %d: %v", e.Index, err)
	}
	n.setMembership(m, e.Index)
}

// ProposeConfChange starts membership change cc on the leader and returns
// once it is finished: its entry is applied here and, for a change of
// voters, the joint configuration it went through was left (the leader
// appends C_new by itself). consensus.ErrConfChangePending and
// consensus.ErrInvalidConfChange say why a change was refused;
// consensus.ErrNotLeader that this node does not lead.
func (n *Node) ProposeConfChange(ctx context.Context, cc consensus.ConfChange) (consensus.Index, error) {
	fut := newFuture()
	var index consensus.Index
	var proposeErr error
	err := n.do(ctx, func(r *consensus.Raft) {
		var term consensus.Term
		if index, term, proposeErr = r.ProposeConfChange(cc); proposeErr == nil {
			n.trackProposal(index, term, fut)
		}
	})
	if err == nil {
		err = proposeErr
	}
	if err != nil {
		return 0, err
	}
	if _, err := n.await(ctx, fut); err != nil {
		return index, err
	}
	for {
		n.mu.Lock()
		ch := n.membershipCh
		n.mu.Unlock()
		if m := n.Membership(); m.Index >= index && !m.Joint() {
			return index, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return index, ctx.Err()
		case <-n.stopped:
			return index, ErrStopped
		}
	}
}

// TransferLeadership hands the leadership to voter to (None: the most
// up-to-date voter) and returns the new leader once this node learned it.
func (n *Node) TransferLeadership(ctx context.Context, to consensus.NodeID) (consensus.NodeID, error) {
	var terr error
	if err := n.do(ctx, func(r *consensus.Raft) { terr = r.TransferLeadership(to) }); err != nil {
		return consensus.None, err
	}
	if terr != nil {
		return consensus.None, terr
	}
	// The published status may predate the transfer: it failed only once
	// it was seen under way and then ended with this node still leading.
	seen := false
	for {
		ch := n.LeaderChanged()
		st := n.Status()
		seen = seen || st.LeadTransferee != consensus.None
		switch {
		case st.Lead != consensus.None && st.Lead != n.cfg.ID:
			if to != consensus.None && st.Lead != to {
				return st.Lead, fmt.Errorf("%w: node %d took over, not %d", ErrTransferFailed, st.Lead, to)
			}
			return st.Lead, nil
		case seen && st.Role == consensus.RoleLeader && st.LeadTransferee == consensus.None:
			return n.cfg.ID, fmt.Errorf("%w: the target did not take over within an election timeout", ErrTransferFailed)
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return consensus.None, ctx.Err()
		case <-n.stopped:
			return consensus.None, ErrStopped
		}
	}
}

// Progress returns the leader's view of every member's log, or nil on a
// node that does not lead.
func (n *Node) Progress(ctx context.Context) (map[consensus.NodeID]consensus.PeerProgress, error) {
	var out map[consensus.NodeID]consensus.PeerProgress
	err := n.do(ctx, func(r *consensus.Raft) { out = r.Progress() })
	return out, err
}

// failPendingIfRemoved fails the proposals after index when m no longer
// lists this node: the leader does not replicate to it any more, so no later
// entry will resolve them.
func (n *Node) failPendingIfRemoved(m consensus.Membership, index consensus.Index) {
	if len(m.Voters) == 0 || m.IsMember(n.cfg.ID) {
		return
	}
	for idx, p := range n.pending {
		if idx > index {
			delete(n.pending, idx)
			p.fut.resolve(nil, fmt.Errorf("proposal at %d: %w", idx, ErrRemoved))
		}
	}
}

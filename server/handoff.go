package server

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"

	"github.com/raftlock/raftlock/consensus"
)

// loadJoin adopts the join record of the data dir, if any: the cluster id
// and the member directory this node was given when it joined.
func (n *Node) loadJoin() error {
	rec, ok, err := readJoinRecord(n.cfg.DataDir)
	if err != nil || !ok {
		return err
	}
	members, err := joinedMembers(rec, n.cfg.peerScheme())
	if err != nil {
		return err
	}
	if _, ok := findMember(members, n.cfg.Name); !ok {
		return fmt.Errorf("server: %s names no member %s", JoinFileName, n.cfg.Name)
	}
	n.initial, n.clusterID, n.joined = members, rec.ClusterID, true
	return nil
}

// startDirectory sets the first member directory: the initial members, or
// the directory of the membership the driver loaded from a snapshot.
func (n *Node) startDirectory() {
	ids := make([]consensus.NodeID, 0, len(n.initial))
	for _, m := range n.initial {
		ids = append(ids, m.ID)
	}
	d := &memberDir{members: n.initial, membership: consensus.Membership{Voters: ids}}
	if n.joined {
		// Until it applies a membership, a joined node is a learner.
		var voters []consensus.NodeID
		for _, id := range ids {
			if id != n.self.ID {
				voters = append(voters, id)
			}
		}
		d.membership = consensus.Membership{Voters: voters, Learners: []consensus.NodeID{n.self.ID}}
	}
	n.dir.Store(d)
	if am := n.drv.Membership(); am.Index > 0 {
		n.applyDirectory(am.Index, am.Membership)
	}
}

// drainAnswers refuses new client requests while the node hands off its
// leadership at shutdown: no_leader, so the client retries elsewhere. It
// also answers no_leader, not too_many_requests, for a proposal the leader
// dropped because it is handing its leadership over (or already has): the
// request took no effect, and its retry belongs with the next leader.
func (n *Node) drainAnswers(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if n.draining.Load() {
			return fmt.Errorf("%w: %s is shutting down", consensus.ErrNoLeader, n.self.Name)
		}
		err := next(c)
		if err != nil && errors.Is(err, consensus.ErrProposalDropped) {
			if st := n.drv.Status(); st.LeadTransferee != consensus.None || st.Role != consensus.RoleLeader {
				return fmt.Errorf("%w: %s is handing over its leadership: %v", consensus.ErrNoLeader, n.self.Name, err)
			}
		}
		return err
	}
}

// HandOff prepares a graceful shutdown (SIGTERM): the node stops accepting
// new client requests and, if it leads, transfers the leadership to the
// most up-to-date voter, waiting at most TransferElectionTimeouts election
// timeouts, so the cluster goes on without an election timeout. Run's
// shutdown follows. It returns the transfer's error, if any; the shutdown
// goes on either way.
func (n *Node) HandOff(ctx context.Context) error {
	n.draining.Store(true)
	if n.drv.Status().Role != consensus.RoleLeader {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, TransferElectionTimeouts*n.cfg.ElectionTimeout)
	defer cancel()
	start := time.Now()
	lead, err := n.drv.TransferLeadership(ctx, consensus.None)
	if err != nil {
		if errors.Is(err, consensus.ErrInvalidTransfer) {
			// A sole voter has nobody to hand over to.
			return nil
		}
		return fmt.Errorf("server: hand off leadership: %w", err)
	}
	n.log.Info("leadership handed off", zap.Uint64("leader", uint64(lead)), zap.Duration("took", time.Since(start)))
	return nil
}

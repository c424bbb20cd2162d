package driver

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/raftlock/raftlock/consensus"
	"github.com/raftlock/raftlock/consensus/snapfile"
)

// join starts node id with an empty store and no voters.
func (c *cluster) join(id consensus.NodeID) {
	c.t.Helper()
	dir, err := snapfile.Open(c.t.TempDir(), nil)
	if err != nil {
		c.t.Fatal(err)
	}
	c.net.mu.Lock()
	c.net.dirs[id] = dir
	c.net.mu.Unlock()
	c.stores[id] = &memStore{MemoryStorage: consensus.NewMemoryStorage()}
	c.joiners[id] = true
	c.start(id)
}

// promote adds learner id as a voter, retrying while it catches up.
func (c *cluster) promote(ctx context.Context, lead, id consensus.NodeID) {
	c.t.Helper()
	for {
		_, err := c.nodes[lead].ProposeConfChange(ctx, consensus.ConfChange{Op: consensus.ConfPromote, Node: id})
		if err == nil {
			return
		}
		if !errors.Is(err, consensus.ErrInvalidConfChange) || ctx.Err() != nil {
			c.t.Fatalf("promote %d = %v; want nil", id, err)
		}
		select {
		case <-c.nodes[id].statusApplied():
		case <-ctx.Done():
		}
	}
}

// statusApplied returns a channel closed when n's applied index moves.
func (n *Node) statusApplied() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.appliedCh
}

func TestMembershipChangeThroughTheDriver(t *testing.T) {
	c := newSnapshotCluster(t, 3, 20, 5)
	lead := c.waitLeader(t, consensus.None)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for i := range 50 {
		if _, err := c.nodes[lead].Propose(ctx, []byte{byte(i)}); err != nil {
			t.Fatalf("Propose = %v; want nil", err)
		}
	}
	c.join(4)
	if _, err := c.nodes[lead].ProposeConfChange(ctx, consensus.ConfChange{Op: consensus.ConfAddLearner, Node: 4, Context: []byte("dir-1")}); err != nil {
		t.Fatalf("add learner 4 = %v; want nil", err)
	}
	c.promote(ctx, lead, 4)
	want := []consensus.NodeID{1, 2, 3, 4}
	for _, id := range want {
		if err := c.nodes[id].WaitApplied(ctx, c.nodes[lead].Status().Commit); err != nil {
			t.Fatalf("node %d WaitApplied = %v", id, err)
		}
		m := c.nodes[id].Membership()
		if !slices.Equal(m.Voters, want) || m.Joint() {
			t.Fatalf("node %d Membership() = %s; want voters %v", id, m.Membership, want)
		}
	}
	// Node 4 caught up by snapshot (the log was compacted past its start)
	// and its snapshot carried the membership with the context.
	if st := c.nodes[4].SnapshotStats(); st.Index == 0 {
		t.Fatalf("node 4 installed no snapshot; want one")
	}
	c.memMu.Lock()
	seen := slices.ContainsFunc(c.memberships[4], func(m consensus.Membership) bool { return string(m.Context) == "dir-1" })
	c.memMu.Unlock()
	if !seen {
		t.Fatalf("node 4 never applied a membership with context dir-1")
	}
	// Restarting node 4 (a joiner: no initial voters) keeps its membership.
	c.stop(t, 4)
	c.start(4)
	if err := c.nodes[4].WaitApplied(ctx, c.nodes[lead].Status().Commit); err != nil {
		t.Fatalf("restarted node 4 WaitApplied = %v", err)
	}
	if m := c.nodes[4].Membership(); !slices.Equal(m.Voters, want) {
		t.Fatalf("restarted node 4 Membership() = %s; want voters %v", m.Membership, want)
	}
}

func TestTransferLeadershipThroughTheDriver(t *testing.T) {
	c := newCluster(t, 3)
	lead := c.waitLeader(t, consensus.None)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	to := lead%3 + 1
	got, err := c.nodes[lead].TransferLeadership(ctx, to)
	if err != nil || got != to {
		t.Fatalf("TransferLeadership(%d) = %d, %v; want %d, nil", to, got, err, to)
	}
	if now := c.waitLeader(t, consensus.None); now != to {
		t.Fatalf("leader %d after the transfer; want %d", now, to)
	}
	// The new leader answers proposals.
	if _, err := c.nodes[to].Propose(ctx, []byte("after")); err != nil {
		t.Fatalf("Propose on the new leader = %v; want nil", err)
	}
	// A target that is down: the transfer fails after an election timeout
	// and the old leader leads on.
	other := to%3 + 1
	c.net.mu.Lock()
	c.net.down[other] = true
	c.net.mu.Unlock()
	if _, err := c.nodes[to].TransferLeadership(ctx, other); !errors.Is(err, ErrTransferFailed) {
		t.Fatalf("TransferLeadership to a down node = %v; want ErrTransferFailed", err)
	}
	if _, err := c.nodes[to].Propose(ctx, []byte("still")); err != nil {
		t.Fatalf("Propose after a failed transfer = %v; want nil", err)
	}
}

// A leader that removes itself answers every proposal it holds: those its
// removal left unresolvable fail with ErrRemoved instead of hanging.
func TestRemovedLeaderAnswersItsProposals(t *testing.T) {
	c := newCluster(t, 3)
	lead := c.waitLeader(t, consensus.None)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	const proposers = 16
	stop := make(chan struct{})
	errs := make(chan error, proposers)
	for i := range proposers {
		// Proposes until stop is closed; ends once its last proposal is
		// answered (or ctx ends).
		go func() {
			for {
				select {
				case <-stop:
					errs <- nil
					return
				default:
				}
				_, err := c.nodes[lead].Propose(ctx, []byte{byte(i)})
				if err != nil && !errors.Is(err, ErrRemoved) && !errors.Is(err, consensus.ErrNotLeader) && !errors.Is(err, consensus.ErrProposalDropped) {
					errs <- err
					return
				}
			}
		}()
	}
	if _, err := c.nodes[lead].ProposeConfChange(ctx, consensus.ConfChange{Op: consensus.ConfRemove, Node: lead}); err != nil {
		t.Fatalf("removing leader %d = %v; want nil", lead, err)
	}
	close(stop)
	for range proposers {
		if err := <-errs; err != nil {
			t.Fatalf("Propose on the removed leader = %v; want nil, ErrRemoved, ErrNotLeader or ErrProposalDropped (a context error: it never got an answer)", err)
		}
	}
}

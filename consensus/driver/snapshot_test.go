package driver

// These tests prove the driver's snapshot work on a three-node in-process
// cluster with a snapshot every few entries: the leader snapshots and compacts
// its log; a follower cut off past the compacted log catches up by a snapshot
// streamed from the leader's dir into its own and ends with the same state
// machine; a node restarted over a compacted log restores from its snapshot
// and the log after it.

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/raftlock/raftlock/consensus"
)

// proposeN proposes n distinct commands on the leader.
func (c *cluster) proposeN(ctx context.Context, lead consensus.NodeID, prefix string, n int) {
	c.t.Helper()
	for i := 0; i < n; i++ {
		if _, err := c.nodes[lead].Propose(ctx, []byte(fmt.Sprintf("%s%d", prefix, i))); err != nil {
			c.t.Fatalf("Propose(%s%d) = %v; want nil", prefix, i, err)
		}
	}
}

func TestFollowerCatchesUpBySnapshot(t *testing.T) {
	c := newSnapshotCluster(t, 3, 20, 5)
	lead := c.waitLeader(t, consensus.None)
	follower := lead%3 + 1
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c.net.mu.Lock()
	c.net.down[follower] = true
	c.net.mu.Unlock()
	c.proposeN(ctx, lead, "a", 200)
	first, _ := c.stores[lead].FirstIndex()
	if st := c.nodes[lead].SnapshotStats(); st.Taken == 0 || first <= 1 {
		t.Fatalf("leader took %d snapshots, first index %d; want some and a compacted log", st.Taken, first)
	}
	c.net.mu.Lock()
	c.net.down[follower] = false
	c.net.mu.Unlock()
	c.proposeN(ctx, lead, "b", 1)
	if err := c.nodes[follower].WaitApplied(ctx, c.nodes[lead].Status().Commit); err != nil {
		t.Fatalf("WaitApplied on the follower = %v; want nil", err)
	}
	if st := c.nodes[follower].SnapshotStats(); st.Installed == 0 {
		t.Fatalf("follower installed %d snapshots; want at least 1", st.Installed)
	}
	want := c.fsms[lead].snapshot()
	if got := c.fsms[follower].snapshot(); !slices.Equal(got, want) {
		t.Fatalf("follower's state has %d commands; want the leader's %d", len(got), len(want))
	}
}

func TestRestartFromSnapshotAndLog(t *testing.T) {
	c := newSnapshotCluster(t, 3, 10, 3)
	lead := c.waitLeader(t, consensus.None)
	follower := lead%3 + 1
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c.proposeN(ctx, lead, "a", 57)
	if err := c.nodes[follower].WaitApplied(ctx, c.nodes[lead].Status().Commit); err != nil {
		t.Fatal(err)
	}
	c.stop(t, follower)
	first, _ := c.stores[follower].FirstIndex()
	snap, _ := c.stores[follower].Snapshot()
	if first <= 1 || snap.IsEmpty() {
		t.Fatalf("stopped follower: first index %d, snapshot %d; want a compacted log and a snapshot", first, snap.Index)
	}
	c.start(follower)
	// Read before Run: once it runs, the loop applies the log's committed
	// entries at once (the commit index is on disk after a clean stop).
	if got := c.started[follower].Applied; got != snap.Index {
		t.Fatalf("restarted follower applied %d before running; want the snapshot's %d", got, snap.Index)
	}
	c.proposeN(ctx, lead, "b", 3)
	if err := c.nodes[follower].WaitApplied(ctx, c.nodes[lead].Status().Commit); err != nil {
		t.Fatal(err)
	}
	want := c.fsms[lead].snapshot()
	if got := c.fsms[follower].snapshot(); !slices.Equal(got, want) {
		t.Fatalf("restarted follower's state has %d commands; want the leader's %d", len(got), len(want))
	}
}

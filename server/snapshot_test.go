package server_test

// These tests prove snapshots and compaction through whole nodes (bbolt log,
// snapshot files, HTTP/2 transport): a follower that was down while the
// cluster committed 100,000 entries finds them compacted away on the leader
// and catches up by a streamed snapshot, ending with the same applied
// commands; its data dir then holds a snapshot and a log that starts after
// the compacted prefix.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/raftlock/raftlock/locks"
	"github.com/raftlock/raftlock/server"
	"github.com/raftlock/raftlock/server/servertest"
)

// snapshotTestTimeout bounds the 100,000-entry test.
const snapshotTestTimeout = 5 * time.Minute

func TestFollowerDownFor100kEntriesCatchesUpBySnapshot(t *testing.T) {
	if testing.Short() {
		t.Skip("100,000 proposals")
	}
	// 100,000 proposals take far longer than testTimeout under -race on a
	// loaded machine; the waits still end on channels.
	ctx, cancel := context.WithTimeout(context.Background(), snapshotTestTimeout)
	defer cancel()
	// CI runs 20,000 entries (two snapshots, the follower's entries compacted
	// away all the same); RAFTLOCK_LONG=1 runs the 100,000.
	entries := 20_000
	if os.Getenv("RAFTLOCK_LONG") != "" {
		entries = 100_000
	}
	c := servertest.Start(t, 3, servertest.Options{SnapshotCount: 10_000})
	leader := waitLeader(t, ctx, c)
	behind := (leader + 1) % c.Size()
	propose(t, ctx, c, "first")
	c.Stop(behind)

	last := proposeMany(t, ctx, c, "m", entries, 256)
	leader = waitLeader(t, ctx, c)
	first := c.Node(leader).Status()
	if st := c.Node(leader).SnapshotStats(); st.Taken == 0 {
		t.Fatalf("leader took no snapshot in %d entries", entries)
	}
	c.Restart(behind)
	if err := c.Node(behind).WaitApplied(ctx, last); err != nil {
		t.Fatalf("restarted %s: WaitApplied(%d) = %v; applied %d", c.Member(behind).Name, last, err, c.Node(behind).Status().Applied)
	}
	st := c.Node(behind).SnapshotStats()
	if st.Installed == 0 {
		t.Fatalf("%s installed no snapshot; want it to catch up by one (leader at %d)", c.Member(behind).Name, first.Commit)
	}
	waitApplied(t, ctx, c, last)
	sameApplied(t, c, appliedData(c.FSM(leader)))
	if got := c.FSM(behind).Len(); got != entries+1 {
		t.Errorf("%s holds %d commands; want %d", c.Member(behind).Name, got, entries+1)
	}
	if st.Index <= server.CompactionTailEntries || st.Index > last {
		t.Errorf("%s installed snapshot %d; want within (%d, %d]", c.Member(behind).Name, st.Index, server.CompactionTailEntries, last)
	}
}

func TestLockTableRestartsFromSnapshotAndLog(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), snapshotTestTimeout)
	defer cancel()
	c := servertest.Start(t, 3, servertest.Options{Locks: true, SnapshotCount: server.SnapshotCountMin})
	leader := waitLeader(t, ctx, c)
	follower := (leader + 1) % c.Size()
	// Acquire lock i; release every third (the table then holds both).
	work := func(_, i int) error {
		name := fmt.Sprintf("l%d", i)
		res, err := proposeCmd(ctx, c, locks.Command{Kind: locks.KindAcquire, Name: name, Owner: "t", TTL: locks.TTLMax})
		if err == nil && res.Err != nil {
			err = res.Err
		}
		if err != nil || i%3 != 0 {
			return err
		}
		res, err = proposeCmd(ctx, c, locks.Command{Kind: locks.KindRelease, Name: name, Token: res.Token})
		if err == nil && res.Err != nil {
			err = res.Err
		}
		return err
	}
	runWorkers(t, 250, work)
	// The follower snapshots on a goroutine of its own once it has applied
	// SnapshotCountMin entries; stopped before one is recorded, it would
	// restart from the log alone.
	if err := servertest.WaitUntil(ctx, func() bool { return c.Node(follower).SnapshotStats().Taken > 0 }); err != nil {
		t.Fatalf("follower took no snapshot in %d applied entries: %v", c.Node(follower).Status().Applied, err)
	}
	c.Stop(follower)
	runWorkers(t, 120, func(w, i int) error { return work(w, 250+i) })
	c.Restart(follower)
	if got := c.Node(follower).SnapshotStats().Index; got == 0 {
		t.Fatalf("restarted follower starts from no snapshot; want one of its own")
	}
	leader = waitLeader(t, ctx, c)
	last := c.Node(leader).Status().Commit
	if err := c.Node(follower).WaitApplied(ctx, last); err != nil {
		t.Fatal(err)
	}
	if err := c.Node(leader).WaitApplied(ctx, last); err != nil {
		t.Fatal(err)
	}
	want := server.TableSnapshot(c.Node(leader))
	if got := server.TableSnapshot(c.Node(follower)); !bytes.Equal(got, want) || len(want) == 0 {
		t.Fatalf("restarted follower's lock table (%d bytes of snapshot) differs from the leader's (%d bytes)", len(got), len(want))
	}
}

package server_test

// These are measurements, not checks of behaviour; they run only with
// -snap.measure (they take minutes) and log their numbers:
//
//	go test ./server -run TestMeasure -snap.measure -v -timeout 60m
//
// TestMeasureDataDirSize: the size of a node's data dir after -snap.pairs
// acquire/release pairs (each an acquire that creates its own lease and a
// release of it, with request ids as the SDK sends) at the default snapshot
// count. TestMeasureCatchUp: how long a follower takes to catch up by
// snapshot from a table of -snap.locks held locks.

import (
	"context"
	"flag"
	"fmt"
	"io/fs"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/raftlock/raftlock/consensus"
	"github.com/raftlock/raftlock/locks"
	"github.com/raftlock/raftlock/server"
	"github.com/raftlock/raftlock/server/servertest"
)

var (
	flagSnapMeasure = flag.Bool("snap.measure", false, "run the snapshot measurements")
	flagSnapPairs   = flag.Int("snap.pairs", 1_000_000, "TestMeasureDataDirSize: acquire/release pairs")
	flagSnapLocks   = flag.Int("snap.locks", 1_000_000, "TestMeasureCatchUp: locks held in the snapshot")
)

// measureWorkers is how many goroutines propose at once: enough that the
// node batches hundreds of entries per fsync.
const measureWorkers = 512

// measureTimeout bounds one measurement.
const measureTimeout = 50 * time.Minute

// proposeCmd proposes cmd on the cluster's leader (retrying across leader
// changes) and returns the lock table's result.
func proposeCmd(ctx context.Context, c *servertest.Cluster, cmd locks.Command) (locks.Result, error) {
	cmd.Time = time.Now().UnixNano()
	data, err := locks.EncodeCommand(cmd)
	if err != nil {
		return locks.Result{}, err
	}
	for {
		leader, err := c.WaitLeader(ctx)
		if err != nil {
			return locks.Result{}, err
		}
		node := c.Node(leader)
		if node == nil {
			continue
		}
		v, err := node.Propose(ctx, data)
		if err != nil {
			if ctx.Err() != nil {
				return locks.Result{}, err
			}
			continue
		}
		return v.(locks.Result), nil
	}
}

// runWorkers runs fn(worker, i) for i in [0, n) over measureWorkers goroutines.
func runWorkers(t *testing.T, n int, fn func(w, i int) error) {
	t.Helper()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, measureWorkers)
	for w := range measureWorkers {
		wg.Add(1)
		// Exits when the n items are taken or fn fails.
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(w, i); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// dirBytes is the total size of the files under dir.
func dirBytes(t *testing.T, dir string) (total int64, files int) {
	t.Helper()
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		total += info.Size()
		files++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return total, files
}

func TestMeasureDataDirSize(t *testing.T) {
	if !*flagSnapMeasure {
		t.Skip("a measurement: run with -snap.measure")
	}
	ctx, cancel := context.WithTimeout(context.Background(), measureTimeout)
	defer cancel()
	c := servertest.Start(t, 1, servertest.Options{Locks: true})
	if _, err := c.WaitLeader(ctx); err != nil {
		t.Fatal(err)
	}
	pairs := *flagSnapPairs
	start := time.Now()
	runWorkers(t, pairs, func(w, i int) error {
		name := fmt.Sprintf("lock-%d", w)
		res, err := proposeCmd(ctx, c, locks.Command{Kind: locks.KindAcquire, Name: name, Owner: "measure",
			RequestID: fmt.Sprintf("a-%d", i)})
		if err == nil && res.Err != nil {
			err = res.Err
		}
		if err != nil {
			return fmt.Errorf("acquire %s: %w", name, err)
		}
		res, err = proposeCmd(ctx, c, locks.Command{Kind: locks.KindRelease, Name: name, Token: res.Token,
			RequestID: fmt.Sprintf("r-%d", i)})
		if err == nil && res.Err != nil {
			err = res.Err
		}
		if err != nil {
			return fmt.Errorf("release %s: %w", name, err)
		}
		return nil
	})
	took := time.Since(start)
	node := c.Node(0)
	st, snaps := node.Status(), node.SnapshotStats()
	size, files := dirBytes(t, c.Member(0).DataDir)
	dbSize, _ := dirBytes(t, filepath.Join(c.Member(0).DataDir, server.SnapshotDirName))
	t.Logf("%d acquire/release pairs (%d entries) in %v: %.0f entries/s", pairs, st.Applied, took.Round(time.Millisecond),
		float64(st.Applied)/took.Seconds())
	t.Logf("data dir: %d bytes in %d files (snapshots %d bytes, bbolt %d bytes)", size, files, dbSize, size-dbSize)
	t.Logf("snapshots taken: %d, latest at %d: %d bytes in %v (applying waited meanwhile)", snaps.Taken, snaps.Index, snaps.LastBytes, snaps.LastDuration)
	if snaps.Taken == 0 {
		t.Errorf("no snapshot taken in %d entries", st.Applied)
	}
}

func TestMeasureCatchUp(t *testing.T) {
	if !*flagSnapMeasure {
		t.Skip("a measurement: run with -snap.measure")
	}
	ctx, cancel := context.WithTimeout(context.Background(), measureTimeout)
	defer cancel()
	c := servertest.Start(t, 3, servertest.Options{Locks: true, ElectionTimeout: 2 * time.Second})
	leader, err := c.WaitLeader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	behind := (leader + 1) % c.Size()
	c.Stop(behind)
	n := *flagSnapLocks
	start := time.Now()
	runWorkers(t, n, func(_, i int) error {
		res, err := proposeCmd(ctx, c, locks.Command{Kind: locks.KindAcquire, Name: fmt.Sprintf("lock-%07d", i),
			Owner: "measure", TTL: locks.TTLMax, RequestID: fmt.Sprintf("a-%d", i)})
		if err == nil && res.Err != nil {
			err = res.Err
		}
		return err
	})
	t.Logf("%d locks acquired in %v", n, time.Since(start).Round(time.Millisecond))
	leader, err = c.WaitLeader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	target := c.Node(leader).Status().Commit
	// Catch up from a snapshot of (nearly) the whole table, not from an
	// older one and a long log: wait for the leader's next snapshot.
	waited := time.Now()
	if err := servertest.WaitUntil(ctx, func() bool {
		return c.Node(leader).SnapshotStats().Index+server.DefaultSnapshotCount >= target
	}); err != nil {
		t.Fatalf("leader took no snapshot near %d: %v", target, err)
	}
	t.Logf("waited %v for the leader's snapshot near %d", time.Since(waited).Round(time.Millisecond), target)
	lsnap := c.Node(leader).SnapshotStats()
	t.Logf("leader: %d snapshots, latest at %d: %d bytes in %v (applying waited meanwhile)", lsnap.Taken, lsnap.Index, lsnap.LastBytes, lsnap.LastDuration)

	start = time.Now()
	c.Restart(behind)
	if err := servertest.WaitUntil(ctx, func() bool { return c.Node(behind).SnapshotStats().Installed > 0 }); err != nil {
		t.Fatal(err)
	}
	installed := time.Since(start)
	if err := c.Node(behind).WaitApplied(ctx, consensus.Index(target)); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	t.Logf("follower installed the snapshot %v after its restart", installed.Round(time.Millisecond))
	fsnap := c.Node(behind).SnapshotStats()
	t.Logf("follower caught up to %d in %v (restart included); installed %d snapshots, install held its loop %v",
		target, took.Round(time.Millisecond), fsnap.Installed, fsnap.LastDuration)
	if fsnap.Installed == 0 {
		t.Errorf("follower installed no snapshot")
	}
}

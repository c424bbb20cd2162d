// This test proves that no acknowledged proposal is lost when the leader
// stops in the middle of a stream of proposals: 16 proposers keep proposing
// through the leader change; afterwards every node (the old leader restarted)
// applied every acknowledged command exactly once, at the index it was
// acknowledged at, and every node's bbolt log, reopened after the cluster
// stopped, holds it there. Proposals run in-process because until the lock API
// lands nothing outside a node can propose (see process_test.go).
package server_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/raftlock/raftlock/consensus"
	"github.com/raftlock/raftlock/consensus/boltstore"
	"github.com/raftlock/raftlock/server"
	"github.com/raftlock/raftlock/server/servertest"
)

// acked is an acknowledged proposal: its command and the index it was applied at.
type acked struct {
	data  string
	index consensus.Index
}

// streamProposals runs workers proposers until stop is closed and returns
// what was acknowledged. A proposal with an unknown outcome (the node stopped
// under it) is not acknowledged and not retried.
func streamProposals(ctx context.Context, c *servertest.Cluster, workers int, stop <-chan struct{}, progress chan<- int) []acked {
	var (
		mu  sync.Mutex
		all []acked
		wg  sync.WaitGroup
	)
	for w := range workers {
		wg.Add(1)
		// Exits when stop is closed or ctx ends.
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				case <-ctx.Done():
					return
				default:
				}
				data := fmt.Sprintf("w%02d-%06d", w, i)
				idx, err := c.Propose(ctx, []byte(data))
				if err != nil {
					continue
				}
				mu.Lock()
				all = append(all, acked{data: data, index: idx})
				n := len(all)
				mu.Unlock()
				select {
				case progress <- n:
				default:
				}
			}
		}()
	}
	wg.Wait()
	return all
}

// waitCount waits until progress reports at least n acknowledgements.
func waitCount(t *testing.T, ctx context.Context, progress <-chan int, n int) {
	t.Helper()
	for {
		select {
		case got := <-progress:
			if got >= n {
				return
			}
		case <-ctx.Done():
			t.Fatalf("waiting for %d acknowledged proposals: %v", n, ctx.Err())
		}
	}
}

func TestAcknowledgedProposalsSurviveLeaderStop(t *testing.T) {
	ctx := testContext(t)
	c := servertest.Start(t, 3, servertest.Options{})
	old := waitLeader(t, ctx, c)

	stop := make(chan struct{})
	progress := make(chan int, 1)
	result := make(chan []acked, 1)
	// Exits when stop is closed.
	go func() { result <- streamProposals(ctx, c, 16, stop, progress) }()
	waitCount(t, ctx, progress, 300)
	c.Stop(old) // in the middle of the stream
	if _, err := c.WaitLeader(ctx); err != nil {
		t.Fatalf("no new leader after stopping %s: %v", c.Member(old).Name, err)
	}
	waitCount(t, ctx, progress, 600)
	close(stop)
	all := <-result

	c.Restart(old)
	var last consensus.Index
	for _, a := range all {
		last = max(last, a.index)
	}
	waitApplied(t, ctx, c, last)
	for i := range c.Size() {
		checkAppliedOnce(t, c.Member(i).Name, c.FSM(i).Applied(), all)
	}
	c.StopAll()
	for i := range c.Size() {
		checkLogHolds(t, c.Member(i).DataDir, all)
	}
}

// checkAppliedOnce checks that every acknowledged command was applied exactly
// once, at its acknowledged index.
func checkAppliedOnce(t *testing.T, name string, applied []servertest.Applied, all []acked) {
	t.Helper()
	at := make(map[string][]consensus.Index, len(applied))
	for _, a := range applied {
		at[a.Data] = append(at[a.Data], a.Index)
	}
	missing := 0
	for _, a := range all {
		got := at[a.data]
		if len(got) != 1 || got[0] != a.index {
			missing++
			if missing <= 5 {
				t.Errorf("%s applied %q at %v; want once at %d", name, a.data, got, a.index)
			}
		}
	}
	if missing > 0 {
		t.Errorf("%s: %d of %d acknowledged commands not applied once at their index", name, missing, len(all))
	}
}

// checkLogHolds reopens a stopped node's log and checks that it holds every
// acknowledged command at its index, and that its commit covers them.
func checkLogHolds(t *testing.T, dataDir string, all []acked) {
	t.Helper()
	path := filepath.Join(dataDir, server.StoreFileName)
	st, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatalf("boltstore.Open(%s) = %v", path, err)
	}
	defer func() {
		if err := st.Close(); err != nil {
			t.Errorf("Close(%s) = %v", path, err)
		}
	}()
	hs, err := st.InitialState()
	if err != nil {
		t.Fatalf("%s: InitialState() = %v", path, err)
	}
	for _, a := range all {
		if a.index > hs.Commit {
			t.Errorf("%s: commit %d is below acknowledged index %d", path, hs.Commit, a.index)
			return
		}
		ents, err := st.Entries(a.index, a.index+1, 1<<20)
		if err != nil || len(ents) != 1 {
			t.Errorf("%s: Entries(%d) = %v, %v; want the entry of %q", path, a.index, ents, err, a.data)
			continue
		}
		if got := string(ents[0].Data); got != a.data {
			t.Errorf("%s: entry %d = %q; want %q", path, a.index, got, a.data)
		}
	}
}

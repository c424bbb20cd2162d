// These tests run three and five real nodes in one process (servertest:
// bbolt logs in temp dirs, HTTP/2 over loopback) and prove the node wiring:
// one leader is elected and every node follows it; proposals replicate to
// every node in the same order; a stopped leader is replaced by a node at a
// higher term and the survivors keep committing; a follower that missed many
// entries catches up after restart, rebuilding its state machine from its log
// plus what the leader sends.
package server_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/raftlock/raftlock/consensus"
	"github.com/raftlock/raftlock/server"
	"github.com/raftlock/raftlock/server/servertest"
)

// testTimeout bounds every wait of a cluster test.
const testTimeout = 30 * time.Second

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

func waitLeader(t *testing.T, ctx context.Context, c *servertest.Cluster) int {
	t.Helper()
	leader, err := c.WaitLeader(ctx)
	if err != nil {
		t.Fatalf("WaitLeader() = %v; want a leader", err)
	}
	return leader
}

func propose(t *testing.T, ctx context.Context, c *servertest.Cluster, data string) consensus.Index {
	t.Helper()
	idx, err := c.Propose(ctx, []byte(data))
	if err != nil {
		t.Fatalf("Propose(%q) = %v; want nil", data, err)
	}
	return idx
}

// waitApplied waits until every running node applied index.
func waitApplied(t *testing.T, ctx context.Context, c *servertest.Cluster, index consensus.Index) {
	t.Helper()
	for i := range c.Size() {
		if n := c.Node(i); n != nil {
			if err := n.WaitApplied(ctx, index); err != nil {
				t.Fatalf("%s: WaitApplied(%d) = %v; applied %d", n.Name(), index, err, n.Status().Applied)
			}
		}
	}
}

// sameApplied checks that every running node applied exactly want, in order.
func sameApplied(t *testing.T, c *servertest.Cluster, want []string) {
	t.Helper()
	for i := range c.Size() {
		if !c.Running(i) {
			continue
		}
		got := appliedData(c.FSM(i))
		if !slices.Equal(got, want) {
			t.Errorf("%s applied %d commands %v; want %d %v", c.Member(i).Name, len(got), head(got), len(want), head(want))
		}
	}
}

func head(s []string) []string {
	if len(s) > 5 {
		return s[:5]
	}
	return s
}

func httpGet(t *testing.T, ctx context.Context, client *http.Client, url string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	return resp.StatusCode
}

func TestClusterElectsOneLeader(t *testing.T) {
	for _, size := range []int{1, 3, 5} {
		t.Run(fmt.Sprintf("nodes=%d", size), func(t *testing.T) {
			ctx := testContext(t)
			c := servertest.Start(t, size, servertest.Options{})
			leader := waitLeader(t, ctx, c)
			// The new leader's no-op entry commits in its term: every node
			// becomes ready once it applied it.
			idx := propose(t, ctx, c, "x")
			waitApplied(t, ctx, c, idx)
			client := &http.Client{Timeout: 5 * time.Second}
			defer client.CloseIdleConnections()
			for i := range size {
				url := c.Node(i).ClientURL()
				wantLeader := http.StatusServiceUnavailable
				if i == leader {
					wantLeader = http.StatusOK
				}
				if got := httpGet(t, ctx, client, url+server.PathHealthLeader); got != wantLeader {
					t.Errorf("%s GET %s = %d; want %d", c.Member(i).Name, server.PathHealthLeader, got, wantLeader)
				}
				if got := httpGet(t, ctx, client, url+server.PathReadyz); got != http.StatusOK {
					t.Errorf("%s GET %s = %d; want 200", c.Member(i).Name, server.PathReadyz, got)
				}
				if got := httpGet(t, ctx, client, url+server.PathLivez); got != http.StatusOK {
					t.Errorf("%s GET %s = %d; want 200", c.Member(i).Name, server.PathLivez, got)
				}
			}
		})
	}
}

func TestClusterReplicatesInOrder(t *testing.T) {
	ctx := testContext(t)
	c := servertest.Start(t, 3, servertest.Options{})
	var want []string
	var last consensus.Index
	for i := range 200 {
		data := fmt.Sprintf("cmd-%d", i)
		idx := propose(t, ctx, c, data)
		if idx <= last {
			t.Fatalf("Propose(%q) = index %d; want > %d", data, idx, last)
		}
		last = idx
		want = append(want, data)
	}
	waitApplied(t, ctx, c, last)
	sameApplied(t, c, want)
}

func TestClusterReplacesStoppedLeader(t *testing.T) {
	ctx := testContext(t)
	c := servertest.Start(t, 3, servertest.Options{})
	old := waitLeader(t, ctx, c)
	want := []string{"before"}
	propose(t, ctx, c, "before")
	oldTerm := c.Node(old).Status().Term

	c.Stop(old)
	leader := waitLeader(t, ctx, c)
	if leader == old {
		t.Fatalf("leader after stopping %s = %s; want another node", c.Member(old).Name, c.Member(leader).Name)
	}
	if term := c.Node(leader).Status().Term; term <= oldTerm {
		t.Errorf("new leader's term = %d; want > %d", term, oldTerm)
	}
	var last consensus.Index
	for i := range 20 {
		data := fmt.Sprintf("after-%d", i)
		last = propose(t, ctx, c, data)
		want = append(want, data)
	}
	waitApplied(t, ctx, c, last)
	sameApplied(t, c, want)

	// The old leader rejoins as a follower and catches up.
	c.Restart(old)
	waitApplied(t, ctx, c, last)
	sameApplied(t, c, want)
}

func TestClusterFollowerFarBehindCatchesUp(t *testing.T) {
	ctx := testContext(t)
	c := servertest.Start(t, 3, servertest.Options{})
	leader := waitLeader(t, ctx, c)
	behind := (leader + 1) % c.Size()
	propose(t, ctx, c, "first")
	c.Stop(behind)

	// Enough entries that catching up takes many append batches.
	last := proposeMany(t, ctx, c, "missed", 2000, 32)
	c.Restart(behind)
	if err := c.Node(behind).WaitApplied(ctx, last); err != nil {
		t.Fatalf("restarted %s: WaitApplied(%d) = %v; applied %d", c.Member(behind).Name, last, err, c.Node(behind).Status().Applied)
	}
	waitApplied(t, ctx, c, last)
	sameApplied(t, c, appliedData(c.FSM(leader)))
	if got := c.FSM(behind).Len(); got != 2001 {
		t.Errorf("%s applied %d commands; want 2001", c.Member(behind).Name, got)
	}
}

// proposeMany proposes n commands prefix-0..prefix-(n-1) from workers
// goroutines and returns the highest index acknowledged.
func proposeMany(t *testing.T, ctx context.Context, c *servertest.Cluster, prefix string, n, workers int) consensus.Index {
	t.Helper()
	var (
		mu   sync.Mutex
		last consensus.Index
		next int
		wg   sync.WaitGroup
		errs = make(chan error, workers)
	)
	for range workers {
		wg.Add(1)
		// Exits when all n commands are taken or a proposal fails.
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= n {
					return
				}
				idx, err := c.Propose(ctx, []byte(fmt.Sprintf("%s-%d", prefix, i)))
				if err != nil {
					errs <- fmt.Errorf("Propose(%s-%d) = %w", prefix, i, err)
					return
				}
				mu.Lock()
				last = max(last, idx)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return last
}

func appliedData(r *servertest.Recorder) []string {
	var out []string
	for _, a := range r.Applied() {
		out = append(out, a.Data)
	}
	return out
}

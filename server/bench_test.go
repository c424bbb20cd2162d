// BenchmarkPropose measures committed proposals per second on a 3-node
// cluster in one process over real loopback HTTP/2 with bbolt fsyncing every
// Ready, at 1, 64 and 256 concurrent proposers, and the fsyncs per committed
// entry (Save calls over the entries proposed), on the leader and across the
// cluster. Run:
//
//	go test -run '^$' -bench BenchmarkPropose -benchtime 2000x ./server/
package server_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/raftlock/raftlock/server"
	"github.com/raftlock/raftlock/server/servertest"
)

// benchCommandBytes is the size of one benchmark command (a lock command is
// about this big).
const benchCommandBytes = 100

func BenchmarkPropose(b *testing.B) {
	for _, proposers := range []int{1, 64, 256} {
		b.Run(fmt.Sprintf("proposers=%d", proposers), func(b *testing.B) {
			benchmarkPropose(b, proposers)
		})
	}
}

func benchmarkPropose(b *testing.B, proposers int) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	c := servertest.Start(b, 3, servertest.Options{
		HeartbeatInterval: 100 * time.Millisecond,
		ElectionTimeout:   time.Second,
		Logger:            zap.NewNop(),
	})
	leader, err := c.WaitLeader(ctx)
	if err != nil {
		b.Fatal(err)
	}
	before := storeStats(c)
	leaderBefore := c.Node(leader).StoreStats()
	data := make([]byte, benchCommandBytes)
	var (
		wg   sync.WaitGroup
		next = make(chan struct{}, b.N)
		errs = make(chan error, proposers)
	)
	for range b.N {
		next <- struct{}{}
	}
	close(next)
	b.ResetTimer()
	start := time.Now()
	for range proposers {
		wg.Add(1)
		// Exits when every one of the b.N proposals was taken.
		go func() {
			defer wg.Done()
			for range next {
				if _, err := c.Propose(ctx, data); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	after := storeStats(c)
	leaderAfter := c.Node(leader).StoreStats()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "commits/s")
	b.ReportMetric(float64(leaderAfter.Saves-leaderBefore.Saves)/float64(b.N), "leader-fsyncs/commit")
	b.ReportMetric(float64(after.Saves-before.Saves)/float64(b.N), "cluster-fsyncs/commit")
}

// storeStats sums the running nodes' store counters.
func storeStats(c *servertest.Cluster) server.StoreStats {
	var sum server.StoreStats
	for i := range c.Size() {
		if n := c.Node(i); n != nil {
			st := n.StoreStats()
			sum.Saves += st.Saves
			sum.Entries += st.Entries
		}
	}
	return sum
}

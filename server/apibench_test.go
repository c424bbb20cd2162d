// BenchmarkAPI measures the client API on a 3-node cluster in one process
// over loopback (HTTP/1.1 clients to the leader, HTTP/2 + bbolt between
// nodes): acquire+release pairs per second with p50 and p99 pair latency at
// 1, 16 and 64 concurrent clients on distinct locks and at 16 clients on one
// lock with wait, and lease keepalives per second at 16 clients. Run:
//
//	go test -run '^$' -bench BenchmarkAPI -benchtime 2000x ./server/
package server_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/raftlock/raftlock/server/servertest"
)

func BenchmarkAPI(b *testing.B) {
	for _, bc := range []struct {
		name    string
		clients int
		oneLock bool
	}{
		{"pairs/clients=1", 1, false},
		{"pairs/clients=16", 16, false},
		{"pairs/clients=64", 64, false},
		{"pairs/one-lock-wait/clients=16", 16, true},
	} {
		b.Run(bc.name, func(b *testing.B) { benchPairs(b, bc.clients, bc.oneLock) })
	}
	b.Run("keepalive/clients=16", benchKeepalive)
}

func benchCluster(b *testing.B) (context.Context, *servertest.Cluster, string, *apiClient) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	b.Cleanup(cancel)
	c := servertest.Start(b, 3, servertest.Options{HeartbeatInterval: 100 * time.Millisecond, ElectionTimeout: time.Second, Locks: true, Logger: zap.NewNop()})
	leader, err := c.WaitLeader(ctx)
	if err != nil {
		b.Fatal(err)
	}
	return ctx, c, c.URL(leader), newAPIClient(b)
}

func benchPairs(b *testing.B, clients int, oneLock bool) {
	ctx, _, url, ac := benchCluster(b)
	var next atomic.Int64
	lat := make([][]time.Duration, clients)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := next.Add(1); n <= int64(b.N); n = next.Add(1) {
				name := fmt.Sprintf("bench-%d", i)
				body := `{"ttl":"30s"}`
				if oneLock {
					name, body = "bench-one", `{"ttl":"30s","wait":"1m"}`
				}
				t0 := time.Now()
				a := ac.must(ctx, "POST", url+"/v1/locks/"+name+"/acquire", body)
				if a.Status != 200 {
					b.Errorf("acquire = %d %s", a.Status, a.Raw)
					return
				}
				r := ac.must(ctx, "POST", url+"/v1/locks/"+name+"/release", map[string]any{"token": a.num("token")})
				if r.Status != 200 {
					b.Errorf("release = %d %s", r.Status, r.Raw)
					return
				}
				lat[i] = append(lat[i], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	all := slices.Concat(lat...)
	slices.Sort(all)
	if len(all) == 0 {
		return
	}
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "pairs/s")
	b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
}

func benchKeepalive(b *testing.B) {
	ctx, _, url, ac := benchCluster(b)
	const clients = 16
	ids := make([]string, clients)
	for i := range ids {
		a := ac.must(ctx, "POST", url+"/v1/leases", `{"ttl":"1m"}`)
		ids[i] = itoa(a.num("lease_id"))
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := next.Add(1); n <= int64(b.N); n = next.Add(1) {
				if a := ac.must(ctx, "POST", url+"/v1/leases/"+ids[i]+"/keepalive", nil); a.Status != 200 {
					b.Errorf("keepalive = %d %s", a.Status, a.Raw)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "keepalives/s")
}

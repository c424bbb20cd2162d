// These tests prove the leader's lease clock on a 3-node cluster: a lease
// kept alive (through a follower, which forwards to the leader) outlives its
// ttl several times; one left alone expires about a ttl later and its lock
// is freed in the same entry; a lease survives a leader change (the new
// leader resets its deadline) and then expires under the new leader;
// checkpoints bound how much a leader change extends a lease; and a lease
// kept alive in time costs no log write (metrics count the checkpoint
// commands), while a late keepalive clears its lease's record first.
package server_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/raftlock/raftlock/client/wire"
	"github.com/raftlock/raftlock/server"
	"github.com/raftlock/raftlock/server/servertest"
)

func TestLeaseKeepaliveAndExpiry(t *testing.T) {
	ctx := testContext(t)
	c, leader := startLocks(t, ctx, 3)
	ac := newAPIClient(t)
	follower := c.URL((leader + 1) % 3)
	kept := ac.must(ctx, "POST", follower+"/v1/leases", `{"ttl":"1s"}`)
	// The deadline is set when the lease is applied, after this.
	start := time.Now()
	left := ac.must(ctx, "POST", follower+"/v1/leases", `{"ttl":"1s"}`)
	keptID, leftID := itoa(kept.num("lease_id")), itoa(left.num("lease_id"))
	acq := ac.must(ctx, "POST", follower+"/v1/locks/exp/acquire", map[string]any{"lease_id": left.num("lease_id")})
	if acq.Status != 200 {
		t.Fatalf("acquire = %d %s", acq.Status, acq.Raw)
	}
	// The lock is freed when the lease expires: a blocking GET wakes.
	freed := make(chan time.Duration, 1)
	go func() {
		index := itoa(acq.num("token"))
		for {
			a := ac.must(ctx, "GET", follower+"/v1/locks/exp?index="+index+"&wait=10s", nil)
			if a.Body["held"] == false {
				freed <- time.Since(start)
				return
			}
			index = a.Header.Get(wire.HeaderIndex)
		}
	}()
	// Keep the other lease alive for 3 ttls, every ttl/4.
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for time.Since(start) < 3*time.Second {
		<-tick.C
		if a := ac.must(ctx, "POST", follower+"/v1/leases/"+keptID+"/keepalive", nil); a.Status != 200 {
			t.Fatalf("keepalive at %v = %d %s; want 200", time.Since(start), a.Status, a.Raw)
		}
	}
	select {
	case d := <-freed:
		if d < time.Second {
			t.Errorf("lock freed %v after its lease was asked for; want no earlier than the ttl 1s", d)
		}
	case <-ctx.Done():
		t.Fatalf("lock of the expired lease never freed")
	}
	if a := ac.must(ctx, "GET", follower+"/v1/leases/"+leftID, nil); a.Status != 404 {
		t.Errorf("GET expired lease = %d %s; want 404", a.Status, a.Raw)
	}
	if a := ac.must(ctx, "GET", follower+"/v1/leases/"+keptID, nil); a.Status != 200 {
		t.Errorf("GET kept lease = %d %s; want 200", a.Status, a.Raw)
	}
}

func TestLeaseSurvivesLeaderChange(t *testing.T) {
	ctx := testContext(t)
	c, leader := startLocks(t, ctx, 3)
	ac := newAPIClient(t)
	l := ac.must(ctx, "POST", c.URL(leader)+"/v1/leases", `{"ttl":"2s"}`)
	id := itoa(l.num("lease_id"))
	c.Stop(leader)
	next := waitLeader(t, ctx, c)
	// The new leader resets the deadline to now + ttl (or the checkpoint):
	// a keepalive right after the change finds the lease alive.
	var a answer
	err := waitFor(ctx, func() bool {
		a = ac.must(ctx, "POST", c.URL(next)+"/v1/leases/"+id+"/keepalive", nil)
		return a.code() != wire.CodeNoLeader
	})
	if err != nil || a.Status != 200 {
		t.Fatalf("keepalive on the new leader = %d %s (%v); want 200", a.Status, a.Raw, err)
	}
	c.Restart(leader)
	// Left alone, it expires under the new leader.
	err = waitFor(ctx, func() bool {
		return ac.must(ctx, "GET", c.URL(next)+"/v1/leases/"+id, nil).Status == 404
	})
	if err != nil {
		t.Fatalf("lease never expired under the new leader: %v", err)
	}
}

// waitFor polls cond every 20ms until it holds or ctx ends.
func waitFor(ctx context.Context, cond func() bool) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// leaseRemaining is the remaining time in a lease answer.
func leaseRemaining(t *testing.T, a answer) time.Duration {
	t.Helper()
	s, _ := a.Body["remaining"].(string)
	d, err := time.ParseDuration(s)
	if err != nil {
		t.Fatalf("lease answer %s: remaining %q: %v", a.Raw, s, err)
	}
	return d
}

// leaseCluster is a 3-node cluster with a short checkpoint interval and one
// lease of ttl, created on the leader once the leader's lease clock runs
// (it starts when the leader applied an entry of its term).
type leaseCluster struct {
	c        *servertest.Cluster
	leader   int
	follower int // the node after the leader
	ac       *apiClient
	id       string // the lease
}

func startLeaseCluster(t *testing.T, ctx context.Context, interval, ttl time.Duration) leaseCluster {
	t.Helper()
	c := servertest.Start(t, 3, servertest.Options{Locks: true, CheckpointInterval: interval})
	leader := waitLeader(t, ctx, c)
	if err := servertest.WaitUntil(ctx, func() bool { return c.Node(leader).Status().Applied >= c.Node(leader).Status().Commit }); err != nil {
		t.Fatalf("leader never applied its commit: %v", err)
	}
	ac := newAPIClient(t)
	l := ac.must(ctx, "POST", c.URL(leader)+"/v1/leases", fmt.Sprintf(`{"ttl":%q}`, ttl))
	if l.Status != 201 {
		t.Fatalf("create lease = %d %s; want 201", l.Status, l.Raw)
	}
	return leaseCluster{c: c, leader: leader, follower: (leader + 1) % 3, ac: ac, id: itoa(l.num("lease_id"))}
}

// TestLeaseCheckpointBoundsNewLeader: the leader records a lease nobody
// keeps alive once it is quiet (at most half its ttl left) and then every
// checkpoint interval (a follower's stale read shows the record), and a new
// leader times the lease from that record, not from a fresh ttl, so leader
// changes stretch a lease by at most the interval. The leader change waits
// for the record, ttl/2 + one interval after the lease is created: before
// that no round records a lease (locks.LeaseClock.Checkpoints), and a new
// leader would restart its ttl.
func TestLeaseCheckpointBoundsNewLeader(t *testing.T) {
	ctx := testContext(t)
	const ttl, interval = 10 * time.Second, 200 * time.Millisecond
	lc := startLeaseCluster(t, ctx, interval, ttl)
	c, leader, follower, ac, id := lc.c, lc.leader, lc.follower, lc.ac, lc.id
	// A record is committed: the follower's table has it.
	var record time.Duration
	err := waitFor(ctx, func() bool {
		a := ac.must(ctx, "GET", c.URL(follower)+"/v1/leases/"+id+"?stale=true", nil)
		if a.Status != 200 {
			return false
		}
		record = leaseRemaining(t, a)
		return record < ttl
	})
	if err != nil {
		t.Fatalf("no checkpoint of lease %s reached a follower: %v", id, err)
	}
	if record > ttl/2 {
		t.Fatalf("lease %s recorded with %v left; want at most half its ttl (%v): only a quiet lease is recorded", id, record, ttl/2)
	}
	c.Stop(leader)
	next := waitLeader(t, ctx, c)
	var a answer
	err = waitFor(ctx, func() bool {
		a = ac.must(ctx, "GET", c.URL(next)+"/v1/leases/"+id, nil)
		return a.code() != wire.CodeNoLeader
	})
	if err != nil || a.Status != 200 {
		t.Fatalf("GET lease on the new leader = %d %s (%v)", a.Status, a.Raw, err)
	}
	if got := leaseRemaining(t, a); got > record+interval {
		t.Errorf("remaining on the new leader = %v; want at most the record (%v) plus one interval, not a fresh %v", got, record, ttl)
	}
}

// checkpointWrites sums the CheckpointLeases commands every running node of
// c proposed, whatever their outcome, from its metrics: the log writes of
// checkpoint rounds and of keepalives that clear a record.
func checkpointWrites(t *testing.T, ctx context.Context, ac *apiClient, c *servertest.Cluster) float64 {
	t.Helper()
	const series = `raftlock_proposals_total{command="checkpoint_leases",`
	var sum float64
	for i := 0; i < c.Size(); i++ {
		if !c.Running(i) {
			continue
		}
		a := ac.must(ctx, "GET", c.URL(i)+server.PathMetrics, nil)
		for _, line := range strings.Split(a.Raw, "\n") {
			if !strings.HasPrefix(line, series) {
				continue
			}
			v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
			if err != nil {
				t.Fatalf("%s/metrics: %q: %v", c.URL(i), line, err)
			}
			sum += v
		}
	}
	return sum
}

// TestLeaseHealthyKeepaliveNeverWrites: a lease kept alive every ttl/3 over
// dozens of checkpoint intervals costs no log write: no round records it, so
// no keepalive has a record to clear. Left quiet past half its ttl, a round
// records it, and the late keepalive that follows clears the record before
// answering, so a next leader cannot expire the lease early.
func TestLeaseHealthyKeepaliveNeverWrites(t *testing.T) {
	ctx := testContext(t)
	const ttl, interval = 3 * time.Second, 100 * time.Millisecond
	lc := startLeaseCluster(t, ctx, interval, ttl)
	c, ac, id := lc.c, lc.ac, lc.id
	follower := c.URL(lc.follower)
	keepalive := func() {
		t.Helper()
		if a := ac.must(ctx, "POST", follower+"/v1/leases/"+id+"/keepalive", nil); a.Status != 200 {
			t.Fatalf("keepalive = %d %s; want 200", a.Status, a.Raw)
		}
	}
	start := time.Now()
	tick := time.NewTicker(ttl / 3)
	defer tick.Stop()
	for time.Since(start) < 4*time.Second {
		<-tick.C
		keepalive()
	}
	if w := checkpointWrites(t, ctx, ac, c); w != 0 {
		t.Fatalf("a lease kept alive every ttl/3 for 4s (%d checkpoint intervals) caused %v checkpoint writes; want 0", 4*time.Second/interval, w)
	}
	// Quiet: a round records it with at most half its ttl left.
	var record time.Duration
	err := waitFor(ctx, func() bool {
		a := ac.must(ctx, "GET", follower+"/v1/leases/"+id+"?stale=true", nil)
		if a.Status != 200 {
			return false
		}
		record = leaseRemaining(t, a)
		return record < ttl
	})
	if err != nil || record > ttl/2 {
		t.Fatalf("quiet lease %s: record %v (%v); want one of at most %v", id, record, err, ttl/2)
	}
	keepalive()
	if w := checkpointWrites(t, ctx, ac, c); w < 2 {
		t.Errorf("after a record and a late keepalive: %v checkpoint writes; want at least 2", w)
	}
	// The clearing write is committed: the follower's table drops the record.
	err = waitFor(ctx, func() bool {
		a := ac.must(ctx, "GET", follower+"/v1/leases/"+id+"?stale=true", nil)
		return a.Status == 200 && leaseRemaining(t, a) == ttl
	})
	if err != nil {
		t.Fatalf("the late keepalive's clearing write never reached a follower: %v", err)
	}
}

// lateKeepaliveHold is how long the test below holds a checkpoint round
// between taking its records and proposing them while a late keepalive of
// the recorded lease runs: a keepalive that did not wait for the round
// answers within it, and its clear lands before the record.
const lateKeepaliveHold = 500 * time.Millisecond

// TestLateKeepaliveClearsAfterRacingRecord: a checkpoint round takes the
// record of a quiet lease, and before it is proposed the lease's late
// keepalive arrives. The keepalive's clear must reach the log after the
// record, or the record stands although the client was promised a full
// ttl (a next leader would expire the lease early): the follower's table
// must show the record cleared.
func TestLateKeepaliveClearsAfterRacingRecord(t *testing.T) {
	ctx := testContext(t)
	const ttl, interval = 3 * time.Second, 100 * time.Millisecond
	lc := startLeaseCluster(t, ctx, interval, ttl)
	c, leader, ac, id := lc.c, lc.leader, lc.ac, lc.id
	follower := c.URL(lc.follower)
	type result struct {
		status int
		early  bool // answered while the round still held its record
	}
	results := make(chan result, 1)
	var once sync.Once
	c.Node(leader).OnCheckpointRound(func(leases []uint64) {
		if !slices.Contains(leases, leaseNum(t, id)) {
			return
		}
		once.Do(func() {
			done := make(chan int, 1)
			// Exits when the keepalive is answered.
			go func() {
				done <- ac.must(ctx, "POST", follower+"/v1/leases/"+id+"/keepalive", nil).Status
			}()
			hold := time.NewTimer(lateKeepaliveHold)
			defer hold.Stop()
			select {
			case st := <-done:
				results <- result{status: st, early: true}
			case <-hold.C:
				// Exits when the keepalive is answered, after this round.
				go func() { results <- result{status: <-done} }()
			}
		})
	})
	defer c.Node(leader).OnCheckpointRound(nil)
	var r result
	select {
	case r = <-results:
	case <-ctx.Done():
		t.Fatalf("no checkpoint round recorded lease %s: %v", id, ctx.Err())
	}
	if r.status != 200 {
		t.Fatalf("late keepalive = %d; want 200", r.status)
	}
	if r.early {
		t.Errorf("the late keepalive was answered while a round held its lease's record, not yet proposed")
	}
	// Once the round's proposals returned and a follower applied them, its
	// table must show the full ttl: the record, then the clear.
	if err := c.Node(leader).AwaitCheckpointRound(ctx); err != nil {
		t.Fatal(err)
	}
	commit := c.Node(leader).Status().Commit
	fn := c.Node(lc.follower)
	if err := waitFor(ctx, func() bool { return fn.Status().Applied >= commit }); err != nil {
		t.Fatalf("follower never applied %d: %v", commit, err)
	}
	a := ac.must(ctx, "GET", follower+"/v1/leases/"+id+"?stale=true", nil)
	if a.Status != 200 || leaseRemaining(t, a) != ttl {
		t.Fatalf("lease %s on a follower after its late keepalive: %d %s; want its record cleared (remaining %v)", id, a.Status, a.Raw, ttl)
	}
}

// leaseNum parses a lease id.
func leaseNum(t *testing.T, id string) uint64 {
	t.Helper()
	n, err := strconv.ParseUint(id, 10, 64)
	if err != nil {
		t.Fatalf("lease id %q: %v", id, err)
	}
	return n
}

// These tests prove the leader's lease clock on a 3-node cluster: a lease
// kept alive (through a follower, which forwards to the leader) outlives its
// ttl several times; one left alone expires about a ttl later and its lock
// is freed in the same entry; a lease survives a leader change (the new
// leader resets its deadline) and then expires under the new leader; and
// checkpoints bound how much a leader change extends a lease.
package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/raftlock/raftlock/client/wire"
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

// TestLeaseCheckpointBoundsNewLeader: the leader commits each lease's
// remaining time every checkpoint interval (a follower's stale read shows
// it), and a new leader times the lease from that remaining time, not from a
// fresh ttl, so leader changes stretch a lease by at most the interval.
func TestLeaseCheckpointBoundsNewLeader(t *testing.T) {
	ctx := testContext(t)
	c := servertest.Start(t, 3, servertest.Options{Locks: true, CheckpointInterval: 200 * time.Millisecond})
	leader := waitLeader(t, ctx, c)
	ac := newAPIClient(t)
	l := ac.must(ctx, "POST", c.URL(leader)+"/v1/leases", `{"ttl":"10s"}`)
	id := itoa(l.num("lease_id"))
	follower := (leader + 1) % 3
	remaining := func(a answer) time.Duration {
		s, _ := a.Body["remaining"].(string)
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("lease answer %s: remaining %q: %v", a.Raw, s, err)
		}
		return d
	}
	// A checkpoint of at most 9s is committed: the follower's table has it.
	err := waitFor(ctx, func() bool {
		a := ac.must(ctx, "GET", c.URL(follower)+"/v1/leases/"+id+"?stale=true", nil)
		return a.Status == 200 && remaining(a) <= 9*time.Second
	})
	if err != nil {
		t.Fatalf("no checkpoint of lease %s below 9s reached a follower: %v", id, err)
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
	if got := remaining(a); got > 9*time.Second+200*time.Millisecond {
		t.Errorf("remaining on the new leader = %v; want at most the checkpoint (9s) plus one interval, not a fresh 10s", got)
	}
}

// These tests prove the leader's lease clock on a 3-node cluster: a lease
// kept alive (through a follower, which forwards to the leader) outlives its
// ttl several times; one left alone expires about a ttl later and its lock
// is freed in the same entry; a lease survives a leader change (the new
// leader resets its deadline) and then expires under the new leader.
package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/raftlock/raftlock/client/wire"
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

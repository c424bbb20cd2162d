// TestRetryAfterLeaderChange proves exactly-once across a leader change: an
// acquire answered by the old leader, retried with the same Idempotency-Key
// on another node after the leader is stopped, gets the first answer (same
// token and lease) and changes nothing; and a queued acquire whose leader
// stops answers no_leader, and its retry with the same key on the new leader
// takes the same place in the queue and is granted when the holder releases.
package server_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/raftlock/raftlock/client/wire"
	"github.com/raftlock/raftlock/server/servertest"
)

func TestRetryAfterLeaderChange(t *testing.T) {
	ctx := testContext(t)
	c, leader := startLocks(t, ctx, 3)
	ac := newAPIClient(t)
	key := []string{wire.HeaderIdempotencyKey, "retry-1"}
	first := ac.must(ctx, "POST", c.URL(leader)+"/v1/locks/r/acquire", `{"ttl":"30s"}`, key...)
	if first.Status != 200 {
		t.Fatalf("acquire = %d %s", first.Status, first.Raw)
	}
	// A second client queues on the lock with its own key, through the leader.
	waitKey := []string{wire.HeaderIdempotencyKey, "retry-wait"}
	next := queueThenStopLeader(t, ctx, c, ac, leader, "r", `{"ttl":"30s","wait":"1m"}`, waitKey)
	other := (next + 1) % 3
	if other == leader {
		other = (next + 2) % 3
	}
	var again answer
	err := waitFor(ctx, func() bool {
		again = ac.must(ctx, "POST", c.URL(other)+"/v1/locks/r/acquire", `{"ttl":"30s"}`, key...)
		return again.code() != wire.CodeNoLeader
	})
	if err != nil || again.Status != 200 || again.num("token") != first.num("token") || again.num("lease_id") != first.num("lease_id") {
		t.Fatalf("retry after the leader change = %d %s (%v); want the first answer %s", again.Status, again.Raw, err, first.Raw)
	}
	// The waiter retries with its key on the new leader and is granted at
	// the release.
	queued := make(chan answer, 1)
	// Exits when the new leader answers.
	go func() {
		a, err := ac.do(ctx, "POST", c.URL(next)+"/v1/locks/r/acquire", `{"ttl":"30s","wait":"1m"}`, waitKey...)
		if err != nil {
			t.Errorf("retried wait: %v", err)
		}
		queued <- a
	}()
	got := ac.must(ctx, "GET", c.URL(next)+"/v1/locks/r", nil)
	if got.num("waiters") != 1 {
		t.Fatalf("lock after the retries = %s; want one waiter (the retry took no second place)", got.Raw)
	}
	ac.must(ctx, "POST", c.URL(next)+"/v1/locks/r/release", map[string]any{"token": first.num("token")})
	if a := <-queued; a.Status != 200 || a.num("token") <= first.num("token") {
		t.Fatalf("retried wait after the release = %d %s; want a grant above token %d", a.Status, a.Raw, first.num("token"))
	}
}

// TestRetryOfWaitGrantedThenLost: a queued acquire whose leader stops is
// granted on the new leader while nobody waits for it, and its lease is
// revoked before the client retries. The retry with the same key answers
// the grant (the acquire took effect; the lease was lost later), not
// not_found. Found by the chaos harness (seed 1154): the old answer is not
// linearizable, since a read saw the lock held by that lease.
func TestRetryOfWaitGrantedThenLost(t *testing.T) {
	ctx := testContext(t)
	c, leader := startLocks(t, ctx, 3)
	ac := newAPIClient(t)
	held := ac.must(ctx, "POST", c.URL(leader)+"/v1/locks/g/acquire", `{"ttl":"30s"}`)
	lease := ac.must(ctx, "POST", c.URL(leader)+"/v1/leases", `{"ttl":"30s"}`)
	if held.Status != 200 || lease.Status != 201 {
		t.Fatalf("acquire = %d %s, lease = %d %s", held.Status, held.Raw, lease.Status, lease.Raw)
	}
	waitKey := []string{wire.HeaderIdempotencyKey, "granted-then-lost"}
	body := fmt.Sprintf(`{"lease_id":%d,"wait":"1m"}`, lease.num("lease_id"))
	next := queueThenStopLeader(t, ctx, c, ac, leader, "g", body, waitKey)
	var rel answer
	if err := waitFor(ctx, func() bool {
		rel = ac.must(ctx, "POST", c.URL(next)+"/v1/locks/g/release", map[string]any{"token": held.num("token")})
		return rel.code() != wire.CodeNoLeader
	}); err != nil || rel.Status != 200 {
		t.Fatalf("release on the new leader = %d %s (%v)", rel.Status, rel.Raw, err)
	}
	got := ac.must(ctx, "GET", c.URL(next)+"/v1/locks/g", nil)
	holder, _ := got.Body["holder"].(map[string]any)
	granted := answer{Body: holder}
	if granted.num("lease_id") != lease.num("lease_id") {
		t.Fatalf("lock after the release = %s; want held by the waiting lease %d", got.Raw, lease.num("lease_id"))
	}
	if r := ac.must(ctx, "DELETE", c.URL(next)+fmt.Sprintf("/v1/leases/%d", lease.num("lease_id")), nil); r.Status != 200 {
		t.Fatalf("revoke = %d %s", r.Status, r.Raw)
	}
	retry := ac.must(ctx, "POST", c.URL(next)+"/v1/locks/g/acquire", body, waitKey...)
	if retry.Status != 200 || retry.num("token") != granted.num("token") || retry.num("lease_id") != lease.num("lease_id") {
		t.Fatalf("retry after the grant and the revoke = %d %s; want 200 with the grant's token %d", retry.Status, retry.Raw, granted.num("token"))
	}
}

// queueThenStopLeader queues an acquire of lock name (body, with key's
// header) on the leader, stops the leader, checks that the acquire was
// answered no_leader (or lost its connection), and returns the next leader.
func queueThenStopLeader(t *testing.T, ctx context.Context, c *servertest.Cluster, ac *apiClient, leader int, name, body string, key []string) int {
	t.Helper()
	queued := make(chan answer, 1)
	// Exits when the leader answers or its connection drops.
	go func() {
		a, err := ac.do(ctx, "POST", c.URL(leader)+"/v1/locks/"+name+"/acquire", body, key...)
		if err != nil {
			a = answer{Status: 503, Body: map[string]any{"error": map[string]any{"code": wire.CodeNoLeader}}}
		}
		queued <- a
	}()
	waitWaiters(t, ctx, ac, c.URL(leader), name, 1)
	c.Stop(leader)
	if a := <-queued; a.Status != 503 {
		t.Fatalf("queued acquire when its leader stopped = %d %s; want 503 (or a dropped connection)", a.Status, a.Raw)
	}
	return waitLeader(t, ctx, c)
}

// These tests prove the answers of a node without a quorum and the metrics
// endpoint: with two of three nodes stopped, a lock request to the survivor
// gets 503 no_leader with Retry-After (no hang, no internal error), and a
// stale read still answers; /metrics serves the node's families in the
// Prometheus text format with the request counters of the API.
package server_test

import (
	"strings"
	"testing"

	"github.com/raftlock/raftlock/client/wire"
	"github.com/raftlock/raftlock/consensus"
)

func TestNoLeaderAnswers(t *testing.T) {
	ctx := testContext(t)
	c, leader := startLocks(t, ctx, 3)
	ac := newAPIClient(t)
	survivor := (leader + 1) % 3
	acq := ac.must(ctx, "POST", c.URL(survivor)+"/v1/locks/nl/acquire", `{"ttl":"10s"}`)
	// The stale read below must find the grant: let the survivor apply it.
	if err := c.Node(survivor).WaitApplied(ctx, consensus.Index(acq.num("token"))); err != nil {
		t.Fatalf("survivor never applied the grant: %v", err)
	}
	c.Stop(leader)
	c.Stop((leader + 2) % 3)
	// The survivor may still believe in the stopped leader for a moment
	// (forwarding fails: no_leader) or know none (no_leader).
	for _, tc := range []struct{ method, path, body string }{
		{"POST", "/v1/locks/nl/acquire", `{"ttl":"10s"}`},
		{"GET", "/v1/locks/nl", ""},
		{"POST", "/v1/leases", `{}`},
	} {
		var body any
		if tc.body != "" {
			body = tc.body
		}
		a := ac.must(ctx, tc.method, c.URL(survivor)+tc.path, body)
		if a.Status != 503 || a.code() != wire.CodeNoLeader || a.Header.Get(wire.HeaderRetryAfter) == "" {
			t.Errorf("%s %s without a quorum = %d %q Retry-After %q; want 503 no_leader with Retry-After", tc.method, tc.path, a.Status, a.code(), a.Header.Get(wire.HeaderRetryAfter))
		}
	}
	if a := ac.must(ctx, "GET", c.URL(survivor)+"/v1/locks/nl?stale=true", nil); a.Status != 200 || a.Body["held"] != true {
		t.Errorf("stale read without a quorum = %d %s; want 200 held", a.Status, a.Raw)
	}
}

func TestMetrics(t *testing.T) {
	ctx := testContext(t)
	c, leader := startLocks(t, ctx, 3)
	ac := newAPIClient(t)
	ac.must(ctx, "POST", c.URL(leader)+"/v1/locks/m/acquire", `{"ttl":"10s"}`)
	a := ac.must(ctx, "GET", c.URL(leader)+"/metrics", nil)
	if a.Status != 200 || !strings.HasPrefix(a.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics = %d %q", a.Status, a.Header.Get("Content-Type"))
	}
	for _, want := range []string{
		"# TYPE raftlock_raft_term gauge", `raftlock_raft_role{role="leader"} 1`, "raftlock_raft_commit_index ",
		"raftlock_raft_applied_index ", "raftlock_leader_changes_total", `raftlock_proposals_total{command="acquire",outcome="ok"} 1`,
		`raftlock_proposal_seconds_bucket{command="acquire",le="+Inf"} 1`, "raftlock_log_save_seconds_count ",
		`raftlock_peer_send_queue_depth{peer="`, `raftlock_peer_dropped_messages_total{peer="`, "raftlock_leases 1",
		"raftlock_locks_held 1", "raftlock_waiters 0",
		`raftlock_http_requests_total{code="200",method="POST",route="/v1/locks/:name/acquire"} 1`,
		`raftlock_http_request_seconds_count{method="POST",route="/v1/locks/:name/acquire"} 1`,
	} {
		if !strings.Contains(a.Raw, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// TestClusterClientURLs: /v1/cluster on any node lists every member's
// advertised client URL, learned from the members' peer listeners.
func TestClusterClientURLs(t *testing.T) {
	ctx := testContext(t)
	c, leader := startLocks(t, ctx, 3)
	ac := newAPIClient(t)
	a := ac.must(ctx, "GET", c.URL((leader+1)%3)+"/v1/cluster", nil)
	members, _ := a.Body["members"].([]any)
	if len(members) != 3 {
		t.Fatalf("GET /v1/cluster = %s; want 3 members", a.Raw)
	}
	for _, m := range members {
		mm := m.(map[string]any)
		for i := range c.Size() {
			if c.Member(i).Name == mm["name"] && mm["client_url"] != c.URL(i) {
				t.Errorf("member %s client_url = %v; want %s", mm["name"], mm["client_url"], c.URL(i))
			}
		}
	}
}

// TestFollowerWaitsForTheNextLeader: a request that reaches a follower while
// the leader is gone waits for the election and goes to the new leader
// (first through the dead leader's refused port, then because no leader is
// known), instead of answering no_leader at once.
func TestFollowerWaitsForTheNextLeader(t *testing.T) {
	ctx := testContext(t)
	c, leader := startLocks(t, ctx, 3)
	ac := newAPIClient(t)
	follower := (leader + 1) % 3
	ac.must(ctx, "POST", c.URL(follower)+"/v1/locks/before/acquire", `{"ttl":"10s"}`)
	c.Stop(leader)
	for _, name := range []string{"during-1", "during-2", "during-3"} {
		a := ac.must(ctx, "POST", c.URL(follower)+"/v1/locks/"+name+"/acquire", `{"ttl":"10s"}`)
		if a.Status != 200 || a.num("token") == 0 {
			t.Fatalf("acquire %s on a follower while the leader is gone = %d %s; want 200 with a token", name, a.Status, a.Raw)
		}
	}
}

package server_test

import (
	"net"
	"testing"
	"time"

	"github.com/raftlock/raftlock/server/servertest"
)

// TestShutdownBoundsDetachedProposals: a leader that has lost its quorum
// holds an acquire it proposed (detached from the client, so its outcome is
// known) that can never commit; its shutdown still finishes within
// ShutdownTimeout and Run returns nil. Before ShutdownFollowUpTimeout the
// proposal kept the request for FollowUpTimeout (10 s), the graceful
// shutdown gave up at 5 s and Run failed: a removed member SIGTERMed in
// TestProcessGrowShrink exited 1 that way.
func TestShutdownBoundsDetachedProposals(t *testing.T) {
	ctx := testContext(t)
	// A long election timeout keeps the isolated leader leading (CheckQuorum
	// waits that long) while it accepts the acquire.
	c := servertest.Start(t, 3, servertest.Options{Locks: true, HeartbeatInterval: 100 * time.Millisecond, ElectionTimeout: 5 * time.Second})
	leader := waitLeader(t, ctx, c)
	ac := newAPIClient(t)
	if a := ac.must(ctx, "POST", c.URL(leader)+"/v1/locks/s/acquire", `{"ttl":"1m"}`); a.Status != 200 {
		t.Fatalf("acquire = %d %s", a.Status, a.Raw)
	}
	for i := range 3 {
		if i != leader {
			c.Stop(i)
		}
	}
	before := c.Node(leader).Status().LastIndex
	answered := make(chan answer, 1)
	go func() {
		a, err := ac.do(ctx, "POST", c.URL(leader)+"/v1/locks/s/acquire", `{"ttl":"1m","wait":"1m"}`)
		if err != nil {
			a = answer{Status: -1, Raw: err.Error()}
		}
		answered <- a
	}()
	if err := servertest.WaitUntil(ctx, func() bool { return c.Node(leader).Status().LastIndex > before }); err != nil {
		t.Fatalf("the isolated leader never appended the acquire: %v", err)
	}
	c.Stop(leader) // fails the test when Run returns an error: the shutdown overran ShutdownTimeout
	if a := <-answered; a.Status == 200 {
		t.Errorf("acquire that cannot commit = %d %s; want an error", a.Status, a.Raw)
	}
}

// TestShutdownWithSilentConnection: a client connection accepted just
// before the shutdown that never sends a request keeps net/http's graceful
// shutdown waiting (it counts such a connection as busy for 5 s); the node
// closes it at the deadline and Run still returns nil, since no request was
// left unfinished. TestProcessRollingRestart's SIGTERMed follower exited 1
// that way about once in 25 runs.
func TestShutdownWithSilentConnection(t *testing.T) {
	ctx := testContext(t)
	c := servertest.Start(t, 1, servertest.Options{})
	waitLeader(t, ctx, c)
	conn, err := net.Dial("tcp", c.Member(0).ClientAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c.Stop(0) // fails the test when Run returns an error
}

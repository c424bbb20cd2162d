// Shared helpers for this package's tests: real transports on 127.0.0.1:0
// that record what they receive and what their hooks report. TestMain checks
// that no test leaves a goroutine behind, Close and Serve included.
package transport

import (
	"context"
	"net"
	"testing"
	"time"

	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/raftlock/raftlock/consensus"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testDeadline bounds every wait in these tests. Waits end on a channel; the
// deadline only turns a hang into a failure.
const testDeadline = 20 * time.Second

// testCluster is the cluster id of every test node.
const testCluster = "test-cluster"

// node is a Transport serving on 127.0.0.1:0 with channels for what reaches it.
type node struct {
	id  consensus.NodeID
	tr  *Transport
	url string
	// got receives every message handed to Step.
	got chan consensus.Message
	// unreachable and down receive the hooks' reports (dropped when full).
	unreachable chan consensus.NodeID
	down        chan consensus.NodeID
}

// startNode starts a node; edit may change its Options before New. Cleanup
// closes it and waits for Serve to return.
func startNode(t testing.TB, id consensus.NodeID, edit func(*Options)) *node {
	t.Helper()
	n := &node{
		id:          id,
		got:         make(chan consensus.Message, 3*QueueMessagesMax),
		unreachable: make(chan consensus.NodeID, 64),
		down:        make(chan consensus.NodeID, 64),
	}
	opts := Options{
		ID:                id,
		ClusterID:         testCluster,
		Step:              func(m consensus.Message) { n.got <- m },
		ReportUnreachable: func(p consensus.NodeID) { report(n.unreachable, p) },
		PeerDown:          func(p consensus.NodeID) { report(n.down, p) },
		Logger:            zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel)),
	}
	if edit != nil {
		edit(&opts)
	}
	tr, err := New(opts)
	if err != nil {
		t.Fatalf("New(%d) = %v; want nil", id, err)
	}
	n.tr = tr
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	scheme := "http"
	if opts.TLS != nil {
		scheme = "https"
	}
	n.url = scheme + "://" + ln.Addr().String()
	served := make(chan error, 1)
	// Exits when Close makes Serve return.
	go func() { served <- tr.Serve(context.Background(), ln) }()
	t.Cleanup(func() {
		if err := tr.Close(); err != nil {
			t.Errorf("Close() = %v; want nil", err)
		}
		if err := <-served; err != nil {
			t.Errorf("Serve() = %v; want nil", err)
		}
	})
	return n
}

func report(ch chan consensus.NodeID, id consensus.NodeID) {
	select {
	case ch <- id:
	default:
	}
}

// connect makes every node a peer of every other.
func connect(t testing.TB, nodes ...*node) {
	t.Helper()
	for _, a := range nodes {
		for _, b := range nodes {
			if a != b {
				if err := a.tr.AddPeer(b.id, b.url); err != nil {
					t.Fatalf("AddPeer(%d, %q) = %v; want nil", b.id, b.url, err)
				}
			}
		}
	}
}

// receive waits for n messages at nd.
func receive(t testing.TB, nd *node, n int) []consensus.Message {
	t.Helper()
	out := make([]consensus.Message, 0, n)
	timer := time.NewTimer(testDeadline)
	defer timer.Stop()
	for len(out) < n {
		select {
		case m := <-nd.got:
			out = append(out, m)
		case <-timer.C:
			t.Fatalf("node %d received %d messages; want %d", nd.id, len(out), n)
		}
	}
	return out
}

// waitID waits for id on ch.
func waitID(t testing.TB, what string, ch <-chan consensus.NodeID, id consensus.NodeID) {
	t.Helper()
	timer := time.NewTimer(testDeadline)
	defer timer.Stop()
	for {
		select {
		case got := <-ch:
			if got == id {
				return
			}
		case <-timer.C:
			t.Fatalf("%s(%d) not reported within %v", what, id, testDeadline)
		}
	}
}

// waitUntil polls cond until it holds or ctx ends; for state only a poll can see.
func waitUntil(t testing.TB, ctx context.Context, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("condition not met: %v", ctx.Err())
		case <-tick.C:
		}
	}
}

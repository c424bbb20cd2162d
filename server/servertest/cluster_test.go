// These tests prove the harness itself: Start gives each node its own
// addresses and data dir; Leader is -1 without a quorum and a node again once
// a stopped node restarts on the same addresses; StopAll leaves no goroutine.
package servertest

import (
	"context"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestStartStopRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := Start(t, 3, Options{})
	seen := make(map[string]bool)
	for i := range c.Size() {
		m := c.Member(i)
		for _, v := range []string{m.ClientAddr, m.PeerAddr, m.DataDir} {
			if seen[v] {
				t.Errorf("member %s reuses %s", m.Name, v)
			}
			seen[v] = true
		}
	}
	leader, err := c.WaitLeader(ctx)
	if err != nil {
		t.Fatalf("WaitLeader() = %v", err)
	}
	idx, err := c.Propose(ctx, []byte("a"))
	if err != nil {
		t.Fatalf("Propose(%q) = %v", "a", err)
	}
	if got := c.FSM(leader).Applied(); len(got) != 1 || got[0] != (Applied{Index: idx, Data: "a"}) {
		t.Errorf("leader applied %v; want [{%d a}]", got, idx)
	}

	// Two of three stopped: no quorum, so no leader anyone follows.
	other := (leader + 1) % 3
	c.Stop(leader)
	c.Stop(other)
	if c.Running(leader) || c.Node(other) != nil {
		t.Fatalf("Running after Stop = true; want false")
	}
	if got := c.Leader(); got >= 0 {
		t.Errorf("Leader() with one of three running = %d; want -1", got)
	}
	c.Restart(other)
	if _, err := c.WaitLeader(ctx); err != nil {
		t.Fatalf("WaitLeader() after restart = %v", err)
	}
	if err := c.Node(other).WaitApplied(ctx, idx); err != nil {
		t.Errorf("restarted node: WaitApplied(%d) = %v", idx, err)
	}
}

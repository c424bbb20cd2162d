// This test partitions real raftlock processes with TCP proxies (one per
// direction of each link, proxy_test.go) and proves DESIGN.md §3.2's
// CheckQuorum and pre-vote end to end: an isolated leader steps down within
// about an election timeout and fails the leader health check; while cut off
// it campaigns only with pre-votes, so its term never rises; the majority
// elects a new leader; and when the partition heals the old leader follows
// the new one without deposing it: the majority's term is unchanged. Skipped
// under -short.
package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/raftlock/raftlock/consensus"
	"github.com/raftlock/raftlock/server/servertest"
)

// links are the proxies of a cluster: links[i][j] carries i's traffic to j.
type links [][]*proxy

// addProxies puts a proxy on every directed link and rewrites each node's
// --initial-cluster to reach its peers through them.
func (c *procCluster) addProxies(t *testing.T) links {
	t.Helper()
	n := len(c.nodes)
	l := make(links, n)
	for i, nd := range c.nodes {
		l[i] = make([]*proxy, n)
		parts := make([]string, n)
		for j, peer := range c.nodes {
			if i == j {
				parts[j] = nd.name + "=http://" + nd.peerAddr
				continue
			}
			l[i][j] = startProxy(t, peer.peerAddr)
			parts[j] = peer.name + "=http://" + l[i][j].addr()
		}
		nd.cluster = strings.Join(parts, ",")
	}
	return l
}

// isolate cuts (or heals) every link to and from node i.
func (l links) isolate(i int, cut bool) {
	for j := range l {
		if j == i {
			continue
		}
		l[i][j].setBlocked(cut)
		l[j][i].setBlocked(cut)
	}
}

func TestProcessPartitionedLeader(t *testing.T) {
	const election = 500 * time.Millisecond
	c := newProcCluster(t, 3, []string{"--heartbeat-interval", "50ms", "--election-timeout", election.String()})
	l := c.addProxies(t)
	c.startAll()
	old := c.waitStableLeader(t)
	oldName := c.nodes[old.slot].name

	cutAt := time.Now()
	l.isolate(old.slot, true)
	ctx, cancel := context.WithTimeout(context.Background(), processTimeout)
	defer cancel()
	// CheckQuorum: the isolated leader steps down and fails the health check.
	err := servertest.WaitUntil(ctx, func() bool {
		cs, ok := c.status(ctx, old.slot)
		return ok && cs.Role != consensus.RoleLeader.String() && !c.leaderHealthy(ctx, old.slot)
	})
	if err != nil {
		t.Fatalf("isolated leader %s still leads: %v", oldName, err)
	}
	stepDown := time.Since(cutAt)
	if stepDown > 4*election {
		t.Errorf("isolated leader stepped down after %v; want within about 2 election timeouts of %v", stepDown, election)
	}
	// The majority elects a new leader above the old term.
	next, _ := c.waitNewCommit(t, old.slot, old.term, old.commit)

	// Pre-vote: the cut-off node campaigns (pre-candidate) but its term stays.
	err = servertest.WaitUntil(ctx, func() bool {
		cs, ok := c.status(ctx, old.slot)
		return ok && cs.Role == consensus.RolePreCandidate.String()
	})
	if err != nil {
		t.Fatalf("isolated %s never campaigned: %v", oldName, err)
	}
	if cs, _ := c.status(ctx, old.slot); cs.Term != old.term {
		t.Errorf("isolated %s term = %d while campaigning; want %d (pre-vote must not raise it)", oldName, cs.Term, old.term)
	}

	l.isolate(old.slot, false)
	healed := c.waitStableLeader(t)
	if healed.slot != next.slot || healed.term != next.term {
		t.Errorf("after healing: leader %s term %d; want %s term %d unchanged (the rejoining node must not depose it)",
			c.nodes[healed.slot].name, healed.term, c.nodes[next.slot].name, next.term)
	}
	t.Logf("isolated leader stepped down %v after the cut (election timeout %v)", stepDown.Round(time.Millisecond), election)
	c.checkLogs(t)
}

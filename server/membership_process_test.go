// These tests change the membership of real `raftlock serve` processes:
//
//   - TestProcessGrowShrink: one node grows to three then five with
//     `serve --join` (each joins as a learner and promotes itself), then
//     shrinks to three with DELETE /v1/cluster/members (after moving the
//     leadership to a member that stays), while SDK clients contend for one lock and
//     hold locks of their own: every grant's token is above the previous
//     grant of that lock, and no client call fails (the SDK retries
//     no_leader).
//   - TestProcessRollingRestart: every node of three, the leader first, is
//     stopped with SIGTERM and started again while a client writes: the
//     leader hands off its leadership, so the nodes' count of campaigns
//     started by an election timeout does not grow; the longest write
//     unavailability is reported.
//
// Skipped under -short.
package server_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/raftlock/raftlock/client"
	"github.com/raftlock/raftlock/client/wire"
	"github.com/raftlock/raftlock/server/servertest"
)

// startJoin starts node i with --join pointed at the client URLs of the
// nodes in via.
func (c *procCluster) startJoin(i int, via []int) {
	c.t.Helper()
	nd := c.nodes[i]
	logf, err := os.OpenFile(filepath.Join(c.dir, nd.name+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		c.t.Fatalf("start %s: %v", nd.name, err)
	}
	defer logf.Close()
	join := ""
	for k, v := range via {
		if k > 0 {
			join += ","
		}
		join += "http://" + c.nodes[v].clientAddr
	}
	args := append([]string{"serve",
		"--id", nd.name, "--data-dir", nd.dataDir,
		"--client-addr", nd.clientAddr, "--peer-addr", nd.peerAddr,
		"--advertise-peer-url", "http://" + nd.peerAddr,
		"--join", join,
	}, c.extra...)
	cmd := exec.Command(c.bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	if err := cmd.Start(); err != nil {
		c.t.Fatalf("start %s: %v", nd.name, err)
	}
	nd.cmd, nd.done = cmd, make(chan error, 1)
	nd.up.Store(true)
	done := nd.done
	// Exits when the process exits.
	go func() { done <- cmd.Wait() }()
}

// sdk returns a client of the nodes in slots.
func (c *procCluster) sdk(t *testing.T, slots ...int) *client.Client {
	t.Helper()
	var eps []string
	for _, i := range slots {
		eps = append(eps, "http://"+c.nodes[i].clientAddr)
	}
	cl, err := client.New(client.Config{Endpoints: eps})
	if err != nil {
		t.Fatalf("client.New(%q) = %v", eps, err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl
}

// waitVoters waits until the member list names exactly want as voters.
func waitVoters(t *testing.T, cl *client.Client, want ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), processTimeout)
	defer cancel()
	var last wire.MemberList
	err := servertest.WaitUntil(ctx, func() bool {
		list, err := cl.Members(ctx)
		if err != nil {
			return false
		}
		last = list
		voters := map[string]bool{}
		for _, m := range list.Members {
			if m.Role == wire.RoleVoter {
				voters[m.Name] = true
			}
		}
		if list.ChangeInProgress || len(voters) != len(want) || len(list.Members) != len(want) {
			return false
		}
		for _, w := range want {
			if !voters[w] {
				return false
			}
		}
		return true
	})
	if err != nil {
		t.Fatalf("members %+v; want voters %v", last.Members, want)
	}
}

// contention is SDK clients taking turns on one lock while the membership
// changes; each checks that a grant's token is above the last it saw.
type contention struct {
	stop chan struct{}
	wg   sync.WaitGroup

	mu     sync.Mutex
	last   uint64
	grants int
	errs   []error
}

func startContention(t *testing.T, cl *client.Client, clients int) *contention {
	k := &contention{stop: make(chan struct{})}
	for i := range clients {
		k.wg.Add(1)
		// Exits when halt closes stop.
		go func() {
			defer k.wg.Done()
			for {
				select {
				case <-k.stop:
					return
				default:
				}
				if err := k.round(cl, i); err != nil {
					k.mu.Lock()
					k.errs = append(k.errs, err)
					k.mu.Unlock()
				}
			}
		}()
	}
	return k
}

// round acquires the shared lock (waiting for it), checks its token and
// releases it.
func (k *contention) round(cl *client.Client, i int) error {
	ctx, cancel := context.WithTimeout(context.Background(), processTimeout)
	defer cancel()
	a, err := cl.Acquire(ctx, "contended", client.AcquireOptions{TTL: 10 * time.Second, Wait: 5 * time.Second, Owner: fmt.Sprintf("c%d", i)})
	if errors.Is(err, client.ErrLockHeld) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("client %d: Acquire(contended) = %w", i, err)
	}
	k.mu.Lock()
	bad := a.Token <= k.last
	prev := k.last
	k.last = a.Token
	k.grants++
	k.mu.Unlock()
	if bad {
		return fmt.Errorf("client %d: token %d after %d; want higher", i, a.Token, prev)
	}
	if err := cl.Release(ctx, "contended", client.Token(a.Token)); err != nil {
		return fmt.Errorf("client %d: Release(contended, %d) = %w", i, a.Token, err)
	}
	return nil
}

func (k *contention) halt(t *testing.T) {
	t.Helper()
	close(k.stop)
	k.wg.Wait()
	for _, err := range k.errs {
		t.Error(err)
	}
	if k.grants == 0 {
		t.Errorf("no grant of the contended lock; want some")
	}
	t.Logf("%d grants of the contended lock, last token %d", k.grants, k.last)
}

func TestProcessGrowShrink(t *testing.T) {
	c := newProcCluster(t, 5, []string{"--heartbeat-interval", "50ms", "--election-timeout", "500ms"})
	c.nodes[0].cluster = "n1=http://" + c.nodes[0].peerAddr
	c.start(0)
	c.waitStableLeader(t)
	cl := c.sdk(t, 0, 1, 2, 3, 4)
	k := startContention(t, cl, 3)
	for i := 1; i < 5; i++ {
		c.startJoin(i, []int{0})
		var want []string
		for j := 0; j <= i; j++ {
			want = append(want, c.nodes[j].name)
		}
		waitVoters(t, cl, want...)
		t.Logf("%d voters", i+1)
	}
	// Shrink to three: remove the first two members, the leadership moved
	// to n5 first (the in-process membership tests remove a leader). A
	// removed member with a proposal in flight never learns its outcome
	// (the new configuration stops sending to it); terminate checks that
	// its SIGTERM still ends in a clean exit (ShutdownFollowUpTimeout).
	ctx, cancel := context.WithTimeout(context.Background(), processTimeout)
	defer cancel()
	if lead, err := cl.TransferLeadership(ctx, "n5"); err != nil || lead != "n5" {
		t.Fatalf("TransferLeadership(n5) = %q, %v; want n5", lead, err)
	}
	for i := range 2 {
		removeMember(t, ctx, cl, c.nodes[i].name)
	}
	waitVoters(t, cl, "n3", "n4", "n5")
	for i := range 2 {
		c.terminate(i)
	}
	after := c.sdk(t, 2, 3, 4)
	if _, err := after.CreateLease(ctx, 10*time.Second); err != nil {
		t.Errorf("CreateLease on the shrunk cluster = %v; want nil", err)
	}
	k.halt(t)
	for i := 2; i < 5; i++ {
		c.terminate(i)
	}
}

// timeoutCampaigns is node i's raftlock_campaigns_total{cause="timeout"}.
func (c *procCluster) timeoutCampaigns(t *testing.T, i int) float64 {
	return metricValue(t, "http://"+c.nodes[i].clientAddr, `raftlock_campaigns_total{cause="timeout"}`)
}

func TestProcessRollingRestart(t *testing.T) {
	c := newProcCluster(t, 3, []string{"--heartbeat-interval", "50ms", "--election-timeout", "500ms"})
	c.startAll()
	ls := c.waitStableLeader(t)
	var before float64
	for i := range 3 {
		before += c.timeoutCampaigns(t, i)
	}
	var urls []string
	for _, nd := range c.nodes {
		urls = append(urls, "http://"+nd.clientAddr)
	}
	acks, stopWriter := startAckWriter(t, urls)
	order := []int{ls.slot, (ls.slot + 1) % 3, (ls.slot + 2) % 3}
	var gone float64
	for _, i := range order {
		gone += c.timeoutCampaigns(t, i)
		c.terminate(i)
		c.start(i)
		c.waitStableLeader(t)
	}
	stopWriter()
	var after float64
	for i := range 3 {
		after += c.timeoutCampaigns(t, i)
	}
	if grew := gone + after - before; grew != 0 {
		t.Errorf("campaigns by election timeout during the rolling restart = %v; want 0", grew)
	}
	t.Logf("rolling restart of 3 nodes: longest write unavailability %v (%d writes)", acks.longestGap().Round(time.Millisecond), acks.since(time.Time{}))
}

// removeMember removes name, again while the last promotion is still
// leaving its joint configuration (change_in_progress). A removed leader
// may step down before it answers: the SDK's retry then finds the member
// gone (not_found), which is success.
func removeMember(t *testing.T, ctx context.Context, cl *client.Client, name string) {
	t.Helper()
	err := servertest.WaitUntil(ctx, func() bool {
		_, err := cl.RemoveMember(ctx, name)
		if errors.Is(err, client.ErrChangeInProgress) {
			return false
		}
		if err != nil && !errors.Is(err, client.ErrNotFound) {
			t.Fatalf("RemoveMember(%q) = %v; want nil", name, err)
		}
		return true
	})
	if err != nil {
		t.Fatalf("RemoveMember(%q): still change_in_progress: %v", name, err)
	}
}

// These tests change the membership of an in-process cluster (servertest:
// real nodes, HTTP/2 over loopback) through the HTTP API and the SDK: a node
// started with Join is added as a learner, catches up and promotes itself;
// the member list shows roles, the leader and match indexes; leadership
// moves to a named member and to any; members are removed; a learner that
// cannot catch up is refused with change_in_progress; unknown members
// answer not_found and malformed adds invalid_argument; a joined member
// restarts from its data dir, and a removed one rejoins with an empty data
// dir at the leader's term.
package server_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/raftlock/raftlock/client"
	"github.com/raftlock/raftlock/client/wire"
	"github.com/raftlock/raftlock/server"
	"github.com/raftlock/raftlock/server/servertest"
)

func newClient(t *testing.T, c *servertest.Cluster) *client.Client {
	t.Helper()
	var eps []string
	for i := range c.Size() {
		eps = append(eps, c.URL(i))
	}
	cl, err := client.New(client.Config{Endpoints: eps})
	if err != nil {
		t.Fatalf("client.New = %v; want nil", err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl
}

// roles maps member names to their roles in cl's member list.
func roles(t *testing.T, ctx context.Context, cl *client.Client) (map[string]string, wire.MemberList) {
	t.Helper()
	list, err := cl.Members(ctx)
	if err != nil {
		t.Fatalf("Members() = %v; want nil", err)
	}
	out := make(map[string]string)
	for _, m := range list.Members {
		out[m.Name] = m.Role
	}
	return out, list
}

// waitRole waits until the member list shows name with role ("" : absent)
// and no change in progress.
func waitRole(t *testing.T, ctx context.Context, cl *client.Client, name, role string) {
	t.Helper()
	var got map[string]string
	err := servertest.WaitUntil(ctx, func() bool {
		var list wire.MemberList
		got, list = roles(t, ctx, cl)
		return got[name] == role && !list.ChangeInProgress
	})
	if err != nil {
		t.Fatalf("member %s: roles %v; want role %q", name, got, role)
	}
}

func TestMembershipThroughTheAPI(t *testing.T) {
	ctx := testContext(t)
	c := servertest.Start(t, 3, servertest.Options{Locks: true})
	waitLeader(t, ctx, c)
	cl := newClient(t, c)

	got, list := roles(t, ctx, cl)
	if len(got) != 3 || got["n1"] != wire.RoleVoter || got["n2"] != wire.RoleVoter || got["n3"] != wire.RoleVoter {
		t.Fatalf("Members() = %v; want n1, n2, n3 voters", got)
	}
	leaders := 0
	for _, m := range list.Members {
		if m.Leader {
			leaders++
		}
		if m.Match == nil {
			t.Errorf("Members(): %s has no match index; want the leader's view", m.Name)
		}
		if m.ClientURL == "" {
			t.Errorf("Members(): %s has no client url", m.Name)
		}
	}
	if leaders != 1 {
		t.Errorf("Members(): %d leaders; want 1", leaders)
	}

	// A node joins through a follower's URL and promotes itself.
	via := (c.Leader() + 1) % 3
	j := c.Join(via)
	name := c.Member(j).Name
	waitRole(t, ctx, cl, name, wire.RoleVoter)
	lease, err := cl.CreateLease(ctx, 10*time.Second)
	if err != nil {
		t.Fatalf("CreateLease = %v; want nil", err)
	}
	if err := c.Node(j).WaitApplied(ctx, c.Node(c.Leader()).Status().Commit); err != nil {
		t.Fatalf("%s: WaitApplied = %v; want nil", name, err)
	}
	if lease.LeaseID == 0 {
		t.Fatalf("CreateLease = %+v; want an id", lease)
	}

	t.Run("joined member restarts", func(t *testing.T) {
		// It starts from its join record and log: no initial voters, the
		// cluster id it was given, the directory from the log.
		c.Stop(j)
		c.Restart(j)
		if _, err := cl.CreateLease(ctx, 10*time.Second); err != nil {
			t.Fatalf("CreateLease = %v; want nil", err)
		}
		commit := c.Node(waitLeader(t, ctx, c)).Status().Commit
		if err := c.Node(j).WaitApplied(ctx, commit); err != nil {
			t.Fatalf("%s after restart: WaitApplied(%d) = %v; want nil", name, commit, err)
		}
		waitRole(t, ctx, cl, name, wire.RoleVoter)
	})
	t.Run("transfer to a named member", func(t *testing.T) {
		to := c.Member((c.Leader() + 1) % c.Size()).Name
		lead, err := cl.TransferLeadership(ctx, to)
		if err != nil || lead != to {
			t.Fatalf("TransferLeadership(%q) = %q, %v; want %q, nil", to, lead, err, to)
		}
	})
	t.Run("transfer to any", func(t *testing.T) {
		before := c.Member(waitLeader(t, ctx, c)).Name
		lead, err := cl.TransferLeadership(ctx, "")
		if err != nil || lead == before || lead == "" {
			t.Fatalf("TransferLeadership(\"\") = %q, %v; want a leader other than %q", lead, err, before)
		}
	})
	t.Run("metrics", func(t *testing.T) {
		var transfers, voters float64
		for i := range c.Size() {
			transfers += metricValue(t, c.URL(i), `raftlock_campaigns_total{cause="transfer"}`)
		}
		voters = metricValue(t, c.URL(j), "raftlock_members_voters")
		if transfers < 2 {
			t.Errorf("sum of raftlock_campaigns_total{cause=\"transfer\"} = %v; want >= 2 after two transfers", transfers)
		}
		if voters != 4 {
			t.Errorf("raftlock_members_voters of %s = %v; want 4", name, voters)
		}
	})
	t.Run("unknown member", func(t *testing.T) {
		if _, err := cl.RemoveMember(ctx, "nobody"); !errors.Is(err, client.ErrNotFound) {
			t.Errorf("RemoveMember(%q) = %v; want %v", "nobody", err, client.ErrNotFound)
		}
		if _, err := cl.PromoteMember(ctx, "nobody", 0); !errors.Is(err, client.ErrNotFound) {
			t.Errorf("PromoteMember(%q) = %v; want %v", "nobody", err, client.ErrNotFound)
		}
		if _, err := cl.TransferLeadership(ctx, "nobody"); !errors.Is(err, client.ErrNotFound) {
			t.Errorf("TransferLeadership(%q) = %v; want %v", "nobody", err, client.ErrNotFound)
		}
	})
	t.Run("invalid add", func(t *testing.T) {
		for _, tc := range []struct{ name, peer string }{
			{"bad name!", "http://127.0.0.1:1"},
			{"n9", "ftp://127.0.0.1:1"},
			{"n9", "http://127.0.0.1"},
			{"n1", "http://127.0.0.1:1"}, // n1 exists at another URL
		} {
			if _, err := cl.AddMember(ctx, tc.name, tc.peer, ""); !errors.Is(err, client.ErrInvalidArgument) {
				t.Errorf("AddMember(%q, %q) = %v; want %v", tc.name, tc.peer, err, client.ErrInvalidArgument)
			}
		}
	})
	t.Run("learner that cannot catch up", func(t *testing.T) {
		// Nothing listens on port 1: the learner never catches up.
		added, err := cl.AddMember(ctx, "ghost", "http://127.0.0.1:1", "")
		if err != nil || added.Member.Role != wire.RoleLearner {
			t.Fatalf("AddMember(ghost) = %+v, %v; want a learner", added.Member, err)
		}
		again, err := cl.AddMember(ctx, "ghost", "http://127.0.0.1:1", "")
		if err != nil || again.Member.Name != "ghost" {
			t.Fatalf("AddMember(ghost) again = %+v, %v; want the same member", again.Member, err)
		}
		// Keep the leader's log ahead of what a promotion accepts.
		for range 3 {
			if _, err := cl.CreateLease(ctx, 10*time.Second); err != nil {
				t.Fatalf("CreateLease = %v; want nil", err)
			}
		}
		_, err = cl.PromoteMember(ctx, "ghost", 200*time.Millisecond)
		if !errors.Is(err, client.ErrChangeInProgress) {
			t.Fatalf("PromoteMember(ghost) = %v; want %v", err, client.ErrChangeInProgress)
		}
		if _, err := cl.RemoveMember(ctx, "ghost"); err != nil {
			t.Fatalf("RemoveMember(ghost) = %v; want nil", err)
		}
		waitRole(t, ctx, cl, "ghost", "")
	})
	t.Run("remove the joined member", func(t *testing.T) {
		if _, err := cl.RemoveMember(ctx, name); err != nil {
			t.Fatalf("RemoveMember(%q) = %v; want nil", name, err)
		}
		waitRole(t, ctx, cl, name, "")
		if _, err := cl.CreateLease(ctx, 10*time.Second); err != nil {
			t.Fatalf("CreateLease after removal = %v; want nil", err)
		}
	})
	t.Run("removed member rejoins with an empty data dir", func(t *testing.T) {
		c.Stop(j)
		lead := waitLeader(t, ctx, c)
		term := c.Node(lead).Status().Term
		c.Rejoin(j, lead)
		// Its hard state was set before Raft started: the leader's term, a
		// vote for the leader; never term 0 with a vote to give.
		if st := c.Node(j).Status(); st.Term < term {
			t.Errorf("%s rejoined at term %d; want >= the leader's term %d", name, st.Term, term)
		}
		waitRole(t, ctx, cl, name, wire.RoleVoter)
		if _, err := cl.RemoveMember(ctx, name); err != nil {
			t.Fatalf("RemoveMember(%q) = %v; want nil", name, err)
		}
	})
}

func TestSecondChangeIsRefused(t *testing.T) {
	ctx := testContext(t)
	// A long election timeout: the leader keeps leading (CheckQuorum) long
	// enough after it lost its quorum for the second change to reach it.
	c := servertest.Start(t, 3, servertest.Options{Locks: true, ElectionTimeout: 3 * time.Second})
	lead := waitLeader(t, ctx, c)
	cl, err := client.New(client.Config{Endpoints: []string{c.URL(lead)}})
	if err != nil {
		t.Fatalf("client.New = %v; want nil", err)
	}
	defer cl.Close()
	for i := range c.Size() {
		if i != lead {
			c.Stop(i)
		}
	}
	first := make(chan error, 1)
	firstCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	// Exits when the add gives up (firstCtx): without a quorum it never commits.
	go func() {
		_, err := cl.AddMember(firstCtx, "n8", "http://127.0.0.1:1", "")
		first <- err
	}()
	node := c.Node(lead)
	if err := servertest.WaitUntil(ctx, func() bool { return node.Status().ConfPending }); err != nil {
		t.Fatalf("ConfPending never true: %v", err)
	}
	_, err = cl.AddMember(ctx, "n9", "http://127.0.0.1:2", "")
	if !errors.Is(err, client.ErrChangeInProgress) {
		t.Errorf("AddMember(n9) during another change = %v; want %v", err, client.ErrChangeInProgress)
	}
	cancel()
	<-first
}

// metricValue scrapes the node at url and returns the sample named series
// (name with labels, as the text format prints it).
func metricValue(t *testing.T, url, series string) float64 {
	t.Helper()
	resp, err := http.Get(url + server.PathMetrics)
	if err != nil {
		t.Fatalf("GET %s/metrics = %v; want nil", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s/metrics: %v", url, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s/metrics: %q: %v", url, line, err)
			}
			return f
		}
	}
	t.Fatalf("%s/metrics has no %s", url, series)
	return 0
}

// TestHandOff: HandOff on the leader (what SIGTERM calls) moves the
// leadership by a transfer, not an election timeout, and the node refuses
// new client requests with no_leader from then on.
func TestHandOff(t *testing.T) {
	ctx := testContext(t)
	c := servertest.Start(t, 3, servertest.Options{Locks: true})
	lead := waitLeader(t, ctx, c)
	var timeouts uint64
	for i := range c.Size() {
		timeouts += c.Node(i).Status().TimeoutCampaigns
	}
	if err := c.Node(lead).HandOff(ctx); err != nil {
		t.Fatalf("HandOff() = %v; want nil", err)
	}
	next := waitLeader(t, ctx, c)
	if next == lead {
		t.Fatalf("leader after HandOff = %s; want another", c.Member(next).Name)
	}
	var after, transfers uint64
	for i := range c.Size() {
		after += c.Node(i).Status().TimeoutCampaigns
		transfers += c.Node(i).Status().TransferCampaigns
	}
	if after != timeouts || transfers == 0 {
		t.Errorf("campaigns by timeout %d -> %d, by transfer %d; want no new timeout campaign, a transfer", timeouts, after, transfers)
	}
	resp, err := http.Post(c.URL(lead)+server.PathLeases, "application/json", strings.NewReader(`{"ttl":"10s"}`))
	if err != nil {
		t.Fatalf("POST %s on the draining node = %v", server.PathLeases, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("POST %s on the draining node = %d; want 503", server.PathLeases, resp.StatusCode)
	}
}

// TestRejoinBehindARejoinedLeader: a node that rejoins replays the log from
// its start, through memberships that do not list the current leader (a
// member re-added earlier under a fresh raft id), and still becomes a voter.
// Here the whole log reaches it in one append, so this scenario alone does
// not catch the bug the chaos harness's wipe fault found (a replay spread
// over many appends dropped the leader's address with the old memberships);
// the 5-node wipe runs of scripts/chaos do.
func TestRejoinBehindARejoinedLeader(t *testing.T) {
	ctx := testContext(t)
	c := servertest.Start(t, 3, servertest.Options{Locks: true})
	lead := waitLeader(t, ctx, c)
	x, y := (lead+1)%3, (lead+2)%3
	cl, err := client.New(client.Config{Endpoints: []string{c.URL(lead), c.URL(x), c.URL(y)}})
	if err != nil {
		t.Fatalf("client.New = %v; want nil", err)
	}
	defer cl.Close()
	rejoin := func(i int) {
		t.Helper()
		name := c.Member(i).Name
		c.Stop(i)
		if _, err := cl.RemoveMember(ctx, name); err != nil {
			t.Fatalf("RemoveMember(%s) = %v; want nil", name, err)
		}
		waitRole(t, ctx, cl, name, "")
		via := (i + 1) % 3
		if !c.Running(via) {
			via = (i + 2) % 3
		}
		c.Rejoin(i, via)
		waitRole(t, ctx, cl, name, wire.RoleVoter)
	}
	rejoin(x)
	if got, err := cl.TransferLeadership(ctx, c.Member(x).Name); err != nil || got != c.Member(x).Name {
		t.Fatalf("TransferLeadership(%s) = %q, %v; want it, nil", c.Member(x).Name, got, err)
	}
	// y replays memberships that list x only under its old raft id.
	rejoin(y)
	if _, err := cl.CreateLease(ctx, 10*time.Second); err != nil {
		t.Fatalf("CreateLease after both rejoins = %v; want nil", err)
	}
}

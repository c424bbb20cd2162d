// These tests run three driver nodes over an in-process transport with
// in-memory stores and real tickers, and prove the driver's contract: a
// proposal's future resolves with the state machine's result once applied on
// the proposer; reads are linearizable from any node; a stopped leader is
// replaced and the survivors keep committing; Run leaves no goroutine behind.
package driver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/raftlock/raftlock/consensus"
	"github.com/raftlock/raftlock/consensus/snapfile"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// memStore is a Store over consensus.MemoryStorage.
type memStore struct {
	*consensus.MemoryStorage
	mu sync.Mutex
}

func (s *memStore) Save(hs consensus.HardState, ents []consensus.Entry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !hs.IsEmpty() {
		s.SetHardState(hs)
	}
	return s.Append(ents)
}

// SetSnapshot refuses a snapshot above the stored commit index, as the
// bbolt store does.
func (s *memStore) SetSnapshot(meta consensus.SnapshotMeta) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	hs, err := s.InitialState()
	if err != nil {
		return err
	}
	if meta.Index > hs.Commit {
		return fmt.Errorf("memStore: snapshot at %d above the stored commit %d", meta.Index, hs.Commit)
	}
	return s.MemoryStorage.SetSnapshot(meta)
}

// counter is a state machine that sums the bytes' lengths and records order.
type counter struct {
	mu      sync.Mutex
	applied []string
}

func (c *counter) Apply(index consensus.Index, data []byte) any {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.applied = append(c.applied, string(data))
	return fmt.Sprintf("%d:%s", index, data)
}

// Snapshot implements StateMachine: the applied strings, one per line.
func (c *counter) Snapshot(w io.Writer) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, err := io.WriteString(w, strings.Join(c.applied, "\n"))
	return err
}

// Restore implements StateMachine.
func (c *counter) Restore(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.applied = nil
	if len(b) > 0 {
		c.applied = strings.Split(string(b), "\n")
	}
	return nil
}

func (c *counter) snapshot() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.applied...)
}

// net routes messages between nodes in-process; a node can be cut off.
type net struct {
	mu    sync.Mutex
	nodes map[consensus.NodeID]*Node
	dirs  map[consensus.NodeID]*snapfile.Dir
	down  map[consensus.NodeID]bool
}

type netTransport struct {
	net  *net
	from consensus.NodeID
}

func (t netTransport) Send(msgs []consensus.Message) {
	t.net.mu.Lock()
	defer t.net.mu.Unlock()
	for _, m := range msgs {
		if t.net.down[t.from] || t.net.down[m.To] {
			if m.Type == consensus.MsgSnap {
				t.net.nodes[t.from].ReportSnapshot(m.To, false)
			}
			continue
		}
		n := t.net.nodes[m.To]
		if n == nil {
			continue
		}
		if m.Type == consensus.MsgSnap {
			// The data goes first, as the real transport streams it.
			err := copySnapshot(t.net.dirs[t.from], t.net.dirs[m.To], *m.Snapshot)
			t.net.nodes[t.from].ReportSnapshot(m.To, err == nil)
			if err != nil {
				continue
			}
		}
		n.Step(m)
	}
}

// copySnapshot streams the snapshot file at meta from one node's dir to another's.
func copySnapshot(from, to *snapfile.Dir, meta consensus.SnapshotMeta) error {
	rc, size, err := from.Raw(meta)
	if err != nil {
		return err
	}
	defer rc.Close()
	return to.Receive(meta, size, rc)
}

type cluster struct {
	t      *testing.T
	voters []consensus.NodeID
	net    *net
	nodes  map[consensus.NodeID]*Node
	fsms   map[consensus.NodeID]*counter
	stores map[consensus.NodeID]*memStore
	cancel map[consensus.NodeID]context.CancelFunc
	errs   map[consensus.NodeID]chan error
	// snapshotEntries and tailEntries pass to Config; 0 is the default.
	snapshotEntries, tailEntries uint64
	// joiners start with no voters: they join a running cluster.
	joiners map[consensus.NodeID]bool
	// memberships records every membership each node applied.
	memMu       sync.Mutex
	memberships map[consensus.NodeID][]consensus.Membership
	// started is each node's status when it was last created, before Run.
	started map[consensus.NodeID]consensus.Status
}

func newCluster(t *testing.T, size int) *cluster {
	return newSnapshotCluster(t, size, 0, 0)
}

// newSnapshotCluster starts size nodes that snapshot every snapshotEntries
// applied entries and keep tailEntries before each snapshot.
func newSnapshotCluster(t *testing.T, size int, snapshotEntries, tailEntries uint64) *cluster {
	t.Helper()
	c := &cluster{
		t:               t,
		net:             &net{nodes: map[consensus.NodeID]*Node{}, dirs: map[consensus.NodeID]*snapfile.Dir{}, down: map[consensus.NodeID]bool{}},
		nodes:           map[consensus.NodeID]*Node{},
		fsms:            map[consensus.NodeID]*counter{},
		stores:          map[consensus.NodeID]*memStore{},
		cancel:          map[consensus.NodeID]context.CancelFunc{},
		errs:            map[consensus.NodeID]chan error{},
		snapshotEntries: snapshotEntries,
		tailEntries:     tailEntries,
		joiners:         map[consensus.NodeID]bool{},
		memberships:     map[consensus.NodeID][]consensus.Membership{},
		started:         map[consensus.NodeID]consensus.Status{},
	}
	for i := 1; i <= size; i++ {
		c.voters = append(c.voters, consensus.NodeID(i))
	}
	for _, id := range c.voters {
		dir, err := snapfile.Open(t.TempDir(), nil)
		if err != nil {
			t.Fatal(err)
		}
		c.net.dirs[id] = dir
		c.stores[id] = &memStore{MemoryStorage: consensus.NewMemoryStorage()}
		c.start(id)
	}
	t.Cleanup(func() {
		for id := range c.nodes {
			c.stop(t, id)
		}
	})
	return c
}

// start creates node id from its store and snapshot dir, with a fresh state
// machine, and runs it.
func (c *cluster) start(id consensus.NodeID) {
	c.t.Helper()
	fsm := &counter{}
	voters := c.voters
	if c.joiners[id] {
		voters = nil
	}
	n, err := New(Config{
		ID: id, Voters: voters,
		OnMembership: func(_ consensus.Index, m consensus.Membership) {
			c.memMu.Lock()
			defer c.memMu.Unlock()
			c.memberships[id] = append(c.memberships[id], m)
		},
		Store:        c.stores[id],
		Transport:    netTransport{net: c.net, from: id},
		FSM:          fsm,
		TickInterval: 5 * time.Millisecond, ElectionTicks: 10, HeartbeatTicks: 1,
		MaxMsgBytes: 1 << 20, MaxInflightMsgs: 64, Seed: 7,
		Snapshots: c.net.dirs[id], SnapshotEntries: c.snapshotEntries, CompactionTailEntries: c.tailEntries,
	})
	if err != nil {
		c.t.Fatalf("New(node %d) = %v; want nil", id, err)
	}
	c.nodes[id], c.fsms[id] = n, fsm
	c.net.mu.Lock()
	c.net.nodes[id] = n
	c.net.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	c.cancel[id], c.errs[id] = cancel, errc
	c.started[id] = n.Status()
	go func() { errc <- n.Run(ctx) }() // exits when cancel is called
}

func (c *cluster) stop(t *testing.T, id consensus.NodeID) {
	if c.cancel[id] == nil {
		return
	}
	c.cancel[id]()
	c.cancel[id] = nil
	if err := <-c.errs[id]; err != nil {
		t.Errorf("node %d Run = %v; want nil", id, err)
	}
}

// waitLeader waits for a leader that every running node agrees on.
func (c *cluster) waitLeader(t *testing.T, exclude consensus.NodeID) consensus.NodeID {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var lead consensus.NodeID
		agree := true
		for id, n := range c.nodes {
			if id == exclude {
				continue
			}
			st := n.Status()
			if st.Lead == consensus.None || (lead != consensus.None && st.Lead != lead) {
				agree = false
				break
			}
			lead = st.Lead
		}
		if agree && lead != consensus.None && lead != exclude {
			return lead
		}
		// Wait for the next leader change anywhere, or a short poll period.
		select {
		case <-c.nodes[1].LeaderChanged():
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatal("no leader agreed on within 10s")
	return consensus.None
}

func TestProposeResolvesWithResult(t *testing.T) {
	c := newCluster(t, 3)
	lead := c.waitLeader(t, consensus.None)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got, err := c.nodes[lead].Propose(ctx, []byte("a"))
	if err != nil {
		t.Fatalf("Propose(a) = %v", err)
	}
	st := c.nodes[lead].Status()
	if want := fmt.Sprintf("%d:a", st.Applied); got != want {
		t.Fatalf("Propose(a) = %v; want %v", got, want)
	}
	follower := lead%3 + 1
	if _, err := c.nodes[follower].Propose(ctx, []byte("b")); !errors.Is(err, consensus.ErrNotLeader) {
		t.Fatalf("Propose on follower = %v; want ErrNotLeader", err)
	}
}

func TestLinearizableReadOnFollower(t *testing.T) {
	c := newCluster(t, 3)
	lead := c.waitLeader(t, consensus.None)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := 0; i < 5; i++ {
		if _, err := c.nodes[lead].Propose(ctx, []byte{byte('a' + i)}); err != nil {
			t.Fatalf("Propose = %v", err)
		}
	}
	follower := lead%3 + 1
	if err := c.nodes[follower].LinearizableRead(ctx); err != nil {
		t.Fatalf("LinearizableRead on follower = %v", err)
	}
	// After the read returns, the follower has applied all five proposals.
	if got := c.fsms[follower].snapshot(); len(got) != 5 {
		t.Fatalf("follower applied %v after a linearizable read; want 5 entries", got)
	}
}

func TestLeaderStopElectsNewLeader(t *testing.T) {
	c := newCluster(t, 3)
	lead := c.waitLeader(t, consensus.None)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := c.nodes[lead].Propose(ctx, []byte("before")); err != nil {
		t.Fatalf("Propose = %v", err)
	}
	c.net.mu.Lock()
	c.net.down[lead] = true
	c.net.mu.Unlock()
	c.stop(t, lead)
	next := c.waitLeader(t, lead)
	if _, err := c.nodes[next].Propose(ctx, []byte("after")); err != nil {
		t.Fatalf("Propose on new leader = %v", err)
	}
	for id, fsm := range c.fsms {
		if id == lead {
			continue
		}
		if err := c.nodes[id].WaitApplied(ctx, c.nodes[next].Status().Commit); err != nil {
			t.Fatal(err)
		}
		got := fsm.snapshot()
		if len(got) != 2 || got[0] != "before" || got[1] != "after" {
			t.Fatalf("node %d applied %v; want [before after]", id, got)
		}
	}
}

func TestGroupCommitManyProposers(t *testing.T) {
	c := newCluster(t, 3)
	lead := c.waitLeader(t, consensus.None)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := 0; i < 64; i++ {
		wg.Add(1)
		go func() { // exits when its proposal resolves or ctx ends
			defer wg.Done()
			if _, err := c.nodes[lead].Propose(ctx, []byte(fmt.Sprint(i))); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Propose = %v", err)
	}
	if got := len(c.fsms[lead].snapshot()); got != 64 {
		t.Fatalf("leader applied %d entries; want 64", got)
	}
}

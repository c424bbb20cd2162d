// These regression tests drive one node's loop methods by hand (no ticker,
// no goroutine) to pin three driver bugs a review found: a proposal whose
// index is reused by a later term's proposal must still be resolved; a read
// asked of a leader that was re-elected in a new term must fail rather than
// hang; a late answer to a previous incarnation's read must never serve a
// new read.
package driver

import (
	"errors"
	"testing"
	"time"

	"github.com/raftlock/raftlock/consensus"
)

type capTransport struct{ msgs []consensus.Message }

func (c *capTransport) Send(ms []consensus.Message) { c.msgs = append(c.msgs, ms...) }

func (c *capTransport) take() []consensus.Message { m := c.msgs; c.msgs = nil; return m }

func newTestNode(t *testing.T, id consensus.NodeID, st *memStore, tr *capTransport) *Node {
	t.Helper()
	n, err := New(Config{
		ID: id, Voters: []consensus.NodeID{1, 2, 3}, Store: st, Transport: tr, FSM: &counter{},
		TickInterval: time.Millisecond, ElectionTicks: 10, HeartbeatTicks: 1, Seed: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// stepReady steps m and handles the Ready, like one loop iteration.
func stepReady(t *testing.T, n *Node, m consensus.Message) {
	t.Helper()
	n.step(m)
	if err := n.handleReady(); err != nil {
		t.Fatal(err)
	}
}

// campaign ticks n (node id) until it asks for (pre-)votes, and grants them from node 3.
func campaign(t *testing.T, n *Node, tr *capTransport) {
	t.Helper()
	for i := 0; i < 100 && n.raft.Status().Role != consensus.RoleLeader; i++ {
		n.raft.Tick()
		if err := n.handleReady(); err != nil {
			t.Fatal(err)
		}
		for _, m := range tr.take() {
			if m.To != 3 {
				continue
			}
			switch m.Type {
			case consensus.MsgPreVote:
				stepReady(t, n, consensus.Message{Type: consensus.MsgPreVoteResp, From: 3, To: m.From, Term: m.Term})
			case consensus.MsgVote:
				stepReady(t, n, consensus.Message{Type: consensus.MsgVoteResp, From: 3, To: m.From, Term: m.Term})
			}
		}
	}
	if n.raft.Status().Role != consensus.RoleLeader {
		t.Fatal("not leader")
	}
	tr.take()
}

// A proposal whose index is reused by a later proposal of the same node
// resolves with ErrProposalLost instead of being overwritten and forgotten.
func TestProposalResolvedWhenIndexReused(t *testing.T) {
	tr := &capTransport{}
	n := newTestNode(t, 1, &memStore{MemoryStorage: consensus.NewMemoryStorage()}, tr)
	campaign(t, n, tr) // leader at term 1, no-op at 1
	futs := map[string]*future{}
	for _, d := range []string{"a", "b", "c"} { // indexes 2, 3, 4 at term 1
		p := proposal{data: []byte(d), fut: newFuture()}
		n.propose(p)
		futs[d] = p.fut
	}
	if err := n.handleReady(); err != nil {
		t.Fatal(err)
	}
	// Node 2 leads term 2 and replaces index 2 on: node 1's log is [1@1 2@2].
	stepReady(t, n, consensus.Message{Type: consensus.MsgApp, From: 2, To: 1, Term: 2, Index: 1, LogTerm: 1,
		Entries: []consensus.Entry{{Index: 2, Term: 2, Type: consensus.EntryNoop}}})
	campaign(t, n, tr) // leader at term 3, no-op at 3
	d := proposal{data: []byte("d"), fut: newFuture()}
	n.propose(d) // index 4 again
	if err := n.handleReady(); err != nil {
		t.Fatal(err)
	}
	st := n.raft.Status()
	stepReady(t, n, consensus.Message{Type: consensus.MsgAppResp, From: 3, To: 1, Term: st.Term, Index: st.LastIndex})
	if got := n.raft.Status().Applied; got != 4 {
		t.Fatalf("applied %d; want 4", got)
	}
	select {
	case <-d.fut.done:
	default:
		t.Fatal("d not resolved")
	}
	for _, k := range []string{"a", "b", "c"} {
		select {
		case <-futs[k].done:
			if !errors.Is(futs[k].err, ErrProposalLost) {
				t.Errorf("proposal %q resolved with %v; want ErrProposalLost", k, futs[k].err)
			}
		default:
			t.Errorf("proposal %q (index 4, term 1) never resolved: its entry was replaced and index 4 applied; pending=%d", k, len(n.pending))
		}
	}
}

// A read sent to a leader that is then re-elected in a new term fails at once:
// the leader dropped it (it was sent in an older term).
func TestReadFailsWhenLeaderReelected(t *testing.T) {
	tr := &capTransport{}
	n := newTestNode(t, 2, &memStore{MemoryStorage: consensus.NewMemoryStorage()}, tr)
	stepReady(t, n, consensus.Message{Type: consensus.MsgHeartbeat, From: 1, To: 2, Term: 1})
	r := readReq{fut: newFuture()}
	n.read(r)
	n.askReads()
	if err := n.handleReady(); err != nil {
		t.Fatal(err)
	}
	var sent consensus.Message
	for _, m := range tr.take() {
		if m.Type == consensus.MsgReadIndex {
			sent = m
		}
	}
	// Node 1 is re-elected in term 3 without node 2's vote; its first heartbeat arrives.
	stepReady(t, n, consensus.Message{Type: consensus.MsgHeartbeat, From: 1, To: 2, Term: 3})
	// (A core at term 3 drops a term-1 MsgReadIndex as stale: no answer ever comes.)
	if sent.Term != 1 {
		t.Fatalf("read sent at term %d", sent.Term)
	}
	select {
	case <-r.fut.done:
		if !errors.Is(r.fut.err, ErrLeaderChanged) {
			t.Fatalf("read resolved with %v; want ErrLeaderChanged", r.fut.err)
		}
	default:
		t.Fatalf("read sent to node 1 at term 1 still pending after node 1 leads term 3 (readsByID=%d): it can only time out", len(n.readsByID))
	}
}

// Read contexts carry a per-incarnation epoch: a MsgReadIndexResp answering
// the previous incarnation's read never serves a new read at a stale index.
func TestReadContextNotReusedAfterRestart(t *testing.T) {
	st := &memStore{MemoryStorage: consensus.NewMemoryStorage()}
	ents := []consensus.Entry{}
	for i := 1; i <= 5; i++ {
		ents = append(ents, consensus.Entry{Index: consensus.Index(i), Term: 1, Data: []byte{byte(i)}})
	}
	if err := st.Save(consensus.HardState{Term: 1, Commit: 1}, ents); err != nil {
		t.Fatal(err)
	}
	tr := &capTransport{}
	old := newTestNode(t, 2, st, tr)
	stepReady(t, old, consensus.Message{Type: consensus.MsgHeartbeat, From: 1, To: 2, Term: 1, Commit: 1})
	old.read(readReq{fut: newFuture()}) // incarnation 1, ctx 1; leader fixes its index at commit 1
	old.askReads()
	if err := old.handleReady(); err != nil {
		t.Fatal(err)
	}
	var oldCtx []byte
	for _, m := range tr.take() {
		if m.Type == consensus.MsgReadIndex {
			oldCtx = m.Context
		}
	}
	// Crash and restart. Meanwhile the leader committed (and acknowledged) 5.
	tr2 := &capTransport{}
	n := newTestNode(t, 2, st, tr2)
	stepReady(t, n, consensus.Message{Type: consensus.MsgHeartbeat, From: 1, To: 2, Term: 1, Commit: 1})
	r := readReq{fut: newFuture()}
	n.read(r) // issued after 5 was committed: must see applied >= 5
	n.askReads()
	if err := n.handleReady(); err != nil {
		t.Fatal(err)
	}
	// The answer to the old incarnation's read arrives late.
	stepReady(t, n, consensus.Message{Type: consensus.MsgReadIndexResp, From: 1, To: 2, Term: 1, Index: 1, Context: oldCtx})
	n.serveReads()
	select {
	case <-r.fut.done:
		t.Fatalf("new read served by the old incarnation's answer (ctx %x) at applied %d, though 5 was committed before it began",
			oldCtx, n.applied)
	default:
	}
}

// PeerDown of the leader makes a follower forget it (fast failover); of any
// other peer it changes nothing.
func TestPeerDownForgetsOnlyTheLeader(t *testing.T) {
	tr := &capTransport{}
	n := newTestNode(t, 2, &memStore{MemoryStorage: consensus.NewMemoryStorage()}, tr)
	stepReady(t, n, consensus.Message{Type: consensus.MsgHeartbeat, From: 1, To: 2, Term: 1})
	stepReady(t, n, consensus.Message{Type: peerDown, From: 3, To: 2})
	if got := n.raft.Status().Lead; got != 1 {
		t.Fatalf("after PeerDown(3) leader = %d; want 1", got)
	}
	stepReady(t, n, consensus.Message{Type: peerDown, From: 1, To: 2})
	if got := n.raft.Status().Lead; got != consensus.None {
		t.Fatalf("after PeerDown(1) leader = %d; want none", got)
	}
}

// The reads the loop takes in one turn share one ReadIndex: one MsgReadIndex
// leaves the follower, and its answer serves them all.
func TestReadsOfOneTurnShareOneReadIndex(t *testing.T) {
	st := &memStore{MemoryStorage: consensus.NewMemoryStorage()}
	if err := st.Save(consensus.HardState{Term: 1, Commit: 1}, []consensus.Entry{{Index: 1, Term: 1}}); err != nil {
		t.Fatal(err)
	}
	tr := &capTransport{}
	n := newTestNode(t, 2, st, tr)
	stepReady(t, n, consensus.Message{Type: consensus.MsgHeartbeat, From: 1, To: 2, Term: 1, Commit: 1})
	reads := make([]readReq, 3)
	for i := range reads {
		reads[i] = readReq{fut: newFuture()}
		n.read(reads[i])
	}
	n.askReads()
	if err := n.handleReady(); err != nil {
		t.Fatal(err)
	}
	var asked []consensus.Message
	for _, m := range tr.take() {
		if m.Type == consensus.MsgReadIndex {
			asked = append(asked, m)
		}
	}
	if len(asked) != 1 {
		t.Fatalf("%d reads of one turn sent %d MsgReadIndex; want 1", len(reads), len(asked))
	}
	stepReady(t, n, consensus.Message{Type: consensus.MsgReadIndexResp, From: 1, To: 2, Term: 1, Index: 1, Context: asked[0].Context})
	n.serveReads()
	for i, r := range reads {
		select {
		case <-r.fut.done:
			if r.fut.err != nil {
				t.Errorf("read %d = %v; want nil", i, r.fut.err)
			}
		default:
			t.Errorf("read %d not served by the answer to the turn's ReadIndex", i)
		}
	}
}

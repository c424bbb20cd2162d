package boltstore

// This test proves the Store works under the real consensus core, not only
// against its interface: a one-node cluster elects itself, commits proposals
// through Save (fsynced) -> Advance, stops, and a new core started on the
// reopened Store recovers its term and vote, elects itself in a higher term,
// and applies exactly the same committed commands again.

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/raftlock/raftlock/consensus"
)

const (
	coreProposals = 20
	// coreTicksMax bounds the ticks a one-node election may take.
	coreTicksMax = 1000
)

// oneNode is a minimal driver loop over a core and a Store.
type oneNode struct {
	t       *testing.T
	raft    *consensus.Raft
	store   *Store
	applied [][]byte
}

func startOneNode(t *testing.T, s *Store, seed uint64) *oneNode {
	t.Helper()
	r, err := consensus.New(consensus.Config{
		ID: 1, Voters: []consensus.NodeID{1}, Storage: s,
		ElectionTicks: 10, HeartbeatTicks: 1,
		Rand:        rand.New(rand.NewPCG(seed, 0)),
		MaxMsgBytes: 1 << 20, MaxInflightMsgs: 16,
	})
	if err != nil {
		t.Fatalf("consensus.New() = %v; want nil", err)
	}
	return &oneNode{t: t, raft: r, store: s}
}

// drain carries out every Ready: persist, apply, advance.
func (n *oneNode) drain() {
	n.t.Helper()
	for n.raft.HasReady() {
		rd := n.raft.Ready()
		if !rd.HardState.IsEmpty() || len(rd.Entries) > 0 {
			if err := n.store.Save(rd.HardState, rd.Entries); err != nil {
				n.t.Fatalf("Save() = %v; want nil", err)
			}
		}
		for _, e := range rd.CommittedEntries {
			if e.Type == consensus.EntryNormal {
				n.applied = append(n.applied, e.Data)
			}
		}
		n.raft.Advance(rd)
	}
}

func (n *oneNode) becomeLeader() {
	n.t.Helper()
	for range coreTicksMax {
		n.raft.Tick()
		n.drain()
		if n.raft.Status().Role == consensus.RoleLeader {
			return
		}
	}
	n.t.Fatalf("no leader after %d ticks: %+v", coreTicksMax, n.raft.Status())
}

func TestCoreRecoversFromStore(t *testing.T) {
	path := testPath(t)
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("Open(%q) = %v; want nil", path, err)
	}
	n := startOneNode(t, s, 1)
	n.becomeLeader()
	var want [][]byte
	for i := range coreProposals {
		cmd := fmt.Appendf(nil, "cmd %d", i)
		if _, _, err := n.raft.Propose(cmd); err != nil {
			t.Fatalf("Propose(%q) = %v; want nil", cmd, err)
		}
		want = append(want, cmd)
		if i%3 == 0 {
			n.drain() // Several proposals per Ready, sometimes.
		}
	}
	n.drain()
	if !reflect.DeepEqual(n.applied, want) {
		t.Fatalf("applied %q; want %q", n.applied, want)
	}
	before := n.raft.Status()
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v; want nil", err)
	}

	s2 := openStore(t, path, Options{})
	hs, err := s2.InitialState()
	if err != nil || hs.Term != before.Term || hs.Vote != 1 || hs.Commit != before.Commit {
		t.Fatalf("InitialState() after restart = %+v, %v; want term %d, vote 1, commit %d", hs, err, before.Term, before.Commit)
	}
	n2 := startOneNode(t, s2, 2)
	n2.becomeLeader()
	n2.drain()
	if got := n2.raft.Status(); got.Term <= before.Term || got.Commit <= before.Commit {
		t.Errorf("status after restart = %+v; want a term above %d and a commit above %d", got, before.Term, before.Commit)
	}
	if !reflect.DeepEqual(n2.applied, want) {
		t.Fatalf("applied after restart %q; want %q", n2.applied, want)
	}
}

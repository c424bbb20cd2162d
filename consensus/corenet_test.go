package consensus

// This file is the small in-test network the core's unit tests run on: cores
// over MemoryStorage, each Ready handled exactly per the driver contract
// (persist HardState and Entries, send, apply, Advance), messages delivered in
// FIFO order, with nodes that can be cut off. The seeded fault simulator
// lives in the sim*_test.go files.

import (
	"math/rand/v2"
	"testing"
)

const (
	coreElectionTicks  = 10
	coreHeartbeatTicks = 1
	// coreStepsMax bounds the messages one stabilize delivers, so a livelock
	// fails the test instead of hanging it.
	coreStepsMax = 1 << 20
	// coreReadysMax bounds the Readys one node hands out in a row.
	coreReadysMax = 1 << 10
)

// coreNet is a cluster of cores wired by an in-memory FIFO network.
type coreNet struct {
	t       testing.TB
	ids     []NodeID
	nodes   map[NodeID]*Raft
	stores  map[NodeID]*MemoryStorage
	applied map[NodeID][]Entry
	// restored holds the snapshots each node installed, in order.
	restored map[NodeID][]SnapshotMeta
	reads    map[NodeID][]ReadState
	cut      map[NodeID]bool
	queue    []Message
	// sent counts delivered messages per type, for round-trip assertions.
	sent map[MessageType]int
	// tap, when set, sees every message before delivery; false drops it.
	tap func(m Message) bool
}

// coreConfig is the configuration the unit tests use for node id of voters.
func coreConfig(id NodeID, voters []NodeID, st *MemoryStorage) Config {
	return Config{
		ID:             id,
		Voters:         voters,
		Storage:        st,
		ElectionTicks:  coreElectionTicks,
		HeartbeatTicks: coreHeartbeatTicks,
		Rand:           rand.New(rand.NewPCG(uint64(id), 42)),
	}
}

// newCoreNet starts n fresh nodes with ids 1..n.
func newCoreNet(t testing.TB, n int) *coreNet {
	t.Helper()
	nw := &coreNet{
		t:        t,
		nodes:    make(map[NodeID]*Raft),
		stores:   make(map[NodeID]*MemoryStorage),
		applied:  make(map[NodeID][]Entry),
		restored: make(map[NodeID][]SnapshotMeta),
		reads:    make(map[NodeID][]ReadState),
		cut:      make(map[NodeID]bool),
		sent:     make(map[MessageType]int),
	}
	for i := 1; i <= n; i++ {
		nw.ids = append(nw.ids, NodeID(i))
	}
	for _, id := range nw.ids {
		nw.stores[id] = NewMemoryStorage()
		nw.start(id, coreConfig(id, nw.ids, nw.stores[id]))
	}
	return nw
}

// start (re)starts node id with cfg, keeping its storage.
func (nw *coreNet) start(id NodeID, cfg Config) {
	nw.t.Helper()
	r, err := New(cfg)
	if err != nil {
		nw.t.Fatalf("New(%d) = %v; want nil", id, err)
	}
	nw.nodes[id] = r
}

// handleReady carries out one Ready of node id per the driver contract.
func (nw *coreNet) handleReady(id NodeID) {
	nw.t.Helper()
	r, st := nw.nodes[id], nw.stores[id]
	rd := r.Ready()
	if rd.Snapshot != nil {
		if err := st.ApplySnapshot(*rd.Snapshot); err != nil {
			nw.t.Fatalf("node %d: ApplySnapshot(%d) = %v; want nil", id, rd.Snapshot.Index, err)
		}
		nw.restored[id] = append(nw.restored[id], *rd.Snapshot)
	}
	if !rd.HardState.IsEmpty() {
		st.SetHardState(rd.HardState)
	}
	if err := st.Append(rd.Entries); err != nil {
		nw.t.Fatalf("node %d: Append = %v; want nil", id, err)
	}
	for _, m := range rd.Messages {
		if !nw.cut[m.From] && !nw.cut[m.To] {
			nw.queue = append(nw.queue, m)
		}
	}
	nw.applied[id] = append(nw.applied[id], rd.CommittedEntries...)
	nw.reads[id] = append(nw.reads[id], rd.ReadStates...)
	r.Advance(rd)
}

// flush handles every node's Ready until none has one. HasReady must turn
// false: a core that keeps reporting work fails the test here.
func (nw *coreNet) flush() {
	nw.t.Helper()
	for again := true; again; {
		again = false
		for _, id := range nw.ids {
			for n := 0; nw.nodes[id].HasReady(); n++ {
				if n == coreReadysMax {
					nw.t.Fatalf("node %d: HasReady() still true after %d Readys", id, n)
				}
				nw.handleReady(id)
				again = true
			}
		}
	}
}

// stabilize delivers messages until the network is quiet.
func (nw *coreNet) stabilize() {
	nw.t.Helper()
	nw.flush()
	for steps := 0; len(nw.queue) > 0; steps++ {
		if steps > coreStepsMax {
			nw.t.Fatalf("network did not quiesce after %d messages", steps)
		}
		m := nw.queue[0]
		nw.queue = nw.queue[1:]
		if nw.tap != nil && !nw.tap(m) {
			continue
		}
		nw.sent[m.Type]++
		if err := nw.nodes[m.To].Step(m); err != nil {
			nw.t.Fatalf("node %d: Step(%s from %d) = %v; want nil", m.To, m.Type, m.From, err)
		}
		nw.flush()
	}
}

// tick ticks the given nodes once and stabilizes.
func (nw *coreNet) tick(ids ...NodeID) {
	nw.t.Helper()
	for _, id := range ids {
		nw.nodes[id].Tick()
	}
	nw.stabilize()
}

// elect ticks only node id until it leads, failing after two election timeouts.
func (nw *coreNet) elect(id NodeID) {
	nw.t.Helper()
	for i := 0; i < 2*coreElectionTicks; i++ {
		nw.tick(id)
		if nw.nodes[id].Status().Role == RoleLeader {
			return
		}
	}
	nw.t.Fatalf("node %d is %s after %d ticks; want leader", id, nw.nodes[id].Status().Role, 2*coreElectionTicks)
}

// propose proposes data on node id and stabilizes.
func (nw *coreNet) propose(id NodeID, data string) Index {
	nw.t.Helper()
	i, _, err := nw.nodes[id].Propose([]byte(data))
	if err != nil {
		nw.t.Fatalf("node %d: Propose(%q) = %v; want nil", id, data, err)
	}
	nw.stabilize()
	return i
}

// appliedData returns the data of the normal entries node id applied.
func (nw *coreNet) appliedData(id NodeID) []string {
	var out []string
	for _, e := range nw.applied[id] {
		if e.Type == EntryNormal {
			out = append(out, string(e.Data))
		}
	}
	return out
}

// leaders returns the nodes that are leader now.
func (nw *coreNet) leaders() []NodeID {
	var out []NodeID
	for _, id := range nw.ids {
		if nw.nodes[id].Status().Role == RoleLeader {
			out = append(out, id)
		}
	}
	return out
}

// coreStorage returns a MemoryStorage holding entries with the given terms
// (index i+1 has terms[i]) and hard state hs.
func coreStorage(t testing.TB, terms []Term, hs HardState) *MemoryStorage {
	t.Helper()
	st := NewMemoryStorage()
	ents := make([]Entry, len(terms))
	for i, term := range terms {
		ents[i] = Entry{Index: Index(i + 1), Term: term, Data: []byte{byte(i)}}
	}
	if err := st.Append(ents); err != nil {
		t.Fatalf("Append(%d entries) = %v; want nil", len(ents), err)
	}
	st.SetHardState(hs)
	return st
}

// newCoreNetFrom starts nodes 1..len(stores) on the given storages.
func newCoreNetFrom(t testing.TB, stores ...*MemoryStorage) *coreNet {
	t.Helper()
	nw := newCoreNet(t, 0)
	for i := range stores {
		nw.ids = append(nw.ids, NodeID(i+1))
	}
	for i, st := range stores {
		id := NodeID(i + 1)
		nw.stores[id] = st
		nw.start(id, coreConfig(id, nw.ids, st))
	}
	return nw
}

// stepAndCollect steps m into its recipient, handles its Readys and returns
// (and removes) the messages it queued.
func (nw *coreNet) stepAndCollect(m Message) []Message {
	nw.t.Helper()
	if err := nw.nodes[m.To].Step(m); err != nil {
		nw.t.Fatalf("node %d: Step(%s from %d) = %v; want nil", m.To, m.Type, m.From, err)
	}
	nw.flush()
	out := nw.queue
	nw.queue = nil
	return out
}

// logTerms returns the terms of node id's whole log.
func (nw *coreNet) logTerms(id NodeID) []Term {
	nw.t.Helper()
	l := nw.nodes[id].log
	var out []Term
	for i := Index(1); i <= l.lastIndex(); i++ {
		term, err := l.term(i)
		if err != nil {
			nw.t.Fatalf("node %d: term(%d) = %v; want nil", id, i, err)
		}
		out = append(out, term)
	}
	return out
}

// repeatTerm returns n copies of term.
func repeatTerm(term Term, n int) []Term {
	out := make([]Term, n)
	for i := range out {
		out[i] = term
	}
	return out
}

package consensus

// This file teaches the simulator snapshots and InstallSnapshot (§7) without
// blinding the checkers. Each node's MemoryStorage stays the node's whole
// durable log from index 1, exactly what the checkers of checker_test.go
// read; the core sees it through simSnapStorage, a view that hides every
// entry at or below the node's compaction base (ErrCompacted) and reports
// the node's latest snapshot. So the leader must send MsgSnap to a follower
// whose next entry is below its base, exactly as over a compacted bbolt log.
//
// A snapshot's data is the sequence of entries it covers: the state a real
// state machine would hold after applying them. Nodes take snapshots at random
// points after applying (each node draws from its own seeded source) and
// compact up to a random tail before them. A node installing a snapshot
// replaces its durable log with the snapshot's entries (its log continues
// after them), is checked not to rewrite an entry its disk marked committed,
// and reports every entry it did not apply before as applied by the snapshot:
// State Machine Safety then compares the snapshot's state with what every
// other node applied at those indexes, and Leader Completeness, Log Matching
// and the durability checks see the installed prefix like any other.
//
// The transport's report (ReportSnapshot) follows the network: a MsgSnap the
// network refused is reported undelivered, one it accepted delivered (it may
// still be lost on the way, as the real transport's stream may be stored and
// the MsgSnap then dropped from a full queue; the leader's probe after the
// snapshot finds out and sends another).

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// simSnapEvery are the choices of how many applied entries pass between two
// snapshots of a node; simSnapTails of how many entries before a snapshot its
// log keeps. Small values make followers fall behind the compacted log often.
var (
	simSnapEvery = [...]Index{4, 16, 64}
	simSnapTails = [...]Index{0, 1, 8}
)

// simSnap is one node's snapshot state; it survives crashes (it is "disk")
// except rng and reports, which are volatile but harmless to keep.
type simSnap struct {
	// meta is the node's latest snapshot; base the index up to which its log
	// is compacted. Invariant: base <= meta.Index.
	meta SnapshotMeta
	base Index
	// taken maps the index of every snapshot this node took or installed to
	// its data: the entries 1..index (never modified).
	taken map[Index][]Entry
	// every and tail are this node's policy; rng draws when to snapshot.
	every, tail Index
	rng         *rand.Rand
	// reports are MsgSnap outcomes to report after the current Ready.
	reports []simSnapReport
	// counts for the run's statistics; confInstalls counts the installed
	// snapshots whose membership is not the initial one.
	snapshots, installs, confInstalls int
	// testCorrupt makes this node install a snapshot whose last entry's
	// data differs from what was committed: a bug the checkers must catch.
	testCorrupt bool
	// conf is the membership in effect after the node's entries
	// 1..confUpTo (which are committed and never change).
	conf     Membership
	confUpTo Index
}

type simSnapReport struct {
	to        NodeID
	delivered bool
}

// simSnapStorage is the core's view of a node's storage: compacted at the
// node's base, with its latest snapshot.
type simSnapStorage struct{ n *simNode }

var _ Storage = simSnapStorage{}

func (v simSnapStorage) InitialState() (HardState, error) { return v.n.storage.InitialState() }

func (v simSnapStorage) Entries(lo, hi Index, maxBytes uint64) ([]Entry, error) {
	if lo <= v.n.snap.base {
		return nil, ErrCompacted
	}
	return v.n.storage.Entries(lo, hi, maxBytes)
}

func (v simSnapStorage) Term(i Index) (Term, error) {
	if i < v.n.snap.base {
		return 0, ErrCompacted
	}
	return v.n.storage.Term(i)
}

func (v simSnapStorage) FirstIndex() (Index, error) { return v.n.snap.base + 1, nil }

func (v simSnapStorage) LastIndex() (Index, error) { return v.n.storage.LastIndex() }

func (v simSnapStorage) Snapshot() (SnapshotMeta, error) { return v.n.snap.meta, nil }

// maybeSnapshot takes a snapshot of n's state at its applied index when the
// node's policy says so, and compacts its log behind it.
func (s *simulator) maybeSnapshot(n *simNode) error {
	sn := &n.snap
	if sn.rng == nil {
		sn.rng = rand.New(rand.NewPCG(s.cfg.seed, uint64(n.id)))
		sn.every = simSnapEvery[sn.rng.IntN(len(simSnapEvery))]
		sn.tail = simSnapTails[sn.rng.IntN(len(simSnapTails))]
	}
	if !n.up() || n.applied < sn.meta.Index+sn.every || sn.rng.IntN(4) != 0 {
		return nil
	}
	data, err := n.storage.Entries(1, n.applied+1, math.MaxUint64)
	if err != nil {
		return fmt.Errorf("node %d: snapshot at applied %d: %w", n.id, n.applied, err)
	}
	data = data[:len(data):len(data)]
	meta := SnapshotMeta{Index: n.applied, Term: data[len(data)-1].Term}
	m, err := s.membershipAt(n, data)
	if err != nil {
		return fmt.Errorf("node %d: snapshot at applied %d: %w", n.id, n.applied, err)
	}
	meta.SetMembership(m)
	if sn.taken == nil {
		sn.taken = make(map[Index][]Entry)
	}
	sn.taken[meta.Index] = data
	sn.meta = meta
	if meta.Index > sn.tail {
		sn.base = max(sn.base, meta.Index-sn.tail)
	}
	sn.snapshots++
	s.trace.add(traceEvent{step: s.step, at: s.now, kind: traceFault, node: n.id,
		detail: fmt.Sprintf("snapshot at %d (term %d), log compacted to %d", meta.Index, meta.Term, sn.base)})
	return nil
}

// membershipAt returns the membership in effect at the end of data (a
// node's entries 1..k): the newest membership entry among them, else the
// initial voters. n's snapshot state remembers how far it looked, so each
// entry is read once.
func (s *simulator) membershipAt(n *simNode, data []Entry) (Membership, error) {
	sn := &n.snap
	if sn.confUpTo > Index(len(data)) || sn.confUpTo == 0 {
		sn.conf, sn.confUpTo = Membership{Voters: s.voters}, 0
	}
	for _, e := range data[sn.confUpTo:] {
		if e.Type != EntryConfChange {
			continue
		}
		m, err := DecodeMembership(e.Data)
		if err != nil {
			return Membership{}, fmt.Errorf("membership entry %d: %w", e.Index, err)
		}
		sn.conf = m
	}
	sn.confUpTo = Index(len(data))
	return sn.conf.Clone(), nil
}

// snapshotData finds the data of the snapshot at meta among every node's,
// and those of wiped nodes (their MsgSnap may still be in flight).
func (s *simulator) snapshotData(meta SnapshotMeta) ([]Entry, bool) {
	for _, n := range s.nodes {
		if data, ok := n.snap.taken[meta.Index]; ok && data[len(data)-1].Term == meta.Term {
			return data, true
		}
	}
	for _, taken := range s.retiredSnaps {
		if data, ok := taken[meta.Index]; ok && data[len(data)-1].Term == meta.Term {
			return data, true
		}
	}
	return nil, false
}

// retireSnapshots keeps the snapshots of node n, about to be wiped.
func (s *simulator) retireSnapshots(n *simNode) {
	if len(n.snap.taken) > 0 {
		s.retiredSnaps = append(s.retiredSnaps, n.snap.taken)
	}
}

// installSnapshot is the first part of step 1 for a Ready carrying a
// snapshot: the node's durable log becomes the snapshot's entries, compacted
// up to the snapshot; the state machine takes the snapshot's state, and the
// entries it had not applied count as applied now.
func (s *simulator) installSnapshot(n *simNode, rd Ready) error {
	if rd.Snapshot == nil {
		return nil
	}
	meta := *rd.Snapshot
	data, ok := s.snapshotData(meta)
	if !ok {
		return fmt.Errorf("node %d: Ready.Snapshot at %d term %d, which no node took", n.id, meta.Index, meta.Term)
	}
	if n.snap.testCorrupt {
		data = append([]Entry(nil), data...)
		last := &data[len(data)-1]
		last.Data = append(append([]byte(nil), last.Data...), '!')
	}
	if err := checkOverwrite(n, data); err != nil {
		return err
	}
	old, err := n.durableLog()
	if err != nil {
		return err
	}
	hs, err := n.storage.InitialState()
	if err != nil {
		return err
	}
	fresh := NewMemoryStorage()
	fresh.SetHardState(hs)
	if err := fresh.Append(data); err != nil {
		return fmt.Errorf("node %d: installing snapshot %d: %w", n.id, meta.Index, err)
	}
	n.storage = fresh
	// The log changed from the first entry that differs, or where the old
	// one went on past the snapshot.
	dirty := meta.Index + 1
	for i := range min(len(old), len(data)) {
		if !chkSameEntry(old[i], data[i]) {
			dirty = Index(i + 1)
			break
		}
	}
	if n.dirtyFrom == 0 || dirty < n.dirtyFrom {
		n.dirtyFrom = dirty
	}
	// The stored commit index covers the snapshot (boltstore's
	// ApplySnapshot raises it in the same write).
	for _, e := range data[n.durableCommit:] {
		s.view.applied = append(s.view.applied, applyEvent{node: n.id, term: hs.Term, entry: e, durable: true})
	}
	n.durableCommit = max(n.durableCommit, meta.Index)
	term := n.raft.Status().Term
	for _, e := range data[n.applied:] {
		s.view.applied = append(s.view.applied, applyEvent{node: n.id, term: term, entry: e})
		s.maxApplied = max(s.maxApplied, e.Index)
		s.onApplied(n, e)
		if err := s.onCommittedConf(e); err != nil {
			return err
		}
	}
	n.applied = meta.Index
	sn := &n.snap
	if sn.taken == nil {
		sn.taken = make(map[Index][]Entry)
	}
	sn.taken[meta.Index] = data
	sn.meta, sn.base = meta, meta.Index
	sn.installs++
	if m := meta.Membership(); m.Joint() || len(m.Learners) > 0 || !slices.Equal(m.Voters, s.voters) {
		sn.confInstalls++
	}
	s.trace.add(traceEvent{step: s.step, at: s.now, kind: traceApply, node: n.id,
		a: uint64(meta.Index), detail: fmt.Sprintf("installed snapshot at %d (term %d)", meta.Index, meta.Term)})
	return nil
}

// noteSnapshotSent records how the network took a MsgSnap n sent.
func (n *simNode) noteSnapshotSent(m Message, sent bool) {
	if m.Type == MsgSnap {
		n.snap.reports = append(n.snap.reports, simSnapReport{to: m.To, delivered: sent})
	}
}

// reportSnapshots tells n's core the outcome of the MsgSnaps of the last Ready.
func (n *simNode) reportSnapshots() {
	for _, r := range n.snap.reports {
		if n.up() {
			n.raft.ReportSnapshot(r.to, r.delivered)
		}
	}
	n.snap.reports = n.snap.reports[:0]
}

// TestSimulatorSnapshots proves the simulator exercises what this file adds:
// over the CI seeds nodes take snapshots, compact, and install snapshots
// sent by leaders (so InstallSnapshot runs under crashes, partitions and a
// lossy network with every checker on), some of them carrying a changed
// membership to a node that joined, and every run stays safe and live.
func TestSimulatorSnapshots(t *testing.T) {
	var snapshots, installs, confInstalls int
	for _, c := range simCases(t) {
		s := newSimulator(c)
		if err := s.runCatching(); err != nil {
			t.Fatalf("%s: %v\n%s", c.replay(), err, s.stack)
		}
		for _, n := range s.nodes {
			snapshots += n.snap.snapshots
			installs += n.snap.installs
			confInstalls += n.snap.confInstalls
		}
	}
	t.Logf("sim: %d snapshots taken, %d installed (%d with a changed membership)", snapshots, installs, confInstalls)
	if snapshots == 0 || installs == 0 {
		t.Fatalf("%d snapshots taken and %d installed over the seeds; want both above 0", snapshots, installs)
	}
	if *flagSimProf == "" && *flagSimSeed == 0 && *flagSimSeeds == 0 && confInstalls == 0 {
		t.Fatalf("no installed snapshot carried a changed membership over the CI seeds; want some")
	}
}

// TestSimulatorCatchesCorruptSnapshots proves the checkers see through a
// snapshot: nodes that install a snapshot whose last entry differs from the
// committed one are caught (State Machine Safety, or the durable-state check
// when the node had that entry committed on disk already).
func TestSimulatorCatchesCorruptSnapshots(t *testing.T) {
	for seed := uint64(1); seed <= 100; seed++ {
		s := newSimulator(simConfig{seed: seed, nodes: simNodesForSeed(seed), steps: simStepsDefault})
		for _, n := range s.nodes {
			n.snap.testCorrupt = true
		}
		err := s.runCatching()
		if err == nil {
			continue
		}
		var v *safetyViolation
		if !errors.As(err, &v) {
			t.Fatalf("seed %d with corrupt snapshots failed with %v; want a safety violation", seed, err)
		}
		t.Logf("seed %d: caught by %s: %v", seed, v.checker, v.err)
		return
	}
	t.Fatalf("no seed in 1..100 caught a corrupt snapshot")
}
